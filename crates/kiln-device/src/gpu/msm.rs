//! The host side of the device MSM (`kernels/msm.h`): window choice, the five launches, and
//! the combination of the per-(window, segment) partial sums that come back.

use std::ops::AddAssign;

use ark_ec::AdditiveGroup;

use super::{Arg, GpuResult, GpuRuntime};
use crate::Group;

/// Widest window the device path uses (2^15 buckets per window).
pub(super) const MAX_DEVICE_WINDOW: u32 = crate::GPU_MAX_WINDOW_BITS;

/// Bits of the largest scalar (BN254's Fr is below 2^254).
const SCALAR_BITS: u32 = 254;

/// Window width for `n` points: about log2(n) − 3, so each window has several points per
/// bucket and windows × buckets gives tens of thousands of threads at 2^16 points.
pub(super) fn window_bits(n: usize, forced: Option<u32>) -> u32 {
    match forced {
        Some(c) => c.clamp(1, MAX_DEVICE_WINDOW),
        None => (usize::BITS - n.max(1).leading_zeros())
            .saturating_sub(3)
            .clamp(4, MAX_DEVICE_WINDOW),
    }
}

/// Window geometry of one device MSM.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    /// Window width.
    pub c: u32,
    /// Windows covering a 254-bit scalar plus the last carry.
    pub windows: usize,
    /// Buckets per window, 2^(c−1).
    pub buckets: usize,
    /// Reduction segments per window.
    pub segs: usize,
}

impl Geometry {
    /// The geometry for window width `c`.
    pub(super) fn new(c: u32) -> Self {
        let buckets = 1usize << (c - 1);
        Geometry {
            c,
            windows: (SCALAR_BITS / c + 1) as usize,
            buckets,
            segs: (buckets / 32).clamp(1, 1024),
        }
    }
}

/// Runs one MSM of `n` scalars (canonical words, 8 per scalar) over `bases` from index
/// `start` and returns the XYZZ partial sums, `windows × segs` points.
pub(super) fn partial_sums<R: GpuRuntime>(
    rt: &R,
    group: Group,
    bases: &R::Buffer,
    start: usize,
    scalar_words: &[u32],
    g: Geometry,
) -> GpuResult<Vec<u32>> {
    let n = scalar_words.len() / 8;
    let (prefix, coord) = match group {
        Group::G1 => ("g1", 8usize),
        Group::G2 => ("g2", 16usize),
    };
    let u = |x: usize| -> GpuResult<u32> {
        u32::try_from(x).map_err(|_| format!("MSM size {x} exceeds the device's 32-bit indices"))
    };
    let (n32, c, windows, buckets, segs) = (u(n)?, g.c, u(g.windows)?, u(g.buckets)?, u(g.segs)?);
    u(g.windows * n)?;
    let start = u(start)?;

    let scalars = rt.upload(scalar_words)?;
    let digits = rt.buffer(g.windows * n)?;
    let cursors = rt.zeros(g.windows * g.buckets)?;
    let starts = rt.buffer(g.windows * g.buckets)?;
    let sorted = rt.buffer(g.windows * n)?;
    let sums = rt.buffer(g.windows * g.buckets * 4 * coord)?;
    let out = rt.buffer(g.windows * g.segs * 4 * coord)?;

    use Arg::{Buf, U32};
    rt.launch(
        "msm_digits",
        &[
            Buf(&scalars),
            U32(n32),
            U32(c),
            U32(windows),
            Buf(&digits),
            Buf(&cursors),
        ],
        [n, 1],
    )?;
    rt.launch(
        "msm_scan",
        &[Buf(&cursors), Buf(&starts), U32(buckets), U32(windows)],
        [g.windows, 1],
    )?;
    rt.launch(
        "msm_scatter",
        &[
            Buf(&digits),
            U32(n32),
            U32(buckets),
            U32(windows),
            Buf(&cursors),
            Buf(&sorted),
        ],
        [n, 1],
    )?;
    rt.launch(
        &format!("{prefix}_bucket_sum"),
        &[
            Buf(bases),
            U32(start),
            Buf(&sorted),
            Buf(&starts),
            Buf(&cursors),
            U32(n32),
            U32(buckets),
            U32(windows),
            Buf(&sums),
        ],
        [g.windows * g.buckets, 1],
    )?;
    rt.launch(
        &format!("{prefix}_bucket_reduce"),
        &[Buf(&sums), U32(buckets), U32(windows), U32(segs), Buf(&out)],
        [g.windows * g.segs, 1],
    )?;
    rt.read(&out, g.windows * g.segs * 4 * coord)
}

/// `Σ_w 2^(c·w) · Σ_s partial[w·segs + s]`: the windows combined from the top down.
pub(super) fn combine<T>(partial: &[T], g: Geometry) -> T
where
    T: AdditiveGroup + for<'a> AddAssign<&'a T>,
{
    let mut total = T::ZERO;
    for w in (0..g.windows).rev() {
        for _ in 0..g.c {
            total.double_in_place();
        }
        for p in &partial[w * g.segs..(w + 1) * g.segs] {
            total += p;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_scalar_and_its_carry() {
        for c in 1..=MAX_DEVICE_WINDOW {
            let g = Geometry::new(c);
            // The top window holds fewer than c − 1 bits of value, so adding a carry never
            // overflows its signed digit.
            let top_bits = SCALAR_BITS - c * (g.windows as u32 - 1);
            assert!(top_bits < c, "c = {c}");
        }
        assert_eq!(window_bits(1 << 16, None), 14);
        assert_eq!(window_bits(3, None), 4);
        assert_eq!(window_bits(1 << 30, None), MAX_DEVICE_WINDOW);
        assert_eq!(window_bits(10, Some(40)), MAX_DEVICE_WINDOW);
    }
}
