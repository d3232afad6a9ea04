//! Eight elements of BN254's scalar field at once with AVX-512 IFMA, behind a safe
//! interface for other crates (kiln-rollup's Poseidon hashes eight inputs at a time on it).
//!
//! The arithmetic is `simd52`'s (five 52-bit limbs per element, Montgomery radix 2^260).
//! Safety rests on a token: [`FrLanes::available`] checks the CPU once and returns an
//! [`Ifma`] only if it has `avx512f` and `avx512ifma`, and every way of making an
//! [`FrLanes`] takes that token, so no safe caller can run these instructions on a CPU
//! without them. Other architectures compile the same interface, but `available` returns
//! `None` there and no value of either type can exist.
//!
//! Domain: a lane holds x·2^260 mod p (loading converts from ark's x·2^256, storing
//! converts back), in [0, 2p) between operations; [`FrLanes::store`] returns canonical
//! elements, equal to what arkworks computes. [`FrConst`] holds a constant prepared for
//! the same domain, broadcast to all lanes when used.

use std::fmt;
use std::ops::{Add, Mul, Sub};

use ark_bn254::Fr;

/// Proof that this CPU has AVX-512 IFMA, obtained from [`FrLanes::available`]; the only
/// way to make [`FrLanes`].
#[derive(Clone, Copy, Debug)]
pub struct Ifma(imp::Token);

impl Ifma {
    /// Runs `f` in a function compiled with AVX-512 IFMA enabled, so that the [`FrLanes`]
    /// operations `f` performs are inlined into it rather than called one by one.
    #[inline]
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        // SAFETY: an `Ifma` exists only after `available` found the CPU features.
        unsafe { imp::run(self.0, f) }
    }
}

/// A field element prepared for [`FrLanes::mul_const`] and [`FrLanes::add_const`] (the
/// same constant in every lane), for constants used many times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrConst([u64; 5]);

impl FrConst {
    /// Prepares `c`.
    pub fn new(c: Fr) -> FrConst {
        // c·2^260 mod p is ark's representation of 16·c.
        let l = (c * Fr::from(16u64)).0 .0;
        let m = (1u64 << 52) - 1;
        FrConst([
            l[0] & m,
            ((l[0] >> 52) | (l[1] << 12)) & m,
            ((l[1] >> 40) | (l[2] << 24)) & m,
            ((l[2] >> 28) | (l[3] << 36)) & m,
            l[3] >> 16,
        ])
    }
}

/// Eight elements of BN254's scalar field [`Fr`], one per lane.
#[derive(Clone, Copy)]
pub struct FrLanes(imp::Lanes);

impl FrLanes {
    /// `Some` token if this CPU has AVX-512 IFMA (`avx512f` and `avx512ifma`), else `None`
    /// (always `None` on architectures other than x86-64).
    pub fn available() -> Option<Ifma> {
        imp::detect().map(Ifma)
    }

    /// Lane i holds `x[i]`.
    #[inline(always)]
    pub fn load(ifma: Ifma, x: [Fr; 8]) -> FrLanes {
        // SAFETY: the token proves the CPU features.
        FrLanes(unsafe { imp::load(ifma.0, x) })
    }

    /// Every lane holds `c`.
    #[inline(always)]
    pub fn splat(ifma: Ifma, c: Fr) -> FrLanes {
        FrLanes::splat_const(ifma, FrConst::new(c))
    }

    /// Every lane holds the prepared constant `c`.
    #[inline(always)]
    pub fn splat_const(ifma: Ifma, c: FrConst) -> FrLanes {
        // SAFETY: the token proves the CPU features.
        FrLanes(unsafe { imp::splat(ifma.0, c.0) })
    }

    /// Lane i holds the prepared constant `c[i]` (a table lookup that differs per lane,
    /// with no conversion: the constants are already in the lanes' domain).
    #[inline(always)]
    pub fn gather(ifma: Ifma, c: [&FrConst; 8]) -> FrLanes {
        // SAFETY: the token proves the CPU features.
        FrLanes(unsafe { imp::gather(ifma.0, c.map(|k| &k.0)) })
    }

    /// Lane i holds `a`'s lane i where bit i of `mask` is set, else `b`'s.
    #[inline(always)]
    pub fn select(mask: u8, a: FrLanes, b: FrLanes) -> FrLanes {
        // SAFETY: as in `store`.
        FrLanes(unsafe { imp::select(mask, a.0, b.0) })
    }

    /// `−self` in the lanes whose bit of `mask` is set, `self` in the others.
    #[inline(always)]
    pub fn negate_where(self, mask: u8) -> FrLanes {
        // SAFETY: as in `store`.
        let zero = FrLanes(unsafe { imp::zero_like(self.0) });
        FrLanes::select(mask, zero - self, self)
    }

    /// The eight elements, canonical (exactly arkworks' values).
    #[inline(always)]
    pub fn store(self) -> [Fr; 8] {
        // SAFETY: an `FrLanes` exists only after `available` found the CPU features.
        unsafe { imp::store(self.0) }
    }

    /// Lane-wise `self²`.
    #[inline(always)]
    pub fn square(self) -> FrLanes {
        self * self
    }

    /// Lane-wise `self⁵` (Poseidon's S-box).
    #[inline(always)]
    pub fn pow5(self) -> FrLanes {
        self.square().square() * self
    }

    /// Lane-wise `self + c`.
    #[inline(always)]
    pub fn add_const(self, c: &FrConst) -> FrLanes {
        // SAFETY: as in `store`.
        FrLanes(unsafe { imp::add_const(self.0, c.0) })
    }

    /// Lane-wise `self · c`.
    #[inline(always)]
    pub fn mul_const(self, c: &FrConst) -> FrLanes {
        // SAFETY: as in `store`.
        FrLanes(unsafe { imp::mul_const(self.0, c.0) })
    }

    /// Lane-wise `Σ x[i]·c[i]` over the common length of `x` and `c` (zero if empty).
    #[inline(always)]
    pub fn dot_const(ifma: Ifma, x: &[FrLanes], c: &[FrConst]) -> FrLanes {
        // SAFETY: the token proves the CPU features.
        FrLanes(unsafe { imp::dot_const(ifma.0, x, c) })
    }
}

impl Add for FrLanes {
    type Output = FrLanes;

    /// Lane-wise `self + b`.
    #[inline(always)]
    fn add(self, b: FrLanes) -> FrLanes {
        // SAFETY: an `FrLanes` exists only after `available` found the CPU features.
        FrLanes(unsafe { imp::add(self.0, b.0) })
    }
}

impl Sub for FrLanes {
    type Output = FrLanes;

    /// Lane-wise `self − b`.
    #[inline(always)]
    fn sub(self, b: FrLanes) -> FrLanes {
        // SAFETY: as in `add`.
        FrLanes(unsafe { imp::sub(self.0, b.0) })
    }
}

impl Mul for FrLanes {
    type Output = FrLanes;

    /// Lane-wise `self · b`.
    #[inline(always)]
    fn mul(self, b: FrLanes) -> FrLanes {
        // SAFETY: as in `add`.
        FrLanes(unsafe { imp::mul(self.0, b.0) })
    }
}

impl fmt::Debug for FrLanes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FrLanes").field(&self.store()).finish()
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    //! The IFMA implementation, over `simd52`.

    use ark_bn254::Fr;
    use ark_ff::{BigInt, One};

    use crate::simd52::field::to_52;
    use crate::simd52::{cpu_supported, layout, Bn254Fr, V8};

    /// The token's content: nothing, but private.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Token(());

    /// Eight lanes, each x·2^260 mod p in [0, 2p), limbs normalized.
    pub(super) type Lanes = V8<Bn254Fr>;

    pub(super) fn detect() -> Option<Token> {
        cpu_supported().then_some(Token(()))
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn run<R>(_: Token, f: impl FnOnce() -> R) -> R {
        f()
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn load(_: Token, x: [Fr; 8]) -> Lanes {
        // ark stores x·2^256 (< p); times 2^264 mod p (ark's representation of 256) and
        // 2^−260 it becomes x·2^260, < 2p.
        let to_domain = V8::splat(to_52(Fr::from(256u64).0 .0));
        layout::load::<Bn254Fr>(&x.map(|e| e.0 .0)).mul(to_domain)
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn splat(_: Token, c: [u64; 5]) -> Lanes {
        V8::splat(c)
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn gather(_: Token, c: [&[u64; 5]; 8]) -> Lanes {
        use std::arch::x86_64::_mm512_set_epi64;
        // Each constant is < p with normalized 52-bit limbs, as every lane's value may be.
        V8::new(std::array::from_fn(|k| {
            _mm512_set_epi64(
                c[7][k] as i64,
                c[6][k] as i64,
                c[5][k] as i64,
                c[4][k] as i64,
                c[3][k] as i64,
                c[2][k] as i64,
                c[1][k] as i64,
                c[0][k] as i64,
            )
        }))
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn select(mask: u8, a: Lanes, b: Lanes) -> Lanes {
        use std::arch::x86_64::_mm512_mask_blend_epi64;
        V8::new(std::array::from_fn(|k| {
            _mm512_mask_blend_epi64(mask, b.0[k], a.0[k])
        }))
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn zero_like(_: Lanes) -> Lanes {
        V8::splat([0; 5])
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn store(v: Lanes) -> [Fr; 8] {
        // x·2^260 (< 2p) times 2^256 mod p (ark's representation of 1) and 2^−260 is
        // x·2^256, < 2p; reduced once it is ark's canonical representation.
        let from_domain = V8::splat(to_52(Fr::one().0 .0));
        let mut out = [[0u64; 4]; 8];
        layout::store(v.mul(from_domain).reduce_p(), &mut out);
        out.map(|l| Fr::new_unchecked(BigInt(l)))
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn add(a: Lanes, b: Lanes) -> Lanes {
        a.add(b)
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn sub(a: Lanes, b: Lanes) -> Lanes {
        a.sub(b)
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn mul(a: Lanes, b: Lanes) -> Lanes {
        // a, b < 2p: a·b < 4p² < 2^260·p, within `mul`'s bound; the product is < 2p.
        a.mul(b)
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn add_const(a: Lanes, c: [u64; 5]) -> Lanes {
        // c < p.
        a.add(V8::splat(c))
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn mul_const(a: Lanes, c: [u64; 5]) -> Lanes {
        a.mul(V8::splat(c))
    }

    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn dot_const(_: Token, x: &[super::FrLanes], c: &[super::FrConst]) -> Lanes {
        let mut acc = V8::splat([0; 5]);
        let n = x.len().min(c.len());
        for (xs, cs) in x[..n].chunks(DOT_CHUNK).zip(c[..n].chunks(DOT_CHUNK)) {
            acc = acc.add(dot_chunk(xs, cs));
        }
        acc
    }

    /// Terms per unreduced sum in [`dot_chunk`].
    const DOT_CHUNK: usize = 16;

    /// `Σ x[i]·c[i]·2^−260` for up to [`DOT_CHUNK`] terms of equal count, < 2p, with one
    /// Montgomery reduction for the whole sum.
    ///
    /// The 52×52-bit partial products of every term accumulate in ten 64-bit column sums
    /// (each term adds at most ten values < 2^52 to a column, and the reduction ten more
    /// plus carries, so 16 terms stay far below 2^64). The sum S of the terms is below
    /// 16·2p·p < 2^260·p (x[i] < 2p, c[i] < p, p < 2^254), so the reduction
    /// (S + m·p)/2^260 with m < 2^260 is below 2p.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn dot_chunk(x: &[super::FrLanes], c: &[super::FrConst]) -> Lanes {
        use std::arch::x86_64::*;

        use crate::simd52::field::{Modulus, MASK52};

        debug_assert!(x.len() <= DOT_CHUNK && x.len() == c.len());
        let z = _mm512_setzero_si512();
        let mut t = [z; 10];
        for (xi, ci) in x.iter().zip(c) {
            let a = xi.0 .0;
            let b = ci.0.map(|l| _mm512_set1_epi64(l as i64));
            for (i, ai) in a.into_iter().enumerate() {
                for (k, bk) in b.into_iter().enumerate() {
                    t[i + k] = _mm512_madd52lo_epu64(t[i + k], ai, bk);
                    t[i + k + 1] = _mm512_madd52hi_epu64(t[i + k + 1], ai, bk);
                }
            }
        }
        let p = Bn254Fr::P52.map(|l| _mm512_set1_epi64(l as i64));
        let mu = _mm512_set1_epi64(Bn254Fr::MU52 as i64);
        for i in 0..5 {
            // m·p clears the low 52 bits of column i; its carry moves up one column.
            let m = _mm512_madd52lo_epu64(z, t[i], mu);
            for (k, pk) in p.into_iter().enumerate() {
                t[i + k] = _mm512_madd52lo_epu64(t[i + k], m, pk);
                t[i + k + 1] = _mm512_madd52hi_epu64(t[i + k + 1], m, pk);
            }
            t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
        }
        let mask = _mm512_set1_epi64(MASK52 as i64);
        let mut r = [t[5], t[6], t[7], t[8], t[9]];
        for k in 0..4 {
            let carry = _mm512_srli_epi64::<52>(r[k]);
            r[k] = _mm512_and_si512(r[k], mask);
            r[k + 1] = _mm512_add_epi64(r[k + 1], carry);
        }
        V8::new(r)
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    //! No vector unit: the token and the lanes are uninhabited, so nothing here runs.

    use ark_bn254::Fr;

    /// The token's content: no value.
    #[derive(Clone, Copy, Debug)]
    pub(super) enum Token {}

    /// No lanes.
    #[derive(Clone, Copy)]
    pub(super) enum Lanes {}

    pub(super) fn detect() -> Option<Token> {
        None
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn run<R>(t: Token, _: impl FnOnce() -> R) -> R {
        match t {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn load(t: Token, _: [Fr; 8]) -> Lanes {
        match t {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn splat(t: Token, _: [u64; 5]) -> Lanes {
        match t {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn store(v: Lanes) -> [Fr; 8] {
        match v {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn gather(t: Token, _: [&[u64; 5]; 8]) -> Lanes {
        match t {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn select(_: u8, a: Lanes, _: Lanes) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn zero_like(a: Lanes) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn add(a: Lanes, _: Lanes) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn sub(a: Lanes, _: Lanes) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn mul(a: Lanes, _: Lanes) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn add_const(a: Lanes, _: [u64; 5]) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn mul_const(a: Lanes, _: [u64; 5]) -> Lanes {
        match a {}
    }

    /// # Safety
    /// Uninhabited input.
    pub(super) unsafe fn dot_const(t: Token, _: &[super::FrLanes], _: &[super::FrConst]) -> Lanes {
        match t {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "x86_64")]
    use ark_ff::{BigInt, Field, One, PrimeField, UniformRand, Zero};
    #[cfg(target_arch = "x86_64")]
    use rand::SeedableRng;

    #[test]
    #[cfg(not(target_arch = "x86_64"))]
    fn fr_lanes_unavailable_off_x86_64() {
        assert!(FrLanes::available().is_none());
    }

    /// Edge values (0, 1, p − 1, near p, near 2^253, 1/16) then random ones, eight at a time.
    #[cfg(target_arch = "x86_64")]
    fn samples() -> Vec<[Fr; 8]> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let near_p = |k: u64| -Fr::from(k);
        let mut out = vec![
            [
                Fr::zero(),
                Fr::one(),
                near_p(1),
                near_p(2),
                near_p(16),
                Fr::from(2u64).pow([253u64]),
                Fr::from(u64::MAX),
                Fr::from(16u64).inverse().unwrap(),
            ],
            [
                near_p(1),
                near_p(1),
                near_p(3),
                Fr::from(2u64),
                Fr::zero(),
                -Fr::from(2u64).pow([252u64]),
                Fr::from(256u64).inverse().unwrap(),
                Fr::one(),
            ],
        ];
        out.extend((0..38).map(|_| std::array::from_fn(|_| Fr::rand(&mut rng))));
        out
    }

    #[cfg(target_arch = "x86_64")]
    fn each(a: &[Fr; 8], b: &[Fr; 8], f: impl Fn(Fr, Fr) -> Fr) -> [Fr; 8] {
        std::array::from_fn(|i| f(a[i], b[i]))
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn fr_lanes_agree_with_arkworks() {
        let Some(ifma) = FrLanes::available() else {
            eprintln!("no AVX-512 IFMA on this CPU: fr_lanes not exercised");
            return;
        };
        let all = samples();
        for a in &all {
            let va = FrLanes::load(ifma, *a);
            assert_eq!(va.store(), *a, "load/store round trip");
            assert_eq!(va.square().store(), a.map(|x| x.square()), "square");
            assert_eq!(va.pow5().store(), a.map(|x| x.pow([5u64])), "pow5");
            for c in [a[0], a[2], a[7]] {
                let k = FrConst::new(c);
                assert_eq!(FrLanes::splat(ifma, c).store(), [c; 8], "splat");
                assert_eq!(FrLanes::splat_const(ifma, k).store(), [c; 8], "splat_const");
                assert_eq!(va.mul_const(&k).store(), a.map(|x| x * c), "mul_const");
                assert_eq!(va.add_const(&k).store(), a.map(|x| x + c), "add_const");
            }
            let consts = a.map(FrConst::new);
            let gathered = FrLanes::gather(ifma, std::array::from_fn(|i| &consts[7 - i]));
            assert_eq!(
                gathered.store(),
                std::array::from_fn(|i| a[7 - i]),
                "gather"
            );
            for mask in [0u8, 1, 0x80, 0xa5, 0xff] {
                let bit = |i: usize| mask >> i & 1 == 1;
                let neg = va.negate_where(mask).store();
                let picked = FrLanes::select(mask, va, gathered).store();
                for i in 0..8 {
                    assert_eq!(neg[i], if bit(i) { -a[i] } else { a[i] }, "negate_where");
                    assert_eq!(picked[i], if bit(i) { a[i] } else { a[7 - i] }, "select");
                }
            }
            for b in &all {
                let vb = FrLanes::load(ifma, *b);
                assert_eq!((va + vb).store(), each(a, b, |x, y| x + y), "add");
                assert_eq!((va - vb).store(), each(a, b, |x, y| x - y), "sub");
                assert_eq!((va * vb).store(), each(a, b, |x, y| x * y), "mul");
                // Long chains keep the lazy bounds: results stay exact.
                let chain = (va + vb) * (va - vb) + va * va - vb.square();
                let want = each(a, b, |x, y| (x + y) * (x - y) + x * x - y * y);
                assert_eq!(chain.store(), want, "chain");
            }
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn fr_lanes_dot_const_agrees_with_arkworks() {
        let Some(ifma) = FrLanes::available() else {
            eprintln!("no AVX-512 IFMA on this CPU: fr_lanes not exercised");
            return;
        };
        let all = samples();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        for n in (0..=20).chain([31, 32, 33, 40]) {
            let xs = &all[..n.min(all.len())];
            let cs: Vec<Fr> = (0..n)
                .map(|i| {
                    if i % 3 == 0 {
                        -Fr::one()
                    } else {
                        Fr::rand(&mut rng)
                    }
                })
                .collect();
            let lanes: Vec<FrLanes> = xs.iter().map(|x| FrLanes::load(ifma, *x)).collect();
            let consts: Vec<FrConst> = cs.iter().map(|c| FrConst::new(*c)).collect();
            let want: [Fr; 8] =
                std::array::from_fn(|l| xs.iter().zip(&cs).map(|(x, c)| x[l] * c).sum());
            assert_eq!(
                FrLanes::dot_const(ifma, &lanes, &consts).store(),
                want,
                "{n} terms"
            );
            let run = ifma.run(|| FrLanes::dot_const(ifma, &lanes, &consts).store());
            assert_eq!(run, want, "{n} terms inside run");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn fr_lanes_accept_unreduced_ark_values() {
        // An ark value made with `new_unchecked` may be ≥ p (< 2^256): still exact mod p.
        let Some(ifma) = FrLanes::available() else {
            return;
        };
        let p = Fr::MODULUS;
        let mut big = p;
        big.0[0] += 5; // p + 5 (no carry out of limb 0): the residue of raw 5
        let raw = Fr::new_unchecked(big);
        let canon = Fr::new_unchecked(BigInt([5, 0, 0, 0]));
        let v = FrLanes::load(ifma, [raw; 8]);
        assert_eq!(v.store(), [canon; 8]);
        assert_eq!(v.square().store(), [canon.square(); 8]);
    }
}
