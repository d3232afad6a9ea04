//! Bucket reduction: `sum_b (b + 1) * bucket_b` with the running-sum trick.
//!
//! Walking the buckets from the highest down, `running` holds the sum of the buckets seen so
//! far and `total` accumulates `running` once per step, so bucket `b` ends up counted
//! `b + 1` times: two additions per bucket instead of a scalar multiplication each. While
//! `running` does not change (a stretch of empty buckets) its repeated additions are
//! folded into one small multiplication, so sparse bucket sets (few points, wide windows,
//! small scalars) cost per occupied bucket rather than per bucket.
//!
//! Dense, large bucket sets are reduced in affine coordinates instead: the buckets are cut
//! into `L` contiguous lanes whose running sums advance in lockstep, so every step is `L`
//! independent affine additions sharing one inversion (see [`add_in_place`]). The lanes are
//! then combined in Jacobian coordinates: `sum_s total_s + m * sum_s s * running_s`, with
//! `m` buckets per lane.

use super::batch_affine::{add_in_place, Scratch, Settled, Slot};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, CurveGroup};
use ark_ff::Zero;

/// Below this many buckets the Jacobian running sum is used.
pub(crate) const LANES_FROM: usize = 512;

/// `k * p` by double-and-add (`k` is a small step count).
fn mul_small<P: SWCurveConfig>(p: &Projective<P>, k: u64) -> Projective<P> {
    if k == 1 {
        return *p;
    }
    let mut acc = Projective::<P>::zero();
    for bit in (0..64 - k.leading_zeros()).rev() {
        acc.double_in_place();
        if (k >> bit) & 1 == 1 {
            acc += p;
        }
    }
    acc
}

/// `sum_b (b + 1) * bucket_b` over settled buckets.
pub(crate) fn weighted_sum<P: SWCurveConfig>(buckets: Settled<P>) -> Projective<P> {
    let Settled {
        mut slots,
        mut full,
        overflow,
    } = buckets;
    let mut scratch = Scratch::new();
    if !overflow.is_empty() {
        fold_overflow(&mut slots, &mut full, &overflow, &mut scratch);
    }
    let occupied = full.iter().filter(|&&f| f).count();
    if slots.len() < LANES_FROM || occupied * 8 < slots.len() {
        let rev = slots
            .iter()
            .zip(&full)
            .rev()
            .map(|(s, &f)| (f.then(|| Affine::new_unchecked(s.x, s.y)), None));
        return running_sum(rev);
    }
    lanes(&slots, &full, &mut scratch)
}

/// Adds the Jacobian overflow buckets into the affine ones.
fn fold_overflow<P: SWCurveConfig>(
    slots: &mut [Slot<P::BaseField>],
    full: &mut [bool],
    overflow: &[Projective<P>],
    scratch: &mut Scratch<P::BaseField>,
) {
    let used: Vec<usize> = (0..overflow.len().min(slots.len()))
        .filter(|&b| !overflow[b].is_zero())
        .collect();
    let affine =
        Projective::normalize_batch(&used.iter().map(|&b| overflow[b]).collect::<Vec<_>>());
    let mut acc: Vec<_> = used.iter().map(|&b| slots[b]).collect();
    let mut acc_full: Vec<_> = used.iter().map(|&b| full[b]).collect();
    add_in_place::<P>(
        &mut acc,
        &mut acc_full,
        |i| {
            (!affine[i].infinity).then(|| Slot {
                x: affine[i].x,
                y: affine[i].y,
            })
        },
        scratch,
    );
    for (k, &b) in used.iter().enumerate() {
        slots[b] = acc[k];
        full[b] = acc_full[k];
    }
}

/// The affine lockstep reduction of a dense bucket set.
fn lanes<P: SWCurveConfig>(
    slots: &[Slot<P::BaseField>],
    full: &[bool],
    scratch: &mut Scratch<P::BaseField>,
) -> Projective<P> {
    let k = slots.len();
    // Each of the `2m` steps costs an inversion and each lane three Jacobian additions at
    // the end: `L ~ sqrt(4k)` balances the two.
    let lanes = ((4.4 * k as f64).sqrt() as usize).clamp(8, 1024);
    let m = k.div_ceil(lanes);
    let zero = Slot {
        x: P::BaseField::ZERO,
        y: P::BaseField::ZERO,
    };
    let mut running = vec![zero; lanes];
    let mut running_full = vec![false; lanes];
    let mut total = vec![zero; lanes];
    let mut total_full = vec![false; lanes];
    for j in 0..m {
        let bucket = |s: usize| {
            let b = s * m + (m - 1 - j);
            (b < k && full[b]).then(|| slots[b])
        };
        add_in_place::<P>(&mut running, &mut running_full, bucket, scratch);
        add_in_place::<P>(
            &mut total,
            &mut total_full,
            |s| running_full[s].then(|| running[s]),
            scratch,
        );
    }
    let point = |s: &Slot<P::BaseField>, f: bool| f.then(|| Affine::<P>::new_unchecked(s.x, s.y));
    // sum_s s * running_s, by a running sum over lanes s >= 1 from the top.
    let mut upper = Projective::<P>::zero();
    let mut weighted = Projective::<P>::zero();
    for s in (1..lanes).rev() {
        if let Some(p) = point(&running[s], running_full[s]) {
            upper += &p;
        }
        weighted += &upper;
    }
    let mut result = if weighted.is_zero() {
        weighted
    } else {
        mul_small(&weighted, m as u64)
    };
    for (t, &f) in total.iter().zip(&total_full) {
        if let Some(p) = point(t, f) {
            result += &p;
        }
    }
    result
}

/// `sum_b (b + 1) * bucket_b` for buckets given highest first, each as an optional affine
/// part plus an optional Jacobian part, by the Jacobian running sum.
pub(crate) fn running_sum<P: SWCurveConfig>(
    buckets_rev: impl Iterator<Item = (Option<Affine<P>>, Option<Projective<P>>)>,
) -> Projective<P> {
    let mut running = Projective::<P>::zero();
    let mut total = Projective::<P>::zero();
    // Steps since `running` last changed: each of them still owes `total` one `running`.
    let mut steps = 0u64;
    for (affine, jacobian) in buckets_rev {
        if affine.is_some() || jacobian.is_some() {
            if steps > 0 && !running.is_zero() {
                total += mul_small(&running, steps);
            }
            steps = 0;
            if let Some(a) = affine {
                running += &a;
            }
            if let Some(j) = jacobian {
                running += &j;
            }
        }
        steps += 1;
    }
    if steps > 0 && !running.is_zero() {
        total += mul_small(&running, steps);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective};
    use ark_ec::CurveGroup;
    use ark_ff::PrimeField;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    #[test]
    fn weights_are_bucket_index_plus_one() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let pts: Vec<G1Affine> = (0..6)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let extra = G1Projective::rand(&mut rng);
        let buckets: Vec<_> = pts
            .iter()
            .enumerate()
            .map(|(i, p)| (Some(*p), (i == 2).then_some(extra)))
            .collect();
        let mut expect = G1Projective::zero();
        for (i, (a, j)) in buckets.iter().enumerate() {
            let v = G1Projective::from(a.unwrap()) + j.unwrap_or_default();
            expect += v * ark_bn254::Fr::from_bigint((i as u64 + 1).into()).unwrap();
        }
        assert_eq!(running_sum(buckets.clone().into_iter().rev()), expect);
        // With empty stretches between the buckets.
        let mut sparse = Vec::new();
        let mut expect = G1Projective::zero();
        for (i, b) in buckets.into_iter().enumerate() {
            for _ in 0..(i * 3) % 5 {
                sparse.push((None, None));
            }
            let v = G1Projective::from(b.0.unwrap()) + b.1.unwrap_or_default();
            expect += v * ark_bn254::Fr::from(sparse.len() as u64 + 1);
            sparse.push(b);
        }
        sparse.extend([(None, None), (None, None)]);
        assert_eq!(running_sum(sparse.into_iter().rev()), expect);
    }

    #[test]
    fn lanes_match_running_sum() {
        type P = ark_bn254::g1::Config;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let base: Vec<G1Affine> = (0..8)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        for k in [512usize, 1000, 4096] {
            // Repeated points make lanes double; a negation makes one cancel.
            let pts: Vec<G1Affine> = (0..k)
                .map(|b| {
                    if b % 97 == 5 {
                        -base[(b / 8) % 8]
                    } else {
                        base[b % 8]
                    }
                })
                .collect();
            let full: Vec<bool> = (0..k).map(|b| b % 5 != 0).collect();
            let mut overflow = vec![G1Projective::zero(); k];
            overflow[7] = G1Projective::rand(&mut rng);
            overflow[10] = G1Projective::rand(&mut rng);
            overflow[11] = -G1Projective::from(pts[11]);
            let expect = running_sum::<P>((0..k).rev().map(|b| {
                (
                    full[b].then_some(pts[b]),
                    (!overflow[b].is_zero()).then_some(overflow[b]),
                )
            }));
            let slots = pts.iter().map(|p| Slot { x: p.x, y: p.y }).collect();
            for with_overflow in [false, true] {
                let settled = Settled::<P> {
                    slots: Clone::clone(&slots),
                    full: full.clone(),
                    overflow: if with_overflow {
                        overflow.clone()
                    } else {
                        Vec::new()
                    },
                };
                let got = weighted_sum(settled);
                if with_overflow {
                    assert_eq!(got, expect, "k {k}");
                } else {
                    let plain =
                        running_sum::<P>((0..k).rev().map(|b| (full[b].then_some(pts[b]), None)));
                    assert_eq!(got, plain, "k {k}");
                }
            }
        }
    }
}
