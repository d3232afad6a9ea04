//! The sequencer over a real SQLite log: confirmations, refusals that change nothing,
//! batches closed by size and by time, L1 operations first, the backlog bound, and a
//! restart that replays exactly what was confirmed.

use std::time::Duration;

use kiln_rollup::batch::Batch;
use kiln_rollup::eddsa::PrivateKey;
use kiln_rollup::intake::SignedTx;
use kiln_rollup::trace::L1Op;
use kiln_rollup::wallet::{genesis_account, key_from_seed, transfer};
use kiln_rollup::Fr;
use kiln_sequencer::{Sequencer, Settings, SubmitError};
use serde_json::json;
use tokio::sync::mpsc;

const CHAIN: u64 = 3;

fn genesis(keys: &[PrivateKey]) -> String {
    let accounts: Vec<_> = (1..keys.len() as u32)
        .map(|i| genesis_account(i, &keys[i as usize].public(), 0, 1_000_000))
        .collect();
    json!({"chain_id": CHAIN, "accounts": accounts, "fee_accounts": [{"token": 0, "index": 1}]})
        .to_string()
}

fn settings(size: usize, timeout_ms: u64, backlog: usize) -> Settings {
    Settings {
        max_batch_size: size,
        batch_timeout: Duration::from_millis(timeout_ms),
        max_backlog: backlog,
    }
}

fn pay(keys: &[PrivateKey], from: u32, to: u32, amount: u128, nonce: u64) -> SignedTx {
    transfer(&keys[from as usize], CHAIN, from, to, 0, amount, 1, nonce)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirms_closes_batches_and_replays_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<PrivateKey> = (0..5).map(key_from_seed).collect();
    let g = genesis(&keys);
    let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
    let (seq, _base) = Sequencer::open(dir.path(), &g, settings(3, 60_000, 100), tx)
        .await
        .unwrap();
    let root0 = seq.state().state_root;

    // Refusals change nothing and open no batch.
    let forged = {
        let mut s = pay(&keys, 2, 3, 10, 0);
        s.tx.amount = 11;
        s
    };
    assert!(matches!(
        seq.submit(forged).await,
        Err(SubmitError::Refused(_))
    ));
    assert!(matches!(
        seq.submit(pay(&keys, 2, 3, 10, 5)).await,
        Err(SubmitError::Refused(_))
    ));
    assert_eq!(seq.state().state_root, root0);
    assert_eq!(seq.state().open_batch, None);

    // Three transfers fill batch 1; a fourth opens batch 2.
    let mut hashes = Vec::new();
    for (k, (from, to)) in [(2, 3), (3, 4), (2, 4), (4, 2)].into_iter().enumerate() {
        let nonce = if from == 2 && k == 2 { 1 } else { 0 };
        let c = seq.submit(pay(&keys, from, to, 100, nonce)).await.unwrap();
        assert_eq!(c.batch, if k < 3 { 1 } else { 2 });
        hashes.push(c.hash);
    }
    let closed = rx.recv().await.unwrap();
    assert_eq!((closed.number, closed.txs.len()), (1, 3));
    assert_eq!(seq.batch(2).await.unwrap().unwrap().status, "open");
    assert_eq!(
        seq.tx_status(&hashes[0]).await.unwrap().unwrap().status,
        "batched"
    );
    assert_eq!(
        seq.tx_status(&hashes[3]).await.unwrap().unwrap().status,
        "confirmed"
    );
    // Batch 1's fees are credited; batch 2's are owed.
    assert_eq!(seq.account(1).unwrap().balance, 1_000_000 + 3);
    let before = seq.state();

    // Restart: the same state, batch 2 still open with its transaction.
    drop(seq);
    let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
    let (seq, _) = Sequencer::open(dir.path(), &g, settings(3, 60_000, 100), tx)
        .await
        .unwrap();
    let after = seq.state();
    assert_eq!(
        (after.state_root, after.last_batch, after.open_batch),
        (before.state_root, 1, Some(2))
    );
    assert_eq!(
        rx.recv().await.unwrap().number,
        1,
        "closed batches are handed on again"
    );
    // The replayed transaction's nonce is used: submitting it again is refused.
    assert!(matches!(
        seq.submit(pay(&keys, 4, 2, 100, 0)).await,
        Err(SubmitError::Refused(_))
    ));
    // Another genesis is refused.
    let (tx2, _rx2) = mpsc::unbounded_channel::<Batch>();
    let other = genesis(&keys[..4]);
    assert!(
        Sequencer::open(dir.path(), &other, settings(3, 60_000, 100), tx2)
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_closes_by_time_with_l1_operations_first_and_the_backlog_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<PrivateKey> = (0..4).map(key_from_seed).collect();
    let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
    let (seq, _) = Sequencer::open(dir.path(), &genesis(&keys), settings(8, 100, 2), tx)
        .await
        .unwrap();
    let timer = tokio::spawn(seq.clone().run_timer());
    let dep = L1Op::Deposit {
        index: 9,
        token: 0,
        amount: 77,
        key: keys[3].public(),
        eth_address: Fr::from(5u64),
    };
    seq.enqueue_l1(dep.clone()).await.unwrap();
    seq.submit(pay(&keys, 2, 3, 10, 0)).await.unwrap();
    seq.submit(pay(&keys, 3, 9, 10, 0)).await.unwrap();
    // Two unproven transactions: the third is turned away.
    match seq.submit(pay(&keys, 2, 3, 10, 1)).await {
        Err(SubmitError::Busy {
            backlog: 2, max: 2, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let b = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.number, b.l1_ops.clone(), b.txs.len()), (1, vec![dep], 2));
    assert_eq!(seq.account(9).unwrap().balance, 87);
    seq.proven(1);
    seq.submit(pay(&keys, 2, 3, 10, 1)).await.unwrap();
    timer.abort();
}
