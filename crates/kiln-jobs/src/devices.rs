//! The devices the daemon proves on, with what the inventory reports about each: proofs
//! done, faults, busy time.
//!
//! `--device auto` (the default) proves on the CPU together with every accelerator present
//! (opened by [`kiln_device::open`]). With accelerators the device is a [`Fleet`] whose
//! throughput calibration is stored in the data directory, so a restarted daemon places
//! work right from its first proof.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use kiln_algebra::curve::Bn254;
use kiln_device::fleet::{Calibration, Fleet};
use kiln_device::open::open_devices;
use kiln_device::{probe_devices, Device, DeviceError, DeviceKind, DeviceStatus};

/// The device jobs run on (one device, or a fleet of the CPU and accelerators), and its
/// counters.
pub struct ProvingDevice {
    /// The device proofs run on.
    pub device: Arc<dyn Device<Bn254>>,
    /// What it is, as `cpu:0` or `cpu:0,cuda:0` for a fleet.
    pub spec: String,
    /// The fleet behind `device`, when there are accelerators.
    fleet: Option<Arc<Fleet<Bn254>>>,
    /// Held around each proof on a fleet: the fleet tells a wrong accelerator result apart
    /// by re-proving on the CPU, which needs one proof at a time.
    exclusive: Mutex<()>,
    /// Per member spec: proofs it took part in, and their seconds.
    usage: Mutex<HashMap<String, MemberUsage>>,
    faults: AtomicU64,
    active: AtomicUsize,
    started: Instant,
}

#[derive(Clone, Copy, Default)]
struct MemberUsage {
    proofs: u64,
    busy: Duration,
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
    /// busy (proving now), idle, quarantined (a fleet member taken out after faults),
    /// available (present, not used by this server) or absent.
    pub state: &'static str,
    /// Why an absent backend is absent.
    pub reason: Option<String>,
    /// Proofs it took part in since the server started.
    pub jobs_done: u64,
    /// Device errors and wrong results since the server started.
    pub faults: u64,
    /// Seconds of the proofs it took part in since the server started.
    pub busy_seconds: f64,
}

/// The outcome of running a proof on the device.
pub struct DeviceRun<T> {
    /// What the proof returned.
    pub out: T,
    /// Its wall time.
    pub took: Duration,
    /// The specs of the devices that did work for it.
    pub used: Vec<String>,
}

impl ProvingDevice {
    /// Opens what `spec` names (see [`kiln_device::open`]: `auto`, one device, or a
    /// list making a fleet with the CPU). The CPU keeps precomputed MSM tables up to
    /// `precompute_bytes` per table; a fleet's calibration is stored at `calibration`.
    pub fn open(
        spec: &str,
        precompute_bytes: usize,
        calibration: &Path,
    ) -> Result<Self, DeviceError> {
        let opened =
            open_devices::<Bn254>(spec, precompute_bytes, Calibration::stored_at(calibration))?;
        Ok(Self::around(opened.device, opened.fleet))
    }

    fn around(device: Arc<dyn Device<Bn254>>, fleet: Option<Arc<Fleet<Bn254>>>) -> Self {
        let spec = match &fleet {
            Some(f) => f
                .members()
                .iter()
                .map(|m| m.info.spec.to_string())
                .collect::<Vec<_>>()
                .join(","),
            None => device.info().spec.to_string(),
        };
        ProvingDevice {
            device,
            spec,
            fleet,
            exclusive: Mutex::new(()),
            usage: Mutex::new(HashMap::new()),
            faults: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    /// Runs the proof `f` on the device, accounting its time to the devices that did work.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> DeviceRun<T> {
        let _one_at_a_time = self.fleet.as_ref().map(|_| {
            self.exclusive
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        });
        let before = self.member_ops();
        self.active.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        let out = f();
        let took = t0.elapsed();
        self.active.fetch_sub(1, Ordering::Relaxed);
        let used: Vec<String> = match &self.fleet {
            None => vec![self.spec.clone()],
            Some(_) => self
                .member_ops()
                .into_iter()
                .zip(&before)
                .filter(|((_, ops), (_, b))| ops > b)
                .map(|((spec, _), _)| spec)
                .collect(),
        };
        let mut usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        for spec in &used {
            usage.entry(spec.clone()).or_default().busy += took;
        }
        drop(usage);
        DeviceRun { out, took, used }
    }

    /// Operations done so far per fleet member, in member order (empty without a fleet).
    fn member_ops(&self) -> Vec<(String, u64)> {
        self.fleet
            .as_ref()
            .map(|f| {
                f.members()
                    .into_iter()
                    .map(|m| (m.info.spec.to_string(), m.jobs_done))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Counts a completed proof on the devices that did work for it.
    pub fn job_done(&self, used: &[String]) {
        let mut usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        for spec in used {
            usage.entry(spec.clone()).or_default().proofs += 1;
        }
    }

    /// Counts a device fault that failed a job.
    pub fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// The devices in use with their state and counters.
    fn in_use(&self) -> Vec<DeviceEntry> {
        let usage = self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        let busy = if self.active.load(Ordering::Relaxed) > 0 {
            "busy"
        } else {
            "idle"
        };
        let entry = |info: &kiln_device::DeviceInfo, state, faults: u64| {
            let spec = info.spec.to_string();
            let u = usage.get(&spec).copied().unwrap_or_default();
            DeviceEntry {
                kind: info.spec.kind,
                spec,
                name: Some(info.name.clone()),
                memory_bytes: info.memory_bytes,
                compute_units: Some(info.compute_units),
                state,
                reason: None,
                jobs_done: u.proofs,
                faults,
                busy_seconds: u.busy.as_secs_f64(),
            }
        };
        match &self.fleet {
            None => vec![entry(
                self.device.info(),
                busy,
                self.faults.load(Ordering::Relaxed),
            )],
            Some(f) => f
                .members()
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    let state = if m.state == "quarantined" {
                        "quarantined"
                    } else {
                        busy
                    };
                    // Errors that failed a job come from the CPU, member 0: the fleet
                    // redoes an accelerator's failed work there.
                    let failed_jobs = if k == 0 {
                        self.faults.load(Ordering::Relaxed)
                    } else {
                        0
                    };
                    entry(&m.info, state, u64::from(m.faults) + failed_jobs)
                })
                .collect(),
        }
    }

    /// Per device in use: (spec, busy ratio since start, proofs done, faults), for the
    /// metrics.
    pub fn metrics(&self) -> Vec<(String, f64, u64, u64)> {
        let up = self.started.elapsed().as_secs_f64().max(1e-9);
        self.in_use()
            .into_iter()
            .map(|e| (e.spec, e.busy_seconds / up, e.jobs_done, e.faults))
            .collect()
    }

    /// The whole inventory: the devices in use with their counters, then the others as
    /// probed (available or absent, with why).
    pub fn inventory(&self) -> Vec<DeviceEntry> {
        let mut out = self.in_use();
        for report in probe_devices::<Bn254>() {
            match report.status {
                DeviceStatus::Ready { info } => {
                    let spec = info.spec.to_string();
                    if out.iter().any(|e| e.spec == spec) {
                        continue;
                    }
                    out.push(DeviceEntry {
                        kind: info.spec.kind,
                        spec,
                        name: Some(info.name.clone()),
                        memory_bytes: info.memory_bytes,
                        compute_units: Some(info.compute_units),
                        state: "available",
                        reason: None,
                        jobs_done: 0,
                        faults: 0,
                        busy_seconds: 0.0,
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
