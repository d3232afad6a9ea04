//! The order in which waiting jobs run: priority, then age, fair across tenants.
//!
//! Each tenant's queued jobs are ordered by priority (higher first), then age. To pick the
//! next job, every tenant's head competes with its *effective* priority: its priority plus
//! one level per `aging` it has waited, so a low-priority job is never postponed forever.
//! Among equal effective priorities the tenant served least recently wins (round robin), so
//! a tenant that floods the queue cannot starve the others; ties after that go to the
//! oldest job. The queue is rebuilt from the store at start; the store stays the truth.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use kiln_store::QueuedJob;

/// Jobs waiting for a device.
#[derive(Debug)]
pub struct FairQueue {
    /// Per tenant: (Reverse(priority), seq) → job.
    tenants: HashMap<String, BTreeMap<(Reverse<i32>, i64), QueuedJob>>,
    /// Job id → (tenant, key), for removal.
    index: HashMap<String, (String, (Reverse<i32>, i64))>,
    /// Per tenant: the dispatch counter value when it was last served.
    last_served: HashMap<String, u64>,
    dispatched: u64,
    aging_ms: i64,
}

impl FairQueue {
    /// An empty queue; a waiting job gains one priority level per `aging_ms` (≥ 1).
    pub fn new(aging_ms: i64) -> Self {
        FairQueue {
            tenants: HashMap::new(),
            index: HashMap::new(),
            last_served: HashMap::new(),
            dispatched: 0,
            aging_ms: aging_ms.max(1),
        }
    }

    /// Number of queued jobs.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no job is queued.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Adds a job (ignored if already queued).
    pub fn push(&mut self, job: QueuedJob) {
        if self.index.contains_key(&job.id) {
            return;
        }
        let key = (Reverse(job.priority), job.seq);
        self.index
            .insert(job.id.clone(), (job.tenant_id.clone(), key));
        self.tenants
            .entry(job.tenant_id.clone())
            .or_default()
            .insert(key, job);
    }

    /// Removes a job (cancelled); false if it was not queued.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some((tenant, key)) = self.index.remove(id) else {
            return false;
        };
        if let Some(q) = self.tenants.get_mut(&tenant) {
            q.remove(&key);
            if q.is_empty() {
                self.tenants.remove(&tenant);
            }
        }
        true
    }

    /// Takes the next job to run at time `now_ms`, skipping tenants for which `eligible`
    /// is false (e.g. at their running limit).
    pub fn pop(&mut self, now_ms: i64, eligible: impl Fn(&str) -> bool) -> Option<QueuedJob> {
        let mut best: Option<(i64, Reverse<u64>, Reverse<i64>, &str)> = None;
        for (tenant, q) in &self.tenants {
            if !eligible(tenant) {
                continue;
            }
            let Some(head) = q.values().next() else {
                continue;
            };
            let waited = (now_ms - head.created_at).max(0);
            let effective = head.priority as i64 + waited / self.aging_ms;
            let served = self.last_served.get(tenant).copied().unwrap_or(0);
            let cand = (
                effective,
                Reverse(served),
                Reverse(head.seq),
                tenant.as_str(),
            );
            if best.as_ref().is_none_or(|b| cand > *b) {
                best = Some(cand);
            }
        }
        let tenant = best?.3.to_string();
        let q = self.tenants.get_mut(&tenant)?;
        let (_, job) = q.pop_first()?;
        if q.is_empty() {
            self.tenants.remove(&tenant);
        }
        self.index.remove(&job.id);
        self.dispatched += 1;
        self.last_served.insert(tenant, self.dispatched);
        Some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(seq: i64, tenant: &str, priority: i32, created_at: i64) -> QueuedJob {
        QueuedJob {
            seq,
            id: format!("{tenant}-{seq}"),
            tenant_id: tenant.into(),
            circuit_id: "c".into(),
            priority,
            created_at,
        }
    }

    fn drain(q: &mut FairQueue, now: i64) -> Vec<String> {
        std::iter::from_fn(|| q.pop(now, |_| true).map(|j| j.id)).collect()
    }

    #[test]
    fn one_tenant_gets_priority_then_age() {
        let mut q = FairQueue::new(1_000_000);
        q.push(job(1, "a", 0, 0));
        q.push(job(2, "a", 5, 0));
        q.push(job(3, "a", 0, 0));
        q.push(job(4, "a", 5, 0));
        assert_eq!(drain(&mut q, 0), ["a-2", "a-4", "a-1", "a-3"]);
        assert!(q.is_empty());
    }

    #[test]
    fn a_flooding_tenant_does_not_starve_another() {
        let mut q = FairQueue::new(1_000_000);
        for s in 1..=100 {
            q.push(job(s, "flood", 0, 0));
        }
        q.push(job(101, "small", 0, 0));
        let order = drain(&mut q, 0);
        let pos = order.iter().position(|id| id == "small-101").unwrap();
        assert!(pos <= 1, "the other tenant's job ran at position {pos}");
    }

    #[test]
    fn waiting_low_priority_jobs_age_past_fresh_high_priority_ones() {
        let mut q = FairQueue::new(1000);
        q.push(job(1, "a", 0, 0));
        q.push(job(2, "b", 5, 9_000));
        // At t = 9 s, a's job has gained 9 levels > b's 5 (b's gained 0).
        assert_eq!(q.pop(9_000, |_| true).unwrap().id, "a-1");
        // Without the wait, priority wins.
        let mut q = FairQueue::new(1000);
        q.push(job(1, "a", 0, 0));
        q.push(job(2, "b", 5, 0));
        assert_eq!(q.pop(0, |_| true).unwrap().id, "b-2");
    }

    #[test]
    fn removed_and_ineligible_jobs_are_skipped() {
        let mut q = FairQueue::new(1000);
        q.push(job(1, "a", 0, 0));
        q.push(job(2, "b", 0, 0));
        assert!(q.remove("a-1"));
        assert!(!q.remove("a-1"));
        assert!(q.pop(0, |t| t != "b").is_none());
        assert_eq!(q.pop(0, |_| true).unwrap().id, "b-2");
        assert_eq!(q.len(), 0);
    }
}
