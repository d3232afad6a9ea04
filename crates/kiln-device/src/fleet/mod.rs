//! The device scheduler: a [`Fleet`] of devices that is itself a [`Device`], so the prover needs
//! no change to run across the CPU and every accelerator.
//!
//! - Resident tables are loaded on every member that can hold them.
//! - Each MSM or NTT goes where it is expected to finish soonest, by the measured throughput
//!   per device, operation and size ([`Calibration`]; an unmeasured device gets the next
//!   operation, which is its calibration). A large MSM is split across the devices in
//!   proportion to their throughput and the partial sums are added, so e.g. the G2 MSM can
//!   stay on the CPU while G1 work runs elsewhere, or one MSM can use both.
//! - A member that fails (an error from the driver: build, launch, out of memory) has the
//!   fault counted and its work redone on the CPU at once; a member whose result made a
//!   proof fail its pairing check is found by re-proving on the CPU alone (see
//!   [`Device::proof_checked`]). After [`QUARANTINE_AFTER`] faults a member is quarantined
//!   and gets no more work. The proof is still correct, and still comes.

mod calibration;
pub mod faulty;

use std::collections::HashSet;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

pub use calibration::{Calibration, OpKind};

use crate::resident::ResidentTables;
use crate::{
    BasesHandle, CpuDevice, Device, DeviceError, DeviceInfo, DeviceUsage, MsmJob, MsmSum, NttOp,
    Points,
};
use kiln_algebra::curve::Curve;

/// The `tracing` target of the fleet's events (`RUST_LOG=kiln::sched=debug`): placement,
/// faults and quarantines.
const TARGET: &str = "kiln::sched";

/// Faults after which a member is quarantined.
pub const QUARANTINE_AFTER: u32 = 2;

/// MSMs below this many points are never split.
pub const SPLIT_MIN: usize = 1 << 14;

/// A member's state, as inventories show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MemberStatus {
    /// What the device is.
    pub info: DeviceInfo,
    /// `ready` or `quarantined`.
    pub state: &'static str,
    /// Operations completed.
    pub jobs_done: u64,
    /// Faults counted (errors and wrong results).
    pub faults: u32,
}

#[derive(Default)]
struct Health {
    jobs_done: u64,
    faults: u32,
    quarantined: bool,
}

/// Each member's handle of one fleet table (`None` where loading failed).
type MemberHandles = Arc<Vec<Option<BasesHandle>>>;

struct State {
    calibration: Calibration,
    health: Vec<Health>,
    /// Members that ran operations since the last proof check.
    used: HashSet<usize>,
    /// Accelerators under suspicion while a proof is re-run on the CPU alone.
    suspects: Option<HashSet<usize>>,
}

/// Several devices behind one [`Device`]; member 0 is always the CPU (the fallback).
pub struct Fleet<C: Curve> {
    info: DeviceInfo,
    members: Vec<Arc<dyn Device<C>>>,
    /// The fleet's tables: for each, every member's handle.
    tables: ResidentTables<MemberHandles>,
    state: Mutex<State>,
}

impl<C: Curve> Fleet<C> {
    /// A fleet of the CPU and `accelerators`, learning throughput into `calibration`.
    pub fn new(accelerators: Vec<Arc<dyn Device<C>>>, calibration: Calibration) -> Self {
        Self::with_cpu(Arc::new(CpuDevice::<C>::new()), accelerators, calibration)
    }

    /// A fleet of the given CPU device (e.g. one with a precompute budget) and `accelerators`.
    pub fn with_cpu(
        cpu: Arc<dyn Device<C>>,
        accelerators: Vec<Arc<dyn Device<C>>>,
        calibration: Calibration,
    ) -> Self {
        let mut members = vec![cpu];
        members.extend(accelerators);
        let names: Vec<String> = members.iter().map(|m| m.info().spec.to_string()).collect();
        let info = DeviceInfo {
            spec: members[0].info().spec,
            name: format!("fleet: {}", names.join(", ")),
            memory_bytes: None,
            compute_units: members.iter().map(|m| m.info().compute_units).sum(),
            host_cpu: false,
            driver: None,
            emulated: false,
        };
        Self {
            tables: ResidentTables::new(info.spec),
            info,
            state: Mutex::new(State {
                calibration,
                health: members.iter().map(|_| Health::default()).collect(),
                used: HashSet::new(),
                suspects: None,
            }),
            members,
        }
    }

    /// Every member's state.
    pub fn members(&self) -> Vec<MemberStatus> {
        let st = self.lock();
        self.members
            .iter()
            .zip(&st.health)
            .map(|(m, h)| MemberStatus {
                info: m.info().clone(),
                state: if h.quarantined {
                    "quarantined"
                } else {
                    "ready"
                },
                jobs_done: h.jobs_done,
                faults: h.faults,
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn key(&self, k: usize) -> String {
        self.members[k].info().spec.to_string()
    }

    /// Counts a fault on member `k` (never the CPU fallback) and quarantines it at the limit.
    fn fault(&self, st: &mut State, k: usize, why: &str) {
        if k == 0 {
            return;
        }
        let h = &mut st.health[k];
        h.faults += 1;
        if h.faults >= QUARANTINE_AFTER && !h.quarantined {
            h.quarantined = true;
            tracing::warn!(target: TARGET, device = %self.key(k), faults = h.faults, why, "device quarantined");
        } else {
            tracing::warn!(target: TARGET, device = %self.key(k), faults = h.faults, why, "device fault");
        }
    }

    /// Members that may run work now and hold the table (`handles`, if any).
    fn candidates(&self, st: &State, handles: Option<&[Option<BasesHandle>]>) -> Vec<usize> {
        (0..self.members.len())
            .filter(|&k| !st.health[k].quarantined)
            .filter(|&k| k == 0 || st.suspects.is_none())
            .filter(|&k| handles.is_none_or(|h| h.get(k).is_some_and(Option::is_some)))
            .collect()
    }

    /// Where an operation of `size` items goes (see [`split`]), from each candidate's
    /// measured throughput; logged for `RUST_LOG=kiln::sched=debug`.
    fn place(
        &self,
        st: &State,
        op: OpKind,
        size: usize,
        cands: &[usize],
    ) -> Vec<(usize, Range<usize>)> {
        let est: Vec<(usize, Option<f64>)> = cands
            .iter()
            .map(|&k| (k, st.calibration.estimate(&self.key(k), op, size)))
            .collect();
        let parts = split(op, size, &est);
        if tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            let placed: Vec<String> = parts
                .iter()
                .map(|(k, r)| format!("{}: {}", self.key(*k), r.len()))
                .collect();
            tracing::debug!(target: TARGET, ?op, size, ?placed, "placed");
        }
        parts
    }

    /// Runs an MSM over fleet table `bases` on one member, or split across several.
    fn run_msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError> {
        let (bases, n) = (job.bases, job.scalars.len());
        let table = self.tables.for_msm(job)?;
        let (handles, op) = (table.table, OpKind::msm(table.group));
        let parts = {
            let st = self.lock();
            let cands = self.candidates(&st, Some(&handles));
            self.place(&st, op, n, &cands)
        };
        let call = |k: usize, r: &Range<usize>| {
            let h = handles[k].as_ref().ok_or(DeviceError::UnknownBases {
                device: self.members[k].info().spec,
                id: bases.id,
            })?;
            let part = job.part(r.clone());
            self.members[k].msm(&MsmJob { bases: h, ..part })
        };
        let timed = |k: usize, r: &Range<usize>| {
            let t = Instant::now();
            call(k, r).map(|v| (v, t.elapsed().as_secs_f64()))
        };
        let results: Vec<Result<(MsmSum<C>, f64), DeviceError>> = if parts.len() == 1 {
            vec![timed(parts[0].0, &parts[0].1)]
        } else {
            std::thread::scope(|s| {
                let jobs: Vec<_> = parts
                    .iter()
                    .map(|(k, r)| s.spawn(move || timed(*k, r)))
                    .collect();
                jobs.into_iter()
                    .map(|j| j.join().unwrap_or_else(|_| Err(self.panicked())))
                    .collect()
            })
        };
        let mut total = MsmSum::zero(table.group);
        for ((k, r), res) in parts.iter().zip(results) {
            let value = match res {
                Ok((v, secs)) => {
                    let mut st = self.lock();
                    st.calibration.record(&self.key(*k), op, r.len(), secs);
                    st.health[*k].jobs_done += 1;
                    st.used.insert(*k);
                    v
                }
                Err(e) if *k != 0 && is_device_fault(&e) => {
                    self.fault(&mut self.lock(), *k, &e.to_string());
                    // Redo this part on the CPU, which holds every table.
                    call(0, r)?
                }
                Err(e) => return Err(e),
            };
            total = total
                .checked_add(value)
                .ok_or_else(|| DeviceError::Backend {
                    spec: self.members[*k].info().spec,
                    message: "an MSM over a table of one group returned a point of the other"
                        .into(),
                })?;
        }
        Ok(total)
    }

    fn panicked(&self) -> DeviceError {
        DeviceError::Backend {
            spec: self.info.spec,
            message: "a device thread panicked".into(),
        }
    }

    /// Loads `points` on every member that can hold them (the CPU must).
    fn load_everywhere(&self, points: Points<C>) -> Result<BasesHandle, DeviceError> {
        let quarantined: Vec<bool> = self.lock().health.iter().map(|h| h.quarantined).collect();
        let mut handles = Vec::with_capacity(self.members.len());
        for (k, m) in self.members.iter().enumerate() {
            if quarantined[k] {
                handles.push(None);
                continue;
            }
            match m.load(points.clone()) {
                Ok(h) => handles.push(Some(h)),
                // The CPU must hold every table: it is the fallback.
                Err(e) if k == 0 => return Err(e),
                // A device that cannot hold this table (e.g. out of memory) just does not
                // get its operations; that is not a fault.
                Err(e) => {
                    tracing::warn!(target: TARGET, device = %self.key(k), error = %e, "table not loaded on device");
                    handles.push(None);
                }
            }
        }
        Ok(self
            .tables
            .insert(Arc::new(handles), points.group(), points.len()))
    }
}

impl<C: Curve> Device<C> for Fleet<C> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn load(&self, points: Points<C>) -> Result<BasesHandle, DeviceError> {
        self.load_everywhere(points)
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        let handles = self.tables.remove(bases)?.table;
        // Every member frees its copy even if another fails; the first error is reported.
        let mut first_error = None;
        for (m, h) in self.members.iter().zip(handles.iter()) {
            if let Some(Err(e)) = h.as_ref().map(|h| m.release(h)) {
                tracing::warn!(target: TARGET, device = %m.info().spec, error = %e, "cannot free a table");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError> {
        self.run_msm(job)
    }

    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError> {
        let size: usize = vectors.iter().map(Vec::len).sum();
        let k = {
            let st = self.lock();
            let cands = self.candidates(&st, None);
            self.place(&st, OpKind::Ntt, size, &cands)[0].0
        };
        // A failed launch may leave the vectors half transformed: keep the input.
        let input = if k == 0 { Vec::new() } else { vectors.to_vec() };
        let t = Instant::now();
        match self.members[k].ntt(vectors, op) {
            Ok(()) => {
                let mut st = self.lock();
                st.calibration
                    .record(&self.key(k), OpKind::Ntt, size, t.elapsed().as_secs_f64());
                st.health[k].jobs_done += 1;
                st.used.insert(k);
                Ok(())
            }
            Err(e) if k == 0 || !is_device_fault(&e) => Err(e),
            Err(e) => {
                self.fault(&mut self.lock(), k, &e.to_string());
                vectors.clone_from_slice(&input);
                self.members[0].ntt(vectors, op)
            }
        }
    }

    /// Every member's entries, in member order (the CPU first).
    fn usage(&self) -> Vec<DeviceUsage> {
        self.members.iter().flat_map(|m| m.usage()).collect()
    }

    fn proof_checked(&self, accepted: bool) -> bool {
        let mut st = self.lock();
        let used: HashSet<usize> = std::mem::take(&mut st.used);
        match (accepted, st.suspects.take()) {
            // A CPU-only rerun passed: the accelerators of the failed attempt were wrong.
            (true, Some(suspects)) => {
                for k in suspects {
                    self.fault(&mut st, k, "its result failed the proof's pairing check");
                }
                false
            }
            (true, None) => false,
            // The first attempt failed and accelerators took part: rerun on the CPU alone.
            (false, None) => {
                let accel: HashSet<usize> = used.into_iter().filter(|&k| k != 0).collect();
                if accel.is_empty() {
                    return false;
                }
                st.suspects = Some(accel);
                true
            }
            // The CPU-only rerun failed too: the witness, not a device, is at fault.
            (false, Some(_)) => false,
        }
    }
}

/// Where an operation of `size` items goes, given each candidate member's estimated
/// seconds (`None`: not measured yet): one member, or (for large MSMs with several measured
/// members) ranges of the input in proportion to throughput.
fn split(op: OpKind, size: usize, est: &[(usize, Option<f64>)]) -> Vec<(usize, Range<usize>)> {
    // An unmeasured member takes the whole operation: that is its calibration.
    if let Some(&(k, _)) = est.iter().find(|(_, e)| e.is_none()) {
        return vec![(k, 0..size)];
    }
    let rates: Vec<(usize, f64)> = est
        .iter()
        .map(|&(k, e)| (k, size as f64 / e.unwrap_or(f64::MAX).max(1e-12)))
        .collect();
    let splittable = op != OpKind::Ntt && size >= SPLIT_MIN && rates.len() > 1;
    if !splittable {
        let best = rates
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |r| r.0);
        return vec![(best, 0..size)];
    }
    let total: f64 = rates.iter().map(|r| r.1).sum();
    let mut parts = Vec::new();
    let mut at = 0usize;
    for (i, &(k, r)) in rates.iter().enumerate() {
        let end = if i + 1 == rates.len() {
            size
        } else {
            (at + (size as f64 * r / total) as usize).min(size)
        };
        if end > at {
            parts.push((k, at..end));
        }
        at = end;
    }
    parts
}

/// Whether an error is the device's fault (a driver or launch failure) rather than the
/// caller's (a bad range, group or length, which every device would refuse alike).
fn is_device_fault(e: &DeviceError) -> bool {
    matches!(
        e,
        DeviceError::Backend { .. } | DeviceError::UnknownBases { .. }
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::faulty::{Fault, FaultyDevice};
    use super::*;
    use crate::{DeviceKind, DeviceSpec, UsageClock};
    use kiln_algebra::curve::Bn254;

    /// The CPU presented as `spec`, reporting one usage entry after each operation.
    struct Reporting {
        cpu: CpuDevice<Bn254>,
        info: DeviceInfo,
        pending: Mutex<Vec<DeviceUsage>>,
    }

    impl Reporting {
        fn new(kind: DeviceKind, index: usize) -> Self {
            let cpu = CpuDevice::new();
            let info = DeviceInfo {
                spec: DeviceSpec { kind, index },
                name: format!("reporting {kind:?}"),
                driver: Some("test driver".into()),
                ..cpu.info().clone()
            };
            Self {
                cpu,
                info,
                pending: Mutex::new(Vec::new()),
            }
        }

        fn entry(&self) -> DeviceUsage {
            DeviceUsage {
                spec: self.info.spec,
                commands: 3,
                device_time: Duration::from_millis(2),
                wall_time: Duration::from_millis(5),
                clock: UsageClock::Kernel,
            }
        }
    }

    impl Device<Bn254> for Reporting {
        fn info(&self) -> &DeviceInfo {
            &self.info
        }

        fn load(&self, points: Points<Bn254>) -> Result<BasesHandle, DeviceError> {
            let h = self.cpu.load(points)?;
            Ok(BasesHandle {
                device: self.info.spec,
                ..h
            })
        }

        fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
            self.cpu.release(&BasesHandle {
                device: self.cpu.info().spec,
                ..bases.clone()
            })
        }

        fn msm(&self, job: &MsmJob<'_, ark_bn254::Fr>) -> Result<MsmSum<Bn254>, DeviceError> {
            let bases = BasesHandle {
                device: self.cpu.info().spec,
                ..job.bases.clone()
            };
            self.cpu.msm(&MsmJob {
                bases: &bases,
                ..*job
            })
        }

        fn ntt(
            &self,
            vectors: &mut [Vec<ark_bn254::Fr>],
            op: NttOp<ark_bn254::Fr>,
        ) -> Result<(), DeviceError> {
            self.cpu.ntt(vectors, op)?;
            self.pending.lock().unwrap().push(self.entry());
            Ok(())
        }

        fn usage(&self) -> Vec<DeviceUsage> {
            std::mem::take(&mut *self.pending.lock().unwrap())
        }
    }

    #[test]
    fn usage_concatenates_the_members_entries_and_drains() {
        let a = Arc::new(Reporting::new(DeviceKind::Opencl, 0));
        let b = Arc::new(Reporting::new(DeviceKind::Fpga, 0));
        let (want_a, want_b) = (a.entry(), b.entry());
        let fleet = Fleet::<Bn254>::new(
            vec![a.clone() as Arc<dyn Device<Bn254>>, b.clone()],
            Calibration::in_memory(),
        );
        assert_eq!(fleet.usage(), Vec::new(), "nothing ran yet");
        // The fleet places work by throughput; give each member an operation directly.
        let mut v = vec![vec![ark_bn254::Fr::from(3u64); 8]];
        a.ntt(&mut v, NttOp::Forward).unwrap();
        b.ntt(&mut v, NttOp::Inverse).unwrap();
        assert_eq!(fleet.usage(), vec![want_a, want_b]);
        assert_eq!(fleet.usage(), Vec::new(), "the first call drained it");
    }

    #[test]
    fn a_faulty_device_forwards_its_inner_devices_usage_as_itself() {
        let inner = Arc::new(Reporting::new(DeviceKind::Opencl, 0));
        let spec = DeviceSpec {
            kind: DeviceKind::Cuda,
            index: 4,
        };
        let info = DeviceInfo {
            spec,
            ..inner.info().clone()
        };
        let dev = FaultyDevice::new(inner.clone(), info, Fault::None);
        let mut v = vec![vec![ark_bn254::Fr::from(5u64); 4]];
        dev.ntt(&mut v, NttOp::Forward).unwrap();
        let usage = dev.usage();
        assert_eq!(
            usage,
            vec![DeviceUsage {
                spec,
                ..inner.entry()
            }]
        );
        assert_eq!(dev.usage(), Vec::new());
    }
}
