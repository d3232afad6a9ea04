//! The device layer: the one interface through which every MSM and NTT of a proof runs.
//!
//! A backend (the CPU; OpenCL and CUDA GPUs behind the default cargo features `opencl` and
//! `cuda`, their drivers loaded at run time; FPGA cards behind `fpga`, real ones through
//! XRT and an emulated one run from the card's own firmware and HLS sources) implements [`Device`]: its
//! group-generic [`Device::load`] and [`Device::msm`], on which the per-group methods the
//! prover calls are provided. A proving key's point tables are loaded once with
//! [`Device::load_g1`] / [`Device::load_g2`] and stay resident, addressed by a [`BasesHandle`], across proofs; an
//! MSM names the handle and a start offset, so a scheduler can split one MSM across devices
//! and add the partial sums. NTTs are batched: the prover hands over its vectors together.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod fleet;
#[cfg(feature = "fpga")]
pub mod fpga;
#[cfg(any(feature = "opencl", feature = "cuda"))]
pub mod gpu;
pub mod inventory;
pub mod open;
#[cfg(feature = "opencl")]
pub mod opencl;
pub mod resident;
#[cfg(any(feature = "opencl", feature = "cuda", feature = "fpga"))]
pub(crate) mod words;

/// The `tracing` target of this crate's events: `RUST_LOG=kiln::device=debug` shows them alone.
pub(crate) const TARGET: &str = "kiln::device";

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use kiln_algebra::curve::{Curve, G1Affine, G1Projective, G2Affine, G2Projective};
use kiln_algebra::msm::{MsmConfig, MsmError};
use kiln_algebra::ntt::NttError;

pub use cpu::{CpuDevice, DEFAULT_PRECOMPUTE_BUDGET};
pub use inventory::{open_device, probe_devices, DeviceReport, DeviceStatus};

/// The kinds of compute device kiln knows how to drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// The host CPU (all cores, through rayon).
    Cpu,
    /// An OpenCL device (GPUs, or PoCL on the CPU for testing).
    Opencl,
    /// An NVIDIA GPU through CUDA.
    Cuda,
    /// An FPGA card running kiln's firmware and HLS engines.
    Fpga,
}

impl DeviceKind {
    /// The name used in device specs (`cpu`, `opencl`, `cuda`, `fpga`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Opencl => "opencl",
            DeviceKind::Cuda => "cuda",
            DeviceKind::Fpga => "fpga",
        }
    }
}

/// Names one device: `cpu`, `cpu:0`, `opencl:1`, `cuda:0`, `fpga:0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceSpec {
    /// Which backend.
    pub kind: DeviceKind,
    /// Index among that backend's devices (0 when omitted).
    pub index: usize,
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.index)
    }
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DeviceError::BadSpec {
            spec: s.to_string(),
        };
        let (kind, index) = match s.split_once(':') {
            Some((k, i)) => (k, i.parse::<usize>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let kind = match kind {
            "cpu" => DeviceKind::Cpu,
            "opencl" => DeviceKind::Opencl,
            "cuda" => DeviceKind::Cuda,
            "fpga" => DeviceKind::Fpga,
            _ => return Err(bad()),
        };
        Ok(DeviceSpec { kind, index })
    }
}

/// What a device is, for inventories and logs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    /// Kind and index (`cpu:0`).
    #[serde(serialize_with = "serialize_display")]
    pub spec: DeviceSpec,
    /// Human-readable name (CPU model, GPU name, card name).
    pub name: String,
    /// Device memory in bytes, where the device has its own.
    pub memory_bytes: Option<u64>,
    /// Parallel compute units (cores, SMs, engines).
    pub compute_units: usize,
    /// Whether it computes on the host's own CPU cores (the CPU backend, or an OpenCL CPU
    /// driver such as PoCL): such a device competes with the CPU backend instead of adding to
    /// it, so automatic device selection leaves it out.
    pub host_cpu: bool,
    /// The driver and its version, where known (`Portable Computing Language, driver 5.0`,
    /// `CUDA driver 12.4`, the emulated card's firmware and ABI); `None` for the CPU.
    pub driver: Option<String>,
    /// Whether the device is emulated on the host rather than real hardware (the emulated
    /// FPGA card).
    pub emulated: bool,
}

fn serialize_display<S: serde::Serializer, T: fmt::Display>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// What a device spent on the work it was given since the last call to [`Device::usage`].
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceUsage {
    /// The device that did the work.
    pub spec: DeviceSpec,
    /// Commands the device ran: kernel launches on a GPU, card commands on an FPGA.
    pub commands: u64,
    /// The time by the device's own clock (which clock: [`DeviceUsage::clock`]).
    pub device_time: Duration,
    /// Host wall time of the operations that used the device.
    pub wall_time: Duration,
    /// Where [`DeviceUsage::device_time`] comes from.
    pub clock: UsageClock,
}

/// The clock behind a [`DeviceUsage::device_time`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageClock {
    /// Kernel execution time from the driver's timers (OpenCL profiling events, CUDA events).
    Kernel,
    /// An FPGA card's engine cycles at its clock (modelled on the emulated card).
    ModelledCard {
        /// Engine cycles the card's commands took.
        cycles: u64,
        /// The card's clock in MHz.
        clock_mhz: u32,
    },
}

impl fmt::Display for DeviceUsage {
    /// One line: `opencl:0: 12 kernel launches, kernel time 0.031 s, wall time 0.045 s`, or
    /// for a card `fpga:0: 7 commands, modelled card time 0.002 s (600000 cycles at 300
    /// MHz), wall time 0.900 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (device, wall) = (self.device_time.as_secs_f64(), self.wall_time.as_secs_f64());
        match self.clock {
            UsageClock::Kernel => write!(
                f,
                "{}: {} kernel launches, kernel time {device:.3} s, wall time {wall:.3} s",
                self.spec, self.commands
            ),
            UsageClock::ModelledCard { cycles, clock_mhz } => write!(
                f,
                "{}: {} commands, modelled card time {device:.3} s ({cycles} cycles at \
                 {clock_mhz} MHz), wall time {wall:.3} s",
                self.spec, self.commands
            ),
        }
    }
}

/// The widest MSM window the GPU kernels take (a wider forced window is clamped to it).
pub const GPU_MAX_WINDOW_BITS: u32 = 16;

/// The MSM window widths a kind of device runs as asked (`MsmConfig::window_bits`); a
/// device clamps a forced width outside its range.
pub fn msm_window_range(kind: DeviceKind) -> std::ops::RangeInclusive<u32> {
    match kind {
        DeviceKind::Cpu => 1..=kiln_algebra::msm::MAX_WINDOW_BITS,
        DeviceKind::Opencl | DeviceKind::Cuda => 1..=GPU_MAX_WINDOW_BITS,
        #[cfg(feature = "fpga")]
        DeviceKind::Fpga => {
            kiln_firmware::abi::MIN_WINDOW_BITS..=kiln_firmware::abi::MAX_WINDOW_BITS
        }
        #[cfg(not(feature = "fpga"))]
        DeviceKind::Fpga => 2..=16,
    }
}

/// Which group a resident point table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// Points of G1.
    G1,
    /// Points of G2.
    G2,
}

/// A point table resident on one device. Cheap to clone; free it with [`Device::release`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BasesHandle {
    /// The device holding the table.
    pub device: DeviceSpec,
    /// The device's id for the table.
    pub id: u64,
    /// G1 or G2.
    pub group: Group,
    /// Number of points.
    pub len: usize,
}

/// A batched NTT step. All vectors of one call have the same power-of-two length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NttOp<F> {
    /// Coefficients → evaluations on the domain `ω^i`.
    Forward,
    /// Evaluations on the domain → coefficients.
    Inverse,
    /// Coefficients → evaluations on the coset `shift·ω^i`.
    CosetForward(F),
    /// Evaluations on the coset `shift·ω^i` → coefficients.
    CosetInverse(F),
    /// Evaluations on the domain → evaluations on the coset `shift·ω^i` (what the Groth16
    /// witness map needs; backends may fuse the two transforms).
    DomainToCoset(F),
}

/// Errors from a device or its backend.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// A device spec that does not parse.
    #[error("bad device spec {spec:?}: expected cpu, opencl:N, cuda:N or fpga:N")]
    BadSpec {
        /// The text given.
        spec: String,
    },
    /// The requested device does not exist or its backend is not available.
    #[error("device {spec} is not available: {reason}")]
    Unavailable {
        /// The device asked for.
        spec: DeviceSpec,
        /// Why it is missing.
        reason: String,
    },
    /// A handle this device does not hold (released, or from another device).
    #[error("device {device} holds no point table with id {id}")]
    UnknownBases {
        /// The device asked.
        device: DeviceSpec,
        /// The handle's id.
        id: u64,
    },
    /// A G1 operation on a G2 table or vice versa.
    #[error("point table {id} holds {actual:?} points, the operation needs {expected:?}")]
    WrongGroup {
        /// The handle's id.
        id: u64,
        /// Group the operation needs.
        expected: Group,
        /// Group the table holds.
        actual: Group,
    },
    /// An MSM range that runs past the end of the resident table.
    #[error("MSM over points {start}..{end} runs past the table's {len} points")]
    OutOfRange {
        /// First point.
        start: usize,
        /// One past the last point.
        end: usize,
        /// Table length.
        len: usize,
    },
    /// The MSM algorithm refused its input.
    #[error(transparent)]
    Msm(#[from] MsmError),
    /// The NTT refused its input.
    #[error(transparent)]
    Ntt(#[from] NttError),
    /// A backend-specific failure (build, launch, memory).
    #[error("device {spec} failed: {message}")]
    Backend {
        /// The failing device.
        spec: DeviceSpec,
        /// What the backend reported.
        message: String,
    },
}

/// Checks that `start + n` fits in a table of `len` points.
pub(crate) fn check_range(start: usize, n: usize, len: usize) -> Result<(), DeviceError> {
    match start.checked_add(n) {
        Some(end) if end <= len => Ok(()),
        _ => Err(DeviceError::OutOfRange {
            start,
            end: start.saturating_add(n),
            len,
        }),
    }
}

/// The common length of a batch of NTT vectors, checked as accelerator backends need it:
/// `None` when there is nothing to do (no vectors, or vectors of length 1, which every op
/// leaves as they are); an error for lengths that differ or are not a power of two.
#[cfg(any(feature = "opencl", feature = "cuda", feature = "fpga"))]
pub(crate) fn ntt_batch_len<F>(vectors: &[Vec<F>]) -> Result<Option<usize>, DeviceError> {
    let Some(n) = vectors.first().map(Vec::len) else {
        return Ok(None);
    };
    if !n.is_power_of_two() {
        return Err(NttError::NotPowerOfTwo { size: n }.into());
    }
    if let Some(v) = vectors.iter().find(|v| v.len() != n) {
        return Err(NttError::LengthMismatch {
            expected: n,
            got: v.len(),
        }
        .into());
    }
    Ok((n > 1).then_some(n))
}

/// One pass of an NTT as the accelerator backends run it (see [`ntt_steps`]).
#[cfg(any(feature = "opencl", feature = "cuda", feature = "fpga"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NttStep<F> {
    /// Bit reversal then the radix-2 DIT stages with ω (or ω^−1), unscaled.
    Transform {
        /// With ω^−1.
        inverse: bool,
    },
    /// Element `i` times `factor·shift^i` (a constant when `shift` is one).
    Scale {
        /// The constant factor.
        factor: F,
        /// The shift whose powers multiply the elements.
        shift: F,
    },
}

/// The passes of `op` on vectors of length `n` (a power of two ≥ 2); `None` if the shift
/// or `n` has no inverse.
#[cfg(any(feature = "opencl", feature = "cuda", feature = "fpga"))]
pub(crate) fn ntt_steps<F: ark_ff::FftField>(op: NttOp<F>, n: usize) -> Option<Vec<NttStep<F>>> {
    let n_inv = F::from(n as u64).inverse()?;
    let (forward, inverse) = (
        NttStep::Transform { inverse: false },
        NttStep::Transform { inverse: true },
    );
    let scale = |factor, shift| NttStep::Scale { factor, shift };
    Some(match op {
        NttOp::Forward => vec![forward],
        NttOp::Inverse => vec![inverse, scale(n_inv, F::ONE)],
        NttOp::CosetForward(g) => vec![scale(F::ONE, g), forward],
        NttOp::CosetInverse(g) => vec![inverse, scale(n_inv, g.inverse()?)],
        NttOp::DomainToCoset(g) => vec![inverse, scale(n_inv, g), forward],
    })
}

/// A point table to make resident on a device: G1 or G2 points.
#[derive(Clone, Debug)]
pub enum Points<C: Curve> {
    /// Points of G1.
    G1(Arc<Vec<G1Affine<C>>>),
    /// Points of G2.
    G2(Arc<Vec<G2Affine<C>>>),
}

impl<C: Curve> Points<C> {
    /// Which group the points are in.
    pub fn group(&self) -> Group {
        match self {
            Points::G1(_) => Group::G1,
            Points::G2(_) => Group::G2,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        match self {
            Points::G1(p) => p.len(),
            Points::G2(p) => p.len(),
        }
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The result of an MSM: a point of the resident table's group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsmSum<C: Curve> {
    /// A G1 point.
    G1(G1Projective<C>),
    /// A G2 point.
    G2(G2Projective<C>),
}

impl<C: Curve> MsmSum<C> {
    /// The identity of `group` (the sum of no terms).
    pub fn zero(group: Group) -> Self {
        match group {
            Group::G1 => MsmSum::G1(Default::default()),
            Group::G2 => MsmSum::G2(Default::default()),
        }
    }

    /// Which group the point is in.
    pub fn group(&self) -> Group {
        match self {
            MsmSum::G1(_) => Group::G1,
            MsmSum::G2(_) => Group::G2,
        }
    }

    /// The point, if it is in G1.
    pub fn g1(self) -> Option<G1Projective<C>> {
        match self {
            MsmSum::G1(p) => Some(p),
            MsmSum::G2(_) => None,
        }
    }

    /// The point, if it is in G2.
    pub fn g2(self) -> Option<G2Projective<C>> {
        match self {
            MsmSum::G2(p) => Some(p),
            MsmSum::G1(_) => None,
        }
    }

    /// The sum of two partial results of one MSM (both in its group); `None` if the groups
    /// differ.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        match (self, other) {
            (MsmSum::G1(a), MsmSum::G1(b)) => Some(MsmSum::G1(a + b)),
            (MsmSum::G2(a), MsmSum::G2(b)) => Some(MsmSum::G2(a + b)),
            _ => None,
        }
    }
}

/// One MSM over a resident table: `Σ scalars[i]·bases[start + i]`.
#[derive(Clone, Copy, Debug)]
pub struct MsmJob<'a, F> {
    /// The resident table.
    pub bases: &'a BasesHandle,
    /// The table's point that the first scalar multiplies.
    pub start: usize,
    /// The scalars.
    pub scalars: &'a [F],
    /// Window and thread settings.
    pub cfg: &'a MsmConfig,
    /// The group the caller expects the table to hold (a table of the other group is
    /// refused before any work).
    pub group: Group,
}

impl<'a, F> MsmJob<'a, F> {
    /// `Σ scalars[i]·bases[start + i]`, with the window and thread settings `cfg`, in the
    /// group the handle names.
    pub fn new(bases: &'a BasesHandle, start: usize, scalars: &'a [F], cfg: &'a MsmConfig) -> Self {
        MsmJob {
            bases,
            start,
            scalars,
            cfg,
            group: bases.group,
        }
    }

    /// The part of this MSM over scalars `range` (for splitting it across devices).
    pub fn part(&self, range: std::ops::Range<usize>) -> MsmJob<'_, F> {
        MsmJob {
            start: self.start + range.start,
            scalars: &self.scalars[range],
            ..*self
        }
    }
}

/// A compute device that runs a proof's MSMs and NTTs.
///
/// A backend implements the group-generic operations ([`Device::load`], [`Device::msm`]);
/// the per-group methods the prover calls ([`Device::load_g1`], [`Device::msm_g2`], ...)
/// are provided on top of them, so every backend shares one copy of their checks.
/// Implementations must be usable from several threads; a device serializes internally
/// where its hardware needs it.
pub trait Device<C: Curve>: Send + Sync {
    /// What this device is.
    fn info(&self) -> &DeviceInfo;

    /// Makes a point table resident on the device.
    fn load(&self, points: Points<C>) -> Result<BasesHandle, DeviceError>;

    /// Frees a resident table. Releasing an unknown handle is an error.
    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError>;

    /// The MSM `job` over a resident table, in the table's group.
    fn msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError>;

    /// Applies one NTT step to every vector (all of one power-of-two length) in place.
    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError>;

    /// Told by the prover whether the proof just computed through this device passed its
    /// pairing check. Returns true when the device has changed where it runs work (a
    /// scheduler moving off a suspect accelerator), so proving again may succeed. A single
    /// device has nothing to change: the default returns false.
    fn proof_checked(&self, accepted: bool) -> bool {
        let _ = accepted;
        false
    }

    /// What the device spent since the last call (each call drains the counters), for the
    /// end of a run: a GPU's kernel time, an FPGA card's modelled card time, each beside
    /// the wall time of the operations. One entry per device that did work (a scheduler
    /// reports each of its members); empty when there is nothing to report, as for the
    /// CPU (the default).
    fn usage(&self) -> Vec<DeviceUsage> {
        Vec::new()
    }

    /// Makes a G1 point table resident on the device.
    fn load_g1(&self, points: Arc<Vec<G1Affine<C>>>) -> Result<BasesHandle, DeviceError> {
        self.load(Points::G1(points))
    }

    /// Makes a G2 point table resident on the device.
    fn load_g2(&self, points: Arc<Vec<G2Affine<C>>>) -> Result<BasesHandle, DeviceError> {
        self.load(Points::G2(points))
    }

    /// The MSM `job` over a resident G1 table.
    fn msm_g1(&self, job: &MsmJob<'_, C::Fr>) -> Result<G1Projective<C>, DeviceError> {
        msm_of(self, job, Group::G1, MsmSum::g1)
    }

    /// The MSM `job` over a resident G2 table.
    fn msm_g2(&self, job: &MsmJob<'_, C::Fr>) -> Result<G2Projective<C>, DeviceError> {
        msm_of(self, job, Group::G2, MsmSum::g2)
    }
}

/// [`Device::msm`] for a caller that expects a point of `group` (taken out of the sum by
/// `pick`): a table of the other group is refused by the backend before any work, and a
/// result of the other group here.
fn msm_of<C: Curve, T, D: Device<C> + ?Sized>(
    dev: &D,
    job: &MsmJob<'_, C::Fr>,
    group: Group,
    pick: fn(MsmSum<C>) -> Option<T>,
) -> Result<T, DeviceError> {
    let sum = dev.msm(&MsmJob { group, ..*job })?;
    let actual = sum.group();
    pick(sum).ok_or_else(|| wrong_group(job.bases, group, actual))
}

fn wrong_group(bases: &BasesHandle, expected: Group, actual: Group) -> DeviceError {
    DeviceError::WrongGroup {
        id: bases.id,
        expected,
        actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_specs_parse_and_print() {
        let s: DeviceSpec = "cpu".parse().unwrap();
        assert_eq!(
            s,
            DeviceSpec {
                kind: DeviceKind::Cpu,
                index: 0
            }
        );
        assert_eq!(s.to_string(), "cpu:0");
        let s: DeviceSpec = "opencl:3".parse().unwrap();
        assert_eq!(
            s,
            DeviceSpec {
                kind: DeviceKind::Opencl,
                index: 3
            }
        );
        for bad in ["gpu", "cpu:", "cuda:x", "", "opencl:-1"] {
            assert!(
                bad.parse::<DeviceSpec>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn usage_prints_one_line_per_clock() {
        let spec = |kind| DeviceSpec { kind, index: 0 };
        let kernel = DeviceUsage {
            spec: spec(DeviceKind::Opencl),
            commands: 28,
            device_time: Duration::from_millis(21),
            wall_time: Duration::from_millis(30),
            clock: UsageClock::Kernel,
        };
        assert_eq!(
            kernel.to_string(),
            "opencl:0: 28 kernel launches, kernel time 0.021 s, wall time 0.030 s"
        );
        let card = DeviceUsage {
            spec: spec(DeviceKind::Fpga),
            commands: 7,
            device_time: Duration::from_millis(2),
            wall_time: Duration::from_millis(900),
            clock: UsageClock::ModelledCard {
                cycles: 500_000,
                clock_mhz: 250,
            },
        };
        assert_eq!(
            card.to_string(),
            "fpga:0: 7 commands, modelled card time 0.002 s (500000 cycles at 250 MHz), \
             wall time 0.900 s"
        );
    }
}
