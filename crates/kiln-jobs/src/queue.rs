//! The live job queue: the [`FairQueue`] of waiting jobs, a wake-up for the dispatcher,
//! the jobs running now (and which of them were asked to cancel), and per-job wake-ups for
//! clients long-polling `GET /v1/proofs/{id}?wait=`. (Where a job's MSMs and NTTs run is
//! the device fleet's business, `kiln_device::fleet`.)

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::fair_queue::FairQueue;
use kiln_store::{now_ms, QueuedJob};

/// The live job queue (shared behind an `Arc`).
pub struct JobQueue {
    queue: Mutex<FairQueue>,
    wake: Notify,
    running: Mutex<HashMap<String, String>>,
    cancel: Mutex<HashSet<String>>,
    watchers: Mutex<HashMap<String, Arc<Notify>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl JobQueue {
    /// An empty queue; queued jobs gain a priority level per `aging`.
    pub fn new(aging: Duration) -> Self {
        JobQueue {
            queue: Mutex::new(FairQueue::new(aging.as_millis() as i64)),
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            cancel: Mutex::new(HashSet::new()),
            watchers: Mutex::new(HashMap::new()),
        }
    }

    /// Queues a job (already persisted as queued) and wakes the dispatcher.
    pub fn push(&self, job: QueuedJob) {
        lock(&self.queue).push(job);
        self.wake.notify_one();
    }

    /// Removes a queued job; false if it is not in the queue.
    pub fn remove(&self, id: &str) -> bool {
        lock(&self.queue).remove(id)
    }

    /// Jobs in the queue.
    pub fn depth(&self) -> usize {
        lock(&self.queue).len()
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        lock(&self.running).len()
    }

    /// Waits for the next job to run and marks it running in memory.
    pub async fn next(&self) -> QueuedJob {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let job = lock(&self.queue).pop(now_ms(), |_| true);
            if let Some(job) = job {
                lock(&self.running).insert(job.id.clone(), job.tenant_id.clone());
                return job;
            }
            // Re-check now and then: aging changes the order, not whether a job exists,
            // so this is only a safety net.
            let _ = tokio::time::timeout(Duration::from_secs(5), notified).await;
        }
    }

    /// The job ended (or was skipped): forget it and wake its watchers.
    pub fn finished(&self, id: &str) {
        lock(&self.running).remove(id);
        lock(&self.cancel).remove(id);
        self.notify(id);
    }

    /// Whether `id` is running in this process.
    pub fn is_running(&self, id: &str) -> bool {
        lock(&self.running).contains_key(id)
    }

    /// Asks a running job to be cancelled when its proof returns (checked by the runner
    /// when it records the outcome).
    pub fn request_cancel(&self, id: &str) {
        lock(&self.cancel).insert(id.to_string());
    }

    /// Drops a cancellation flag for `id` (it had already ended).
    pub fn forget_cancel(&self, id: &str) {
        lock(&self.cancel).remove(id);
    }

    /// Whether cancellation was asked for `id`.
    pub fn cancel_requested(&self, id: &str) -> bool {
        lock(&self.cancel).contains(id)
    }

    /// Wakes clients waiting on `id`.
    pub fn notify(&self, id: &str) {
        if let Some(n) = lock(&self.watchers).remove(id) {
            n.notify_waiters();
        }
    }

    /// Wakes every client waiting on any job (an orderly stop answers them all).
    pub fn notify_all(&self) {
        for (_, n) in lock(&self.watchers).drain() {
            n.notify_waiters();
        }
    }

    /// A wake-up for changes of `id`: enable the returned `Notify`'s `notified()` future
    /// before reading the job, then await it.
    pub fn watch(&self, id: &str) -> Arc<Notify> {
        lock(&self.watchers)
            .entry(id.to_string())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }
}
