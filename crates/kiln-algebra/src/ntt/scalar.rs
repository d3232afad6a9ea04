//! Portable kernels: radix-2 butterflies on any [`Field`] through arkworks arithmetic.
//!
//! Level `h` butterflies use ω_{2h}^t with t = position mod h. The inverse direction
//! uses ω_{2h}^{−t} = −ω_{2h}^{h−t}: the table entry read backwards, with the negation
//! folded into the butterfly (operands of the subtraction swapped).

use ark_ff::Field;

use super::scale::Scale;
use super::schedule::Strip;
use super::twiddles::Twiddles;

/// DIF butterfly (a, b) ← (a + b, (a − b)·ω) where ω = `w` (forward) or −`w` (inverse).
#[inline(always)]
fn dif_bfly<F: Field, const INV: bool>(a: &mut F, b: &mut F, w: &F) {
    let (x, y) = (*a, *b);
    *a = x + y;
    *b = if INV { (y - x) * w } else { (x - y) * w };
}

/// DIT butterfly (a, b) ← (a + ω·b, a − ω·b) where ω = `w` (forward) or −`w` (inverse).
#[inline(always)]
fn dit_bfly<F: Field, const INV: bool>(a: &mut F, b: &mut F, w: &F) {
    let t = *b * w;
    let x = *a;
    if INV {
        *a = x - t;
        *b = x + t;
    } else {
        *a = x + t;
        *b = x - t;
    }
}

/// Butterfly with ω = 1 (the same for DIF and DIT).
#[inline(always)]
fn unit_bfly<F: Field>(a: &mut F, b: &mut F) {
    let x = *a;
    *a += *b;
    *b = x - *b;
}

/// Level-`h` butterflies between `a[i]` and `b[i]` with twiddle exponents t = t0 + i,
/// where `lv` is that level's table (length h + 1) and `t0 + a.len() ≤ h`.
#[inline(always)]
fn run<F: Field, const INV: bool, const DIT: bool>(a: &mut [F], b: &mut [F], lv: &[F], t0: usize) {
    let (a, b, t0) = if t0 == 0 {
        match (a.split_first_mut(), b.split_first_mut()) {
            (Some((a0, a)), Some((b0, b))) => {
                unit_bfly(a0, b0);
                (a, b, 1)
            }
            _ => return,
        }
    } else {
        (a, b, t0)
    };
    let len = a.len().min(b.len());
    let h = lv.len() - 1;
    let pairs = a.iter_mut().zip(b.iter_mut());
    if INV {
        let tw = lv[h + 1 - t0 - len..=h - t0].iter().rev();
        for ((x, y), w) in pairs.zip(tw) {
            if DIT {
                dit_bfly::<F, true>(x, y, w);
            } else {
                dif_bfly::<F, true>(x, y, w);
            }
        }
    } else {
        for ((x, y), w) in pairs.zip(&lv[t0..t0 + len]) {
            if DIT {
                dit_bfly::<F, false>(x, y, w);
            } else {
                dif_bfly::<F, false>(x, y, w);
            }
        }
    }
}

/// All stages of block number `idx`, held in cache: DIF runs levels len/2 … 1 and then
/// applies `scale`; DIT applies `scale` and then runs levels 1 … len/2. The two lowest
/// levels are done together, four elements at a time.
pub(crate) fn block<F: Field, const INV: bool, const DIT: bool>(
    tw: &Twiddles<F>,
    scale: &Scale<'_, F>,
    idx: usize,
    blk: &mut [F],
) {
    if DIT {
        scale.apply(idx, blk);
    }
    let len = blk.len();
    if len == 2 {
        if let [a, b] = blk {
            unit_bfly(a, b);
        }
    } else if len >= 4 {
        let wide = |blk: &mut [F], h: usize| {
            let lv = tw.level(h);
            for pair in blk.chunks_exact_mut(2 * h) {
                let (a, b) = pair.split_at_mut(h);
                run::<F, INV, DIT>(a, b, lv, 0);
            }
        };
        // ω_4 at level 2 (t = 1 reads entry 1 in either direction, since h − t = t).
        let w4 = tw.level(2)[1];
        let low = |blk: &mut [F]| {
            for q in blk.chunks_exact_mut(4) {
                if let [x0, x1, x2, x3] = q {
                    if DIT {
                        unit_bfly(x0, x1);
                        unit_bfly(x2, x3);
                        unit_bfly(x0, x2);
                        dit_bfly::<F, INV>(x1, x3, &w4);
                    } else {
                        unit_bfly(x0, x2);
                        dif_bfly::<F, INV>(x1, x3, &w4);
                        unit_bfly(x0, x1);
                        unit_bfly(x2, x3);
                    }
                }
            }
        };
        if DIT {
            low(blk);
            let mut h = 4;
            while h < len {
                wide(blk, h);
                h *= 2;
            }
        } else {
            let mut h = len / 2;
            while h >= 4 {
                wide(blk, h);
                h /= 2;
            }
            low(blk);
        }
    }
    if !DIT {
        scale.apply(idx, blk);
    }
}

/// All stages of one strip of a fused pass (see [`Strip`]).
pub(crate) fn strip<F: Field, const INV: bool, const DIT: bool>(
    tw: &Twiddles<F>,
    strip: Strip<'_, F>,
) {
    let Strip { mut rows, j0, s } = strip;
    let n_rows = rows.len();
    let mut stage = |hl: usize| {
        let lv = tw.level(hl * s);
        for g in (0..n_rows).step_by(2 * hl) {
            for r in 0..hl {
                let (lo, hi) = rows.split_at_mut(g + r + hl);
                run::<F, INV, DIT>(lo[g + r], hi[0], lv, r * s + j0);
            }
        }
    };
    if DIT {
        let mut hl = 1;
        while hl < n_rows {
            stage(hl);
            hl *= 2;
        }
    } else {
        let mut hl = n_rows / 2;
        while hl >= 1 {
            stage(hl);
            hl /= 2;
        }
    }
}
