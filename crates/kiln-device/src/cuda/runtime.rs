//! One CUDA device's context, default stream and loaded kernels.
//!
//! Each launch is timed by a pair of events recorded on the stream around it; the pairs
//! are resolved (their elapsed times summed, the events dropped) at the next blocking read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cudarc::driver::{
    sys, CudaContext, CudaEvent, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};

use crate::gpu::kernel_source::kernel_source;
use crate::gpu::{Arg, GpuResult, GpuRuntime, KernelTime, KernelTimer, KERNELS};

/// Threads per block along the first grid dimension.
const BLOCK: usize = 64;

/// PTX that nvcc built with the binary (see `build.rs`), if it did.
#[cfg(kiln_prebuilt_ptx)]
fn prebuilt_ptx() -> Option<&'static str> {
    Some(include_str!(concat!(env!("OUT_DIR"), "/kiln.ptx")))
}

#[cfg(not(kiln_prebuilt_ptx))]
fn prebuilt_ptx() -> Option<&'static str> {
    None
}

/// Context, stream and kernels of one CUDA device.
pub struct Runtime {
    stream: Arc<CudaStream>,
    kernels: HashMap<&'static str, CudaFunction>,
    /// The (start, end) events of the launches not yet timed.
    timer: RefCell<KernelTimer<(CudaEvent, CudaEvent)>>,
}

/// The time between a launch's start and end events (waiting for the end).
fn kernel_time((start, end): &(CudaEvent, CudaEvent)) -> Result<Duration, String> {
    let ms = start
        .elapsed_ms(end)
        .map_err(|e| format!("reading a launch's timing events: {e}"))?;
    Ok(Duration::from_secs_f64(f64::from(ms.max(0.0)) / 1e3))
}

impl Runtime {
    /// Creates a context on device `index` and loads the kernels: nvcc's PTX if the build
    /// had it, else NVRTC's for this device's compute capability.
    pub(super) fn new(index: usize) -> GpuResult<Self> {
        let ctx = CudaContext::new(index).map_err(|e| format!("creating a context: {e}"))?;
        let ptx = match prebuilt_ptx() {
            Some(text) => Ptx::from_src(text),
            None => {
                let cc = |a| ctx.attribute(a).unwrap_or(0);
                let major =
                    cc(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
                let minor =
                    cc(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
                let opts = CompileOptions {
                    options: vec![format!("--gpu-architecture=compute_{major}{minor}")],
                    ..Default::default()
                };
                compile_ptx_with_opts(kernel_source(), opts)
                    .map_err(|e| format!("NVRTC could not compile the kernels: {e}"))?
            }
        };
        let module = ctx
            .load_module(ptx)
            .map_err(|e| format!("loading the kernels' PTX: {e}"))?;
        let mut kernels = HashMap::new();
        for name in KERNELS {
            let f = module
                .load_function(name)
                .map_err(|e| format!("loading kernel {name}: {e}"))?;
            kernels.insert(name, f);
        }
        Ok(Self {
            stream: ctx.default_stream(),
            kernels,
            timer: RefCell::new(KernelTimer::new(None)),
        })
    }

    /// An event with timing recorded on the stream now.
    fn timing_event(&self) -> Result<CudaEvent, String> {
        self.stream
            .record_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT))
            .map_err(|e| format!("recording a timing event: {e}"))
    }
}

impl GpuRuntime for Runtime {
    type Buffer = CudaSlice<u32>;

    fn buffer(&self, words: usize) -> GpuResult<CudaSlice<u32>> {
        // Zeroed rather than uninitialized: the cost is one memset, the benefit no unsafe.
        self.stream
            .alloc_zeros::<u32>(words.max(1))
            .map_err(|e| format!("allocating {} bytes: {e}", words * 4))
    }

    fn upload(&self, data: &[u32]) -> GpuResult<CudaSlice<u32>> {
        if data.is_empty() {
            return self.buffer(1);
        }
        self.stream
            .clone_htod(data)
            .map_err(|e| format!("copying {} bytes to the device: {e}", data.len() * 4))
    }

    fn read(&self, buf: &CudaSlice<u32>, words: usize) -> GpuResult<Vec<u32>> {
        let mut all = self
            .stream
            .clone_dtoh(buf)
            .map_err(|e| format!("copying {} bytes from the device: {e}", words * 4))?;
        all.truncate(words);
        // The copy to host memory waited for the launches queued before it (and
        // `elapsed_ms` waits for the events in any case).
        self.timer.borrow_mut().resolve(kernel_time);
        Ok(all)
    }

    fn launch(
        &self,
        name: &str,
        args: &[Arg<'_, CudaSlice<u32>>],
        global: [usize; 2],
    ) -> GpuResult<()> {
        if global[0] == 0 || global[1] == 0 {
            return Ok(());
        }
        let f = self
            .kernels
            .get(name)
            .ok_or_else(|| format!("no kernel named {name}"))?;
        let mut builder = self.stream.launch_builder(f);
        for arg in args {
            match arg {
                Arg::Buf(b) => builder.arg(*b),
                Arg::U32(v) => builder.arg(v),
            };
        }
        let cfg = LaunchConfig {
            grid_dim: (global[0].div_ceil(BLOCK) as u32, global[1] as u32, 1),
            block_dim: (BLOCK as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        // A timing event that cannot be recorded leaves the launch untimed, not failed.
        let start = self.timing_event();
        // SAFETY: the argument list matches the kernel's signature in kernels/*.h (buffers
        // of uint and uint scalars, in order), and the kernels bound every index by the
        // sizes passed, so threads past the range of the rounded-up grid do nothing.
        unsafe { builder.launch(cfg) }.map_err(|e| format!("launching {name}: {e}"))?;
        let timer = start.and_then(|s| Ok((s, self.timing_event()?)));
        self.timer.borrow_mut().launched(timer);
        Ok(())
    }

    /// The launches since the last call and their time by the events around them.
    fn take_kernel_time(&self) -> GpuResult<KernelTime> {
        self.timer.borrow_mut().take(kernel_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NVRTC (the run-time path used when the build had no nvcc) compiles the kernels for
    /// sm_80 and sm_90 and the PTX has every kernel. Needs only libnvrtc, not a GPU.
    #[test]
    fn nvrtc_compiles_the_kernels() {
        // SAFETY: only tries to dlopen libnvrtc.
        if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
            assert!(
                std::env::var_os("KILN_REQUIRE_NVCC").is_none(),
                "KILN_REQUIRE_NVCC is set but libnvrtc cannot be loaded (LD_LIBRARY_PATH?)"
            );
            eprintln!("skipped: libnvrtc not found (bash .ci/run installs it into .ci/py)");
            return;
        }
        for arch in ["compute_80", "compute_90"] {
            let opts = CompileOptions {
                options: vec![format!("--gpu-architecture={arch}")],
                ..Default::default()
            };
            let ptx = compile_ptx_with_opts(kernel_source(), opts)
                .unwrap_or_else(|e| panic!("NVRTC failed for {arch}: {e}"));
            let text = ptx.to_src();
            for name in KERNELS {
                assert!(
                    text.contains(&format!(".entry {name}(")),
                    "{arch}: no kernel {name}"
                );
            }
        }
    }
}
