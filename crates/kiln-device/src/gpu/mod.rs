//! What the GPU backends share: the kernels' host side (MSM geometry and combination, NTT
//! steps and tables), the data layout, and [`GpuDevice`], the [`Device`] built on any
//! [`GpuRuntime`] (OpenCL, CUDA). A backend only supplies its runtime (context, queue or
//! stream, built kernels, buffers, launches) and its discovery.

pub(crate) mod kernel_source;
mod msm;
mod ntt;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::resident::ResidentTables;
use super::{
    BasesHandle, Device, DeviceError, DeviceInfo, DeviceUsage, Group, MsmJob, MsmSum, NttOp,
    Points, UsageClock,
};
use crate::words::{
    g1_from_xyzz, g1_words, g2_from_xyzz, g2_words, push_fr, read_fr, scalar_words,
};
use kiln_algebra::curve::Curve;

/// Every kernel the host launches (a runtime builds these at start-up).
pub(crate) const KERNELS: [&str; 11] = [
    "msm_digits",
    "msm_scan",
    "msm_scatter",
    "g1_bucket_sum",
    "g1_bucket_reduce",
    "g2_bucket_sum",
    "g2_bucket_reduce",
    "ntt_bitrev",
    "ntt_dit_stage",
    "ntt_scale_table",
    "ntt_scale_const",
];

/// A driver failure, as text for `DeviceError::Backend`.
pub type GpuResult<T> = Result<T, String>;

/// A kernel argument.
pub enum Arg<'a, B> {
    /// A device buffer of 32-bit words.
    Buf(&'a B),
    /// A 32-bit integer.
    U32(u32),
}

/// Kernel launches and their execution time by the driver's timers, as
/// [`GpuRuntime::take_kernel_time`] reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelTime {
    /// Kernels launched.
    pub launches: u64,
    /// Their execution time, summed.
    pub time: Duration,
}

/// One device's driver state with the kernels built: buffers of 32-bit words and in-order
/// launches. Not required to be thread-safe: [`GpuDevice`] serializes access.
pub trait GpuRuntime: Send + 'static {
    /// A device buffer of 32-bit words.
    type Buffer: Send;
    /// An uninitialized buffer of `words` words (at least one).
    fn buffer(&self, words: usize) -> GpuResult<Self::Buffer>;
    /// A buffer holding `data`.
    fn upload(&self, data: &[u32]) -> GpuResult<Self::Buffer>;
    /// The first `words` words of `buf`, after every queued launch has finished.
    fn read(&self, buf: &Self::Buffer, words: usize) -> GpuResult<Vec<u32>>;
    /// Queues kernel `name` over a `global[0] × global[1]` grid of work items (nothing if
    /// either is zero); the kernels ignore items past their range.
    fn launch(
        &self,
        name: &str,
        args: &[Arg<'_, Self::Buffer>],
        global: [usize; 2],
    ) -> GpuResult<()>;

    /// The kernels launched since the last call and their summed execution time by the
    /// driver's timers (waiting for launches still queued); the next call starts afresh,
    /// also after an error. `Err` says why the time of these launches is not known (a
    /// timer the driver could not read, or a runtime without timers). Timing never makes
    /// [`GpuRuntime::launch`] or [`GpuRuntime::read`] fail.
    fn take_kernel_time(&self) -> GpuResult<KernelTime>;

    /// A buffer of `words` zeros.
    fn zeros(&self, words: usize) -> GpuResult<Self::Buffer> {
        self.upload(&vec![0u32; words.max(1)])
    }
}

/// The timers of a runtime's launches (events of type `E`) until they are resolved into a
/// sum: the runtimes share this bookkeeping, each with its own way of reading a timer.
pub(crate) struct KernelTimer<E> {
    /// Timers of launches not yet resolved.
    pending: Vec<E>,
    /// Resolved so far.
    done: KernelTime,
    /// Why a timer could not be read since the last [`KernelTimer::take`].
    failed: Option<String>,
    /// Why the runtime has no timers at all (e.g. a queue without profiling).
    unavailable: Option<String>,
}

impl<E> KernelTimer<E> {
    /// A timer; `unavailable` says why this runtime cannot time its kernels, if it cannot.
    pub(crate) fn new(unavailable: Option<String>) -> Self {
        Self {
            pending: Vec::new(),
            done: KernelTime::default(),
            failed: None,
            unavailable,
        }
    }

    /// Counts one launch, with its timer if it has one (`Err`: why it has none).
    pub(crate) fn launched(&mut self, timer: Result<E, String>) {
        self.done.launches += 1;
        match timer {
            Ok(e) if self.unavailable.is_none() => self.pending.push(e),
            Ok(_) => {}
            Err(why) => {
                self.failed.get_or_insert(why);
            }
        }
    }

    /// Reads and drops the pending timers (call once their launches have finished, or with
    /// an `elapsed` that waits for them). A timer that cannot be read is remembered as a
    /// failure for [`KernelTimer::take`], never returned as an error.
    pub(crate) fn resolve(&mut self, elapsed: impl Fn(&E) -> Result<Duration, String>) {
        for e in self.pending.drain(..) {
            if self.failed.is_some() {
                continue;
            }
            match elapsed(&e) {
                Ok(t) => self.done.time += t,
                Err(why) => self.failed = Some(why),
            }
        }
    }

    /// The launches and time since the last call (resolving what is pending), or why they
    /// are not known; either way the timer starts afresh.
    pub(crate) fn take(
        &mut self,
        elapsed: impl Fn(&E) -> Result<Duration, String>,
    ) -> GpuResult<KernelTime> {
        self.resolve(elapsed);
        let done = std::mem::take(&mut self.done);
        let failed = self.failed.take();
        match self.unavailable.clone().or(failed) {
            Some(why) => Err(why),
            None => Ok(done),
        }
    }
}

/// What the device has spent since the last [`Device::usage`] report.
#[derive(Default)]
struct Usage {
    /// Operations (loads, MSMs, NTTs) that reached the device.
    ops: u64,
    /// Kernel launches and their time.
    kernels: KernelTime,
    /// Host wall time of the operations.
    wall: Duration,
    /// Why the kernel time of this period is not known, if a timer failed.
    timers_failed: Option<String>,
}

/// Everything behind the device's lock.
struct State<R: GpuRuntime> {
    rt: R,
    /// Device memory of the resident point tables, by table id.
    buffers: HashMap<u64, R::Buffer>,
    ntt_tables: ntt::Tables<R::Buffer>,
    usage: Usage,
}

/// A GPU (or PoCL) device running kiln's kernels through runtime `R`.
pub struct GpuDevice<R: GpuRuntime, C: Curve> {
    info: DeviceInfo,
    /// The resident tables' ids, groups and lengths (their memory is in `State::buffers`).
    tables: ResidentTables<()>,
    state: Mutex<State<R>>,
    _curve: PhantomData<fn() -> C>,
}

impl<R: GpuRuntime, C: Curve> GpuDevice<R, C> {
    /// Wraps a runtime whose kernels are built; refuses curves the kernels do not implement.
    pub(crate) fn new(info: DeviceInfo, rt: R) -> Result<Self, DeviceError> {
        if C::SNARKJS_NAME != "bn128" || C::FQ_BYTES != 32 || C::FR_BYTES != 32 {
            return Err(DeviceError::Unavailable {
                spec: info.spec,
                reason: format!(
                    "the GPU kernels are built for BN254, not {}",
                    C::SNARKJS_NAME
                ),
            });
        }
        Ok(Self {
            tables: ResidentTables::new(info.spec),
            info,
            state: Mutex::new(State {
                rt,
                buffers: HashMap::new(),
                ntt_tables: ntt::Tables::default(),
                usage: Usage::default(),
            }),
            _curve: PhantomData,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one operation `f` on the locked state, adding its wall time and the kernel
    /// time the runtime measured to the usage. A kernel time that cannot be read is logged
    /// and leaves the period unreported; it never fails the operation.
    fn timed<T>(
        &self,
        f: impl FnOnce(&mut State<R>) -> Result<T, DeviceError>,
    ) -> Result<T, DeviceError> {
        let mut st = self.lock();
        let t = Instant::now();
        let r = f(&mut st);
        let wall = t.elapsed();
        let kernels = st.rt.take_kernel_time();
        let u = &mut st.usage;
        u.ops += 1;
        u.wall += wall;
        match kernels {
            Ok(k) => {
                u.kernels.launches += k.launches;
                u.kernels.time += k.time;
            }
            Err(why) => {
                if u.timers_failed.is_none() {
                    tracing::debug!(
                        target: crate::TARGET,
                        device = %self.info.spec,
                        why,
                        "kernel time not measured"
                    );
                }
                u.timers_failed.get_or_insert(why);
            }
        }
        r
    }

    fn backend(&self, message: String) -> DeviceError {
        DeviceError::Backend {
            spec: self.info.spec,
            message,
        }
    }

    /// Runs an MSM over a resident table: its group, and the partial sums' words with the
    /// geometry (`None` for no scalars).
    #[allow(clippy::type_complexity)]
    fn msm_words(
        &self,
        job: &MsmJob<'_, C::Fr>,
    ) -> Result<(Group, Option<(Vec<u32>, msm::Geometry)>), DeviceError> {
        let MsmJob {
            bases,
            start,
            scalars,
            cfg,
            ..
        } = *job;
        let table = self.tables.for_msm(job)?;
        if scalars.is_empty() {
            return Ok((table.group, None));
        }
        let g = msm::Geometry::new(msm::window_bits(scalars.len(), cfg.window_bits));
        let words = scalar_words(scalars);
        let out = self.timed(|st| {
            let buf = st.buffers.get(&bases.id).ok_or(DeviceError::UnknownBases {
                device: self.info.spec,
                id: bases.id,
            })?;
            msm::partial_sums(&st.rt, table.group, buf, start, &words, g)
                .map_err(|m| self.backend(m))
        })?;
        Ok((table.group, Some((out, g))))
    }

    fn unreduced(&self) -> DeviceError {
        self.backend("the device returned an unreduced field element".into())
    }
}

impl<R: GpuRuntime, C: Curve> Device<C> for GpuDevice<R, C> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn load(&self, points: Points<C>) -> Result<BasesHandle, DeviceError> {
        let words = match &points {
            Points::G1(p) => g1_words::<C>(p),
            Points::G2(p) => g2_words::<C>(p),
        };
        self.timed(|st| {
            let buf = st.rt.upload(&words).map_err(|m| self.backend(m))?;
            let handle = self.tables.insert((), points.group(), points.len());
            st.buffers.insert(handle.id, buf);
            Ok(handle)
        })
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        self.tables.remove(bases)?;
        self.lock().buffers.remove(&bases.id);
        Ok(())
    }

    fn msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError> {
        let (group, Some((words, g))) = self.msm_words(job)? else {
            return Ok(MsmSum::zero(job.bases.group));
        };
        let unreduced = || self.unreduced();
        Ok(match group {
            Group::G1 => MsmSum::G1(msm::combine(
                &g1_from_xyzz::<C>(&words).ok_or_else(unreduced)?,
                g,
            )),
            Group::G2 => MsmSum::G2(msm::combine(
                &g2_from_xyzz::<C>(&words).ok_or_else(unreduced)?,
                g,
            )),
        })
    }

    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError> {
        let Some(n) = crate::ntt_batch_len(vectors)? else {
            return Ok(());
        };
        let mut words = Vec::with_capacity(vectors.len() * n * 8);
        for v in vectors.iter() {
            for x in v {
                push_fr::<C>(x, &mut words);
            }
        }
        let batch = vectors.len();
        let out = self.timed(|st| {
            let State { rt, ntt_tables, .. } = st;
            let data = rt.upload(&words).map_err(|m| self.backend(m))?;
            ntt::run::<C, R>(rt, ntt_tables, &data, n, batch, op).map_err(|m| self.backend(m))?;
            rt.read(&data, words.len()).map_err(|m| self.backend(m))
        })?;
        for (v, chunk) in vectors.iter_mut().zip(out.chunks_exact(n * 8)) {
            for (x, w) in v.iter_mut().zip(chunk.chunks_exact(8)) {
                *x = read_fr::<C>(w).ok_or_else(|| self.unreduced())?;
            }
        }
        Ok(())
    }

    fn usage(&self) -> Vec<DeviceUsage> {
        let u = std::mem::take(&mut self.lock().usage);
        if u.ops == 0 {
            return Vec::new();
        }
        if let Some(why) = u.timers_failed {
            tracing::debug!(
                target: crate::TARGET,
                device = %self.info.spec,
                why,
                "no usage reported: the kernel timers failed"
            );
            return Vec::new();
        }
        vec![DeviceUsage {
            spec: self.info.spec,
            commands: u.kernels.launches,
            device_time: u.kernels.time,
            wall_time: u.wall,
            clock: UsageClock::Kernel,
        }]
    }
}
