//! The circuit's size and the witness's cost, printed (ignored by default: run with
//! `cargo test --release -p kiln-batch-circuit --test size -- --ignored --nocapture`).

use std::time::Instant;

use kiln_batch_circuit::{r1cs, shape, witness, Fr};
use kiln_rollup::babyjub::to_biguint;
use kiln_rollup::batch::Batch;
use kiln_rollup::ledger::{Genesis, Ledger};
use kiln_rollup::trace::L1Op;
use kiln_rollup::wallet::{key_from_seed, transfer};
use serde_json::json;

#[test]
#[ignore]
fn constraints_per_slot_and_totals() {
    println!("  N | total      | wires      | per tx slot | per L1 slot | header | fee credits | exit tree | data hash (bytes)");
    for n in [1usize, 4, 16, 64] {
        let s = shape(n).unwrap();
        println!(
            "{n:>3} | {:>10} | {:>10} | {:>11} | {:>11} | {:>6} | {:>11} | {:>9} | {} ({})",
            s.constraints,
            s.wires,
            s.tx_slots[0],
            s.l1_slots[0],
            s.header,
            s.fee_credits,
            s.exit_tree,
            s.data_hash,
            s.data_bytes
        );
        assert!(s.tx_slots.iter().all(|&c| c == s.tx_slots[0]));
    }
    let (a, b) = (shape(16).unwrap(), shape(64).unwrap());
    println!(
        "marginal cost of a transaction slot (16 → 64, with its share of L1 slots, data hash and exit tree): {}",
        (b.constraints - a.constraints) / 48
    );
}

#[test]
#[ignore]
fn witness_time_for_a_full_batch() {
    // KILN_BATCH_N picks another batch size.
    let n: usize = std::env::var("KILN_BATCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let dec = |x: &Fr| to_biguint(x).to_string();
    let accounts: Vec<_> = (1..=2 * n as u32)
        .map(|i| {
            let k = key_from_seed(u64::from(i)).public();
            json!({"index": i, "token": 0, "balance": "1000000000000", "ax": dec(&k.x), "ay": dec(&k.y)})
        })
        .collect();
    let g: Genesis = serde_json::from_value(json!({
        "chain_id": 1, "accounts": accounts, "fee_accounts": [{"token": 0, "index": 1}],
    }))
    .unwrap();
    let mut l = Ledger::from_genesis(&g).unwrap();
    let txs = (0..n as u32)
        .map(|i| {
            let from = 2 + i;
            transfer(
                &key_from_seed(u64::from(from)),
                1,
                from,
                from + n as u32 - 1,
                0,
                1_000,
                5,
                0,
            )
        })
        .collect();
    let k = key_from_seed(99).public();
    let l1_ops = vec![L1Op::Deposit {
        index: 100,
        token: 0,
        amount: 5,
        key: k,
        eth_address: Fr::from(7u64),
    }];
    let t = Instant::now();
    let trace = l
        .execute_batch(
            &Batch {
                number: 1,
                l1_ops,
                txs,
            },
            n,
        )
        .unwrap();
    println!(
        "executing the batch with its state proofs: {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let w = witness(&trace).unwrap();
    println!(
        "witness for N = {n}: {} values in {:?}",
        w.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let r = r1cs(n).unwrap();
    let nnz: usize = r
        .constraints
        .iter()
        .map(|k| k.a.len() + k.b.len() + k.c.len())
        .sum();
    println!(
        "r1cs for N = {n}: {} constraints, {nnz} nonzero coefficients, in {:?}",
        r.constraints.len(),
        t.elapsed()
    );
    let t = Instant::now();
    r.check_witness(&w).unwrap();
    println!("check_witness: {:?}", t.elapsed());
}
