//! Finishing a batch of affine bucket additions eight lanes at a time with AVX-512 IFMA,
//! for BN254's G1 (over Fq) and G2 (over Fq2). Chosen at run time by [`available`]; the
//! scalar `flush` in `batch_affine` is the reference and the fallback.
//!
//! The batch is cut into groups of eight additions, one per lane, and the groups are dealt
//! round-robin onto [`CHAINS`] interleaved Montgomery-trick chains, so the serial prefix
//! products become `8 · CHAINS` independent ones. The chains' totals are inverted together
//! with one scalar inversion.
//!
//! Domains: the vectors multiply with radix 2^260 while ark stores x·2^256, so a stored
//! value read in the 2^260 domain is x/16. Every input (denominator, numerator, x sum,
//! bucket coordinates) is used as stored, i.e. as x/16: the slope num/den is unchanged by
//! the common factor, and the results come out as x₃/16 and y₃/16, which are exactly ark's
//! representations of x₃ and y₃. Two corrections keep the degrees consistent: the inverted
//! totals carry an extra 1/4, so the slope comes out as λ/4 and its square as λ²/16 = (λ²)
//! read at x/16; the y product λ/4 · (x − x₃)/16 is then multiplied by 4.

use std::any::TypeId;
use std::arch::x86_64::*;

use ark_bn254::{Fq, Fq2};
use ark_ff::{Field, One, Zero};

use super::batch_affine::{Slot, Terms};
use crate::simd52::layout;
use crate::simd52::{bn254_fq_layout_ok, cpu_supported, Bn254Fq, V8};

/// Interleaved inversion chains (two keep the multiplier busy while a product's latency
/// runs out).
const CHAINS: usize = 2;

/// Eight Fq elements.
type W = V8<Bn254Fq>;

/// Eight elements of Fq or Fq2 in 52-bit limbs, with the operations the addition needs.
trait Lanes: Copy {
    /// The ark field.
    type Elem: Field;
    /// Lane i ← `*src[i]`.
    ///
    /// # Safety
    /// Every pointer is valid for reading an `Elem`, and the CPU has AVX-512 IFMA.
    unsafe fn gather(src: [*const Self::Elem; 8]) -> Self;
    /// `*dst[i]` ← lane i, reduced to canonical form.
    ///
    /// # Safety
    /// Every pointer is valid for writing an `Elem`, no two overlap, and the CPU has
    /// AVX-512 IFMA.
    unsafe fn scatter(self, dst: [*mut Self::Elem; 8]);
    /// Product (inputs < 4p and < 2p per limb element; output < 2p).
    unsafe fn mul(self, b: Self) -> Self;
    /// Sum of values < 2p, < 2p.
    unsafe fn add(self, b: Self) -> Self;
    /// Difference of values < 2p, in [0, 2p).
    unsafe fn sub(self, b: Self) -> Self;
    /// Difference of values < 2p plus 2p, in (0, 4p): a `mul` operand only.
    unsafe fn sub_lazy(self, b: Self) -> Self;
}

/// Eight Fq2 elements: real and imaginary parts (BN254's Fq2 is Fq[u]/(u² + 1)).
#[derive(Clone, Copy)]
struct W2 {
    c0: W,
    c1: W,
}

impl Lanes for W {
    type Elem = Fq;

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn gather(src: [*const Fq; 8]) -> Self {
        // SAFETY: Fq is laid out as its [u64; 4] limbs (checked by `available`), and the
        // caller guarantees the pointers and the CPU.
        unsafe { layout::gather(src.map(|p| p.cast::<[u64; 4]>())) }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn scatter(self, dst: [*mut Fq; 8]) {
        // SAFETY: as in `gather`; `reduce_p` makes the values canonical, as ark requires.
        unsafe { layout::scatter(self.reduce_p(), dst.map(|p| p.cast::<[u64; 4]>())) }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn mul(self, b: Self) -> Self {
        V8::mul(self, b)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn add(self, b: Self) -> Self {
        V8::add(self, b)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn sub(self, b: Self) -> Self {
        V8::sub(self, b)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn sub_lazy(self, b: Self) -> Self {
        V8::sub_lazy(self, b)
    }
}

impl Lanes for W2 {
    type Elem = Fq2;

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn gather(src: [*const Fq2; 8]) -> Self {
        // SAFETY: the caller guarantees valid Fq2 pointers; `addr_of!` takes the parts'
        // addresses without creating references.
        unsafe {
            W2 {
                c0: W::gather(src.map(|p| std::ptr::addr_of!((*p).c0))),
                c1: W::gather(src.map(|p| std::ptr::addr_of!((*p).c1))),
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn scatter(self, dst: [*mut Fq2; 8]) {
        // SAFETY: as in `gather`.
        unsafe {
            self.c0
                .scatter(dst.map(|p| std::ptr::addr_of_mut!((*p).c0)));
            self.c1
                .scatter(dst.map(|p| std::ptr::addr_of_mut!((*p).c1)));
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn mul(self, b: Self) -> Self {
        // Karatsuba: (a0 + a1 u)(b0 + b1 u) = a0 b0 − a1 b1 + ((a0 + a1)(b0 + b1) − a0 b0 − a1 b1) u.
        // Operand bounds: a0 + a1 and b0 + b1 are < 2p after `add`, within `mul`'s.
        let a0b0 = self.c0.mul(b.c0);
        let a1b1 = self.c1.mul(b.c1);
        let cross = self.c0.add(self.c1).mul(b.c0.add(b.c1));
        W2 {
            c0: a0b0.sub(a1b1),
            c1: cross.sub(a0b0).sub(a1b1),
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn add(self, b: Self) -> Self {
        W2 {
            c0: self.c0.add(b.c0),
            c1: self.c1.add(b.c1),
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn sub(self, b: Self) -> Self {
        W2 {
            c0: self.c0.sub(b.c0),
            c1: self.c1.sub(b.c1),
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn sub_lazy(self, b: Self) -> Self {
        W2 {
            c0: self.c0.sub_lazy(b.c0),
            c1: self.c1.sub_lazy(b.c1),
        }
    }
}

/// Whether batches over the base field `F` can be finished here on this machine.
pub(crate) fn available<F: Field>() -> bool {
    let id = TypeId::of::<F>();
    (id == TypeId::of::<Fq>() || id == TypeId::of::<Fq2>())
        && bn254_fq_layout_ok()
        && cpu_supported()
}

/// Reusable buffers for [`flush`]: per group, the chain's prefix product before it and the
/// group's denominators (as raw vectors, so one buffer serves both fields).
#[derive(Default)]
pub(crate) struct Scratch {
    buckets: Vec<usize>,
    prefix: Vec<[__m512i; 10]>,
    dens: Vec<[__m512i; 10]>,
}

/// Conversion between a lane type and the raw buffer entry.
trait Raw: Lanes {
    fn to_raw(self) -> [__m512i; 10];
    fn from_raw(r: &[__m512i; 10]) -> Self;
}

impl Raw for W {
    #[inline(always)]
    fn to_raw(self) -> [__m512i; 10] {
        let z = self.0[0];
        [
            self.0[0], self.0[1], self.0[2], self.0[3], self.0[4], z, z, z, z, z,
        ]
    }
    #[inline(always)]
    fn from_raw(r: &[__m512i; 10]) -> Self {
        V8::new([r[0], r[1], r[2], r[3], r[4]])
    }
}

impl Raw for W2 {
    #[inline(always)]
    fn to_raw(self) -> [__m512i; 10] {
        let (a, b) = (self.c0.0, self.c1.0);
        [a[0], a[1], a[2], a[3], a[4], b[0], b[1], b[2], b[3], b[4]]
    }
    #[inline(always)]
    fn from_raw(r: &[__m512i; 10]) -> Self {
        W2 {
            c0: V8::new([r[0], r[1], r[2], r[3], r[4]]),
            c1: V8::new([r[5], r[6], r[7], r[8], r[9]]),
        }
    }
}

/// Finishes `slots[buckets[j]] += addition j` for every j, where `terms[j]` holds the
/// addition's slope denominator and numerator and the sum of the two x coordinates.
/// Returns false (doing nothing) when `F` is not a field handled here or the CPU lacks
/// the instructions; the caller then finishes the batch itself.
///
/// Every bucket index is in range and appears at most once, and every denominator is
/// non-zero (the scheduler guarantees both).
pub(crate) fn flush<F: Field>(
    bucket_of: &impl Fn(usize) -> usize,
    terms: &[Terms<F>],
    slots: &mut [Slot<F>],
    scratch: &mut Scratch,
) -> bool {
    if !available::<F>() {
        return false;
    }
    let buckets = &mut scratch.buckets;
    buckets.clear();
    buckets.extend((0..terms.len()).map(bucket_of));
    if buckets.iter().any(|&b| b >= slots.len()) {
        return false;
    }
    let buckets = std::mem::take(buckets);
    let id = TypeId::of::<F>();
    // SAFETY (both arms): F is the named type (equal TypeIds), so the casts reinterpret
    // each slice as itself; the CPU features were checked by `available`.
    unsafe {
        if id == TypeId::of::<Fq>() {
            let terms = std::slice::from_raw_parts(terms.as_ptr().cast::<Terms<Fq>>(), terms.len());
            let slots =
                std::slice::from_raw_parts_mut(slots.as_mut_ptr().cast::<Slot<Fq>>(), slots.len());
            run::<W>(&buckets, terms, slots, scratch);
        } else {
            let terms =
                std::slice::from_raw_parts(terms.as_ptr().cast::<Terms<Fq2>>(), terms.len());
            let slots =
                std::slice::from_raw_parts_mut(slots.as_mut_ptr().cast::<Slot<Fq2>>(), slots.len());
            run::<W2>(&buckets, terms, slots, scratch);
        }
    }
    scratch.buckets = buckets;
    true
}

/// The lane type's field element 1 in the 2^260 domain (ark's representation of 16).
fn one_260<F: Field>() -> F {
    F::from(16u64)
}

/// The vector body of [`flush`].
///
/// # Safety
/// The CPU has AVX-512 IFMA; bucket indices are in range and distinct.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn run<L: Raw>(
    buckets: &[usize],
    terms: &[Terms<L::Elem>],
    slots: &mut [Slot<L::Elem>],
    scratch: &mut Scratch,
) {
    let n = terms.len();
    let groups = n.div_ceil(8);
    // Lanes past the end add 0 + 0 with denominator 1 into private dummy slots.
    let pad_terms = Terms {
        den: one_260::<L::Elem>(),
        num: L::Elem::zero(),
        xsum: L::Elem::zero(),
    };
    let mut dummy = [Slot {
        x: L::Elem::zero(),
        y: L::Elem::zero(),
    }; 8];
    let slot_base = slots.as_mut_ptr();
    let dummy_base = dummy.as_mut_ptr();
    let term_ptrs = |g: usize| -> [*const Terms<L::Elem>; 8] {
        std::array::from_fn(|i| {
            let j = 8 * g + i;
            terms
                .get(j)
                .map_or(&pad_terms as *const _, |t| t as *const _)
        })
    };
    let slot_ptrs = |g: usize| -> [*mut Slot<L::Elem>; 8] {
        std::array::from_fn(|i| {
            let j = 8 * g + i;
            match buckets.get(j) {
                // SAFETY: bucket indices are in range (checked by the caller).
                Some(&b) => unsafe { slot_base.add(b) },
                // SAFETY: i < 8 = dummy.len().
                None => unsafe { dummy_base.add(i) },
            }
        })
    };

    scratch.prefix.clear();
    scratch.dens.clear();
    // SAFETY (whole body): the pointers come from `term_ptrs` / `slot_ptrs`, which point
    // into live slices or local arrays; distinct buckets make the eight slot pointers of a
    // group distinct; the CPU features are the caller's guarantee.
    unsafe {
        let one = L::gather([&pad_terms.den as *const L::Elem; 8]);
        let mut acc = [one; CHAINS];
        for g in 0..groups {
            let k = g % CHAINS;
            let den = L::gather(term_ptrs(g).map(|t| std::ptr::addr_of!((*t).den)));
            scratch.prefix.push(acc[k].to_raw());
            scratch.dens.push(den.to_raw());
            acc[k] = acc[k].mul(den);
        }

        let mut inv = invert_totals::<L>(acc);

        for g in (0..groups).rev() {
            let k = g % CHAINS;
            let tp = term_ptrs(g);
            let sp = slot_ptrs(g);
            let inv_den = inv[k].mul(L::from_raw(&scratch.prefix[g]));
            inv[k] = inv[k].mul(L::from_raw(&scratch.dens[g]));
            let num = L::gather(tp.map(|t| std::ptr::addr_of!((*t).num)));
            let xsum = L::gather(tp.map(|t| std::ptr::addr_of!((*t).xsum)));
            let sx = L::gather(sp.map(|s| std::ptr::addr_of!((*s).x)));
            let sy = L::gather(sp.map(|s| std::ptr::addr_of!((*s).y)));
            let lambda = num.mul(inv_den);
            let x3 = lambda.mul(lambda).sub(xsum);
            let t = lambda.mul(sx.sub_lazy(x3));
            let t2 = t.add(t);
            let y3 = t2.add(t2).sub(sy);
            x3.scatter(sp.map(|s| std::ptr::addr_of_mut!((*s).x)));
            y3.scatter(sp.map(|s| std::ptr::addr_of_mut!((*s).y)));
        }
    }
}

/// The chains' totals inverted, each lane as 1/(4·total) in the 2^260 domain.
///
/// # Safety
/// The CPU has AVX-512 IFMA.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn invert_totals<L: Raw>(acc: [L; CHAINS]) -> [L; CHAINS] {
    let mut vals = [[L::Elem::one(); 8]; CHAINS];
    // SAFETY: the pointers address distinct elements of the local `vals`.
    unsafe {
        for (v, a) in vals.iter_mut().zip(acc) {
            a.scatter(std::array::from_fn(|i| &mut v[i] as *mut L::Elem));
        }
    }
    // A stored total T (ark value V = 16·T) needs the stored inverse of value 1/(4T) in
    // the 2^260 domain, whose ark value is 16/(4T) = 64/V. Batch-invert with one inversion;
    // every total is non-zero (a product of non-zero denominators).
    let flat = vals.as_flattened_mut();
    let mut prefix = [L::Elem::one(); 8 * CHAINS];
    let mut run = L::Elem::one();
    for (p, v) in prefix.iter_mut().zip(flat.iter()) {
        *p = run;
        run *= v;
    }
    let mut inv = run.inverse().unwrap_or_default() * L::Elem::from(64u64);
    for (p, v) in prefix.iter().zip(flat.iter_mut()).rev() {
        let this = inv * p;
        inv *= *v;
        *v = this;
    }
    // SAFETY: the pointers address the local `vals`.
    unsafe {
        std::array::from_fn(|k| L::gather(std::array::from_fn(|i| &vals[k][i] as *const L::Elem)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    /// The scalar formula for one addition, as `batch_affine` finishes it.
    fn reference<F: Field>(t: &Terms<F>, s: &Slot<F>) -> Slot<F> {
        let lambda = t.num * t.den.inverse().unwrap();
        let x3 = lambda.square() - t.xsum;
        Slot {
            x: x3,
            y: lambda * (s.x - x3) - s.y,
        }
    }

    fn check<F: Field + UniformRand>(n: usize, seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let count = 3 * n + 5;
        let mut slots: Vec<Slot<F>> = (0..count)
            .map(|_| Slot {
                x: F::rand(&mut rng),
                y: F::rand(&mut rng),
            })
            .collect();
        // Edge values: zero numerators and sums, ±1, p − 1.
        let edge = [F::zero(), F::one(), -F::one()];
        let terms: Vec<Terms<F>> = (0..n)
            .map(|j| Terms {
                den: if j % 5 == 0 {
                    -F::one()
                } else {
                    F::rand(&mut rng) + F::one()
                },
                num: if j % 7 == 0 {
                    edge[j % 3]
                } else {
                    F::rand(&mut rng)
                },
                xsum: if j % 3 == 0 {
                    edge[j % 3]
                } else {
                    F::rand(&mut rng)
                },
            })
            .collect();
        let buckets: Vec<u32> = (0..n as u32).map(|j| (3 * j + 1) % count as u32).collect();
        let expect: Vec<Slot<F>> = buckets
            .iter()
            .zip(&terms)
            .map(|(&b, t)| reference(t, &slots[b as usize]))
            .collect();
        let before = slots.clone();
        assert!(flush(
            &|j| buckets[j] as usize,
            &terms,
            &mut slots,
            &mut Scratch::default()
        ));
        for (j, &b) in buckets.iter().enumerate() {
            assert_eq!(slots[b as usize].x, expect[j].x, "x of addition {j} of {n}");
            assert_eq!(slots[b as usize].y, expect[j].y, "y of addition {j} of {n}");
        }
        // Untouched buckets stay as they were.
        for (b, (now, was)) in slots.iter().zip(&before).enumerate() {
            if !buckets.contains(&(b as u32)) {
                assert!(now.x == was.x && now.y == was.y, "bucket {b} changed");
            }
        }
    }

    #[test]
    fn lanes_match_the_scalar_formula() {
        if !cpu_supported() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        for (i, n) in [0, 1, 7, 8, 9, 16, 17, 33, 100].into_iter().enumerate() {
            check::<Fq>(n, i as u64);
            check::<Fq2>(n, 100 + i as u64);
        }
    }

    #[test]
    fn other_fields_are_declined() {
        let mut slots = vec![Slot {
            x: ark_bn254::Fr::zero(),
            y: ark_bn254::Fr::zero(),
        }];
        let terms = vec![Terms {
            den: ark_bn254::Fr::one(),
            num: ark_bn254::Fr::zero(),
            xsum: ark_bn254::Fr::zero(),
        }];
        assert!(!flush(&|_| 0, &terms, &mut slots, &mut Scratch::default()));
    }
}
