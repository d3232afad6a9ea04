//! One OpenCL device's context, in-order queue and built program, with small helpers for
//! buffers and launches. Not thread-safe by itself: the device wraps it in a mutex.
//!
//! The queue profiles its commands: each launch keeps its event until the next blocking
//! read (which waits for everything queued before it), where the events' start and end
//! times are summed into the kernel time and the events dropped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ptr;
use std::time::Duration;

use opencl3::command_queue::{CommandQueue, CL_QUEUE_PROFILING_ENABLE};
use opencl3::context::Context;
use opencl3::device::Device as ClDevice;
use opencl3::event::Event;
use opencl3::kernel::{ExecuteKernel, Kernel};
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE};
use opencl3::program::Program;
use opencl3::types::{cl_device_id, CL_BLOCKING};

use crate::gpu::kernel_source::kernel_source;
use crate::gpu::{Arg, GpuResult, GpuRuntime, KernelTime, KernelTimer, KERNELS};

/// Work items per group along the first grid dimension.
const GROUP_SIZE: usize = 64;

/// Context, queue and kernels of one OpenCL device.
pub struct Runtime {
    context: Context,
    queue: CommandQueue,
    kernels: HashMap<&'static str, Kernel>,
    /// The profiling events of the launches not yet timed.
    timer: RefCell<KernelTimer<Event>>,
}

/// The execution time of the launch behind `event` (waiting for it to finish).
fn kernel_time(event: &Event) -> Result<Duration, String> {
    let failed = |what: &str, e: opencl3::error_codes::ClError| format!("{what}: {e}");
    event
        .wait()
        .map_err(|e| failed("waiting for a launch", e))?;
    let start = event
        .profiling_command_start()
        .map_err(|e| failed("reading a launch's start time", e))?;
    let end = event
        .profiling_command_end()
        .map_err(|e| failed("reading a launch's end time", e))?;
    Ok(Duration::from_nanos(end.saturating_sub(start)))
}

impl Runtime {
    /// Creates a context and queue on `id` and builds the kernels (seconds on PoCL; done
    /// once per device when it is opened).
    pub(super) fn new(id: cl_device_id) -> GpuResult<Self> {
        let device = ClDevice::new(id);
        let context =
            Context::from_device(&device).map_err(|e| format!("creating a context: {e}"))?;
        // A queue that cannot profile (every device should) still runs the kernels, untimed.
        let (queue, no_timer) = match CommandQueue::create_default_with_properties(
            &context,
            CL_QUEUE_PROFILING_ENABLE,
            0,
        ) {
            Ok(q) => (q, None),
            Err(e) => {
                let why = format!("the device cannot profile its command queue ({e})");
                tracing::debug!(target: crate::TARGET, why, "kernels run untimed");
                let q = CommandQueue::create_default_with_properties(&context, 0, 0)
                    .map_err(|e| format!("creating a command queue: {e}"))?;
                (q, Some(why))
            }
        };
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
            timer: RefCell::new(KernelTimer::new(no_timer)),
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
        // The queue is in order: every launch queued before the read has finished.
        self.timer.borrow_mut().resolve(kernel_time);
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
        let event = unsafe { exec.enqueue_nd_range(&self.queue) }
            .map_err(|e| format!("launching {name}: {e}"))?;
        self.timer.borrow_mut().launched(Ok(event));
        Ok(())
    }

    /// The launches since the last call and their time by the profiling events.
    fn take_kernel_time(&self) -> GpuResult<KernelTime> {
        self.timer.borrow_mut().take(kernel_time)
    }
}
