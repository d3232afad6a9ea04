//! The resident point tables of one device, by id: the bookkeeping every backend shares
//! (handle ids, the ownership check that keeps one device's handle from reaching another's
//! table, an MSM's group and range checks, and the errors they give).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::{check_range, BasesHandle, DeviceError, DeviceSpec, Group, MsmJob};

/// One resident table: the backend's value `T` (cheap to clone: an `Arc` or a device
/// buffer handle), its group and its length.
#[derive(Clone, Debug)]
pub struct Resident<T> {
    /// The backend's table.
    pub table: T,
    /// G1 or G2.
    pub group: Group,
    /// Number of points.
    pub len: usize,
}

/// The tables resident on the device `spec`.
#[derive(Debug)]
pub struct ResidentTables<T> {
    spec: DeviceSpec,
    next_id: AtomicU64,
    tables: Mutex<HashMap<u64, Resident<T>>>,
}

impl<T: Clone> ResidentTables<T> {
    /// No tables yet, on device `spec`.
    pub fn new(spec: DeviceSpec) -> Self {
        ResidentTables {
            spec,
            next_id: AtomicU64::new(1),
            tables: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `table` (of `len` points of `group`) and returns its handle.
    pub fn insert(&self, table: T, group: Group, len: usize) -> BasesHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, Resident { table, group, len });
        BasesHandle {
            device: self.spec,
            id,
            group,
            len,
        }
    }

    /// The table of `bases`, if this device holds it.
    pub fn get(&self, bases: &BasesHandle) -> Result<Resident<T>, DeviceError> {
        if bases.device != self.spec {
            return Err(self.unknown(bases));
        }
        self.lock()
            .get(&bases.id)
            .cloned()
            .ok_or_else(|| self.unknown(bases))
    }

    /// The table of `job`: held here, of the group the job expects, and long enough for
    /// its points `start..start + scalars.len()` (checked in that order).
    pub fn for_msm<F>(&self, job: &MsmJob<'_, F>) -> Result<Resident<T>, DeviceError> {
        let r = self.get(job.bases)?;
        if r.group != job.group {
            return Err(DeviceError::WrongGroup {
                id: job.bases.id,
                expected: job.group,
                actual: r.group,
            });
        }
        check_range(job.start, job.scalars.len(), r.len)?;
        Ok(r)
    }

    /// Forgets the table of `bases` (its resources are freed when the last clone of its
    /// value drops); an unknown handle, or another device's, is an error.
    pub fn remove(&self, bases: &BasesHandle) -> Result<Resident<T>, DeviceError> {
        if bases.device != self.spec {
            return Err(self.unknown(bases));
        }
        self.lock()
            .remove(&bases.id)
            .ok_or_else(|| self.unknown(bases))
    }

    /// Number of resident tables.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no table is resident.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn unknown(&self, bases: &BasesHandle) -> DeviceError {
        DeviceError::UnknownBases {
            device: self.spec,
            id: bases.id,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Resident<T>>> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceKind;

    #[test]
    fn handles_reach_only_their_own_device_and_table() {
        let spec = |index| DeviceSpec {
            kind: DeviceKind::Opencl,
            index,
        };
        let tables = ResidentTables::new(spec(0));
        let h = tables.insert("points", Group::G1, 10);
        assert_eq!((h.device, h.group, h.len), (spec(0), Group::G1, 10));
        assert_eq!(tables.get(&h).unwrap().table, "points");
        let (scalars, cfg) = ([0u8; 6], Default::default());
        assert!(tables.for_msm(&MsmJob::new(&h, 4, &scalars, &cfg)).is_ok());
        assert!(matches!(
            tables.for_msm(&MsmJob::new(&h, 5, &scalars, &cfg)),
            Err(DeviceError::OutOfRange {
                start: 5,
                end: 11,
                len: 10
            })
        ));
        // A job expecting the other group is refused, before the range is looked at.
        let g2 = MsmJob {
            group: Group::G2,
            ..MsmJob::new(&h, 5, &scalars, &cfg)
        };
        assert!(matches!(
            tables.for_msm(&g2),
            Err(DeviceError::WrongGroup {
                expected: Group::G2,
                actual: Group::G1,
                ..
            })
        ));
        let foreign = BasesHandle {
            device: spec(1),
            ..h.clone()
        };
        assert!(matches!(
            tables.get(&foreign),
            Err(DeviceError::UnknownBases { .. })
        ));
        assert!(tables.remove(&foreign).is_err());
        assert_eq!(tables.len(), 1);
        assert!(tables.remove(&h).is_ok());
        assert!(tables.is_empty());
        assert!(matches!(
            tables.remove(&h),
            Err(DeviceError::UnknownBases { .. })
        ));
        assert_ne!(tables.insert("more", Group::G2, 1).id, h.id);
    }
}
