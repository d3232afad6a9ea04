//! Chooses how to run an MSM: window width, input chunks per window and batch size.
//!
//! The choice minimises a cost model (in units of one base-field multiplication) over the
//! window widths and chunkings: every window `w` gets the scalars whose bit length reaches
//! it (small scalars touch only the low windows), each (window, chunk) task costs its bucket
//! additions plus its amortised inversions plus one bucket reduction, and the tasks are
//! scheduled longest-first onto the threads to estimate the wall time. The constants were
//! fitted to single-thread CPU-time scans over window widths (BN254 G1, 2^12 to 2^20
//! points) on the reference machine, a 2-core AMD EPYC; at 2^20 points on 2 threads the
//! choice is `c = 16`, 16 windows, one task each.

use super::digits::windows_for_bits;

/// Widest window accepted (2^19 buckets, 32 MiB of G1 buckets per task).
pub const MAX_WINDOW_BITS: u32 = 20;
/// Widest window the automatic choice considers.
const AUTO_MAX_BITS: u32 = 18;

/// One batch-affine bucket addition (5M + 1S plus bookkeeping).
const ADD: f64 = 7.3;
/// Extra cost per addition once the buckets spill out of the L2 cache (per doubling of
/// the bucket memory past [`L2_BYTES`]).
const ADD_SPILL: f64 = 0.4;
/// Bucket bytes that fit the L2 cache.
const L2_BYTES: f64 = (512 << 10) as f64;
/// One field inversion.
const INV: f64 = 110.0;
/// Affine lockstep reduction, per bucket (two affine additions).
const REDUCE_AFFINE: f64 = 14.0;
/// Jacobian running-sum reduction, per occupied bucket (a mixed and a full addition).
const REDUCE_JACOBIAN: f64 = 33.0;
/// Jacobian running sum over sparse buckets: per occupied bucket and bit of the gap to the
/// next one (the small multiplication folding the empty stretch).
const REDUCE_GAP_BIT: f64 = 12.0;
/// Fixed cost of a task (allocation, setup).
const TASK: f64 = 500.0;
/// Per bucket and task: allocating, clearing and scanning it.
const PER_BUCKET: f64 = 0.3;
/// Double-and-add per scalar bit (one doubling, half an addition).
const NAIVE_PER_BIT: f64 = 17.0;
/// Tree summation, per point.
const SUM: f64 = 8.0;

/// How to run the MSM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Double-and-add per point: tiny inputs.
    Naive,
    /// Bucket method.
    Pippenger(Windows),
}

/// Pippenger parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Windows {
    /// Window width in bits.
    pub c: u32,
    /// Number of windows (covering the longest scalar).
    pub count: usize,
    /// Input chunks per window (tasks per window).
    pub chunks: usize,
    /// The `split` lightest windows are cut into `chunks * threads` tasks instead, so the
    /// windows left over after an even share per thread are spread over all threads.
    pub split: usize,
    /// Additions finished per batched inversion.
    pub batch: usize,
}

/// The input's shape as the planner sees it.
pub(crate) struct Shape<'a> {
    /// `hist[l]` = number of scalars (not 0, 1 or -1) of bit length `l`.
    pub hist: &'a [usize],
    /// Number of scalars equal to 1 or -1.
    pub units: usize,
    /// Worker threads available.
    pub threads: usize,
    /// Bytes per bucket (an aligned affine point).
    pub slot_bytes: usize,
}

impl Shape<'_> {
    fn longest(&self) -> u32 {
        self.hist.iter().rposition(|&n| n > 0).unwrap_or(0) as u32
    }

    fn total(&self) -> usize {
        self.hist.iter().sum()
    }
}

/// Bucket count of a `c`-bit signed window.
pub(crate) fn buckets(c: u32) -> usize {
    1 << (c - 1)
}

/// Batch size for `count` buckets: large enough to amortise the inversion, small enough
/// that few additions collide with a bucket already in the batch.
pub(crate) fn batch_size(count: usize) -> usize {
    (count / 4).clamp(4, 2048)
}

/// Estimated cost of one task adding `points` points into `count` buckets.
fn task_cost(points: usize, count: usize, batch: usize, slot_bytes: usize) -> f64 {
    let (p, k) = (points as f64, count as f64);
    // Buckets hit at least once; the first point into a bucket is a copy, not an addition.
    let occupied = k * (1.0 - (-p / k).exp());
    let adds = p - occupied;
    let bytes = k * slot_bytes as f64;
    let spill = if bytes > L2_BYTES {
        ADD_SPILL * (bytes / L2_BYTES).log2()
    } else {
        0.0
    };
    let reduce = if count < super::reduce::LANES_FROM || occupied * 8.0 < k {
        occupied * (REDUCE_JACOBIAN + REDUCE_GAP_BIT * (k / occupied.max(1.0)).log2().max(0.0))
    } else {
        k * REDUCE_AFFINE
    };
    adds * (ADD + spill + INV / batch.min(points.max(1)) as f64) + reduce + k * PER_BUCKET + TASK
}

/// Longest-first schedule of `tasks` onto `threads`: the estimated wall time.
fn makespan(tasks: &mut [f64], threads: usize) -> f64 {
    tasks.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut loads = vec![0.0f64; threads.max(1)];
    for &t in tasks.iter() {
        if let Some(min) = loads.iter_mut().min_by(|a, b| a.total_cmp(b)) {
            *min += t;
        }
    }
    loads.into_iter().fold(0.0, f64::max)
}

/// Points per task: every active window (heaviest first) cut as `win` says.
pub(crate) fn task_sizes(
    window_points: &[usize],
    win: &Windows,
    threads: usize,
) -> Vec<Vec<usize>> {
    let mut active: Vec<(usize, usize)> = window_points
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    active.sort_by_key(|&(w, n)| (std::cmp::Reverse(n), w));
    let first_split = active.len().saturating_sub(win.split);
    let mut pieces = vec![Vec::new(); window_points.len()];
    for (rank, &(w, n)) in active.iter().enumerate() {
        let k = if rank >= first_split {
            win.chunks * threads.max(1)
        } else {
            win.chunks
        };
        let k = k.clamp(1, n);
        pieces[w] = (0..k).map(|j| (j + 1) * n / k - j * n / k).collect();
    }
    pieces
}

/// Points in each window of width `c` (scalars whose bit length reaches it).
fn window_points(suffix: &[usize], longest: u32, c: u32) -> Vec<usize> {
    (0..windows_for_bits(longest, c))
        .map(|w| suffix.get(w * c as usize).copied().unwrap_or(0))
        .collect()
}

/// Estimated wall time of the bucket method with parameters `win`.
fn pippenger_cost(shape: &Shape<'_>, points: &[usize], win: &Windows) -> f64 {
    let count = buckets(win.c);
    let mut tasks: Vec<f64> = task_sizes(points, win, shape.threads)
        .into_iter()
        .flatten()
        .map(|p| task_cost(p, count, win.batch, shape.slot_bytes))
        .collect();
    let parts = unit_parts(shape.units, shape.threads);
    for _ in 0..parts {
        tasks.push(SUM * (shape.units / parts) as f64);
    }
    makespan(&mut tasks, shape.threads)
}

/// How many parallel parts the ±1 scalars' tree sum is split into.
pub(crate) fn unit_parts(units: usize, threads: usize) -> usize {
    if units == 0 {
        0
    } else {
        (units / 4096).clamp(1, threads.max(1))
    }
}

/// The plan for `shape`; `forced` fixes the window width (and rules out the naive path).
pub(crate) fn choose(shape: &Shape<'_>, forced: Option<u32>) -> Plan {
    let longest = shape.longest();
    let total = shape.total();
    // suffix[l] = number of scalars with bit length >= l.
    let mut suffix = vec![0usize; shape.hist.len() + 1];
    for l in (0..shape.hist.len()).rev() {
        suffix[l] = suffix[l + 1] + shape.hist[l];
    }
    let widths = match forced {
        Some(c) => c..=c,
        None => 1..=AUTO_MAX_BITS,
    };
    let threads = shape.threads.max(1);
    let max_chunks = if threads == 1 { 1 } else { 2 * threads };
    let mut best: Option<(f64, Windows)> = None;
    for c in widths {
        let points = window_points(&suffix, longest, c);
        let active = points.iter().filter(|&&n| n > 0).count();
        for chunks in 1..=max_chunks {
            for split in [0, active % threads] {
                let win = Windows {
                    c,
                    count: points.len(),
                    chunks,
                    split,
                    batch: batch_size(buckets(c)),
                };
                let cost = pippenger_cost(shape, &points, &win);
                if best.is_none_or(|(b, _)| cost < b) {
                    best = Some((cost, win));
                }
            }
        }
    }
    let naive = NAIVE_PER_BIT * f64::from(longest) * total as f64 / threads as f64;
    match best {
        Some((cost, w)) if forced.is_some() || cost < naive => Plan::Pippenger(w),
        _ => Plan::Naive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_shape(n: usize, threads: usize) -> Vec<usize> {
        let mut hist = vec![0usize; 255];
        hist[254] = n / 2;
        hist[253] = n - n / 2;
        let _ = threads;
        hist
    }

    #[test]
    fn large_random_inputs_use_wide_windows() {
        let hist = random_shape(1 << 20, 2);
        let shape = Shape {
            hist: &hist,
            units: 0,
            threads: 2,
            slot_bytes: 64,
        };
        match choose(&shape, None) {
            Plan::Pippenger(w) => assert!((14..=18).contains(&w.c), "{w:?}"),
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn tiny_inputs_go_naive_unless_forced() {
        let hist = random_shape(1, 2);
        let shape = Shape {
            hist: &hist,
            units: 0,
            threads: 2,
            slot_bytes: 64,
        };
        assert_eq!(choose(&shape, None), Plan::Naive);
        assert!(matches!(
            choose(&shape, Some(5)),
            Plan::Pippenger(Windows { c: 5, .. })
        ));
    }

    #[test]
    fn small_scalars_use_few_windows() {
        let mut hist = vec![0usize; 255];
        hist[10] = 1 << 16;
        let shape = Shape {
            hist: &hist,
            units: 0,
            threads: 2,
            slot_bytes: 64,
        };
        match choose(&shape, None) {
            Plan::Pippenger(w) => assert!(w.count <= 2, "{w:?}"),
            p => panic!("{p:?}"),
        }
    }
}
