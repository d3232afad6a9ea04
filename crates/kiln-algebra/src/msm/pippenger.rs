//! The bucket method: window tasks, their parallel schedule, and the window combination.
//!
//! The scalars left after classification are ordered by how many windows they touch (most
//! first, stable), so window `w` only scans the prefix of scalars that reach it; when that
//! order is not the input's own, the points and scalars are gathered into contiguous copies
//! once so every window streams through memory. Each window is cut into slices of its prefix
//! (see [`Windows`]); every (window, slice) task fills its own affine buckets from the
//! signed digits, prefetching each bucket a few points ahead, and reduces them to one point.
//! The tree sums of the ±1 scalars run as extra tasks in the same schedule. Finally the
//! window sums are combined from the top window down, `c` doublings apart.

use super::batch_affine::BucketSet;
use super::classify::Classified;
use super::digits::{bit_len, digit, windows_for_bits};
use super::parallel::map_tasks;
use super::plan::{buckets, task_sizes, unit_parts, Windows};
use super::reduce::weighted_sum;
use super::sum::sum_points;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{PrimeField, Zero};
use std::ops::Range;

/// One unit of parallel work.
#[derive(Clone, Debug)]
enum Task {
    /// Window `w` over positions `range` of the (ordered) input.
    Window { w: usize, range: Range<usize> },
    /// Sum of the points of scalars equal to 1 (`neg = false`) or -1, `list[range]`.
    Units { neg: bool, range: Range<usize> },
}

impl Task {
    /// Points the task touches: the scheduling key (largest first).
    fn size(&self) -> usize {
        match self {
            Task::Window { range, .. } | Task::Units { range, .. } => range.len(),
        }
    }
}

/// `(indices of classified.big by windows touched, descending; active[w] = how many touch w)`.
fn order_by_windows<P: SWCurveConfig>(
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    big: &[u32],
    c: u32,
    windows: usize,
) -> (Vec<u32>, Vec<usize>) {
    let touched = |i: u32| windows_for_bits(bit_len(scalars[i as usize].as_ref()), c).min(windows);
    // Stable counting sort on `windows - touched`.
    let mut starts = vec![0usize; windows + 2];
    for &i in big {
        starts[windows - touched(i) + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    // active[w] = scalars touching more than w windows = those sorted before key windows - w.
    let active = (0..windows).map(|w| starts[windows - w]).collect();
    let mut order = vec![0u32; big.len()];
    for &i in big {
        let key = windows - touched(i);
        order[starts[key]] = i;
        starts[key] += 1;
    }
    (order, active)
}

/// Splits `0..len` into `parts` near-equal ranges (fewer if `len` is small).
fn split(len: usize, parts: usize) -> impl Iterator<Item = Range<usize>> {
    let parts = parts.clamp(1, len.max(1));
    (0..parts).map(move |k| (k * len / parts)..((k + 1) * len / parts))
}

/// `sum_i scalars[i] * bases[i]` over the classified input, with window parameters `win`.
pub(crate) fn run<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    classified: &Classified,
    win: Windows,
    threads: usize,
) -> Projective<P> {
    let input_bases = bases;
    let Windows {
        c,
        count: windows,
        batch,
        ..
    } = win;
    let (order, active) = order_by_windows::<P>(scalars, &classified.big, c, windows);
    // Every window streams through a prefix of the input in `order`. Unless that order is
    // the input's own (all scalars big: random inputs), gather it into contiguous copies
    // once, so the windows read memory sequentially instead of skipping around.
    let identity = order.iter().enumerate().all(|(k, &i)| k == i as usize);
    let gathered;
    let (bases, scalars) = if identity {
        (&bases[..order.len()], &scalars[..order.len()])
    } else {
        gathered = gather(bases, scalars, &order, threads);
        (&gathered.0[..], &gathered.1[..])
    };

    let mut tasks = Vec::new();
    for (w, sizes) in task_sizes(&active, &win, threads).into_iter().enumerate() {
        let mut start = 0;
        for size in sizes {
            tasks.push(Task::Window {
                w,
                range: start..start + size,
            });
            start += size;
        }
    }
    for (neg, list) in [(false, &classified.ones), (true, &classified.minus_ones)] {
        let parts = unit_parts(list.len(), threads);
        if parts > 0 {
            tasks.extend(split(list.len(), parts).map(|range| Task::Units { neg, range }));
        }
    }
    tasks.sort_by_key(|t| std::cmp::Reverse(t.size()));

    let results = map_tasks(tasks.len(), threads, |k| match &tasks[k] {
        Task::Window { w, range } => {
            window_sum(&bases[range.clone()], &scalars[range.clone()], *w, c, batch)
        }
        Task::Units { neg: false, range } => {
            sum_points(input_bases, &classified.ones[range.clone()])
        }
        Task::Units { neg: true, range } => {
            -sum_points(input_bases, &classified.minus_ones[range.clone()])
        }
    });

    let mut window_sums = vec![Projective::<P>::zero(); windows];
    let mut units = Projective::<P>::zero();
    for (task, r) in tasks.iter().zip(results) {
        match task {
            Task::Window { w, .. } => window_sums[*w] += r,
            Task::Units { .. } => units += r,
        }
    }
    let mut total = Projective::<P>::zero();
    for s in window_sums.iter().rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        total += s;
    }
    total + units
}

/// Copies of `bases[i]` and `scalars[i]` for `i` in `order`.
#[allow(clippy::type_complexity)]
fn gather<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    order: &[u32],
    threads: usize,
) -> (Vec<Affine<P>>, Vec<<P::ScalarField as PrimeField>::BigInt>) {
    const PART: usize = 1 << 14;
    let parts = map_tasks(order.len().div_ceil(PART), threads, |k| {
        let idx = &order[k * PART..((k + 1) * PART).min(order.len())];
        let b: Vec<_> = idx.iter().map(|&i| bases[i as usize]).collect();
        let s: Vec<_> = idx.iter().map(|&i| scalars[i as usize]).collect();
        (b, s)
    });
    let mut b = Vec::with_capacity(order.len());
    let mut s = Vec::with_capacity(order.len());
    for (pb, ps) in parts {
        b.extend(pb);
        s.extend(ps);
    }
    (b, s)
}

/// `sum_i d_w(scalars[i]) * bases[i]` for window `w` of width `c`.
fn window_sum<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
    w: usize,
    c: u32,
    batch: usize,
) -> Projective<P> {
    let mut set = BucketSet::new(bases, buckets(c), batch);
    let n = scalars.len().min(bases.len());
    set.add_all((0..n).filter_map(|i| {
        let d = digit(scalars[i].as_ref(), w, c);
        (d != 0).then(|| (d.unsigned_abs() as usize - 1, i as u32, d < 0))
    }));
    weighted_sum(set.finish())
}
