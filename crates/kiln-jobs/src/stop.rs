//! The orderly stop's gate: once a stop begins no job starts, and the stop waits for the
//! starts being recorded right now before it puts running jobs back in the queue, so no
//! start is recorded after that.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Whether an orderly stop has begun, and the lock that orders job starts before it.
#[derive(Debug, Default)]
pub struct StopGate {
    stopping: AtomicBool,
    /// Held (read) while a job's start is recorded; the stop takes it (write).
    starts: RwLock<()>,
}

impl StopGate {
    /// Whether an orderly stop has begun (long-polls answer at once, no job starts).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Begins the stop: from now on no job starts.
    pub fn begin(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Permission to record a job's start, held until the start is recorded; `None` once
    /// the stop has begun (the job stays queued in the store and runs at the next start).
    pub async fn start(&self) -> Option<RwLockReadGuard<'_, ()>> {
        let guard = self.starts.read().await;
        (!self.is_stopping()).then_some(guard)
    }

    /// Begins the stop and waits for the starts being recorded now; none is recorded while
    /// the returned guard lives.
    pub async fn no_more_starts(&self) -> RwLockWriteGuard<'_, ()> {
        self.begin();
        self.starts.write().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_are_refused_once_the_stop_begins() {
        let gate = StopGate::default();
        assert!(!gate.is_stopping());
        let start = gate.start().await;
        assert!(start.is_some());
        // The stop waits for the start being recorded.
        let stop = gate.no_more_starts();
        tokio::pin!(stop);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), &mut stop)
                .await
                .is_err()
        );
        assert!(gate.is_stopping());
        drop(start);
        let _held = stop.await;
        drop(_held);
        assert!(gate.start().await.is_none());
    }
}
