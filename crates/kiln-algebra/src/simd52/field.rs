//! Arithmetic on eight elements of a prime field below 2^254 at once with AVX-512 IFMA.
//!
//! A [`V8`] holds eight field elements in 52-bit limbs: lane i of `limb[k]` is bits
//! 52k..52k+52 of element i (the top limb holds the rest, 260 bits in all). Values are
//! ark's Montgomery representatives x·2^256 mod p, so converting to and from ark's
//! `[u64; 4]` is a pure re-slicing of bits (see `layout`).
//!
//! [`V8::mul`] is Montgomery multiplication with radix 2^52 over five limbs, i.e. it
//! computes a·b·2^−260. Multiplying a value x·2^256 by a constant stored as c·2^260 (ark's
//! representative of 16·c) therefore yields (x·c)·2^256, ark's representative of x·c.
//! Callers either pre-scale their constants by 16 (the NTT's twiddles) or read every
//! stored value as x/16 in the 2^260 domain (the MSM's affine additions; see there).
//!
//! Reduction is lazy, as in Harvey's NTT: sums live in [0, 2p), products come out below
//! 2p, and only values that leave the vector unit are reduced to [0, p).

use std::arch::x86_64::*;
use std::marker::PhantomData;

/// A prime modulus p < 2^254 in 64-bit limbs, and the constants [`V8`] derives from it.
pub(crate) trait Modulus: 'static {
    /// p, little-endian 64-bit limbs.
    const P64: [u64; 4];
    /// p in 52-bit limbs.
    const P52: [u64; 5] = to_52(Self::P64);
    /// 2p in 52-bit limbs (2p < 2^255, so doubling the 64-bit limbs cannot overflow).
    const P2_52: [u64; 5] = to_52([
        Self::P64[0] << 1,
        (Self::P64[1] << 1) | (Self::P64[0] >> 63),
        (Self::P64[2] << 1) | (Self::P64[1] >> 63),
        (Self::P64[3] << 1) | (Self::P64[2] >> 63),
    ]);
    /// −p^{−1} mod 2^52 (Newton iteration for the inverse mod 2^64, then negate and mask).
    const MU52: u64 = {
        let mut inv: u64 = 1;
        let mut i = 0;
        while i < 6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(Self::P64[0].wrapping_mul(inv)));
            i += 1;
        }
        inv.wrapping_neg() & MASK52
    };
    /// Compile-time check of the bounds the lazy reduction relies on: p < 2^254 (so
    /// a·b < 2^260·p for a < 4p, b < 2p, and 64p < 2^260) and the Montgomery constant.
    const CHECK: () = {
        assert!(Self::P64[3] >> 62 == 0, "needs p < 2^254");
        assert!(Self::P64[0].wrapping_mul(Self::MU52.wrapping_neg()) & MASK52 == 1);
    };
}

/// The BN254 scalar field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bn254Fr;
impl Modulus for Bn254Fr {
    const P64: [u64; 4] = <ark_bn254::Fr as ark_ff::PrimeField>::MODULUS.0;
}

/// The BN254 base field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bn254Fq;
impl Modulus for Bn254Fq {
    const P64: [u64; 4] = <ark_bn254::Fq as ark_ff::PrimeField>::MODULUS.0;
}

/// Mask of the low 52 bits.
pub(crate) const MASK52: u64 = (1 << 52) - 1;

/// `x` (four little-endian 64-bit limbs) in five 52-bit limbs.
pub(crate) const fn to_52(x: [u64; 4]) -> [u64; 5] {
    [
        x[0] & MASK52,
        ((x[0] >> 52) | (x[1] << 12)) & MASK52,
        ((x[1] >> 40) | (x[2] << 24)) & MASK52,
        ((x[2] >> 28) | (x[3] << 36)) & MASK52,
        x[3] >> 16,
    ]
}

/// Eight elements of the field mod `M` as five vectors of 52-bit limbs.
pub(crate) struct V8<M>(pub(crate) [__m512i; 5], PhantomData<M>);

impl<M> Clone for V8<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for V8<M> {}

/// Broadcasts a 52-bit-limb constant.
#[inline]
#[target_feature(enable = "avx512f")]
fn splat5(x: [u64; 5]) -> [__m512i; 5] {
    [
        _mm512_set1_epi64(x[0] as i64),
        _mm512_set1_epi64(x[1] as i64),
        _mm512_set1_epi64(x[2] as i64),
        _mm512_set1_epi64(x[3] as i64),
        _mm512_set1_epi64(x[4] as i64),
    ]
}

/// Signed carry propagation: afterwards limbs 0..3 are in [0, 2^52) and the sign of the
/// value is the sign of limb 4.
#[inline]
#[target_feature(enable = "avx512f")]
fn carry_signed(mut t: [__m512i; 5]) -> [__m512i; 5] {
    let m = _mm512_set1_epi64(MASK52 as i64);
    for k in 0..4 {
        let c = _mm512_srai_epi64::<52>(t[k]);
        t[k] = _mm512_and_si512(t[k], m);
        t[k + 1] = _mm512_add_epi64(t[k + 1], c);
    }
    t
}

/// Unsigned carry propagation (all limbs non-negative as 64-bit values).
#[inline]
#[target_feature(enable = "avx512f")]
fn carry(mut t: [__m512i; 5]) -> [__m512i; 5] {
    let m = _mm512_set1_epi64(MASK52 as i64);
    for k in 0..4 {
        let c = _mm512_srli_epi64::<52>(t[k]);
        t[k] = _mm512_and_si512(t[k], m);
        t[k + 1] = _mm512_add_epi64(t[k + 1], c);
    }
    t
}

/// `s − q` where s is normalized and s < 2q: returns s if s < q, else s − q (normalized).
#[inline]
#[target_feature(enable = "avx512f")]
fn reduce_once(s: [__m512i; 5], q: [u64; 5]) -> [__m512i; 5] {
    let q = splat5(q);
    let mut d = s;
    for k in 0..5 {
        d[k] = _mm512_sub_epi64(s[k], q[k]);
    }
    let d = carry_signed(d);
    let neg = _mm512_cmplt_epi64_mask(d[4], _mm512_setzero_si512());
    let mut r = d;
    for k in 0..5 {
        r[k] = _mm512_mask_blend_epi64(neg, d[k], s[k]);
    }
    r
}

impl<M: Modulus> V8<M> {
    /// Wraps five limb vectors.
    #[inline(always)]
    pub(crate) fn new(limbs: [__m512i; 5]) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = M::CHECK;
        V8(limbs, PhantomData)
    }

    /// a + b for a, b < 2p: the result is < 2p.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn add(self, b: Self) -> Self {
        let mut s = self.0;
        for (x, y) in s.iter_mut().zip(b.0) {
            *x = _mm512_add_epi64(*x, y);
        }
        V8::new(reduce_once(carry(s), M::P2_52))
    }

    /// a − b + 2p for a, b < 2p: the result is in (0, 4p), fit only as a `mul` operand.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn sub_lazy(self, b: Self) -> Self {
        let q = splat5(M::P2_52);
        let mut d = self.0;
        for k in 0..5 {
            d[k] = _mm512_sub_epi64(_mm512_add_epi64(d[k], q[k]), b.0[k]);
        }
        V8::new(carry_signed(d))
    }

    /// a − b for a, b < 2p, as a value in [0, 2p).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn sub(self, b: Self) -> Self {
        self.sub_lazy(b).reduce_2p()
    }

    /// Reduces a value < 4p to < 2p.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn reduce_2p(self) -> Self {
        V8::new(reduce_once(self.0, M::P2_52))
    }

    /// Reduces a value < 2p to the canonical [0, p).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn reduce_p(self) -> Self {
        V8::new(reduce_once(self.0, M::P52))
    }

    /// Montgomery product a·b·2^−260 mod p, < 2p, for a·b < 2^260·p (e.g. a < 4p, b < 2p).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn mul(self, b: Self) -> Self {
        let a = self.0;
        let b = b.0;
        let p = splat5(M::P52);
        let mu = _mm512_set1_epi64(M::MU52 as i64);
        let z = _mm512_setzero_si512();
        // t holds the running sum in 52-bit positions; t[5] collects the top halves.
        let mut t = [z; 6];
        for ai in a {
            for k in 0..5 {
                t[k] = _mm512_madd52lo_epu64(t[k], ai, b[k]);
                t[k + 1] = _mm512_madd52hi_epu64(t[k + 1], ai, b[k]);
            }
            let m = _mm512_madd52lo_epu64(z, t[0], mu);
            for k in 0..5 {
                t[k] = _mm512_madd52lo_epu64(t[k], m, p[k]);
                t[k + 1] = _mm512_madd52hi_epu64(t[k + 1], m, p[k]);
            }
            // t[0] is now a multiple of 2^52: shift the sum down one limb.
            let c = _mm512_srli_epi64::<52>(t[0]);
            t = [_mm512_add_epi64(t[1], c), t[2], t[3], t[4], t[5], z];
        }
        V8::new(carry([t[0], t[1], t[2], t[3], t[4]]))
    }

    /// Eight copies of one constant given in 52-bit limbs.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn splat(x: [u64; 5]) -> Self {
        V8::new(splat5(x))
    }
}
