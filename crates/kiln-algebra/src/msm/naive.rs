//! Double-and-add: the reference definition of an MSM, and the path for tiny inputs.
//!
//! All points share one chain of doublings (bit-serial, most significant bit first):
//! `acc = 2 * acc + sum of the points whose scalar has this bit set`. That is plain
//! double-and-add for every term at once, with no windows, digits or buckets, so it is
//! an independent check of the bucket method.

use super::digits::bit_len;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::Zero;

/// `sum_i scalars[i] * bases[i]` (over the shorter of the two) by bit-serial
/// double-and-add; `scalars` are little-endian limbs.
pub(crate) fn double_and_add<P: SWCurveConfig, S: AsRef<[u64]>>(
    bases: &[Affine<P>],
    scalars: &[S],
) -> Projective<P> {
    let bits = scalars
        .iter()
        .map(|s| bit_len(s.as_ref()))
        .max()
        .unwrap_or(0) as usize;
    let mut acc = Projective::<P>::zero();
    for bit in (0..bits).rev() {
        acc.double_in_place();
        for (b, s) in bases.iter().zip(scalars) {
            if (s.as_ref()[bit / 64] >> (bit % 64)) & 1 == 1 {
                acc += b;
            }
        }
    }
    acc
}
