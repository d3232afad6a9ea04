//! Signature checks of concurrent submissions, made together: each worker thread (one per
//! core) takes every check waiting when it comes free, up to [`MAX_GROUP`], and makes them
//! at once ([`check_signatures`]: the messages and challenges hashed, and the curve
//! equations checked, eight at a time). Under load groups form by themselves; a lone
//! submission is checked alone, at once (no timer, no added wait). The senders' key tables
//! ([`KeyTables`]) are looked up and built here too, off the threads that answer requests.

use std::sync::{mpsc, Arc, Mutex};

use kiln_rollup::babyjub::Point;
use kiln_rollup::intake::SignedTx;
use kiln_rollup::ledger::{check_signatures, TxError};
use kiln_rollup::Fr;
use tokio::sync::oneshot;

use crate::keytables::KeyTables;
use crate::TARGET;

/// Most checks made together.
pub const MAX_GROUP: usize = 64;

/// A check's answer: the transaction back, and its message when the signature is valid.
pub type Checked = (SignedTx, Result<Fr, TxError>);

struct Job {
    key: Point,
    tx: SignedTx,
    reply: oneshot::Sender<Checked>,
}

/// The workers' queue.
pub struct Verifier {
    queue: mpsc::Sender<Job>,
}

/// The workers have stopped (only if one panicked).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the signature checker has stopped")]
pub struct Stopped;

impl Verifier {
    /// Starts `workers` threads (at least one).
    pub fn start(workers: usize) -> Verifier {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let tables = Arc::new(KeyTables::default());
        for n in 0..workers.max(1) {
            let (jobs, tables) = (jobs.clone(), tables.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("kiln-sigcheck-{n}"))
                .spawn(move || work(&jobs, &tables));
            if let Err(e) = spawned {
                tracing::error!(target: TARGET, error = %e, "cannot start a signature checker thread");
            }
        }
        Verifier { queue }
    }

    /// Checks `tx`'s signature under `key`, the key of its sender.
    pub async fn check(&self, key: Point, tx: SignedTx) -> Result<Checked, Stopped> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { key, tx, reply })
            .map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }
}

/// A worker: waits for one check, takes every other one waiting, checks them together.
fn work(jobs: &Mutex<mpsc::Receiver<Job>>, tables: &KeyTables) {
    loop {
        let group: Vec<Job> = {
            let Ok(rx) = jobs.lock() else { return };
            let Ok(first) = rx.recv() else { return };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(j) => group.push(j),
                    Err(_) => break,
                }
            }
            group
        };
        let found: Vec<_> = group
            .iter()
            .map(|j| tables.get(j.tx.tx.from, &j.key))
            .collect();
        let items: Vec<_> = group
            .iter()
            .zip(&found)
            .map(|(j, table)| (&j.key, table.as_deref(), &j.tx))
            .collect();
        let answers = check_signatures(&items);
        for (job, answer) in group.into_iter().zip(answers) {
            // A submitter that went away needs no answer.
            let _ = job.reply.send((job.tx, answer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_rollup::wallet::{key_from_seed, transfer};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_each_get_their_own_answer() {
        let v = Arc::new(Verifier::start(2));
        let keys: Vec<_> = (0..3).map(key_from_seed).collect();
        let mut handles = Vec::new();
        for n in 0..40u64 {
            let v = v.clone();
            let mut tx = transfer(&keys[(n % 3) as usize], 7, 1, 2, 0, 10, 1, n);
            let bad = n % 5 == 0;
            if bad {
                tx.tx.nonce += 1;
            }
            let key = keys[(n % 3) as usize].public();
            handles.push(tokio::spawn(async move {
                let (back, answer) = v.check(key, tx.clone()).await.unwrap();
                assert_eq!(back, tx);
                assert_eq!(answer.is_ok(), !bad, "transaction {n}");
                if let Ok(m) = answer {
                    assert_eq!(m, tx.tx.message());
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    }
}
