//! The CUDA backend (cargo feature `cuda`): cudarc with the driver and NVRTC loaded at run
//! time, so one binary runs on machines with and without CUDA. The kernels are the same
//! sources as OpenCL's (`kernels/`): PTX built by nvcc at build time when the build machine
//! has it (`build.rs`, `KILN_NVCC`), else compiled by NVRTC for the device at start-up.
//! Point tables stay resident per proving key; launches go to the device's default stream.

mod runtime;

use cudarc::driver::{sys, CudaContext};

use self::runtime::Runtime;
use super::gpu::GpuDevice;
use super::{DeviceError, DeviceInfo, DeviceKind, DeviceSpec};
use kiln_algebra::curve::Curve;

/// A CUDA device running kiln's kernels.
pub type CudaDevice<C> = GpuDevice<Runtime, C>;

/// Whether the CUDA driver library can be loaded, and why not.
fn driver_present() -> Result<(), String> {
    // SAFETY: only tries to dlopen libcuda; no CUDA call is made if it is missing.
    if unsafe { sys::is_culib_present() } {
        Ok(())
    } else {
        Err("no CUDA driver: libcuda.so could not be loaded (install the NVIDIA driver)".into())
    }
}

/// The CUDA driver's version (`CUDA driver 12.4`), if the driver says.
fn driver_version() -> Option<String> {
    let mut v: std::ffi::c_int = 0;
    // SAFETY: called only once the driver library is loaded (`driver_present`); writes one
    // int.
    unsafe { sys::cuDriverGetVersion(&mut v) }.result().ok()?;
    Some(version_text(v))
}

/// A version number as the driver encodes it (1000 × major + 10 × minor) as text.
fn version_text(v: std::ffi::c_int) -> String {
    format!("CUDA driver {}.{}", v / 1000, (v % 1000) / 10)
}

/// Every CUDA device, or why there are none.
pub fn probe() -> Result<Vec<DeviceInfo>, String> {
    driver_present()?;
    let count = CudaContext::device_count().map_err(|e| format!("CUDA driver error: {e}"))?;
    if count <= 0 {
        return Err("no CUDA device: the driver lists none".into());
    }
    let driver = driver_version();
    let mut out = Vec::new();
    for index in 0..count as usize {
        let ctx = CudaContext::new(index).map_err(|e| format!("cuda:{index}: {e}"))?;
        let sms = ctx
            .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .unwrap_or(1);
        out.push(DeviceInfo {
            spec: DeviceSpec {
                kind: DeviceKind::Cuda,
                index,
            },
            name: ctx.name().unwrap_or_else(|_| "CUDA device".into()),
            memory_bytes: ctx.total_mem().ok().map(|m| m as u64),
            compute_units: sms.max(1) as usize,
            host_cpu: false,
            driver: driver.clone(),
            emulated: false,
        });
    }
    Ok(out)
}

/// Opens `cuda:index`: a context, its default stream, and the kernels loaded.
pub fn open<C: Curve>(index: usize) -> Result<CudaDevice<C>, DeviceError> {
    let spec = DeviceSpec {
        kind: DeviceKind::Cuda,
        index,
    };
    let unavailable = |reason: String| DeviceError::Unavailable { spec, reason };
    let found = probe().map_err(unavailable)?;
    let count = found.len();
    let Some(info) = found.into_iter().nth(index) else {
        return Err(unavailable(format!("there are {count} CUDA devices")));
    };
    let rt = Runtime::new(index).map_err(|message| DeviceError::Backend { spec, message })?;
    GpuDevice::new(info, rt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;
    use kiln_algebra::curve::Bn254;

    #[test]
    fn driver_versions_read_as_major_and_minor() {
        assert_eq!(version_text(12040), "CUDA driver 12.4");
        assert_eq!(version_text(13000), "CUDA driver 13.0");
    }

    #[test]
    fn kernels_match_the_cpu_backend_on_a_cuda_device() {
        match open::<Bn254>(0) {
            Ok(dev) => conformance::check_device(&dev),
            Err(e @ DeviceError::Unavailable { .. }) => {
                eprintln!("skipped: no CUDA device to test on ({e})");
            }
            Err(e) => panic!("opening cuda:0: {e}"),
        }
    }
}
