//! One OpenCL device's context, in-order queue and built program, with small helpers for
//! buffers and launches. Not thread-safe by itself: the device wraps it in a mutex.

use std::collections::HashMap;
use std::ptr;

use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::Device as ClDevice;
use opencl3::kernel::{ExecuteKernel, Kernel};
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE};
use opencl3::program::Program;
use opencl3::types::{cl_device_id, CL_BLOCKING};

use crate::gpu::kernel_source::kernel_source;
use crate::gpu::{Arg, GpuResult, GpuRuntime, KERNELS};

/// Work items per group along the first grid dimension.
const GROUP_SIZE: usize = 64;

/// Context, queue and kernels of one OpenCL device.
pub struct Runtime {
    context: Context,
    queue: CommandQueue,
    kernels: HashMap<&'static str, Kernel>,
}

impl Runtime {
    /// Creates a context and queue on `id` and builds the kernels (seconds on PoCL; done
    /// once per device when it is opened).
    pub(super) fn new(id: cl_device_id) -> GpuResult<Self> {
        let device = ClDevice::new(id);
        let context =
            Context::from_device(&device).map_err(|e| format!("creating a context: {e}"))?;
        let queue = CommandQueue::create_default_with_properties(&context, 0, 0)
            .map_err(|e| format!("creating a command queue: {e}"))?;
        let program = Program::create_and_build_from_source(&context, &kernel_source(), "")
            .map_err(|log| format!("building the kernels failed:\n{log}"))?;
        let mut kernels = HashMap::new();
        for name in KERNELS {
            let k = Kernel::create(&program, name)
                .map_err(|e| format!("creating kernel {name}: {e}"))?;
            kernels.insert(name, k);
        }
        Ok(Self {
            context,
            queue,
            kernels,
        })
    }

    /// Copies `data` to the start of `buf` (blocking).
    fn write(&self, buf: &mut Buffer<u32>, data: &[u32]) -> GpuResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: the write is blocking, so `data` outlives the transfer; the buffer was
        // allocated with at least `data.len()` words by the callers.
        unsafe {
            self.queue
                .enqueue_write_buffer(buf, CL_BLOCKING, 0, data, &[])
        }
        .map(drop)
        .map_err(|e| format!("writing {} bytes: {e}", data.len() * 4))
    }
}

impl GpuRuntime for Runtime {
    type Buffer = Buffer<u32>;

    /// An uninitialized buffer of `words` 32-bit words (at least one: OpenCL refuses empty
    /// buffers).
    fn buffer(&self, words: usize) -> GpuResult<Buffer<u32>> {
        // SAFETY: no host pointer is passed; the buffer is written before it is read.
        unsafe {
            Buffer::<u32>::create(
                &self.context,
                CL_MEM_READ_WRITE,
                words.max(1),
                ptr::null_mut(),
            )
        }
        .map_err(|e| format!("allocating {} bytes: {e}", words * 4))
    }

    /// A buffer holding `data`.
    fn upload(&self, data: &[u32]) -> GpuResult<Buffer<u32>> {
        let mut buf = self.buffer(data.len())?;
        self.write(&mut buf, data)?;
        Ok(buf)
    }

    /// The first `words` words of `buf` (blocking; waits for every queued launch).
    fn read(&self, buf: &Buffer<u32>, words: usize) -> GpuResult<Vec<u32>> {
        let mut out = vec![0u32; words];
        if words == 0 {
            return Ok(out);
        }
        // SAFETY: the read is blocking, into a host vector of exactly `words` words.
        unsafe {
            self.queue
                .enqueue_read_buffer(buf, CL_BLOCKING, 0, &mut out, &[])
        }
        .map_err(|e| format!("reading {} bytes: {e}", words * 4))?;
        Ok(out)
    }

    /// Queues `name` over a `global[0] × global[1]` grid (nothing if either is zero).
    fn launch(
        &self,
        name: &str,
        args: &[Arg<'_, Buffer<u32>>],
        global: [usize; 2],
    ) -> GpuResult<()> {
        if global[0] == 0 || global[1] == 0 {
            return Ok(());
        }
        let kernel = self
            .kernels
            .get(name)
            .ok_or_else(|| format!("no kernel named {name}"))?;
        let mut exec = ExecuteKernel::new(kernel);
        for arg in args {
            // SAFETY: the argument types match the kernel's signature in kernels/*.h
            // (buffers of uint and uint scalars), in order.
            unsafe {
                match arg {
                    Arg::Buf(b) => exec.set_arg(*b),
                    Arg::U32(v) => exec.set_arg(v),
                };
            }
        }
        // An explicit work-group size: drivers that pick their own may choose thousands of
        // work items per group, which PoCL runs on one thread's stack. The kernels ignore
        // work items past their range, so the grid is rounded up to whole groups.
        let local = [GROUP_SIZE, 1];
        exec.set_global_work_sizes(&[global[0].next_multiple_of(GROUP_SIZE), global[1]]);
        exec.set_local_work_sizes(&local);
        // SAFETY: every buffer argument outlives the launch: callers read a result
        // (blocking) or call `finish` before dropping their buffers.
        unsafe { exec.enqueue_nd_range(&self.queue) }
            .map(drop)
            .map_err(|e| format!("launching {name}: {e}"))
    }
}
