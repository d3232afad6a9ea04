//! The OpenCL backend (cargo feature `opencl`): the kernels in `kernels/` built at device
//! open and cached for the device's life, point tables resident in device memory per
//! proving key, MSMs (G1 and G2) and batched NTTs on the device.
//!
//! Devices are numbered across all platforms in the order the ICD loader lists them;
//! `opencl:0` on a machine with only PoCL is the CPU running the kernels, which is how the
//! kernels are tested without a GPU. The library is loaded at run time, so a build with
//! this feature still runs (and lists why) where no OpenCL driver is installed.

mod msm;
mod ntt;
mod runtime;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use opencl3::device::{Device as ClDevice, CL_DEVICE_TYPE_ALL};
use opencl3::memory::Buffer;
use opencl3::platform::get_platforms;
use opencl3::types::cl_device_id;

use self::runtime::Runtime;
use super::words::{
    g1_from_xyzz, g1_words, g2_from_xyzz, g2_words, push_fr, read_fr, scalar_words,
};
use super::{
    check_range, BasesHandle, Device, DeviceError, DeviceInfo, DeviceKind, DeviceSpec, Group, NttOp,
};
use crate::curve::{Curve, G1Affine, G1Projective, G2Affine, G2Projective};
use crate::msm::MsmConfig;
use crate::ntt::NttError;

/// One OpenCL device found by [`probe`].
pub struct Found {
    /// Its id for the driver.
    id: cl_device_id,
    /// What it is.
    pub info: DeviceInfo,
}

/// Every OpenCL device, or why there are none (no ICD loader, no platform).
pub fn probe() -> Result<Vec<Found>, String> {
    let platforms = get_platforms().map_err(|e| {
        format!("no OpenCL driver: the ICD loader found no platform ({e}); install a GPU driver or PoCL (Debian: pocl-opencl-icd)")
    })?;
    let mut out = Vec::new();
    for platform in platforms {
        let pname = platform.name().unwrap_or_default();
        let Ok(ids) = platform.get_devices(CL_DEVICE_TYPE_ALL) else {
            continue;
        };
        for id in ids {
            let d = ClDevice::new(id);
            let info = DeviceInfo {
                spec: DeviceSpec {
                    kind: DeviceKind::Opencl,
                    index: out.len(),
                },
                name: format!("{} ({pname})", d.name().unwrap_or_default().trim()),
                memory_bytes: d.global_mem_size().ok(),
                compute_units: d.max_compute_units().unwrap_or(1) as usize,
            };
            out.push(Found { id, info });
        }
    }
    if out.is_empty() {
        return Err("no OpenCL device: the platforms found list no devices".into());
    }
    Ok(out)
}

/// A resident point table.
struct Table {
    buf: Buffer<u32>,
    group: Group,
    len: usize,
}

/// Everything behind the device's lock.
struct State {
    rt: Runtime,
    tables: HashMap<u64, Table>,
    ntt_tables: ntt::Tables,
}

/// An OpenCL device running kiln's kernels.
pub struct OpenClDevice<C: Curve> {
    info: DeviceInfo,
    state: Mutex<State>,
    next_id: AtomicU64,
    _curve: PhantomData<fn() -> C>,
}

impl<C: Curve> OpenClDevice<C> {
    /// Opens `opencl:index` and builds the kernels on it.
    pub fn open(index: usize) -> Result<Self, DeviceError> {
        let spec = DeviceSpec {
            kind: DeviceKind::Opencl,
            index,
        };
        let unavailable = |reason: String| DeviceError::Unavailable { spec, reason };
        if C::SNARKJS_NAME != "bn128" || C::FQ_BYTES != 32 || C::FR_BYTES != 32 {
            return Err(unavailable(format!(
                "the OpenCL kernels are built for BN254, not {}",
                C::SNARKJS_NAME
            )));
        }
        let found = probe().map_err(unavailable)?;
        let count = found.len();
        let Some(dev) = found.into_iter().nth(index) else {
            return Err(unavailable(format!("there are {count} OpenCL devices")));
        };
        let rt = Runtime::new(dev.id).map_err(|message| DeviceError::Backend { spec, message })?;
        Ok(Self {
            info: dev.info,
            state: Mutex::new(State {
                rt,
                tables: HashMap::new(),
                ntt_tables: ntt::Tables::default(),
            }),
            next_id: AtomicU64::new(1),
            _curve: PhantomData,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
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

    /// Runs an MSM over a resident table and returns the partial sums' words and geometry.
    fn msm_words(
        &self,
        bases: &BasesHandle,
        group: Group,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<Option<(Vec<u32>, msm::Geometry)>, DeviceError> {
        let st = self.lock();
        let table = self.table(&st, bases, group)?;
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

    fn table<'s>(
        &self,
        st: &'s State,
        h: &BasesHandle,
        group: Group,
    ) -> Result<&'s Table, DeviceError> {
        let t = st
            .tables
            .get(&h.id)
            .filter(|_| h.device == self.info.spec)
            .ok_or(DeviceError::UnknownBases {
                device: self.info.spec,
                id: h.id,
            })?;
        if t.group != group {
            return Err(DeviceError::WrongGroup {
                id: h.id,
                actual: t.group,
                expected: group,
            });
        }
        Ok(t)
    }
}

impl<C: Curve> Device<C> for OpenClDevice<C> {
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
        match st.tables.remove(&bases.id) {
            Some(_) if bases.device == self.info.spec => Ok(()),
            _ => Err(DeviceError::UnknownBases {
                device: self.info.spec,
                id: bases.id,
            }),
        }
    }

    fn msm_g1(
        &self,
        bases: &BasesHandle,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<G1Projective<C>, DeviceError> {
        let Some((words, g)) = self.msm_words(bases, Group::G1, start, scalars, cfg)? else {
            return Ok(G1Projective::<C>::default());
        };
        let partial = g1_from_xyzz::<C>(&words)
            .ok_or_else(|| self.backend("the device returned an unreduced coordinate".into()))?;
        Ok(msm::combine(&partial, g))
    }

    fn msm_g2(
        &self,
        bases: &BasesHandle,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<G2Projective<C>, DeviceError> {
        let Some((words, g)) = self.msm_words(bases, Group::G2, start, scalars, cfg)? else {
            return Ok(G2Projective::<C>::default());
        };
        let partial = g2_from_xyzz::<C>(&words)
            .ok_or_else(|| self.backend("the device returned an unreduced coordinate".into()))?;
        Ok(msm::combine(&partial, g))
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
        ntt::run::<C>(rt, ntt_tables, &data, n, vectors.len(), op).map_err(|m| self.backend(m))?;
        let out = rt.read(&data, words.len()).map_err(|m| self.backend(m))?;
        drop(st);
        for (v, chunk) in vectors.iter_mut().zip(out.chunks_exact(n * 8)) {
            for (x, w) in v.iter_mut().zip(chunk.chunks_exact(8)) {
                *x = read_fr::<C>(w).ok_or_else(|| {
                    self.backend("the device returned an unreduced field element".into())
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Bn254;
    use crate::device::conformance;

    /// The first OpenCL device, or a printed note saying why the tests are skipped when
    /// the machine has none. A device that exists but fails (e.g. to build the kernels)
    /// fails the test.
    fn first_device() -> Option<OpenClDevice<Bn254>> {
        match OpenClDevice::<Bn254>::open(0) {
            Ok(d) => Some(d),
            Err(e @ DeviceError::Unavailable { .. }) => {
                // CI installs PoCL and sets KILN_REQUIRE_OPENCL: there a skip is a failure.
                assert!(
                    std::env::var_os("KILN_REQUIRE_OPENCL").is_none(),
                    "KILN_REQUIRE_OPENCL is set but {e}"
                );
                eprintln!("skipped: no OpenCL device to test on ({e})");
                None
            }
            Err(e) => panic!("opening opencl:0: {e}"),
        }
    }

    #[test]
    fn kernels_match_the_cpu_backend() {
        let Some(dev) = first_device() else { return };
        conformance::check_device(&dev);
    }
}
