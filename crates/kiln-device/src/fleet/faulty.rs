//! A fault-injecting device for tests of the scheduler's fallback: it wraps a real device
//! and, on demand, fails operations with an error or returns wrong results (an MSM off by
//! the generator, an NTT with one element changed), the way a broken driver, an
//! out-of-memory launch or a miscompiled kernel would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ark_ec::PrimeGroup;
use ark_ff::One;

use crate::{BasesHandle, Device, DeviceError, DeviceInfo, NttOp};
use kiln_algebra::curve::{Curve, G1Affine, G1Projective, G2Affine, G2Projective};
use kiln_algebra::msm::MsmConfig;

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

    fn load_g1(&self, points: Arc<Vec<G1Affine<C>>>) -> Result<BasesHandle, DeviceError> {
        let mut h = self.inner.load_g1(points)?;
        h.device = self.info.spec;
        Ok(h)
    }

    fn load_g2(&self, points: Arc<Vec<G2Affine<C>>>) -> Result<BasesHandle, DeviceError> {
        let mut h = self.inner.load_g2(points)?;
        h.device = self.info.spec;
        Ok(h)
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        self.releases.fetch_add(1, Ordering::Relaxed);
        let mut h = bases.clone();
        h.device = self.inner.info().spec;
        let freed = self.inner.release(&h);
        match self.fault {
            Fault::Error => Err(self.error()),
            _ => freed,
        }
    }

    fn msm_g1(
        &self,
        bases: &BasesHandle,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<G1Projective<C>, DeviceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut h = bases.clone();
        h.device = self.inner.info().spec;
        match self.fault {
            Fault::None => self.inner.msm_g1(&h, start, scalars, cfg),
            Fault::Error => Err(self.error()),
            Fault::WrongResult => {
                Ok(self.inner.msm_g1(&h, start, scalars, cfg)? + G1Projective::<C>::generator())
            }
        }
    }

    fn msm_g2(
        &self,
        bases: &BasesHandle,
        start: usize,
        scalars: &[C::Fr],
        cfg: &MsmConfig,
    ) -> Result<G2Projective<C>, DeviceError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut h = bases.clone();
        h.device = self.inner.info().spec;
        match self.fault {
            Fault::None => self.inner.msm_g2(&h, start, scalars, cfg),
            Fault::Error => Err(self.error()),
            Fault::WrongResult => {
                Ok(self.inner.msm_g2(&h, start, scalars, cfg)? + G2Projective::<C>::generator())
            }
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
}
