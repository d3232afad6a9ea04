//! Moving eight consecutive elements between ark's layout (`[u64; 4]` per element, the
//! Montgomery representative in little-endian 64-bit limbs) and a [`V8`] (one vector per
//! 52-bit limb): a 4×8 transpose by permutes, then a re-slicing of the bits.

use std::arch::x86_64::*;

use super::field::{Modulus, MASK52, V8};

/// Lane indices gathering limbs 0 and 1 (`lo`), or 2 and 3 (`hi`), of the four elements
/// held by two vectors; the same indices scatter them back (the map is an involution).
#[inline]
#[target_feature(enable = "avx512f")]
fn lo_hi() -> (__m512i, __m512i) {
    (
        _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13),
        _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15),
    )
}

/// Transposes eight elements (as four vectors of two elements each) into four vectors of
/// one 64-bit limb each.
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose_in(l: [__m512i; 4]) -> [__m512i; 4] {
    let (lo, hi) = lo_hi();
    // t0: limbs 0,1 of elements 0..3; t1: limbs 2,3 of 0..3; t2, t3 likewise for 4..7.
    let t0 = _mm512_permutex2var_epi64(l[0], lo, l[1]);
    let t1 = _mm512_permutex2var_epi64(l[0], hi, l[1]);
    let t2 = _mm512_permutex2var_epi64(l[2], lo, l[3]);
    let t3 = _mm512_permutex2var_epi64(l[2], hi, l[3]);
    [
        _mm512_shuffle_i64x2::<0x44>(t0, t2),
        _mm512_shuffle_i64x2::<0xEE>(t0, t2),
        _mm512_shuffle_i64x2::<0x44>(t1, t3),
        _mm512_shuffle_i64x2::<0xEE>(t1, t3),
    ]
}

/// Inverse of [`transpose_in`].
#[inline]
#[target_feature(enable = "avx512f")]
fn transpose_out(w: [__m512i; 4]) -> [__m512i; 4] {
    let (lo, hi) = lo_hi();
    let t0 = _mm512_shuffle_i64x2::<0x44>(w[0], w[1]);
    let t2 = _mm512_shuffle_i64x2::<0xEE>(w[0], w[1]);
    let t1 = _mm512_shuffle_i64x2::<0x44>(w[2], w[3]);
    let t3 = _mm512_shuffle_i64x2::<0xEE>(w[2], w[3]);
    [
        _mm512_permutex2var_epi64(t0, lo, t1),
        _mm512_permutex2var_epi64(t0, hi, t1),
        _mm512_permutex2var_epi64(t2, lo, t3),
        _mm512_permutex2var_epi64(t2, hi, t3),
    ]
}

/// 64-bit limbs → 52-bit limbs.
#[inline]
#[target_feature(enable = "avx512f")]
fn split52<M: Modulus>(w: [__m512i; 4]) -> V8<M> {
    let m = _mm512_set1_epi64(MASK52 as i64);
    let or = _mm512_or_si512;
    V8::new([
        _mm512_and_si512(w[0], m),
        _mm512_and_si512(
            or(_mm512_srli_epi64::<52>(w[0]), _mm512_slli_epi64::<12>(w[1])),
            m,
        ),
        _mm512_and_si512(
            or(_mm512_srli_epi64::<40>(w[1]), _mm512_slli_epi64::<24>(w[2])),
            m,
        ),
        _mm512_and_si512(
            or(_mm512_srli_epi64::<28>(w[2]), _mm512_slli_epi64::<36>(w[3])),
            m,
        ),
        _mm512_srli_epi64::<16>(w[3]),
    ])
}

/// 52-bit limbs (normalized, value < 2^256) → 64-bit limbs.
#[inline]
#[target_feature(enable = "avx512f")]
fn join64<M: Modulus>(v: V8<M>) -> [__m512i; 4] {
    let l = v.0;
    let or = _mm512_or_si512;
    [
        or(l[0], _mm512_slli_epi64::<52>(l[1])),
        or(_mm512_srli_epi64::<12>(l[1]), _mm512_slli_epi64::<40>(l[2])),
        or(_mm512_srli_epi64::<24>(l[2]), _mm512_slli_epi64::<28>(l[3])),
        or(_mm512_srli_epi64::<36>(l[3]), _mm512_slli_epi64::<16>(l[4])),
    ]
}

/// Loads eight consecutive elements.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn load<M: Modulus>(src: &[[u64; 4]; 8]) -> V8<M> {
    let p = src.as_ptr().cast::<i64>();
    // SAFETY: `src` is 8 × 32 = 256 readable bytes; unaligned loads of 64 bytes at
    // offsets 0, 64, 128, 192 stay inside it.
    let l = unsafe {
        [
            _mm512_loadu_epi64(p),
            _mm512_loadu_epi64(p.add(8)),
            _mm512_loadu_epi64(p.add(16)),
            _mm512_loadu_epi64(p.add(24)),
        ]
    };
    split52(transpose_in(l))
}

/// Loads eight consecutive elements in reverse order (lane i gets `src[7 − i]`).
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn load_rev<M: Modulus>(src: &[[u64; 4]; 8]) -> V8<M> {
    let rev = _mm512_setr_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    let mut v = load(src);
    for x in v.0.iter_mut() {
        *x = _mm512_permutexvar_epi64(rev, *x);
    }
    v
}

/// Stores eight elements, which must be normalized and canonical (< p).
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn store<M: Modulus>(v: V8<M>, dst: &mut [[u64; 4]; 8]) {
    let l = transpose_out(join64(v));
    let p = dst.as_mut_ptr().cast::<i64>();
    // SAFETY: `dst` is 8 × 32 = 256 writable bytes; the four 64-byte stores cover it.
    unsafe {
        _mm512_storeu_epi64(p, l[0]);
        _mm512_storeu_epi64(p.add(8), l[1]);
        _mm512_storeu_epi64(p.add(16), l[2]);
        _mm512_storeu_epi64(p.add(24), l[3]);
    }
}

/// Loads eight elements from anywhere: lane i gets `*src[i]`.
///
/// # Safety
/// Every pointer must be valid for reading 32 bytes.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn gather<M: Modulus>(src: [*const [u64; 4]; 8]) -> V8<M> {
    // SAFETY: the caller guarantees 32 readable bytes behind each pointer.
    let half = |i: usize| unsafe { _mm256_loadu_si256(src[i].cast::<__m256i>()) };
    let l = [
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(half(0)), half(1)),
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(half(2)), half(3)),
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(half(4)), half(5)),
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(half(6)), half(7)),
    ];
    split52(transpose_in(l))
}

/// Stores eight elements (normalized and canonical, < p) anywhere: `*dst[i]` gets lane i.
///
/// # Safety
/// Every pointer must be valid for writing 32 bytes, and no two may overlap.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn scatter<M: Modulus>(v: V8<M>, dst: [*mut [u64; 4]; 8]) {
    let l = transpose_out(join64(v));
    for (k, pair) in l.into_iter().enumerate() {
        // SAFETY: the caller guarantees 32 writable bytes behind each pointer.
        unsafe {
            _mm256_storeu_si256(dst[2 * k].cast::<__m256i>(), _mm512_castsi512_si256(pair));
            _mm256_storeu_si256(
                dst[2 * k + 1].cast::<__m256i>(),
                _mm512_extracti64x4_epi64::<1>(pair),
            );
        }
    }
}
