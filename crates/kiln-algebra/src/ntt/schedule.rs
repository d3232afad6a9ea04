//! How a radix-2 transform of 2^k elements is cut into cache-sized work and spread over
//! threads, independently of the arithmetic (which `scalar` and `ifma` supply).
//!
//! The stages whose butterflies span more than one cache block are fused into passes of
//! up to `MAX_PASS_STAGES` stages: a pass views each outer block of 2^p·S elements as 2^p
//! rows of length S and hands out narrow strips of columns (one segment from each row);
//! the strip kernel runs all p stages on its strip while it is in cache. The remaining
//! stages act inside independent blocks of 2^l consecutive elements. Decimation in
//! frequency (natural order in, bit-reversed out) runs the passes first and the blocks
//! last; decimation in time (bit-reversed in, natural out) the other way round.

use rayon::prelude::*;

use super::plan::{pass_sizes, Plan, PASS_COLUMNS};

/// One strip of a fused pass: a segment of `cols` consecutive columns from each of the
/// 2^p rows. The pass covers levels s·2^{p−1} … s (butterflies between rows m and
/// m + 2^{p−1−i} use level s·2^{p−1−i}), and the strip starts at column `j0`.
pub(crate) struct Strip<'a, T> {
    /// The row segments, `rows[m][c]` being position m·s + j0 + c of the outer block.
    pub(crate) rows: Vec<&'a mut [T]>,
    /// The first column of the strip within the row.
    pub(crate) j0: usize,
    /// The row length s, which is also the smallest butterfly half-size in the pass.
    pub(crate) s: usize,
}

/// The strips of one pass of `p` stages whose smallest half-size is `s`.
fn strips<T>(data: &mut [T], s: usize, p: u32) -> Vec<Strip<'_, T>> {
    let rows = 1usize << p;
    let cols = s.min(PASS_COLUMNS);
    let mut out = Vec::with_capacity(data.len() / (rows * cols));
    for outer in data.chunks_exact_mut(rows * s) {
        let mut segs: Vec<_> = outer
            .chunks_exact_mut(s)
            .map(|row| row.chunks_exact_mut(cols))
            .collect();
        for c in 0..s / cols {
            out.push(Strip {
                rows: segs.iter_mut().filter_map(Iterator::next).collect(),
                j0: c * cols,
                s,
            });
        }
    }
    out
}

/// Runs `strip` on every strip of one pass, with per-thread scratch space `S`.
fn pass<T: Send, S: Default>(
    data: &mut [T],
    s: usize,
    p: u32,
    parallel: bool,
    strip: &(impl Fn(&mut S, Strip<'_, T>) + Sync),
) {
    let tasks = strips(data, s, p);
    if parallel {
        tasks.into_par_iter().for_each_init(S::default, strip);
    } else {
        let mut scratch = S::default();
        tasks.into_iter().for_each(|t| strip(&mut scratch, t));
    }
}

/// Runs `block(scratch, i, block)` on every block of 2^`block_log` elements.
fn blocks<T: Send, S: Default>(
    data: &mut [T],
    block_log: u32,
    parallel: bool,
    block: &(impl Fn(&mut S, usize, &mut [T]) + Sync),
) {
    let len = 1usize << block_log;
    if parallel {
        data.par_chunks_mut(len)
            .enumerate()
            .for_each_init(S::default, |s, (i, b)| block(s, i, b));
    } else {
        let mut scratch = S::default();
        for (i, b) in data.chunks_mut(len).enumerate() {
            block(&mut scratch, i, b);
        }
    }
}

/// Decimation in frequency: the fused passes from the top level down, then the blocks.
pub(crate) fn dif<T: Send, S: Default>(
    data: &mut [T],
    plan: Plan,
    strip: impl Fn(&mut S, Strip<'_, T>) + Sync,
    block: impl Fn(&mut S, usize, &mut [T]) + Sync,
) {
    let log_n = data.len().trailing_zeros();
    let mut top = log_n;
    for p in pass_sizes(log_n - plan.block_log) {
        top -= p;
        pass(data, 1 << top, p, plan.parallel, &strip);
    }
    blocks(data, plan.block_log, plan.parallel, &block);
}

/// Decimation in time: the blocks, then the fused passes from the block level up.
pub(crate) fn dit<T: Send, S: Default>(
    data: &mut [T],
    plan: Plan,
    strip: impl Fn(&mut S, Strip<'_, T>) + Sync,
    block: impl Fn(&mut S, usize, &mut [T]) + Sync,
) {
    let log_n = data.len().trailing_zeros();
    blocks(data, plan.block_log, plan.parallel, &block);
    let mut low = plan.block_log;
    for p in pass_sizes(log_n - plan.block_log) {
        pass(data, 1 << low, p, plan.parallel, &strip);
        low += p;
    }
}
