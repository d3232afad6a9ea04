//! The radix-2 transforms: decimation in frequency (natural order in, bit-reversed out)
//! and decimation in time (bit-reversed in, natural out), forward or inverse.
//!
//! A transform of 2^k elements runs in two phases. The stages whose butterflies span more
//! than one cache block are fused into passes of up to `MAX_PASS_STAGES` stages: a pass
//! views each outer block of 2^p·S elements as 2^p rows of length S and, for a narrow
//! strip of columns at a time, runs all p stages on the strip while it is in cache. The
//! remaining stages act inside independent blocks of 2^l consecutive elements, each
//! transformed entirely in cache. DIF runs the passes first and then the blocks; DIT the
//! blocks first. A caller-supplied hook runs on each block while it is hot (after the
//! block stages for DIF, before them for DIT), which is where scaling passes are fused.
//!
//! Level `h` butterflies use ω_{2h}^t with t = position mod h. The inverse direction
//! uses ω_{2h}^{−t} = −ω_{2h}^{h−t}: the table entry read backwards, with the negation
//! folded into the butterfly (operands of the subtraction swapped).

use ark_ff::Field;
use rayon::prelude::*;

use super::plan::{pass_sizes, Plan, PASS_COLUMNS};
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
/// where `lv` is that level's table (length h + 1) and `a.len() == b.len()`,
/// `t0 + a.len() ≤ h`.
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

/// All stages of a block held in cache. DIF runs levels len/2 … 1, DIT levels 1 … len/2;
/// the two lowest levels are done together, four elements at a time.
fn block<F: Field, const INV: bool, const DIT: bool>(blk: &mut [F], tw: &Twiddles<F>) {
    let len = blk.len();
    if len < 2 {
        return;
    }
    if len == 2 {
        if let [a, b] = blk {
            unit_bfly(a, b);
        }
        return;
    }
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

/// One fused pass of `p` stages with smallest half-size `s` (levels s·2^{p−1} … s).
fn pass<F: Field, const INV: bool, const DIT: bool>(
    data: &mut [F],
    tw: &Twiddles<F>,
    s: usize,
    p: u32,
    parallel: bool,
) {
    let rows = 1usize << p;
    let cols = s.min(PASS_COLUMNS);
    // Tasks: (first column, one strip of `cols` elements from each of the `rows` rows).
    let mut tasks: Vec<(usize, Vec<&mut [F]>)> = Vec::with_capacity(data.len() / (rows * cols));
    for outer in data.chunks_exact_mut(rows * s) {
        let mut strips: Vec<_> = outer
            .chunks_exact_mut(s)
            .map(|row| row.chunks_exact_mut(cols))
            .collect();
        for c in 0..s / cols {
            tasks.push((
                c * cols,
                strips.iter_mut().filter_map(Iterator::next).collect(),
            ));
        }
    }
    let work = |(j0, mut seg): (usize, Vec<&mut [F]>)| {
        let stage = |seg: &mut [&mut [F]], hl: usize| {
            let lv = tw.level(hl * s);
            for g in (0..rows).step_by(2 * hl) {
                for r in 0..hl {
                    let (lo, hi) = seg.split_at_mut(g + r + hl);
                    run::<F, INV, DIT>(lo[g + r], hi[0], lv, r * s + j0);
                }
            }
        };
        if DIT {
            let mut hl = 1;
            while hl < rows {
                stage(&mut seg, hl);
                hl *= 2;
            }
        } else {
            let mut hl = rows / 2;
            while hl >= 1 {
                stage(&mut seg, hl);
                hl /= 2;
            }
        }
    };
    if parallel {
        tasks.into_par_iter().for_each(work);
    } else {
        tasks.into_iter().for_each(work);
    }
}

/// Runs `f` on every block of `1 << block_log` elements with its index.
fn blocks<F: Field>(
    data: &mut [F],
    block_log: u32,
    parallel: bool,
    f: impl Fn(usize, &mut [F]) + Sync + Send,
) {
    let len = 1usize << block_log;
    if parallel {
        data.par_chunks_mut(len)
            .enumerate()
            .for_each(|(i, b)| f(i, b));
    } else {
        data.chunks_mut(len).enumerate().for_each(|(i, b)| f(i, b));
    }
}

/// Decimation in frequency: natural-order input, bit-reversed output. `hook(i, block)`
/// runs on each block of 2^`plan.block_log` outputs after its last stage.
pub(crate) fn dif<F: Field, const INV: bool>(
    data: &mut [F],
    tw: &Twiddles<F>,
    plan: Plan,
    hook: impl Fn(usize, &mut [F]) + Sync + Send,
) {
    let log_n = data.len().trailing_zeros();
    let mut top = log_n;
    for p in pass_sizes(log_n - plan.block_log) {
        top -= p;
        pass::<F, INV, false>(data, tw, 1 << top, p, plan.parallel);
    }
    blocks(data, plan.block_log, plan.parallel, |i, b| {
        block::<F, INV, false>(b, tw);
        hook(i, b);
    });
}

/// Decimation in time: bit-reversed input, natural-order output. `hook(i, block)` runs
/// on each block of 2^`plan.block_log` inputs before its first stage.
pub(crate) fn dit<F: Field, const INV: bool>(
    data: &mut [F],
    tw: &Twiddles<F>,
    plan: Plan,
    hook: impl Fn(usize, &mut [F]) + Sync + Send,
) {
    let log_n = data.len().trailing_zeros();
    blocks(data, plan.block_log, plan.parallel, |i, b| {
        hook(i, b);
        block::<F, INV, true>(b, tw);
    });
    let mut low = plan.block_log;
    for p in pass_sizes(log_n - plan.block_log) {
        pass::<F, INV, true>(data, tw, 1 << low, p, plan.parallel);
        low += p;
    }
}
