//! Opening what a `--device` argument names, for `kiln prove` and `kiln serve` alike:
//!
//! - `auto`: the CPU together with every accelerator present (GPUs, FPGA cards); OpenCL
//!   drivers that run on the host's own cores (such as PoCL) are left out, since they would
//!   compete with the CPU backend instead of adding to it;
//! - one spec (`cpu`, `opencl:0`, `cuda:1`, ...): that device alone;
//! - a comma-separated list (`cpu,opencl:0`): a [`Fleet`] of the CPU and the listed
//!   accelerators (`cpu` in the list is implied either way).
//!
//! With accelerators the device is a fleet, which learns each member's throughput into the
//! given [`Calibration`].

use std::sync::Arc;

use kiln_algebra::curve::Curve;

use crate::fleet::{Calibration, Fleet};
use crate::inventory::{open_device, probe_devices, DeviceStatus};
use crate::{CpuDevice, Device, DeviceError, DeviceKind, DeviceSpec};

/// The devices a `--device` argument opened.
pub struct OpenedDevices<C: Curve> {
    /// The device proofs run on: one device, or the fleet.
    pub device: Arc<dyn Device<C>>,
    /// The same fleet, when there is one (for its members' state and counters).
    pub fleet: Option<Arc<Fleet<C>>>,
}

/// Checks that every spec of a `--device` list parses (`auto` included), without opening
/// anything, so a typo fails before any file is read.
pub fn check_device_list(list: &str) -> Result<(), DeviceError> {
    if list.trim() == "auto" {
        return Ok(());
    }
    list.split(',')
        .try_for_each(|s| s.trim().parse::<DeviceSpec>().map(drop))
}

/// Opens what `list` names (see the module docs). The CPU backend keeps precomputed MSM
/// tables up to `precompute_bytes` per table.
pub fn open_devices<C: Curve>(
    list: &str,
    precompute_bytes: usize,
    calibration: Calibration,
) -> Result<OpenedDevices<C>, DeviceError> {
    let cpu = || -> Arc<dyn Device<C>> {
        Arc::new(CpuDevice::<C>::new().with_precompute_budget(precompute_bytes))
    };
    let list = list.trim();
    let accelerators = if list == "auto" {
        auto_accelerators::<C>()
    } else {
        let specs: Vec<DeviceSpec> = list
            .split(',')
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()?;
        if let [one] = specs.as_slice() {
            let device = match one.kind {
                DeviceKind::Cpu if one.index == 0 => cpu(),
                _ => open_device::<C>(*one)?,
            };
            return Ok(OpenedDevices {
                device,
                fleet: None,
            });
        }
        specs
            .into_iter()
            .filter(|s| s.kind != DeviceKind::Cpu)
            .map(open_device::<C>)
            .collect::<Result<Vec<_>, _>>()?
    };
    if accelerators.is_empty() {
        return Ok(OpenedDevices {
            device: cpu(),
            fleet: None,
        });
    }
    let fleet = Arc::new(Fleet::with_cpu(cpu(), accelerators, calibration));
    Ok(OpenedDevices {
        device: fleet.clone(),
        fleet: Some(fleet),
    })
}

/// Every accelerator present that adds compute (not an OpenCL driver on the host's cores),
/// opened; one that fails to open is logged and left out.
fn auto_accelerators<C: Curve>() -> Vec<Arc<dyn Device<C>>> {
    let mut out = Vec::new();
    for report in probe_devices::<C>() {
        let DeviceStatus::Ready { info } = report.status else {
            continue;
        };
        if info.spec.kind == DeviceKind::Cpu || info.host_cpu {
            continue;
        }
        match open_device::<C>(info.spec) {
            Ok(d) => {
                tracing::info!(target: crate::TARGET, device = %info.spec, name = %info.name, "accelerator in use");
                out.push(d);
            }
            Err(e) => {
                tracing::warn!(target: crate::TARGET, device = %info.spec, error = %e, "accelerator present but cannot be opened; proving without it")
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_algebra::curve::Bn254;

    #[test]
    fn lists_open_one_device_or_a_fleet() {
        let one = open_devices::<Bn254>("cpu", 0, Calibration::in_memory()).unwrap();
        assert!(one.fleet.is_none());
        assert_eq!(one.device.info().spec.to_string(), "cpu:0");
        // The CPU alone, or a fleet led by it where accelerators are present (PoCL, a
        // host-CPU driver, is never one).
        let auto = open_devices::<Bn254>(" auto ", 0, Calibration::in_memory()).unwrap();
        assert_eq!(auto.device.info().spec.to_string(), "cpu:0");
        assert_eq!(
            auto.fleet.is_some(),
            auto.device.info().name.starts_with("fleet")
        );
        assert!(check_device_list("cpu, opencl:1").is_ok());
        assert!(check_device_list("auto").is_ok());
        for bad in ["gpu", "cpu,cuda:x", ""] {
            assert!(matches!(
                check_device_list(bad),
                Err(DeviceError::BadSpec { .. })
            ));
            assert!(open_devices::<Bn254>(bad, 0, Calibration::in_memory()).is_err());
        }
        assert!(matches!(
            open_devices::<Bn254>("cpu:1", 0, Calibration::in_memory()),
            Err(DeviceError::Unavailable { .. })
        ));
    }
}
