//! Bucket accumulation in affine coordinates with batched inversion.
//!
//! An affine addition `B + P` needs one field inversion (of `x_P - x_B`, or `2 y_B` when
//! doubling); everything else is 2 multiplications and 1 squaring. A [`BucketSet`] collects
//! independent additions (each into a different bucket) into a batch, multiplies their
//! denominators together, inverts the product once, and walks the batch backwards to finish
//! every addition (Montgomery's trick: 3 extra multiplications per element). That makes a
//! bucket addition about 5M + 1S, against 7M + 4S for a mixed Jacobian addition.
//!
//! A bucket already waiting in the current batch cannot take a second addition before the
//! batch is finished; such a collision is deferred and retried after the next flush. The
//! deferred queue is bounded: past its bound (many points sharing a bucket, as with equal
//! scalars) collisions go into a per-bucket Jacobian overflow accumulator (allocated on
//! first use), so the cost falls back to a mixed addition instead of degrading into one
//! inversion per point.
//!
//! Special cases: an empty bucket just takes the point; `P + P` becomes a doubling (its
//! denominator is `2y`); `P + (-P)` (also `P + P` with `y = 0`) empties the bucket at once.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{Field, Zero};

/// An affine point without the infinity flag, aligned so a G1 point over a 256-bit field
/// fills exactly one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct Slot<F> {
    /// x coordinate.
    pub(crate) x: F,
    /// y coordinate.
    pub(crate) y: F,
}

/// Bucket state: holds no point.
const EMPTY: u8 = 0;
/// Bucket state: holds a point, no addition pending.
const FULL: u8 = 1;
/// Bucket state: holds a point and has an addition pending in the current batch.
const BUSY: u8 = 2;

/// How many additions ahead a bucket is prefetched.
pub(crate) const AHEAD: usize = 8;

/// The parts of one pending addition's slope, and the sum of the two x coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Terms<F> {
    /// The slope's denominator (non-zero).
    pub(crate) den: F,
    /// The slope's numerator.
    pub(crate) num: F,
    /// `x_B + x_P`.
    pub(crate) xsum: F,
}

/// One pending `bucket += ±bases[point]`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    bucket: u32,
    point: u32,
    neg: bool,
}

/// `count` buckets of affine points accumulated with batched inversions.
pub(crate) struct BucketSet<'a, P: SWCurveConfig> {
    bases: &'a [Affine<P>],
    slots: Vec<Slot<P::BaseField>>,
    state: Vec<u8>,
    overflow: Vec<Projective<P>>,
    pending: Vec<Pending>,
    /// Collisions waiting for the next batch (at most `batch / 2`).
    deferred: Vec<Pending>,
    /// Per pending addition: the slope's denominator, numerator and `x_B + x_P`, computed
    /// when it is scheduled so finishing it needs neither the point nor a comparison.
    terms: Vec<Terms<P::BaseField>>,
    batch: usize,
    finisher: Finisher<P::BaseField>,
}

impl<'a, P: SWCurveConfig> BucketSet<'a, P> {
    /// `count` empty buckets fed from `bases`, finishing additions `batch` at a time.
    pub(crate) fn new(bases: &'a [Affine<P>], count: usize, batch: usize) -> Self {
        let batch = batch.max(1);
        Self {
            bases,
            slots: vec![
                Slot {
                    x: P::BaseField::ZERO,
                    y: P::BaseField::ZERO
                };
                count
            ],
            state: vec![EMPTY; count],
            overflow: Vec::new(),
            pending: Vec::with_capacity(batch + batch / 2),
            deferred: Vec::with_capacity(batch / 2),
            terms: Vec::with_capacity(batch + batch / 2),
            batch,
            finisher: Finisher::new(),
        }
    }

    /// Hints the cache that `bucket` is about to be used.
    #[inline(always)]
    pub(crate) fn prefetch(&self, bucket: usize) {
        prefetch(&self.slots, bucket);
    }

    /// Schedules every `(bucket, point, neg)` of `items` in order (see [`Self::add`]), each
    /// bucket prefetched [`AHEAD`] additions before its use.
    #[inline]
    pub(crate) fn add_all(&mut self, items: impl IntoIterator<Item = (usize, u32, bool)>) {
        let mut items = items.into_iter();
        // ring[k % AHEAD] holds item k while items k..k + AHEAD are in flight.
        let mut ring = [(0usize, 0u32, false); AHEAD];
        let mut live = 0;
        for slot in ring.iter_mut() {
            let Some(item) = items.next() else { break };
            self.prefetch(item.0);
            *slot = item;
            live += 1;
        }
        let mut k = 0;
        while live > 0 {
            let (bucket, point, neg) = ring[k % AHEAD];
            match items.next() {
                Some(next) => {
                    self.prefetch(next.0);
                    ring[k % AHEAD] = next;
                }
                None => live -= 1,
            }
            self.add(bucket, point, neg);
            k += 1;
        }
    }

    /// Schedules `bucket += bases[point]` (or `-= ` when `neg`). Out-of-range indices and
    /// points at infinity are ignored.
    #[inline]
    pub(crate) fn add(&mut self, bucket: usize, point: u32, neg: bool) {
        self.schedule(Pending {
            bucket: bucket as u32,
            point,
            neg,
        });
        if self.pending.len() >= self.batch {
            self.flush();
            self.retry_deferred();
        }
    }

    /// Puts one addition into the batch, or defers it, or settles it at once.
    #[inline(always)]
    fn schedule(&mut self, e: Pending) {
        let bucket = e.bucket as usize;
        let Some(p) = self.bases.get(e.point as usize) else {
            return;
        };
        let Some(&state) = self.state.get(bucket) else {
            return;
        };
        if p.infinity {
            return;
        }
        match state {
            EMPTY => {
                self.slots[bucket] = Slot {
                    x: p.x,
                    y: if e.neg { -p.y } else { p.y },
                };
                self.state[bucket] = FULL;
            }
            FULL => {
                let s = &self.slots[bucket];
                let y = if e.neg { -p.y } else { p.y };
                let terms = if p.x != s.x {
                    Terms {
                        den: p.x - s.x,
                        num: y - s.y,
                        xsum: p.x + s.x,
                    }
                } else if y == s.y && !y.is_zero() {
                    let xx = s.x.square();
                    Terms {
                        den: s.y.double(),
                        num: xx.double() + xx + P::COEFF_A,
                        xsum: s.x.double(),
                    }
                } else {
                    // P + (-P), or a point of order two doubled.
                    self.state[bucket] = EMPTY;
                    return;
                };
                self.state[bucket] = BUSY;
                self.terms.push(terms);
                self.pending.push(e);
            }
            _ => {
                if self.deferred.len() < self.batch / 2 {
                    self.deferred.push(e);
                } else {
                    self.overflow_add(e);
                }
            }
        }
    }

    /// `overflow[bucket] += ±point` in Jacobian coordinates.
    #[cold]
    fn overflow_add(&mut self, e: Pending) {
        if self.overflow.is_empty() {
            self.overflow = vec![Projective::zero(); self.state.len()];
        }
        let p = &self.bases[e.point as usize];
        if e.neg {
            self.overflow[e.bucket as usize] -= p;
        } else {
            self.overflow[e.bucket as usize] += p;
        }
    }

    /// Schedules the deferred additions again (those still colliding stay deferred).
    fn retry_deferred(&mut self) {
        let mut deferred = std::mem::take(&mut self.deferred);
        for e in deferred.drain(..) {
            self.schedule(e);
        }
        // Keep the old allocation if the queue is empty again.
        if self.deferred.is_empty() {
            self.deferred = deferred;
        }
    }

    /// Finishes everything: pending and deferred additions.
    fn settle(&mut self) {
        // Two retry rounds settle the deferred queue unless many points share a bucket;
        // what is left then goes to the overflow accumulators.
        for _ in 0..2 {
            self.flush();
            if self.deferred.is_empty() {
                return;
            }
            self.retry_deferred();
        }
        self.flush();
        for e in std::mem::take(&mut self.deferred) {
            self.overflow_add(e);
        }
    }

    /// Finishes every pending addition with one inversion.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = &self.pending;
        self.finisher
            .finish(|j| pending[j].bucket as usize, &self.terms, &mut self.slots);
        for e in &self.pending {
            self.state[e.bucket as usize] = FULL;
        }
        self.pending.clear();
        self.terms.clear();
    }

    /// Finishes all pending and deferred additions and hands the buckets over.
    pub(crate) fn finish(mut self) -> Settled<P> {
        self.settle();
        Settled {
            full: self.state.iter().map(|&s| s != EMPTY).collect(),
            slots: self.slots,
            overflow: self.overflow,
        }
    }
}

/// Buckets with every addition finished: bucket `b` is `slots[b]` if `full[b]` (else
/// zero), plus `overflow[b]` when `overflow` is not empty.
pub(crate) struct Settled<P: SWCurveConfig> {
    /// Affine parts.
    pub(crate) slots: Vec<Slot<P::BaseField>>,
    /// Whether `slots[b]` holds a point.
    pub(crate) full: Vec<bool>,
    /// Jacobian parts (collisions past the deferred queue); empty if never used.
    pub(crate) overflow: Vec<Projective<P>>,
}

/// Hints the cache that `slots[bucket]` is about to be used (nothing if out of range).
#[inline(always)]
fn prefetch<F>(slots: &[Slot<F>], bucket: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(slot) = slots.get(bucket) {
        // SAFETY: `_mm_prefetch` needs only SSE, which every x86_64 CPU has, and a
        // prefetch never dereferences its address (it is a hint that cannot fault); the
        // pointer is to a live element anyway. Prefetching the random bucket ahead of
        // its use hides most of the L2/L3 miss (about 25% of the time at 2^20 points).
        let start = (slot as *const Slot<F>).cast::<i8>();
        // A G2 bucket spans two cache lines; `wrapping_add` stays inside the element.
        for line in (0..std::mem::size_of::<Slot<F>>()).step_by(64) {
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slots, bucket);
}

/// Whether batches over `F` are finished eight lanes at a time (BN254 Fq and Fq2 on CPUs
/// with AVX-512 IFMA, unless `KILN_MSM_BACKEND=scalar`).
fn vector_flush<F: Field>() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static ALLOWED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let allowed = *ALLOWED
            .get_or_init(|| std::env::var("KILN_MSM_BACKEND").map_or(true, |v| v != "scalar"));
        allowed && super::affine_simd::available::<F>()
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Finishes batches of independent affine additions with one inversion each: in eight
/// vector lanes where the CPU and field allow (see `affine_simd`), else in scalar code.
pub(crate) struct Finisher<F> {
    /// `prefix[j]` = product of the denominators of additions `..j` (scalar path).
    prefix: Vec<F>,
    /// Buffers of the vector path; `None` when batches are finished in scalar code.
    #[cfg(target_arch = "x86_64")]
    vector: Option<super::affine_simd::Scratch>,
}

impl<F: Field> Finisher<F> {
    /// A finisher using the vector path when available.
    pub(crate) fn new() -> Self {
        Self {
            prefix: Vec::new(),
            #[cfg(target_arch = "x86_64")]
            vector: vector_flush::<F>().then(Default::default),
        }
    }

    /// A finisher that always uses the scalar path (the reference for tests).
    #[cfg(test)]
    pub(crate) fn scalar() -> Self {
        Self {
            prefix: Vec::new(),
            #[cfg(target_arch = "x86_64")]
            vector: None,
        }
    }

    /// `slots[bucket_of(j)] += addition j` for every `j`, where `terms[j]` holds the
    /// addition's slope denominator (non-zero), numerator and the sum of the two x
    /// coordinates. The buckets must be distinct and in range.
    pub(crate) fn finish(
        &mut self,
        bucket_of: impl Fn(usize) -> usize,
        terms: &[Terms<F>],
        slots: &mut [Slot<F>],
    ) {
        #[cfg(target_arch = "x86_64")]
        if let Some(scratch) = self.vector.as_mut() {
            if super::affine_simd::flush(&bucket_of, terms, slots, scratch) {
                return;
            }
        }
        self.prefix.clear();
        let mut acc = F::ONE;
        for t in terms {
            self.prefix.push(acc);
            acc *= t.den;
        }
        // Every denominator is non-zero by construction, so the product is invertible.
        let mut inv = acc.inverse().unwrap_or(F::ZERO);
        for j in (0..terms.len()).rev() {
            // The batch's buckets have left the L1 cache since they were scheduled.
            if let Some(ahead) = j.checked_sub(AHEAD) {
                prefetch(slots, bucket_of(ahead));
            }
            let Some(s) = slots.get_mut(bucket_of(j)) else {
                continue;
            };
            let t = &terms[j];
            let inv_den = inv * self.prefix[j];
            inv *= t.den;
            let lambda = t.num * inv_den;
            let x3 = lambda.square() - t.xsum;
            let y3 = lambda * (s.x - x3) - s.y;
            *s = Slot { x: x3, y: y3 };
        }
    }
}

/// Reusable buffers for [`add_in_place`].
pub(crate) struct Scratch<F> {
    terms: Vec<Terms<F>>,
    chain: Vec<u32>,
    finisher: Finisher<F>,
}

impl<F: Field> Scratch<F> {
    /// Empty buffers.
    pub(crate) fn new() -> Self {
        Self {
            terms: Vec::new(),
            chain: Vec::new(),
            finisher: Finisher::new(),
        }
    }
}

/// `acc[i] += addend(i)` for every `i`, sharing one inversion. A point is absent (zero)
/// where `full[i]` is false or `addend(i)` is `None`.
pub(crate) fn add_in_place<P: SWCurveConfig>(
    acc: &mut [Slot<P::BaseField>],
    full: &mut [bool],
    addend: impl Fn(usize) -> Option<Slot<P::BaseField>>,
    scratch: &mut Scratch<P::BaseField>,
) {
    scratch.terms.clear();
    scratch.chain.clear();
    for (i, (a, f)) in acc.iter_mut().zip(full.iter_mut()).enumerate() {
        let Some(q) = addend(i) else {
            continue;
        };
        if !*f {
            *a = q;
            *f = true;
            continue;
        }
        let terms = if a.x != q.x {
            Terms {
                den: q.x - a.x,
                num: q.y - a.y,
                xsum: a.x + q.x,
            }
        } else if a.y == q.y && !a.y.is_zero() {
            let xx = a.x.square();
            Terms {
                den: a.y.double(),
                num: xx.double() + xx + P::COEFF_A,
                xsum: a.x.double(),
            }
        } else {
            *f = false;
            continue;
        };
        scratch.terms.push(terms);
        scratch.chain.push(i as u32);
    }
    let chain = &scratch.chain;
    scratch
        .finisher
        .finish(|j| chain[j] as usize, &scratch.terms, acc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective};
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_std::UniformRand;
    use rand::SeedableRng;

    fn bucket_values(set: BucketSet<'_, ark_bn254::g1::Config>) -> Vec<G1Projective> {
        let s = set.finish();
        (0..s.slots.len())
            .map(|b| {
                let a = if s.full[b] {
                    G1Projective::from(G1Affine::new_unchecked(s.slots[b].x, s.slots[b].y))
                } else {
                    G1Projective::zero()
                };
                a + s.overflow.get(b).copied().unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn buckets_match_plain_sums_with_collisions_and_cancellations() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut bases: Vec<G1Affine> = (0..50)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let p = bases[0];
        bases.push(-p);
        bases.push(G1Affine::zero());
        let n = bases.len() as u32;
        for batch in [1, 2, 3, 8, 64] {
            let mut set = BucketSet::new(&bases, 4, batch);
            let mut expect = vec![G1Projective::zero(); 4];
            let mut ops = Vec::new();
            // Same point many times (doublings), its negation (cancellation), infinity.
            for _ in 0..5 {
                ops.push((0usize, 0u32, false));
            }
            ops.push((1, 0, false));
            ops.push((1, n - 2, false));
            ops.push((1, 0, true));
            ops.push((2, n - 1, false));
            for i in 0..200u32 {
                ops.push(((i % 3) as usize + 1, i % n, i % 5 == 0));
            }
            for &(b, i, neg) in &ops {
                set.add(b, i, neg);
                let q = bases[i as usize];
                expect[b] += if neg { -q } else { q };
            }
            assert_eq!(bucket_values(set), expect, "batch {batch}");
        }
    }

    /// Both finishers agree with projective addition on random G1 and G2 batches.
    fn finishers_agree<P: SWCurveConfig>(seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        for n in [1, 5, 8, 13, 40] {
            let count = 2 * n;
            let buckets: Vec<Affine<P>> = (0..count)
                .map(|_| Projective::<P>::rand(&mut rng).into_affine())
                .collect();
            let addends: Vec<Affine<P>> = (0..n)
                .map(|_| Projective::<P>::rand(&mut rng).into_affine())
                .collect();
            // Addition j goes into bucket 2j + 1.
            let terms: Vec<Terms<P::BaseField>> = addends
                .iter()
                .enumerate()
                .map(|(j, q)| {
                    let a = &buckets[2 * j + 1];
                    Terms {
                        den: q.x - a.x,
                        num: q.y - a.y,
                        xsum: q.x + a.x,
                    }
                })
                .collect();
            let expect: Vec<Affine<P>> = (0..count)
                .map(|b| match b % 2 {
                    1 => (buckets[b] + addends[b / 2]).into_affine(),
                    _ => buckets[b],
                })
                .collect();
            for (name, mut finisher) in [("scalar", Finisher::scalar()), ("auto", Finisher::new())]
            {
                let mut slots: Vec<Slot<P::BaseField>> =
                    buckets.iter().map(|p| Slot { x: p.x, y: p.y }).collect();
                finisher.finish(|j| 2 * j + 1, &terms, &mut slots);
                for (b, (s, e)) in slots.iter().zip(&expect).enumerate() {
                    assert!(
                        s.x == e.x && s.y == e.y,
                        "{name} finisher, n {n}, bucket {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn scalar_and_vector_finishers_match_projective_addition() {
        finishers_agree::<ark_bn254::g1::Config>(11);
        finishers_agree::<ark_bn254::g2::Config>(12);
    }

    #[test]
    fn add_in_place_handles_every_case() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let pts: Vec<G1Affine> = (0..4)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let slot = |p: &G1Affine| Slot { x: p.x, y: p.y };
        let point = |s: &Slot<ark_bn254::Fq>, f: bool| {
            if f {
                G1Projective::from(G1Affine::new_unchecked(s.x, s.y))
            } else {
                G1Projective::zero()
            }
        };
        // (acc, addend): add, double, cancel, zero + q, acc + zero, zero + zero.
        let cases = [
            (Some(pts[0]), Some(pts[1])),
            (Some(pts[2]), Some(pts[2])),
            (Some(pts[3]), Some(-pts[3])),
            (None, Some(pts[1])),
            (Some(pts[0]), None),
            (None, None),
        ];
        let mut acc: Vec<_> = cases
            .iter()
            .map(|(a, _)| slot(&a.unwrap_or(pts[0])))
            .collect();
        let mut full: Vec<_> = cases.iter().map(|(a, _)| a.is_some()).collect();
        let addends: Vec<_> = cases.iter().map(|(_, q)| q.map(|q| slot(&q))).collect();
        let mut scratch = Scratch::new();
        add_in_place::<ark_bn254::g1::Config>(&mut acc, &mut full, |i| addends[i], &mut scratch);
        for (i, (a, q)) in cases.iter().enumerate() {
            let expect = a.map(G1Projective::from).unwrap_or_default()
                + q.map(G1Projective::from).unwrap_or_default();
            assert_eq!(point(&acc[i], full[i]), expect, "case {i}");
        }
    }
}
