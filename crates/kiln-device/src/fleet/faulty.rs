//! A fault-injecting device for tests of the scheduler's fallback: it wraps a real device
//! and, on demand, fails operations with an error or returns wrong results (an MSM off by
//! the generator, an NTT with one element changed), the way a broken driver, an
//! out-of-memory launch or a miscompiled kernel would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ark_ec::PrimeGroup;
use ark_ff::One;

use crate::{
    BasesHandle, Device, DeviceError, DeviceInfo, DeviceUsage, MsmJob, MsmSum, NttOp, Points,
};
use kiln_algebra::curve::{Curve, G1Projective, G2Projective};

/// What the device does wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// None: a healthy second device (for placement and splitting tests).
    None,
    /// Every MSM, NTT and table release fails with a backend error.
    Error,
    /// Every MSM and NTT returns a wrong result without complaint.
    WrongResult,
}

/// A device that misbehaves per [`Fault`] on its operations (loading tables works).
pub struct FaultyDevice<C: Curve> {
    inner: Arc<dyn Device<C>>,
    info: DeviceInfo,
    fault: Fault,
    /// Operations attempted (for tests to see whether work reached the device).
    calls: AtomicUsize,
    /// Table releases attempted.
    releases: AtomicUsize,
}

impl<C: Curve> FaultyDevice<C> {
    /// Wraps `inner`, presenting it as `info` and misbehaving per `fault`.
    pub fn new(inner: Arc<dyn Device<C>>, info: DeviceInfo, fault: Fault) -> Self {
        Self {
            inner,
            info,
            fault,
            calls: AtomicUsize::new(0),
            releases: AtomicUsize::new(0),
        }
    }

    /// How many table releases were attempted on this device.
    pub fn releases(&self) -> usize {
        self.releases.load(Ordering::Relaxed)
    }

    /// How many MSMs and NTTs were attempted on this device.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// `bases` as the wrapped device knows it.
    fn inner_handle(&self, bases: &BasesHandle) -> BasesHandle {
        BasesHandle {
            device: self.inner.info().spec,
            ..bases.clone()
        }
    }

    fn error(&self) -> DeviceError {
        DeviceError::Backend {
            spec: self.info.spec,
            message: "injected fault".into(),
        }
    }
}

impl<C: Curve> Device<C> for FaultyDevice<C> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn load(&self, points: Points<C>) -> Result<BasesHandle, DeviceError> {
        let mut h = self.inner.load(points)?;
        h.device = self.info.spec;
        Ok(h)
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        self.releases.fetch_add(1, Ordering::Relaxed);
        let freed = self.inner.release(&self.inner_handle(bases));
        match self.fault {
            Fault::Error => Err(self.error()),
            _ => freed,
        }
    }

    fn msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let bases = self.inner_handle(job.bases);
        let job = MsmJob {
            bases: &bases,
            ..*job
        };
        match self.fault {
            Fault::None => self.inner.msm(&job),
            Fault::Error => Err(self.error()),
            Fault::WrongResult => Ok(match self.inner.msm(&job)? {
                MsmSum::G1(p) => MsmSum::G1(p + G1Projective::<C>::generator()),
                MsmSum::G2(p) => MsmSum::G2(p + G2Projective::<C>::generator()),
            }),
        }
    }

    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match self.fault {
            Fault::None => self.inner.ntt(vectors, op),
            Fault::Error => Err(self.error()),
            Fault::WrongResult => {
                self.inner.ntt(vectors, op)?;
                if let Some(x) = vectors.first_mut().and_then(|v| v.first_mut()) {
                    *x += C::Fr::one();
                }
                Ok(())
            }
        }
    }

    /// The wrapped device's usage, its own entries presented as this device.
    fn usage(&self) -> Vec<DeviceUsage> {
        let inner = self.inner.info().spec;
        let mut usage = self.inner.usage();
        for u in usage.iter_mut().filter(|u| u.spec == inner) {
            u.spec = self.info.spec;
        }
        usage
    }
}
