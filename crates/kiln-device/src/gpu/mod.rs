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

use super::resident::ResidentTables;
use super::{BasesHandle, Device, DeviceError, DeviceInfo, Group, MsmJob, MsmSum, NttOp, Points};
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

    /// A buffer of `words` zeros.
    fn zeros(&self, words: usize) -> GpuResult<Self::Buffer> {
        self.upload(&vec![0u32; words.max(1)])
    }
}

/// Everything behind the device's lock.
struct State<R: GpuRuntime> {
    rt: R,
    /// Device memory of the resident point tables, by table id.
    buffers: HashMap<u64, R::Buffer>,
    ntt_tables: ntt::Tables<R::Buffer>,
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
            }),
            _curve: PhantomData,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
        let st = self.lock();
        let buf = st.buffers.get(&bases.id).ok_or(DeviceError::UnknownBases {
            device: self.info.spec,
            id: bases.id,
        })?;
        let g = msm::Geometry::new(msm::window_bits(scalars.len(), cfg.window_bits));
        let words = scalar_words(scalars);
        let out = msm::partial_sums(&st.rt, table.group, buf, start, &words, g)
            .map_err(|m| self.backend(m))?;
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
        let mut st = self.lock();
        let buf = st.rt.upload(&words).map_err(|m| self.backend(m))?;
        let handle = self.tables.insert((), points.group(), points.len());
        st.buffers.insert(handle.id, buf);
        Ok(handle)
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
        let mut st = self.lock();
        let State { rt, ntt_tables, .. } = &mut *st;
        let data = rt.upload(&words).map_err(|m| self.backend(m))?;
        ntt::run::<C, R>(rt, ntt_tables, &data, n, vectors.len(), op)
            .map_err(|m| self.backend(m))?;
        let out = rt.read(&data, words.len()).map_err(|m| self.backend(m))?;
        drop(st);
        for (v, chunk) in vectors.iter_mut().zip(out.chunks_exact(n * 8)) {
            for (x, w) in v.iter_mut().zip(chunk.chunks_exact(8)) {
                *x = read_fr::<C>(w).ok_or_else(|| self.unreduced())?;
            }
        }
        Ok(())
    }
}
