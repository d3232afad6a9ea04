//! Resident proving keys: one [`ProvingKey`] per circuit, loaded once (its point tables
//! uploaded to the device) and reused by every job on that circuit. The least recently used
//! key is dropped beyond the capacity; jobs still holding it finish with it first.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kiln_algebra::curve::Bn254;
use kiln_device::Device;
use kiln_formats::Zkey;
use kiln_groth16::{ProveError, ProvingKey};

type Slot = Arc<Mutex<Option<Arc<ProvingKey<Bn254>>>>>;

/// The cache of resident proving keys.
pub struct KeyCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    slots: HashMap<String, (Slot, u64)>,
    tick: u64,
}

impl KeyCache {
    /// A cache holding at most `capacity` keys (≥ 1).
    pub fn new(capacity: usize) -> Self {
        KeyCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries::default()),
        }
    }

    fn slot(&self, id: &str) -> Slot {
        let mut e = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        e.tick += 1;
        let tick = e.tick;
        let slot = match e.slots.get_mut(id) {
            Some((slot, used)) => {
                *used = tick;
                slot.clone()
            }
            None => {
                let slot: Slot = Arc::default();
                e.slots.insert(id.to_string(), (slot.clone(), tick));
                slot
            }
        };
        while e.slots.len() > self.capacity {
            let oldest = e
                .slots
                .iter()
                .filter(|(k, _)| k.as_str() != id)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    e.slots.remove(&k);
                    tracing::info!(target: crate::TARGET, circuit = %k, "proving key evicted from the resident cache");
                }
                None => break,
            }
        }
        slot
    }

    /// The resident key for circuit `id`, loading `zkey` onto `device` if it is not resident
    /// (then also returns how long loading took). Concurrent callers for one circuit load it
    /// once. Blocking: call from a blocking thread.
    pub fn get(
        &self,
        id: &str,
        zkey: &Path,
        device: &Arc<dyn Device<Bn254>>,
    ) -> Result<(Arc<ProvingKey<Bn254>>, Option<Duration>), ProveError> {
        let slot = self.slot(id);
        let mut guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pk) = guard.as_ref() {
            return Ok((pk.clone(), None));
        }
        let zk = Zkey::<Bn254>::open(zkey)?;
        let pk = Arc::new(ProvingKey::load(&zk, device.clone())?);
        tracing::info!(target: crate::TARGET, circuit = %id, load_ms = pk.load_time.as_secs_f64() * 1e3, "proving key resident");
        let took = pk.load_time;
        *guard = Some(pk.clone());
        Ok((pk, Some(took)))
    }

    /// Makes an already loaded key resident (after an upload validated it by loading it).
    pub fn insert(&self, id: &str, pk: Arc<ProvingKey<Bn254>>) {
        let slot = self.slot(id);
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(pk);
    }

    /// Drops a circuit's key (its zkey was deleted).
    pub fn remove(&self, id: &str) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .slots
            .remove(id);
    }

    /// Number of keys in the cache (loaded or loading).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .slots
            .len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
