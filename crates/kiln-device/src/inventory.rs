//! What devices this machine has, why any backend is absent, and opening one by spec.

use std::sync::Arc;

use super::{CpuDevice, Device, DeviceError, DeviceInfo, DeviceKind, DeviceSpec};
use kiln_algebra::curve::Curve;

/// Whether a backend's devices can be used.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum DeviceStatus {
    /// The device is present and usable.
    Ready {
        /// What it is.
        info: DeviceInfo,
    },
    /// The backend has no usable device, and why.
    Absent {
        /// The backend.
        kind: DeviceKind,
        /// Why: feature not built, no driver, no ICD, no card.
        reason: String,
    },
}

/// One line of the device inventory.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceReport {
    /// The device or backend's state.
    #[serde(flatten)]
    pub status: DeviceStatus,
}

/// The reason a backend compiled out of this build is absent.
fn not_built(kind: DeviceKind) -> String {
    format!(
        "backend not built: rebuild kiln with `--features {}`",
        kind.as_str()
    )
}

/// Lists every device found and, for each backend with none, why.
pub fn probe_devices<C: Curve>() -> Vec<DeviceReport> {
    let cpu = CpuDevice::<C>::new();
    let mut out = vec![DeviceReport {
        status: DeviceStatus::Ready {
            info: cpu.info().clone(),
        },
    }];
    #[cfg(feature = "opencl")]
    match super::opencl::probe() {
        Ok(found) => out.extend(found.into_iter().map(|f| DeviceReport {
            status: DeviceStatus::Ready { info: f.info },
        })),
        Err(reason) => out.push(DeviceReport {
            status: DeviceStatus::Absent {
                kind: DeviceKind::Opencl,
                reason,
            },
        }),
    }
    #[cfg(not(feature = "opencl"))]
    out.push(DeviceReport {
        status: DeviceStatus::Absent {
            kind: DeviceKind::Opencl,
            reason: not_built(DeviceKind::Opencl),
        },
    });
    #[cfg(feature = "cuda")]
    match super::cuda::probe() {
        Ok(found) => out.extend(found.into_iter().map(|info| DeviceReport {
            status: DeviceStatus::Ready { info },
        })),
        Err(reason) => out.push(DeviceReport {
            status: DeviceStatus::Absent {
                kind: DeviceKind::Cuda,
                reason,
            },
        }),
    }
    #[cfg(not(feature = "cuda"))]
    out.push(DeviceReport {
        status: DeviceStatus::Absent {
            kind: DeviceKind::Cuda,
            reason: not_built(DeviceKind::Cuda),
        },
    });
    #[cfg(feature = "fpga")]
    match super::fpga::probe() {
        Ok(found) => out.extend(found.into_iter().map(|info| DeviceReport {
            status: DeviceStatus::Ready { info },
        })),
        Err(reason) => out.push(DeviceReport {
            status: DeviceStatus::Absent {
                kind: DeviceKind::Fpga,
                reason,
            },
        }),
    }
    #[cfg(not(feature = "fpga"))]
    out.push(DeviceReport {
        status: DeviceStatus::Absent {
            kind: DeviceKind::Fpga,
            reason: not_built(DeviceKind::Fpga),
        },
    });
    out
}

/// Opens the device named by `spec`.
pub fn open_device<C: Curve>(spec: DeviceSpec) -> Result<Arc<dyn Device<C>>, DeviceError> {
    match spec.kind {
        DeviceKind::Cpu if spec.index == 0 => Ok(Arc::new(CpuDevice::<C>::new())),
        DeviceKind::Cpu => Err(DeviceError::Unavailable {
            spec,
            reason: "there is one CPU device, cpu:0".into(),
        }),
        #[cfg(feature = "opencl")]
        DeviceKind::Opencl => Ok(Arc::new(super::opencl::open::<C>(spec.index)?)),
        #[cfg(feature = "cuda")]
        DeviceKind::Cuda => Ok(Arc::new(super::cuda::open::<C>(spec.index)?)),
        #[cfg(feature = "fpga")]
        DeviceKind::Fpga => Ok(Arc::new(super::fpga::open::<C>(spec.index)?)),
        // Reached only by the backends this build leaves out.
        #[allow(unreachable_patterns)]
        kind => Err(DeviceError::Unavailable {
            spec,
            reason: not_built(kind),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_algebra::curve::Bn254;

    #[test]
    fn the_cpu_is_always_listed_and_absent_backends_say_why() {
        let r = probe_devices::<Bn254>();
        assert!(matches!(r[0].status, DeviceStatus::Ready { .. }));
        // Every backend is either listed with its devices or absent with a reason.
        for kind in [DeviceKind::Opencl, DeviceKind::Cuda, DeviceKind::Fpga] {
            let ready = r.iter().any(
                |d| matches!(&d.status, DeviceStatus::Ready { info } if info.spec.kind == kind),
            );
            let absent = r.iter().any(|d| {
                matches!(&d.status, DeviceStatus::Absent { kind: k, reason } if *k == kind && !reason.is_empty())
            });
            assert!(ready != absent, "{kind:?}: {r:?}");
        }
        #[cfg(not(feature = "cuda"))]
        assert!(r.iter().any(|d| matches!(&d.status,
            DeviceStatus::Absent { kind: DeviceKind::Cuda, reason } if reason.contains("--features cuda"))));
        assert!(open_device::<Bn254>("cpu".parse().unwrap()).is_ok());
        let err = open_device::<Bn254>("fpga:9".parse().unwrap())
            .err()
            .unwrap();
        assert!(err.to_string().contains("not available"), "{err}");
        // With the backend built, the emulated card is listed and says so.
        #[cfg(feature = "fpga")]
        assert!(r.iter().any(|d| matches!(&d.status,
            DeviceStatus::Ready { info } if info.spec.kind == DeviceKind::Fpga && info.name.contains("emulated"))));
    }
}
