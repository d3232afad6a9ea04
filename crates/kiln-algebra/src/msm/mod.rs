//! Multi-scalar multiplication on the CPU: `sum_i scalars[i] * bases[i]` over any
//! short-Weierstrass curve (BN254 G1 and G2, BLS12-381 alike).
//!
//! The algorithm is Pippenger's bucket method, tuned for Groth16 witnesses:
//! - `classify`: zero scalars and points at infinity are dropped, scalars equal to 1 or
//!   -1 are summed once by a tree of affine additions (`sum`), and the rest are ordered by
//!   how many windows they touch, so small scalars stay out of the high windows;
//! - `digits`: signed window digits in `[-2^(c-1), 2^(c-1)]` (negating an affine point is
//!   free), so a `c`-bit window needs only `2^(c-1)` buckets;
//! - `batch_affine`: buckets are affine and many additions share one inversion
//!   (Montgomery's trick), with collisions, doublings and cancellations handled;
//! - `reduce`: the running-sum bucket reduction; `pippenger`: windows and their
//!   combination; `parallel`: (window, chunk) tasks on a bounded number of rayon workers;
//! - `plan`: the window width and chunking chosen by a cost model from the input size, the
//!   scalars' bit lengths and the thread count.
//!
//! Bases are expected in the prime-order subgroup (as every point of a proving key is): a
//! scalar equal to `r - 1` is computed as `-1`.

#[cfg(target_arch = "x86_64")]
mod affine_simd;
mod batch_affine;
mod classify;
mod digits;
mod naive;
mod parallel;
mod pippenger;
mod plan;
mod precomputed;
mod reduce;
mod sum;
#[cfg(test)]
mod tests;

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ff::{PrimeField, Zero};
use plan::{Plan, Shape};

pub use plan::MAX_WINDOW_BITS;
pub use precomputed::{
    default_precompute_bits, msm_precomputed, precompute, precomputed_bytes, precomputed_windows,
    PrecomputedBases,
};

/// Most scalars handled in one pass (point indices are kept as `u32`); longer inputs are
/// cut into passes whose results are added.
const MAX_PASS: usize = 1 << 31;

/// MSM tuning. The default (`window_bits: None, max_threads: None`) is right for almost
/// every caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsmConfig {
    /// Window width in bits, `1..=MAX_WINDOW_BITS`. Default `None`: chosen by a cost model
    /// from the input size, the scalars' bit lengths and the thread count. Wider windows
    /// mean fewer passes over the input but `2^(c-1)` buckets each (more memory, more
    /// reduction work, more cache misses). A forced width always uses the bucket method,
    /// even for inputs small enough for plain double-and-add.
    pub window_bits: Option<u32>,
    /// Upper bound on worker threads, at least 1. Default `None`: the size of the current
    /// rayon pool (it cannot be exceeded). Fewer threads leave cores for other work.
    pub max_threads: Option<usize>,
}

/// Why an MSM could not be computed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MsmError {
    /// More scalars than bases.
    #[error("MSM length mismatch: {scalars} scalars for {bases} bases (expected at most one scalar per base)")]
    LengthMismatch {
        /// Number of bases given.
        bases: usize,
        /// Number of scalars given.
        scalars: usize,
    },
    /// `MsmConfig::window_bits` outside `1..=MAX_WINDOW_BITS`.
    #[error("MsmConfig.window_bits = {bits}: expected 1..={max}")]
    WindowBits {
        /// The requested width.
        bits: u32,
        /// The widest accepted.
        max: u32,
    },
    /// `MsmConfig::max_threads` was `Some(0)`.
    #[error("MsmConfig.max_threads = 0: expected at least 1")]
    ZeroThreads,
}

/// The thread count to use, after validating `cfg`.
fn threads(cfg: &MsmConfig) -> Result<usize, MsmError> {
    if let Some(bits) = cfg.window_bits {
        if !(1..=MAX_WINDOW_BITS).contains(&bits) {
            return Err(MsmError::WindowBits {
                bits,
                max: MAX_WINDOW_BITS,
            });
        }
    }
    let pool = rayon::current_num_threads().max(1);
    match cfg.max_threads {
        Some(0) => Err(MsmError::ZeroThreads),
        Some(t) => Ok(t.min(pool)),
        None => Ok(pool),
    }
}

/// `sum_i scalars[i] * bases[i]`. `scalars.len()` may be less than `bases.len()` (the
/// extra bases are ignored); more scalars than bases is [`MsmError::LengthMismatch`].
pub fn msm<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
    cfg: &MsmConfig,
) -> Result<Projective<P>, MsmError> {
    check_lengths(bases, scalars.len())?;
    let threads = threads(cfg)?;
    let bigints = to_bigints(scalars, threads);
    Ok(msm_passes(bases, &bigints, cfg.window_bits, threads))
}

/// The canonical integers of `scalars`, converted on at most `threads` workers.
fn to_bigints<F: PrimeField>(scalars: &[F], threads: usize) -> Vec<F::BigInt> {
    let parts = scalars.len().div_ceil(1 << 14);
    parallel::map_tasks(parts, threads, |k| {
        let end = ((k + 1) << 14).min(scalars.len());
        scalars[k << 14..end]
            .iter()
            .map(|s| s.into_bigint())
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// [`msm`] with scalars already in canonical (non-Montgomery) integer form. Larger
/// integers are accepted and computed as integers.
pub fn msm_bigint<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    cfg: &MsmConfig,
) -> Result<Projective<P>, MsmError> {
    check_lengths(bases, scalars.len())?;
    let threads = threads(cfg)?;
    Ok(msm_passes(bases, scalars, cfg.window_bits, threads))
}

/// Reference definition for tests: `sum_i scalars[i] * bases[i]` by plain double-and-add
/// (bit-serial, one doubling chain shared by all terms; chunks of the input spread over
/// the rayon pool), over the first `min(bases.len(), scalars.len())` pairs.
pub fn msm_naive<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
) -> Projective<P> {
    use rayon::prelude::*;
    let n = bases.len().min(scalars.len());
    let bigints: Vec<_> = scalars[..n].iter().map(|s| s.into_bigint()).collect();
    let chunk = n.div_ceil(4 * rayon::current_num_threads()).max(64);
    bases[..n]
        .par_chunks(chunk)
        .zip(bigints.par_chunks(chunk))
        .map(|(b, s)| naive::double_and_add(b, s))
        .sum()
}

fn check_lengths<P: SWCurveConfig>(bases: &[Affine<P>], scalars: usize) -> Result<(), MsmError> {
    if scalars > bases.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars,
        });
    }
    Ok(())
}

/// Runs the MSM in passes of at most [`MAX_PASS`] scalars.
fn msm_passes<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    window_bits: Option<u32>,
    threads: usize,
) -> Projective<P> {
    scalars
        .chunks(MAX_PASS)
        .zip(bases.chunks(MAX_PASS))
        .map(|(s, b)| msm_pass(b, s, window_bits, threads))
        .sum()
}

/// One pass: `scalars.len() <= bases.len()` and `scalars.len() <= MAX_PASS`.
fn msm_pass<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    window_bits: Option<u32>,
    threads: usize,
) -> Projective<P> {
    if scalars.is_empty() {
        return Projective::zero();
    }
    let classified = classify::classify(bases, scalars, threads);
    let shape = Shape {
        hist: &classified.hist,
        units: classified.ones.len() + classified.minus_ones.len(),
        threads,
        slot_bytes: std::mem::size_of::<batch_affine::Slot<P::BaseField>>(),
    };
    match plan::choose(&shape, window_bits) {
        Plan::Pippenger(win) => pippenger::run(bases, scalars, &classified, win, threads),
        Plan::Naive => {
            let (b, s): (Vec<_>, Vec<_>) = classified
                .big
                .iter()
                .map(|&i| (bases[i as usize], scalars[i as usize]))
                .unzip();
            let big = naive::double_and_add(&b, &s);
            big + sum::sum_points(bases, &classified.ones)
                - sum::sum_points(bases, &classified.minus_ones)
        }
    }
}
