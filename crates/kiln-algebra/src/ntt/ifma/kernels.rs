//! Block and strip kernels on [`V8`] vectors: the data is converted once into 52-bit
//! limbs in a scratch buffer, all stages run there, and it is reduced and converted back.
//!
//! Butterflies between positions at distance h ≥ 8 pair whole vectors. The three lowest
//! levels (h = 4, 2, 1) pair lanes: two vectors (16 consecutive elements) are permuted so
//! that the left and right halves of each butterfly sit in two vectors, level by level.
//!
//! As in the scalar kernels, the inverse transform reads the level table backwards and
//! folds the sign of ω_{2h}^{−t} = −ω_{2h}^{h−t} into the butterfly.

use std::arch::x86_64::*;

use super::V8;
use super::{Limbs, Tables, VScale};
use crate::ntt::schedule::Strip;
use crate::simd52::layout::{load, load_rev, store};

/// DIF butterfly on vectors: (x + y, (x − y)·ω), ω = w (forward) or −w (inverse).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn dif<const INV: bool>(x: V8, y: V8, w: V8) -> (V8, V8) {
    let d = if INV { y.sub_lazy(x) } else { x.sub_lazy(y) };
    (x.add(y), d.mul(w))
}

/// DIT butterfly on vectors: (x + ω·y, x − ω·y), ω = w (forward) or −w (inverse).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn dit<const INV: bool>(x: V8, y: V8, w: V8) -> (V8, V8) {
    let t = y.mul(w);
    if INV {
        (x.sub(t), x.add(t))
    } else {
        (x.add(t), x.sub(t))
    }
}

/// Butterfly with ω = 1.
#[inline]
#[target_feature(enable = "avx512f")]
fn unit(x: V8, y: V8) -> (V8, V8) {
    (x.add(y), x.sub(y))
}

/// Lane permutation of two vectors, limb by limb (`_mm512_permutex2var_epi64`).
#[inline]
#[target_feature(enable = "avx512f")]
fn perm(a: V8, idx: __m512i, b: V8) -> V8 {
    let mut r = a.0;
    for (x, y) in r.iter_mut().zip(b.0) {
        *x = _mm512_permutex2var_epi64(*x, idx, y);
    }
    V8::new(r)
}

/// 128-bit-lane shuffle of two vectors, limb by limb (`_mm512_shuffle_i64x2`).
#[inline]
#[target_feature(enable = "avx512f")]
fn shuf<const IMM: i32>(a: V8, b: V8) -> V8 {
    let mut r = a.0;
    for (x, y) in r.iter_mut().zip(b.0) {
        *x = _mm512_shuffle_i64x2::<IMM>(*x, y);
    }
    V8::new(r)
}

/// Even lanes of a and b interleaved (`_mm512_unpacklo_epi64`), limb by limb.
#[inline]
#[target_feature(enable = "avx512f")]
fn unpack_lo(a: V8, b: V8) -> V8 {
    let mut r = a.0;
    for (x, y) in r.iter_mut().zip(b.0) {
        *x = _mm512_unpacklo_epi64(*x, y);
    }
    V8::new(r)
}

/// Odd lanes of a and b interleaved (`_mm512_unpackhi_epi64`), limb by limb.
#[inline]
#[target_feature(enable = "avx512f")]
fn unpack_hi(a: V8, b: V8) -> V8 {
    let mut r = a.0;
    for (x, y) in r.iter_mut().zip(b.0) {
        *x = _mm512_unpackhi_epi64(*x, y);
    }
    V8::new(r)
}

/// Levels 4, 2, 1 (DIF order) on 16 consecutive elements held as vectors `a`, `b`.
/// Lane layouts (element numbers): level 4 pairs [0 1 2 3 8 9 10 11] with
/// [4 5 6 7 12 13 14 15], level 2 [0 1 4 5 8 9 12 13] with [2 3 6 7 10 11 14 15],
/// level 1 the even elements with the odd ones.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn low_dif<const INV: bool>(a: V8, b: V8, w4: V8, w2: V8) -> (V8, V8) {
    let to2a = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    let to2b = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    let (x, y) = dif::<INV>(shuf::<0x44>(a, b), shuf::<0xEE>(a, b), w4);
    let (x, y) = dif::<INV>(perm(x, to2a, y), perm(x, to2b, y), w2);
    let (x, y) = unit(unpack_lo(x, y), unpack_hi(x, y));
    let back_a = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    let back_b = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    (perm(x, back_a, y), perm(x, back_b, y))
}

/// Levels 1, 2, 4 (DIT order) on 16 consecutive elements; layouts as in [`low_dif`].
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn low_dit<const INV: bool>(a: V8, b: V8, w4: V8, w2: V8) -> (V8, V8) {
    let even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    let odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    let (x, y) = unit(perm(a, even, b), perm(a, odd, b));
    let (x, y) = dit::<INV>(unpack_lo(x, y), unpack_hi(x, y), w2);
    let to4a = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    let to4b = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    let (x, y) = dit::<INV>(perm(x, to4a, y), perm(x, to4b, y), w4);
    (shuf::<0x44>(x, y), shuf::<0xEE>(x, y))
}

/// The twiddle vector for exponents t0..t0+8 of a level table (t0 + 8 ≤ h), forward, or
/// the backwards entries h − t0 − i for the inverse.
#[inline]
#[target_feature(enable = "avx512f")]
fn twiddle<const INV: bool>(lv: &[Limbs], t0: usize) -> V8 {
    let h = lv.len() - 1;
    let start = if INV { h - t0 - 7 } else { t0 };
    match lv[start..].first_chunk::<8>() {
        Some(w) if INV => load_rev(w),
        Some(w) => load(w),
        None => unreachable!("t0 + 8 ≤ h"),
    }
}

/// Loads `src` (a multiple of 8 elements) into `buf`, replacing its contents.
#[inline]
#[target_feature(enable = "avx512f")]
fn load_all(src: &[Limbs], buf: &mut Vec<V8>) {
    buf.clear();
    let (chunks, _) = src.as_chunks::<8>();
    buf.extend(chunks.iter().map(|c| load(c)));
}

/// Reduces `buf` to canonical values and stores it into `dst`.
#[inline]
#[target_feature(enable = "avx512f")]
fn store_all(buf: &[V8], dst: &mut [Limbs]) {
    let (chunks, _) = dst.as_chunks_mut::<8>();
    for (v, c) in buf.iter().zip(chunks) {
        store(v.reduce_p(), c);
    }
}

/// Multiplies block number `a` (in `buf`) by its scale factors.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn apply_scale(scale: &VScale, a: usize, buf: &mut [V8]) {
    match scale {
        VScale::None => {}
        VScale::Const(c) => {
            let c = V8::splat(*c);
            buf.iter_mut().for_each(|x| *x = x.mul(c));
        }
        VScale::Bitrev { row, col } => {
            if let Some(r) = row.get(a) {
                let r = V8::splat(*r);
                for (x, c) in buf.iter_mut().zip(col) {
                    *x = x.mul(r.mul(*c));
                }
            }
        }
    }
}

/// All stages of block number `idx` (at least 16 elements); see `scalar::block`.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(super) fn block<const INV: bool, const DIT: bool>(
    tables: &Tables,
    scale: &VScale,
    buf: &mut Vec<V8>,
    idx: usize,
    blk: &mut [Limbs],
) {
    load_all(blk, buf);
    let nv = buf.len();
    let (w4, w2) = if INV {
        (load(&tables.w4_inv), load(&tables.w2_inv))
    } else {
        (load(&tables.w4), load(&tables.w2))
    };
    let wide = |buf: &mut [V8], h: usize| {
        let lv = tables.tw.level(h);
        let hv = h / 8;
        for tv in 0..hv {
            let w = twiddle::<INV>(lv, 8 * tv);
            for pair in buf.chunks_exact_mut(2 * hv) {
                let (x, y) = (pair[tv], pair[hv + tv]);
                let (x, y) = if DIT {
                    dit::<INV>(x, y, w)
                } else {
                    dif::<INV>(x, y, w)
                };
                pair[tv] = x;
                pair[hv + tv] = y;
            }
        }
    };
    let low = |buf: &mut [V8]| {
        for pair in buf.chunks_exact_mut(2) {
            let (a, b) = if DIT {
                low_dit::<INV>(pair[0], pair[1], w4, w2)
            } else {
                low_dif::<INV>(pair[0], pair[1], w4, w2)
            };
            pair[0] = a;
            pair[1] = b;
        }
    };
    if DIT {
        apply_scale(scale, idx, buf);
        low(buf);
        let mut h = 8;
        while h < 8 * nv {
            wide(buf, h);
            h *= 2;
        }
    } else {
        let mut h = 4 * nv;
        while h >= 8 {
            wide(buf, h);
            h /= 2;
        }
        low(buf);
        apply_scale(scale, idx, buf);
    }
    store_all(buf, blk);
}

/// All stages of one strip of a fused pass (columns a multiple of 8); see
/// `scalar::strip`.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(super) fn strip<const INV: bool, const DIT: bool>(
    tables: &Tables,
    buf: &mut Vec<V8>,
    strip: Strip<'_, Limbs>,
) {
    let Strip { mut rows, j0, s } = strip;
    let n_rows = rows.len();
    buf.clear();
    for row in rows.iter() {
        let (chunks, _) = row.as_chunks::<8>();
        buf.extend(chunks.iter().map(|c| load(c)));
    }
    let cv = buf.len() / n_rows.max(1);
    let stage = |buf: &mut [V8], hl: usize| {
        let lv = tables.tw.level(hl * s);
        for r in 0..hl {
            for v in 0..cv {
                let w = twiddle::<INV>(lv, r * s + j0 + 8 * v);
                for g in (0..n_rows).step_by(2 * hl) {
                    let (i, k) = ((g + r) * cv + v, (g + r + hl) * cv + v);
                    let (x, y) = if DIT {
                        dit::<INV>(buf[i], buf[k], w)
                    } else {
                        dif::<INV>(buf[i], buf[k], w)
                    };
                    buf[i] = x;
                    buf[k] = y;
                }
            }
        }
    };
    if DIT {
        let mut hl = 1;
        while hl < n_rows {
            stage(buf, hl);
            hl *= 2;
        }
    } else {
        let mut hl = n_rows / 2;
        while hl >= 1 {
            stage(buf, hl);
            hl /= 2;
        }
    }
    for (row, vs) in rows.iter_mut().zip(buf.chunks(cv.max(1))) {
        store_all(vs, row);
    }
}
