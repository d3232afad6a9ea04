//! Sorts the input's scalars into the cheap and the expensive kinds.
//!
//! circom witnesses are full of zeros, ones and small values. Zero scalars (and points at
//! infinity) contribute nothing and are dropped; scalars equal to 1 or to `r - 1` (that is,
//! -1) are summed once by a tree of affine additions instead of going through every window;
//! the rest keep their index and feed a histogram of bit lengths, so the planner knows how
//! many windows each needs (a small scalar only touches the low windows).

use super::digits::bit_len;
use super::parallel::map_tasks;
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ff::{BigInteger, PrimeField};

/// Inputs per classification task.
const PART: usize = 1 << 14;

/// The input's scalars by kind, as indices into the input (ascending).
#[derive(Debug, Default)]
pub(crate) struct Classified {
    /// Scalars other than 0, 1 and -1 (whose base is not at infinity).
    pub big: Vec<u32>,
    /// Scalars equal to 1.
    pub ones: Vec<u32>,
    /// Scalars equal to `r - 1`.
    pub minus_ones: Vec<u32>,
    /// `hist[l]` = number of `big` scalars of bit length `l`.
    pub hist: Vec<usize>,
}

/// Classifies `scalars[i]` against `bases[i]` for every `i < scalars.len() <= bases.len()`,
/// and `scalars.len() <= u32::MAX`.
pub(crate) fn classify<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    threads: usize,
) -> Classified {
    let one = <P::ScalarField as PrimeField>::BigInt::from(1u64);
    let mut minus_one = P::ScalarField::MODULUS;
    minus_one.sub_with_borrow(&one);
    let hist_len = 64 * one.as_ref().len() + 1;

    let parts = scalars.len().div_ceil(PART);
    let pieces = map_tasks(parts, threads, |part| {
        let start = part * PART;
        let end = (start + PART).min(scalars.len());
        let mut out = Classified {
            hist: vec![0; hist_len],
            ..Classified::default()
        };
        for (i, (s, b)) in scalars[start..end]
            .iter()
            .zip(&bases[start..end])
            .enumerate()
        {
            let i = (start + i) as u32;
            if b.infinity || s.is_zero() {
                continue;
            }
            if *s == one {
                out.ones.push(i);
            } else if *s == minus_one {
                out.minus_ones.push(i);
            } else {
                out.big.push(i);
                out.hist[bit_len(s.as_ref()) as usize] += 1;
            }
        }
        out
    });

    let mut all = Classified {
        hist: vec![0; hist_len],
        ..Classified::default()
    };
    all.big.reserve(pieces.iter().map(|p| p.big.len()).sum());
    for p in pieces {
        all.big.extend(p.big);
        all.ones.extend(p.ones);
        all.minus_ones.extend(p.minus_ones);
        for (a, h) in all.hist.iter_mut().zip(p.hist) {
            *a += h;
        }
    }
    all
}
