//! What the GPU backends share: the kernels' host side (MSM geometry and combination, NTT
//! steps and tables), the data layout, and [`GpuDevice`], the [`Device`] built on any
//! [`GpuRuntime`] (OpenCL, CUDA). A backend only supplies its runtime (context, queue or
//! stream, built kernels, buffers, launches) and its discovery.

pub(crate) mod kernel_source;
mod msm;
mod ntt;
pub(crate) mod words;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use self::words::{g1_from_xyzz, g1_words, g2_from_xyzz, g2_words, push_fr, read_fr, scalar_words};
use super::{check_range, BasesHandle, Device, DeviceError, DeviceInfo, Group, NttOp};
use kiln_algebra::curve::{Curve, G1Affine, G1Projective, G2Affine, G2Projective};
use kiln_algebra::msm::MsmConfig;
use kiln_algebra::ntt::NttError;

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

/// A resident point table.
struct Table<B> {
    buf: B,
    group: Group,
    len: usize,
}

/// Everything behind the device's lock.
struct State<R: GpuRuntime> {
    rt: R,
    tables: HashMap<u64, Table<R::Buffer>>,
    ntt_tables: ntt::Tables<R::Buffer>,
}

/// A GPU (or PoCL) device running kiln's kernels through runtime `R`.
pub struct GpuDevice<R: GpuRuntime, C: Curve> {
    info: DeviceInfo,
    state: Mutex<State<R>>,
    next_id: AtomicU64,
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
            info,
            state: Mutex::new(State {
                rt,
                tables: HashMap::new(),
                ntt_tables: ntt::Tables::default(),
            }),
            next_id: AtomicU64::new(1),
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

    fn load(&self, words: Vec<u32>, group: Group, len: usize) -> Result<BasesHandle, DeviceError> {
        let mut st = self.lock();
        let buf = st.rt.upload(&words).map_err(|m| self.backend(m))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        st.tables.insert(id, Table { buf, group, len });
        Ok(BasesHandle {
            device: self.info.spec,
            id,
            group,
            len,
        })
    }

    /// Runs an MSM over a resident table: the partial sums' words and the geometry.
    fn msm_words(
        &self,
        bases: &BasesHandle,
        group: Group,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<Option<(Vec<u32>, msm::Geometry)>, DeviceError> {
        let st = self.lock();
        let table = st
            .tables
            .get(&bases.id)
            .filter(|_| bases.device == self.info.spec)
            .ok_or(DeviceError::UnknownBases {
                device: self.info.spec,
                id: bases.id,
            })?;
        if table.group != group {
            return Err(DeviceError::WrongGroup {
                id: bases.id,
                actual: table.group,
                expected: group,
            });
        }
        check_range(start, scalars.len(), table.len)?;
        if scalars.is_empty() {
            return Ok(None);
        }
        let g = msm::Geometry::new(msm::window_bits(scalars.len(), cfg.window_bits));
        let words = scalar_words(scalars);
        let out = msm::partial_sums(&st.rt, group, &table.buf, start, &words, g)
            .map_err(|m| self.backend(m))?;
        Ok(Some((out, g)))
    }

    /// An MSM over a resident table of `group`, its partial sums decoded by `decode`.
    fn msm<P: ark_ec::short_weierstrass::SWCurveConfig>(
        &self,
        bases: &BasesHandle,
        group: Group,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
        decode: fn(&[u32]) -> Option<Vec<ark_ec::short_weierstrass::Projective<P>>>,
    ) -> Result<ark_ec::short_weierstrass::Projective<P>, DeviceError> {
        let Some((words, g)) = self.msm_words(bases, group, start, scalars, cfg)? else {
            return Ok(Default::default());
        };
        let partial = decode(&words).ok_or_else(|| self.unreduced())?;
        Ok(msm::combine(&partial, g))
    }

    fn unreduced(&self) -> DeviceError {
        self.backend("the device returned an unreduced field element".into())
    }
}

impl<R: GpuRuntime, C: Curve> Device<C> for GpuDevice<R, C> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn load_g1(&self, points: Arc<Vec<G1Affine<C>>>) -> Result<BasesHandle, DeviceError> {
        self.load(g1_words::<C>(&points), Group::G1, points.len())
    }

    fn load_g2(&self, points: Arc<Vec<G2Affine<C>>>) -> Result<BasesHandle, DeviceError> {
        self.load(g2_words::<C>(&points), Group::G2, points.len())
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        let mut st = self.lock();
        if bases.device == self.info.spec && st.tables.remove(&bases.id).is_some() {
            return Ok(());
        }
        Err(DeviceError::UnknownBases {
            device: self.info.spec,
            id: bases.id,
        })
    }

    fn msm_g1(
        &self,
        bases: &BasesHandle,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<G1Projective<C>, DeviceError> {
        self.msm(bases, Group::G1, start, scalars, cfg, g1_from_xyzz::<C>)
    }

    fn msm_g2(
        &self,
        bases: &BasesHandle,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<G2Projective<C>, DeviceError> {
        self.msm(bases, Group::G2, start, scalars, cfg, g2_from_xyzz::<C>)
    }

    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError> {
        let Some(n) = vectors.first().map(Vec::len) else {
            return Ok(());
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
        // A transform of length 1 is the identity for every op.
        if n == 1 {
            return Ok(());
        }
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
