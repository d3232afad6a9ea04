//! BN254 scalar-field arithmetic on eight elements at once with AVX-512 IFMA.
//!
//! A [`V8`] holds eight field elements in 52-bit limbs: lane i of `limb[k]` is bits
//! 52k..52k+52 of element i (the top limb holds the rest, 260 bits in all). Values are
//! ark's Montgomery representatives x·2^256 mod p, so converting to and from ark's
//! `[u64; 4]` is a pure re-slicing of bits (see `layout`).
//!
//! [`mul`] is Montgomery multiplication with radix 2^52 over five limbs, i.e. it computes
//! a·b·2^−260. Multiplying a value x·2^256 by a constant stored as c·2^260 (ark's
//! representative of 16·c) therefore yields (x·c)·2^256, ark's representative of x·c:
//! every constant this module multiplies by (twiddles, scale factors) is pre-scaled by 16.
//!
//! Reduction is lazy, as in Harvey's NTT: butterfly values live in [0, 2p) between
//! stages (p < 2^254 leaves ample room in 260 bits), products come out below 2p, and only
//! the final store reduces to [0, p).

use std::arch::x86_64::*;

use ark_ff::PrimeField;

/// The BN254 scalar-field modulus in 64-bit limbs, little endian.
const P64: [u64; 4] = <ark_bn254::Fr as PrimeField>::MODULUS.0;

/// Mask of the low 52 bits.
pub(super) const MASK52: u64 = (1 << 52) - 1;

/// `x` (four little-endian 64-bit limbs) in five 52-bit limbs.
const fn to_52(x: [u64; 4]) -> [u64; 5] {
    [
        x[0] & MASK52,
        ((x[0] >> 52) | (x[1] << 12)) & MASK52,
        ((x[1] >> 40) | (x[2] << 24)) & MASK52,
        ((x[2] >> 28) | (x[3] << 36)) & MASK52,
        x[3] >> 16,
    ]
}

/// p in 52-bit limbs.
const P52: [u64; 5] = to_52(P64);

/// 2p in 52-bit limbs (2p < 2^255, so doubling the 64-bit limbs cannot overflow).
const P2_52: [u64; 5] = to_52([
    P64[0] << 1,
    (P64[1] << 1) | (P64[0] >> 63),
    (P64[2] << 1) | (P64[1] >> 63),
    (P64[3] << 1) | (P64[2] >> 63),
]);

/// −p^{−1} mod 2^52 (Newton iteration for the inverse mod 2^64, then negate and mask).
const MU52: u64 = {
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(P64[0].wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg() & MASK52
};

// The lazy-reduction bounds below need 4p < 2^256 (values < 4p fit four 64-bit limbs'
// worth of 52-bit limbs with a top limb under 2^48) and a·b < 2^260·p for a < 4p, b < 2p.
const _: () = assert!(P64[3] >> 62 == 0, "needs p < 2^254");
const _: () = assert!(P64[0].wrapping_mul(MU52.wrapping_neg()) & MASK52 == 1);

/// Eight field elements as five vectors of 52-bit limbs.
#[derive(Clone, Copy)]
pub(crate) struct V8(pub(super) [__m512i; 5]);

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

impl V8 {
    /// a + b for a, b < 2p: the result is < 2p.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn add(self, b: V8) -> V8 {
        let mut s = self.0;
        for (x, y) in s.iter_mut().zip(b.0) {
            *x = _mm512_add_epi64(*x, y);
        }
        V8(reduce_once(carry(s), P2_52))
    }

    /// a − b + 2p for a, b < 2p: the result is in (0, 4p), fit only as a `mul` operand.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn sub_lazy(self, b: V8) -> V8 {
        let q = splat5(P2_52);
        let mut d = self.0;
        for k in 0..5 {
            d[k] = _mm512_sub_epi64(_mm512_add_epi64(d[k], q[k]), b.0[k]);
        }
        V8(carry_signed(d))
    }

    /// a − b for a, b < 2p, as a value in [0, 2p).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn sub(self, b: V8) -> V8 {
        self.sub_lazy(b).reduce_2p()
    }

    /// Reduces a value < 4p to < 2p.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn reduce_2p(self) -> V8 {
        V8(reduce_once(self.0, P2_52))
    }

    /// Reduces a value < 2p to the canonical [0, p).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn reduce_p(self) -> V8 {
        V8(reduce_once(self.0, P52))
    }

    /// Montgomery product a·b·2^−260 mod p, < 2p, for a·b < 2^260·p (e.g. a < 4p, b < 2p).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) fn mul(self, b: V8) -> V8 {
        let a = self.0;
        let b = b.0;
        let p = splat5(P52);
        let mu = _mm512_set1_epi64(MU52 as i64);
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
        V8(carry([t[0], t[1], t[2], t[3], t[4]]))
    }

    /// Eight copies of one constant given in 52-bit limbs.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn splat(x: [u64; 5]) -> V8 {
        V8(splat5(x))
    }
}

/// `x` (four 64-bit limbs) in 52-bit limbs, for building constants.
pub(super) const fn limbs52(x: [u64; 4]) -> [u64; 5] {
    to_52(x)
}
