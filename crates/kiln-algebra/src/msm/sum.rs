//! Sum of many affine points by pairwise tree reduction with batched inversions.
//!
//! Used for the scalars equal to 1 (and to -1): their points only need adding once, not a
//! trip through every window. Each level adds neighbouring pairs, all pairs of a chunk
//! sharing one inversion (Montgomery's trick), and halves the list; the last few points are
//! summed in Jacobian coordinates. Equal pairs are doubled and opposite pairs dropped.

use super::batch_affine::Slot;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{Field, Zero};

/// Pairs sharing one inversion.
const CHUNK: usize = 1024;
/// Below this many points the rest is summed in Jacobian coordinates.
const TAIL: usize = 16;

/// How a pair `(a, b)` combines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Double,
    Cancel,
}

/// `sum_i bases[idx[i]]`; indices past the end and points at infinity are skipped.
pub(crate) fn sum_points<P: SWCurveConfig>(bases: &[Affine<P>], idx: &[u32]) -> Projective<P> {
    let mut pts: Vec<Slot<P::BaseField>> = idx
        .iter()
        .filter_map(|&i| bases.get(i as usize))
        .filter(|p| !p.infinity)
        .map(|p| Slot { x: p.x, y: p.y })
        .collect();
    let mut kinds = Vec::with_capacity(CHUNK);
    let mut dens = Vec::with_capacity(CHUNK);
    let mut prefix = Vec::with_capacity(CHUNK);
    let mut sums = Vec::with_capacity(CHUNK);
    while pts.len() > TAIL {
        let mut next = Vec::with_capacity(pts.len() / 2 + 1);
        let mut pairs = pts.chunks_exact(2 * CHUNK);
        for chunk in pairs.by_ref() {
            add_pairs::<P>(chunk, &mut kinds, &mut dens, &mut prefix, &mut sums);
            next.extend(sums.drain(..).flatten());
        }
        let rest = pairs.remainder();
        add_pairs::<P>(rest, &mut kinds, &mut dens, &mut prefix, &mut sums);
        next.extend(sums.drain(..).flatten());
        if rest.len() % 2 == 1 {
            next.push(rest[rest.len() - 1]);
        }
        pts = next;
    }
    pts.iter().fold(Projective::zero(), |acc, s| {
        acc + Affine::<P>::new_unchecked(s.x, s.y)
    })
}

/// Adds `pts[2j] + pts[2j + 1]` for every full pair, pushing `None` for cancelled pairs.
fn add_pairs<P: SWCurveConfig>(
    pts: &[Slot<P::BaseField>],
    kinds: &mut Vec<Kind>,
    dens: &mut Vec<P::BaseField>,
    prefix: &mut Vec<P::BaseField>,
    sums: &mut Vec<Option<Slot<P::BaseField>>>,
) {
    kinds.clear();
    dens.clear();
    prefix.clear();
    let mut acc = P::BaseField::ONE;
    for pair in pts.chunks_exact(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (kind, den) = if a.x != b.x {
            (Kind::Add, b.x - a.x)
        } else if a.y == b.y && !a.y.is_zero() {
            (Kind::Double, a.y.double())
        } else {
            (Kind::Cancel, P::BaseField::ONE)
        };
        kinds.push(kind);
        dens.push(den);
        prefix.push(acc);
        acc *= den;
    }
    // The product of non-zero denominators is invertible.
    let mut inv = acc.inverse().unwrap_or(P::BaseField::ZERO);
    let start = sums.len();
    sums.resize(start + kinds.len(), None);
    for (j, pair) in pts.chunks_exact(2).enumerate().rev() {
        let inv_den = inv * prefix[j];
        inv *= dens[j];
        let (a, b) = (&pair[0], &pair[1]);
        let num = match kinds[j] {
            Kind::Cancel => continue,
            Kind::Add => b.y - a.y,
            Kind::Double => {
                let xx = a.x.square();
                xx.double() + xx + P::COEFF_A
            }
        };
        let lambda = num * inv_den;
        let x3 = lambda.square() - a.x - b.x;
        let y3 = lambda * (a.x - x3) - a.y;
        sums[start + j] = Some(Slot { x: x3, y: y3 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective};
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_std::UniformRand;
    use rand::SeedableRng;

    #[test]
    fn tree_sum_matches_plain_sum() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut bases: Vec<G1Affine> = (0..40)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        bases.push(-bases[3]);
        bases.push(G1Affine::zero());
        for len in [0usize, 1, 2, 17, 33, 100, 3000] {
            // Repeats (doublings), a point next to its negation, infinity, out-of-range.
            let mut idx: Vec<u32> = (0..len as u32).map(|i| (i * 7) % 42).collect();
            if len > 10 {
                idx[4] = 3;
                idx[5] = 40;
                idx[6] = 6;
                idx[7] = 6;
                idx[8] = 1000;
            }
            let expect: G1Projective = idx
                .iter()
                .filter_map(|&i| bases.get(i as usize))
                .map(|p| G1Projective::from(*p))
                .sum();
            assert_eq!(sum_points(&bases, &idx), expect, "len {len}");
        }
    }
}
