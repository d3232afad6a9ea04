//! The devices the daemon proves on, with what the inventory reports about each: jobs done,
//! faults, busy time.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::curve::Bn254;
use crate::device::{
    probe_devices, CpuDevice, Device, DeviceError, DeviceKind, DeviceSpec, DeviceStatus,
};

/// The device jobs run on, and its counters.
pub struct ProvingDevice {
    /// The device.
    pub device: Arc<dyn Device<Bn254>>,
    /// Its spec, as `cpu:0`.
    pub spec: String,
    jobs_done: AtomicU64,
    faults: AtomicU64,
    busy_ns: AtomicU64,
    active: AtomicUsize,
    started: Instant,
}

/// One line of `GET /v1/devices`.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceEntry {
    /// cpu, opencl, cuda or fpga.
    pub kind: DeviceKind,
    /// `cpu:0`, or the backend name for an absent one.
    pub spec: String,
    /// Model name.
    pub name: Option<String>,
    /// Device memory in bytes, where the device has its own.
    pub memory_bytes: Option<u64>,
    /// Compute units.
    pub compute_units: Option<usize>,
    /// busy (proving now), idle, available (present, not used by this server) or absent.
    pub state: &'static str,
    /// Why an absent backend is absent.
    pub reason: Option<String>,
    /// Proofs completed on it since the server started.
    pub jobs_done: u64,
    /// Device errors since the server started.
    pub faults: u64,
    /// Seconds spent proving since the server started.
    pub busy_seconds: f64,
}

impl ProvingDevice {
    /// Opens the device named by `spec` (`cpu` is the only one in the default build) with a
    /// CPU precompute budget of `precompute_bytes` per table.
    pub fn open(spec: &str, precompute_bytes: usize) -> Result<Self, DeviceError> {
        let parsed: DeviceSpec = spec.parse()?;
        let device: Arc<dyn Device<Bn254>> = match parsed.kind {
            DeviceKind::Cpu if parsed.index == 0 => {
                Arc::new(CpuDevice::<Bn254>::new().with_precompute_budget(precompute_bytes))
            }
            _ => crate::device::open_device::<Bn254>(parsed)?,
        };
        Ok(ProvingDevice {
            spec: device.info().spec.to_string(),
            device,
            jobs_done: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            started: Instant::now(),
        })
    }

    /// Runs `f` as device work, accounting its time; returns its result and duration.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> (T, Duration) {
        self.active.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        let out = f();
        let took = t0.elapsed();
        self.active.fetch_sub(1, Ordering::Relaxed);
        self.busy_ns
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        (out, took)
    }

    /// Counts a completed proof.
    pub fn job_done(&self) {
        self.jobs_done.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a device fault.
    pub fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// Busy time over time since start (can exceed 1 with several workers).
    pub fn busy_ratio(&self) -> f64 {
        let up = self.started.elapsed().as_secs_f64();
        if up <= 0.0 {
            return 0.0;
        }
        self.busy_ns.load(Ordering::Relaxed) as f64 / 1e9 / up
    }

    /// (spec, busy ratio, jobs done, faults) for the metrics.
    pub fn metrics(&self) -> (String, f64, u64, u64) {
        (
            self.spec.clone(),
            self.busy_ratio(),
            self.jobs_done.load(Ordering::Relaxed),
            self.faults.load(Ordering::Relaxed),
        )
    }

    /// The whole inventory: this device with its counters, the others as probed.
    pub fn inventory(&self) -> Vec<DeviceEntry> {
        let mut out = Vec::new();
        for report in probe_devices::<Bn254>() {
            match report.status {
                DeviceStatus::Ready { info } => {
                    let ours = info.spec.to_string() == self.spec;
                    out.push(DeviceEntry {
                        kind: info.spec.kind,
                        spec: info.spec.to_string(),
                        name: Some(info.name.clone()),
                        memory_bytes: info.memory_bytes,
                        compute_units: Some(info.compute_units),
                        state: match (ours, self.active.load(Ordering::Relaxed)) {
                            (false, _) => "available",
                            (true, 0) => "idle",
                            (true, _) => "busy",
                        },
                        reason: None,
                        jobs_done: if ours {
                            self.jobs_done.load(Ordering::Relaxed)
                        } else {
                            0
                        },
                        faults: if ours {
                            self.faults.load(Ordering::Relaxed)
                        } else {
                            0
                        },
                        busy_seconds: if ours {
                            self.busy_ns.load(Ordering::Relaxed) as f64 / 1e9
                        } else {
                            0.0
                        },
                    });
                }
                DeviceStatus::Absent { kind, reason } => out.push(DeviceEntry {
                    kind,
                    spec: kind.as_str().to_string(),
                    name: None,
                    memory_bytes: None,
                    compute_units: None,
                    state: "absent",
                    reason: Some(reason),
                    jobs_done: 0,
                    faults: 0,
                    busy_seconds: 0.0,
                }),
            }
        }
        out
    }
}
