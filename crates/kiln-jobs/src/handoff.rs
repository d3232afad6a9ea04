//! Witnesses handed from the submission to the prover in memory: a job accepted with its
//! witness already decoded keeps the values here (bounded by a byte budget) so its proof
//! starts without reading back the `.wtns` it was stored as. The stored file stays the
//! source of truth: a job whose values are not here (over budget, or after a restart)
//! reads its file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::witness::Fr;

/// The in-memory witnesses of queued jobs, by job id.
pub struct WitnessHandoff {
    budget: usize,
    inner: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    values: HashMap<String, Arc<Vec<Fr>>>,
    bytes: usize,
}

fn size_of(values: &[Fr]) -> usize {
    std::mem::size_of_val(values)
}

impl WitnessHandoff {
    /// A handoff holding at most `budget` bytes of witness values (0 turns it off).
    pub fn new(budget: usize) -> Self {
        WitnessHandoff {
            budget,
            inner: Mutex::new(Held::default()),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `values` for job `id` if they fit in the budget; false if they do not (the
    /// prover then reads the stored file).
    pub fn put(&self, id: &str, values: Arc<Vec<Fr>>) -> bool {
        let size = size_of(&values);
        let mut held = self.held();
        if held.bytes + size > self.budget {
            return false;
        }
        held.bytes += size;
        if let Some(old) = held.values.insert(id.to_string(), values) {
            held.bytes -= size_of(&old);
        }
        true
    }

    /// Takes job `id`'s values, if they are held.
    pub fn take(&self, id: &str) -> Option<Arc<Vec<Fr>>> {
        let mut held = self.held();
        let values = held.values.remove(id)?;
        held.bytes -= size_of(&values);
        Some(values)
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.held().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn witness(n: u64) -> Arc<Vec<Fr>> {
        Arc::new((0..n).map(Fr::from).collect())
    }

    #[test]
    fn values_are_taken_once_and_the_budget_is_kept() {
        let one = size_of(&witness(4));
        let h = WitnessHandoff::new(2 * one);
        assert!(h.put("a", witness(4)));
        assert!(h.put("b", witness(4)));
        assert!(!h.put("c", witness(4)), "over the budget");
        assert_eq!(h.bytes(), 2 * one);
        assert_eq!(h.take("a").unwrap()[3], Fr::from(3u64));
        assert!(h.take("a").is_none(), "taken once");
        assert!(h.take("c").is_none(), "never held");
        assert!(h.put("c", witness(4)), "room again");
        assert_eq!(h.bytes(), 2 * one);
    }

    #[test]
    fn a_zero_budget_holds_nothing() {
        let h = WitnessHandoff::new(0);
        assert!(!h.put("a", witness(1)));
        assert!(h.take("a").is_none());
    }
}
