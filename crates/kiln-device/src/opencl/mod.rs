//! The OpenCL backend (cargo feature `opencl`): the kernels in `kernels/` built at device
//! open and kept for the device's life, through the shared [`GpuDevice`].
//!
//! Devices are numbered across all platforms in the order the ICD loader lists them;
//! `opencl:0` on a machine with only PoCL is the CPU running the kernels, which is how the
//! kernels are tested without a GPU. The library is loaded at run time, so a build with
//! this feature still runs (and lists why) where no OpenCL driver is installed.

mod runtime;

use opencl3::device::{Device as ClDevice, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_CPU};
use opencl3::platform::get_platforms;
use opencl3::types::cl_device_id;

use self::runtime::Runtime;
use super::gpu::GpuDevice;
use super::{DeviceError, DeviceInfo, DeviceKind, DeviceSpec};
use kiln_algebra::curve::Curve;

/// An OpenCL device running kiln's kernels.
pub type OpenClDevice<C> = GpuDevice<Runtime, C>;

/// One OpenCL device found by [`probe`].
pub struct Found {
    /// Its id for the driver.
    id: cl_device_id,
    /// What it is.
    pub info: DeviceInfo,
}

/// Every OpenCL device, or why there are none (no ICD loader, no platform).
pub fn probe() -> Result<Vec<Found>, String> {
    // One probe at a time: PoCL initializes its devices on the first query, and a query
    // from another thread meanwhile finds no device.
    static PROBING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = PROBING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
                host_cpu: d.dev_type().is_ok_and(|t| t & CL_DEVICE_TYPE_CPU != 0),
                driver: driver_name(&pname, d.driver_version().ok()),
                emulated: false,
            };
            out.push(Found { id, info });
        }
    }
    if out.is_empty() {
        return Err("no OpenCL device: the platforms found list no devices".into());
    }
    Ok(out)
}

/// The driver as `kiln devices` shows it: the platform's name and the device's driver
/// version (`Portable Computing Language, driver 5.0`), whichever are known.
fn driver_name(platform: &str, version: Option<String>) -> Option<String> {
    let platform = platform.trim();
    let version = version.as_deref().map(str::trim).filter(|v| !v.is_empty());
    match (platform.is_empty(), version) {
        (false, Some(v)) => Some(format!("{platform}, driver {v}")),
        (true, Some(v)) => Some(format!("OpenCL driver {v}")),
        (false, None) => Some(platform.to_string()),
        (true, None) => None,
    }
}

/// Opens `opencl:index` and builds the kernels on it (seconds on PoCL).
pub fn open<C: Curve>(index: usize) -> Result<OpenClDevice<C>, DeviceError> {
    let spec = DeviceSpec {
        kind: DeviceKind::Opencl,
        index,
    };
    let unavailable = |reason: String| DeviceError::Unavailable { spec, reason };
    let found = probe().map_err(unavailable)?;
    let count = found.len();
    let Some(dev) = found.into_iter().nth(index) else {
        return Err(unavailable(format!("there are {count} OpenCL devices")));
    };
    let rt = Runtime::new(dev.id).map_err(|message| DeviceError::Backend { spec, message })?;
    GpuDevice::new(dev.info, rt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;
    use kiln_algebra::curve::Bn254;

    /// The first OpenCL device, or a printed note saying why the tests are skipped when
    /// the machine has none. A device that exists but fails (e.g. to build the kernels)
    /// fails the test.
    fn first_device() -> Option<OpenClDevice<Bn254>> {
        match open::<Bn254>(0) {
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

    #[test]
    fn usage_reports_the_kernel_time_of_msms_and_ntts() {
        use std::sync::Arc;

        use kiln_algebra::curve::Curve;
        use kiln_algebra::msm::MsmConfig;
        use kiln_algebra::test_inputs::{points, random_scalars};
        use rand::SeedableRng;

        use crate::{CpuDevice, Device, MsmJob, NttOp, UsageClock};

        let Some(dev) = first_device() else { return };
        let info = dev.info().clone();
        assert!(!info.emulated, "{info:?}");
        assert!(
            info.driver.as_deref().is_some_and(|d| !d.is_empty()),
            "an OpenCL device names its driver: {info:?}"
        );
        assert_eq!(dev.usage(), Vec::new(), "nothing ran yet");

        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let bases = Arc::new(points::<<Bn254 as Curve>::G1>(300, &mut rng));
        let scalars: Vec<ark_bn254::Fr> = random_scalars(300, &mut rng);
        let cfg = MsmConfig::default();
        let cpu = CpuDevice::<Bn254>::new();
        let (h, c) = (
            dev.load_g1(bases.clone()).unwrap(),
            cpu.load_g1(bases).unwrap(),
        );
        assert_eq!(
            dev.msm_g1(&MsmJob::new(&h, 0, &scalars, &cfg)).unwrap(),
            cpu.msm_g1(&MsmJob::new(&c, 0, &scalars, &cfg)).unwrap()
        );
        let mut vectors = vec![random_scalars::<ark_bn254::Fr>(1 << 10, &mut rng); 2];
        let mut want = vectors.clone();
        let op = NttOp::DomainToCoset(ark_bn254::Fr::from(7u64));
        dev.ntt(&mut vectors, op).unwrap();
        cpu.ntt(&mut want, op).unwrap();
        assert_eq!(vectors, want);

        let usage = dev.usage();
        let [u] = usage.as_slice() else {
            panic!("one entry expected: {usage:?}");
        };
        assert_eq!((u.spec, u.clock), (info.spec, UsageClock::Kernel));
        // The MSM's five launches; the NTT's inverse transform (bit reversal and ten
        // stages), scaling, and forward transform.
        assert_eq!(u.commands, 5 + 11 + 1 + 11, "{u}");
        // PoCL's timers may be coarse: the kernel time is there and not far above the
        // wall time of the operations that ran the kernels.
        assert!(u.device_time > std::time::Duration::ZERO, "{u}");
        assert!(u.device_time <= u.wall_time * 2, "{u}");
        assert!(
            u.to_string().contains("kernel launches, kernel time"),
            "{u}"
        );
        assert_eq!(dev.usage(), Vec::new(), "the first call drained it");
    }
}
