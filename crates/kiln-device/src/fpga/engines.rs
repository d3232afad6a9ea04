//! The card's HLS engines as the emulator calls them: safe wrappers over the C entry points
//! of `hw/include/kiln_hw.h`, compiled from `hw/src/*.cpp` into kiln by `build.rs` (the
//! same C++ that Vitis HLS synthesizes for the card).

use std::os::raw::c_int;

use kiln_firmware::abi::Group;

/// What an engine pass spent, from its pipeline model.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Cycles at the engine clock.
    pub cycles: u64,
    /// Operations issued into the adder or multiplier.
    pub issued: u64,
    /// Cycles with nothing issued (hazards, pipeline drain).
    pub stalls: u64,
    /// Points the hazard scheduler deferred.
    pub deferred: u64,
}

extern "C" {
    fn kiln_hw_clock_mhz() -> u32;
    fn kiln_hw_msm_bucket_bytes(group: u32, c: u32) -> u64;
    fn kiln_hw_msm_accumulate(
        group: u32,
        buckets: *mut u8,
        points: *const u8,
        scalars: *const u8,
        n: u32,
        c: u32,
        window: u32,
        clear: c_int,
        stats: *mut Stats,
    ) -> c_int;
    fn kiln_hw_msm_reduce(
        group: u32,
        buckets: *const u8,
        c: u32,
        segments: u32,
        out: *mut u8,
        stats: *mut Stats,
    ) -> c_int;
    fn kiln_hw_ntt(data: *mut u8, log_n: u32, omega: *const u8, stats: *mut Stats) -> c_int;
    fn kiln_hw_ntt_scale(
        data: *mut u8,
        log_n: u32,
        factor: *const u8,
        shift: *const u8,
        stats: *mut Stats,
    ) -> c_int;
}

/// An engine refused its arguments (its return code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the engine refused its arguments (code {0})")]
pub struct EngineRefused(pub i32);

fn status(code: c_int, stats: Stats) -> Result<Stats, EngineRefused> {
    if code == 0 {
        Ok(stats)
    } else {
        Err(EngineRefused(code))
    }
}

fn group_code(group: Group) -> u32 {
    group as u64 as u32
}

/// The engines' modelled clock in MHz.
pub fn clock_mhz() -> u32 {
    // SAFETY: a pure function of no arguments.
    unsafe { kiln_hw_clock_mhz() }
}

/// Bytes of an MSM engine's bucket memory for window width `c`.
pub fn bucket_bytes(group: Group, c: u32) -> usize {
    // SAFETY: a pure function of its arguments.
    unsafe { kiln_hw_msm_bucket_bytes(group_code(group), c) as usize }
}

/// One accumulation pass (see `kiln_hw_msm_accumulate`).
#[allow(clippy::too_many_arguments)]
pub fn msm_accumulate(
    group: Group,
    buckets: &mut [u8],
    points: &[u8],
    scalars: &[u8],
    c: u32,
    window: u32,
    clear: bool,
) -> Result<Stats, EngineRefused> {
    let n = scalars.len() / 32;
    if buckets.len() < bucket_bytes(group, c)
        || points.len() < n * group.affine_bytes()
        || n > u32::MAX as usize
    {
        return Err(EngineRefused(-1));
    }
    let mut stats = Stats::default();
    // SAFETY: the buffers hold what the engine reads and writes for these arguments
    // (checked above), and the engine keeps no pointer after returning.
    let code = unsafe {
        kiln_hw_msm_accumulate(
            group_code(group),
            buckets.as_mut_ptr(),
            points.as_ptr(),
            scalars.as_ptr(),
            n as u32,
            c,
            window,
            c_int::from(clear),
            &mut stats,
        )
    };
    status(code, stats)
}

/// One reduction pass (see `kiln_hw_msm_reduce`): `2·segments` XYZZ points.
pub fn msm_reduce(
    group: Group,
    buckets: &[u8],
    c: u32,
    segments: u32,
) -> Result<(Vec<u8>, Stats), EngineRefused> {
    if buckets.len() < bucket_bytes(group, c) {
        return Err(EngineRefused(-1));
    }
    let mut out = vec![0u8; 2 * segments as usize * group.xyzz_bytes()];
    let mut stats = Stats::default();
    // SAFETY: `buckets` holds 2^(c−1) points and `out` 2·segments (the engine refuses
    // segment counts it cannot write before touching `out`).
    let code = unsafe {
        kiln_hw_msm_reduce(
            group_code(group),
            buckets.as_ptr(),
            c,
            segments,
            out.as_mut_ptr(),
            &mut stats,
        )
    };
    status(code, stats).map(|s| (out, s))
}

/// The NTT engine's transform in place on `data` (`2^log_n` elements).
pub fn ntt(data: &mut [u8], log_n: u32, omega: &[u8; 32]) -> Result<Stats, EngineRefused> {
    if log_n >= 32 || data.len() != 32usize << log_n {
        return Err(EngineRefused(-1));
    }
    let mut stats = Stats::default();
    // SAFETY: `data` holds exactly 2^log_n elements.
    let code = unsafe { kiln_hw_ntt(data.as_mut_ptr(), log_n, omega.as_ptr(), &mut stats) };
    status(code, stats)
}

/// The NTT engine's scaling pass in place on `data`.
pub fn ntt_scale(
    data: &mut [u8],
    log_n: u32,
    factor: &[u8; 32],
    shift: &[u8; 32],
) -> Result<Stats, EngineRefused> {
    if log_n >= 32 || data.len() != 32usize << log_n {
        return Err(EngineRefused(-1));
    }
    let mut stats = Stats::default();
    // SAFETY: `data` holds exactly 2^log_n elements.
    let code = unsafe {
        kiln_hw_ntt_scale(
            data.as_mut_ptr(),
            log_n,
            factor.as_ptr(),
            shift.as_ptr(),
            &mut stats,
        )
    };
    status(code, stats)
}
