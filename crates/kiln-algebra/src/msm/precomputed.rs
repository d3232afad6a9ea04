//! MSM over fixed bases with precomputed window shifts.
//!
//! When the same bases serve many MSMs (a proving key's tables), the shifted copies
//! `2^(c k) * P_i` for every window `k` can be computed once. An MSM is then a single bucket
//! set of `c`-bit signed digits: every pair (point `i`, window `k`) adds its digit `d_{i,k}`'s
//! point `±2^(c k) P_i` into bucket `|d_{i,k}|`, and one bucket reduction ends it, instead of
//! one reduction per window followed by the window-combining doublings. The bucket
//! additions, the ±1 fast path and the reduction are the ones of the plain path.

use super::batch_affine::BucketSet;
use super::classify::{classify, Classified};
use super::digits::{bit_len, digit, windows_for_bits};
use super::parallel::map_tasks;
use super::plan::{batch_size, buckets, unit_parts};
use super::reduce::weighted_sum;
use super::sum::sum_points;
use super::{msm, msm_pass, threads, to_bigints, MsmConfig, MsmError, MAX_WINDOW_BITS};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, CurveGroup};
use ark_ff::{PrimeField, Zero};
use rayon::prelude::*;
use std::ops::Range;

/// Points doubled and normalized together while precomputing.
const PRE_CHUNK: usize = 1 << 10;

/// Bases with their window shifts: layer `k` holds `2^(c k) * bases[i]` for every `i`.
#[derive(Clone, Debug)]
pub struct PrecomputedBases<P: SWCurveConfig> {
    /// The bases.
    bases: Vec<Affine<P>>,
    /// `points[i * windows + k] = 2^(c k) * bases[i]`.
    points: Vec<Affine<P>>,
    len: usize,
    c: u32,
    windows: usize,
}

impl<P: SWCurveConfig> PrecomputedBases<P> {
    /// Number of bases.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bases.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The window width the shifts were made for.
    pub fn window_bits(&self) -> u32 {
        self.c
    }

    /// Number of windows (layers).
    pub fn windows(&self) -> usize {
        self.windows
    }

    /// The original bases (layer 0).
    pub fn bases(&self) -> &[Affine<P>] {
        &self.bases
    }

    /// Memory held by the layers, in bytes.
    pub fn bytes(&self) -> usize {
        precomputed_bytes::<P>(self.len, self.c)
    }
}

/// Number of `c`-bit signed windows covering every scalar of `P`.
pub fn precomputed_windows<P: SWCurveConfig>(window_bits: u32) -> usize {
    let c = window_bits.clamp(1, MAX_WINDOW_BITS);
    windows_for_bits(P::ScalarField::MODULUS_BIT_SIZE, c)
}

/// Bytes [`precompute`] would hold for `len` bases and `window_bits`.
pub fn precomputed_bytes<P: SWCurveConfig>(len: usize, window_bits: u32) -> usize {
    len.saturating_mul(precomputed_windows::<P>(window_bits) + 1)
        .saturating_mul(std::mem::size_of::<Affine<P>>())
}

/// The default window width of [`msm_precomputed`], chosen by measurement (2-core EPYC,
/// BN254 G1 and G2, 2^15 to 2^17 points).
pub fn default_precompute_bits<P: SWCurveConfig>(len: usize) -> u32 {
    if len >= 1 << 17 {
        17
    } else {
        16
    }
}

/// Precomputes the window shifts of `bases` for `window_bits`-bit windows (clamped to
/// `1..=MAX_WINDOW_BITS`), in parallel on the rayon pool.
pub fn precompute<P: SWCurveConfig>(bases: &[Affine<P>], window_bits: u32) -> PrecomputedBases<P> {
    let c = window_bits.clamp(1, MAX_WINDOW_BITS);
    let windows = precomputed_windows::<P>(c);
    let len = bases.len();
    // Point i's shifts are contiguous: points[i * windows + k] = 2^(c k) bases[i].
    let mut points = vec![Affine::<P>::identity(); len * windows];
    points
        .par_chunks_mut(PRE_CHUNK * windows)
        .zip(bases.par_chunks(PRE_CHUNK))
        .for_each(|(out, inp)| {
            let mut cur: Vec<Projective<P>> = inp.iter().map(|&p| p.into()).collect();
            for k in 0..windows {
                let layer = if k == 0 {
                    inp.to_vec()
                } else {
                    for q in cur.iter_mut() {
                        for _ in 0..c {
                            q.double_in_place();
                        }
                    }
                    Projective::normalize_batch(&cur)
                };
                for (j, p) in layer.into_iter().enumerate() {
                    out[j * windows + k] = p;
                }
            }
        });
    PrecomputedBases {
        bases: bases.to_vec(),
        points,
        len,
        c,
        windows,
    }
}

/// `sum_i scalars[i] * bases[start + i]` over precomputed bases. More scalars than bases
/// past `start` is [`MsmError::LengthMismatch`]. A `cfg.window_bits` other than the
/// precomputed width runs the plain [`msm`] over the bases.
pub fn msm_precomputed<P: SWCurveConfig>(
    pre: &PrecomputedBases<P>,
    start: usize,
    scalars: &[P::ScalarField],
    cfg: &MsmConfig,
) -> Result<Projective<P>, MsmError> {
    let bases = pre.bases();
    let bases = bases.get(start..).unwrap_or_default();
    if scalars.len() > bases.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len(),
        });
    }
    let threads = threads(cfg)?;
    // Point indices are `u32`.
    let fits = u32::try_from(pre.points.len()).is_ok();
    if !fits || cfg.window_bits.is_some_and(|c| c != pre.c) {
        return msm(bases, scalars, cfg);
    }
    let bigints = to_bigints(scalars, threads);
    Ok(run(pre, start, &bigints, threads, false))
}

/// The precomputed MSM over canonical scalars; `force` skips the plain path for small inputs.
pub(crate) fn run<P: SWCurveConfig>(
    pre: &PrecomputedBases<P>,
    start: usize,
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    threads: usize,
    force: bool,
) -> Projective<P> {
    if scalars.is_empty() {
        return Projective::zero();
    }
    let bases = &pre.bases()[start..start + scalars.len()];
    let classified = classify(bases, scalars, threads);
    // Few additions for many buckets: the plain planner does better (or goes naive).
    let adds = classified.big.len() * pre.windows;
    if !force && adds < buckets(pre.c) {
        return msm_pass(bases, scalars, None, threads);
    }
    buckets_sum(pre, start, scalars, &classified, threads)
}

/// One unit of parallel work.
enum Task {
    /// The bucket set of `classified.big[range]`.
    Big(Range<usize>),
    /// Sum of the points of scalars equal to 1 (`neg = false`) or -1, `list[range]`.
    Units { neg: bool, range: Range<usize> },
}

fn buckets_sum<P: SWCurveConfig>(
    pre: &PrecomputedBases<P>,
    start: usize,
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    classified: &Classified,
    threads: usize,
) -> Projective<P> {
    let (c, windows) = (pre.c, pre.windows);
    let bases = &pre.bases()[start..start + scalars.len()];
    let big = &classified.big;
    let mut tasks = Vec::new();
    // One bucket set per thread: every task pays one reduction.
    let parts = if big.is_empty() {
        0
    } else {
        threads.clamp(1, big.len())
    };
    tasks.extend((0..parts).map(|k| Task::Big(k * big.len() / parts..(k + 1) * big.len() / parts)));
    for (neg, list) in [(false, &classified.ones), (true, &classified.minus_ones)] {
        let parts = unit_parts(list.len(), threads);
        tasks.extend((0..parts).map(|k| Task::Units {
            neg,
            range: k * list.len() / parts..(k + 1) * list.len() / parts,
        }));
    }
    let count = buckets(c);
    let results = map_tasks(tasks.len(), threads, |t| match &tasks[t] {
        Task::Big(range) => {
            let mut set = BucketSet::new(&pre.points, count, batch_size(count));
            set.add_all(big[range.clone()].iter().flat_map(|&i| {
                let s = scalars[i as usize].as_ref();
                let point = start + i as usize;
                (0..windows_for_bits(bit_len(s), c).min(windows)).filter_map(move |k| {
                    let d = digit(s, k, c);
                    (d != 0).then(|| {
                        (
                            d.unsigned_abs() as usize - 1,
                            (point * windows + k) as u32,
                            d < 0,
                        )
                    })
                })
            }));
            weighted_sum(set.finish())
        }
        Task::Units { neg: false, range } => sum_points(bases, &classified.ones[range.clone()]),
        Task::Units { neg: true, range } => {
            -sum_points(bases, &classified.minus_ones[range.clone()])
        }
    });
    results.into_iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msm::msm_naive;
    use ark_ff::Field;
    use ark_std::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use crate::test_inputs::points;

    type G1 = ark_bn254::g1::Config;
    type G2 = ark_bn254::g2::Config;

    /// Random scalars mixed with 0, 1, -1 and small values.
    fn scalars<F: PrimeField>(n: usize, rng: &mut ChaCha8Rng) -> Vec<F> {
        (0..n)
            .map(|_| match rng.gen_range(0..8) {
                0 => F::zero(),
                1 => F::one(),
                2 => -F::one(),
                3 => F::from(rng.gen_range(2u64..1000)),
                _ => F::rand(rng),
            })
            .collect()
    }

    fn check<P: SWCurveConfig>(seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut bases = points::<P>(301, &mut rng);
        bases[3] = Affine::identity();
        bases[10] = bases[9];
        bases[12] = -bases[11];
        for c in [3u32, 8, 13] {
            let pre = precompute(&bases, c);
            assert_eq!(pre.bases(), &bases[..]);
            for start in [0usize, 1, 17, 300] {
                for n in [0usize, 1, 2, 7, 101, 284] {
                    if start + n > bases.len() {
                        continue;
                    }
                    let s: Vec<P::ScalarField> = scalars(n, &mut rng);
                    let expect = msm_naive(&bases[start..start + n], &s);
                    let big: Vec<_> = s.iter().map(|x| x.into_bigint()).collect();
                    for threads in [1, 2] {
                        let got = run(&pre, start, &big, threads, true);
                        assert_eq!(got, expect, "c {c} start {start} n {n}");
                    }
                    let got = msm_precomputed(&pre, start, &s, &MsmConfig::default()).unwrap();
                    assert_eq!(got, expect, "c {c} start {start} n {n}");
                }
            }
            // Every scalar -1, and a scalar on the infinity base.
            let s = vec![-P::ScalarField::ONE; 50];
            let expect = msm_naive(&bases[1..51], &s);
            let big: Vec<_> = s.iter().map(|x| x.into_bigint()).collect();
            assert_eq!(run(&pre, 1, &big, 2, true), expect);
            assert!(matches!(
                msm_precomputed(&pre, 300, &s, &MsmConfig::default()),
                Err(MsmError::LengthMismatch { .. })
            ));
            let forced = MsmConfig {
                window_bits: Some(c + 1),
                max_threads: None,
            };
            assert_eq!(msm_precomputed(&pre, 1, &s, &forced).unwrap(), expect);
        }
    }

    #[test]
    fn matches_naive_g1() {
        check::<G1>(11);
    }

    #[test]
    fn matches_naive_g2() {
        check::<G2>(12);
    }

    #[test]
    fn large_random_input_matches_plain_msm() {
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let bases = points::<G1>(5000, &mut rng);
        let pre = precompute(&bases, 12);
        let s: Vec<ark_bn254::Fr> = (0..4000).map(|_| UniformRand::rand(&mut rng)).collect();
        let cfg = MsmConfig::default();
        assert_eq!(
            msm_precomputed(&pre, 1000, &s, &cfg).unwrap(),
            msm(&bases[1000..], &s, &cfg).unwrap()
        );
        assert_eq!(
            pre.bytes(),
            5000 * (pre.windows() + 1) * std::mem::size_of::<Affine<G1>>()
        );
    }
}
