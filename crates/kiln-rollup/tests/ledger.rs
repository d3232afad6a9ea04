//! The ledger's rules, batches and batch data: every refusal changes nothing; fees are
//! credited at batch close; a batch's trace proves each write from the root before it; the
//! data decodes to what was encoded and replays to the same root.

use kiln_rollup::babyjub::Point;
use kiln_rollup::batch::{Batch, BatchError};
use kiln_rollup::batchdata::{data_len, exit_leaf, exit_proof, exit_root, public_input, BatchData};
use kiln_rollup::eddsa::PrivateKey;
use kiln_rollup::intake::{parse_tx, IntakeError, SignedTx};
use kiln_rollup::ledger::{Genesis, L1Outcome, Ledger, TxError};
use kiln_rollup::trace::{L1Op, FEE_SLOTS};
use kiln_rollup::tree::verify_proof;
use kiln_rollup::wallet::{body, genesis_account, key_from_seed, transfer, withdraw};
use kiln_rollup::Fr;
use serde_json::json;

const CHAIN: u64 = 7;

struct World {
    keys: Vec<PrivateKey>,
    ledger: Ledger,
}

/// Accounts 1..=6: 1-3 token 0, 4-5 token 1, 6 token 0 with a huge balance; fee accounts 3
/// (token 0) and 5 (token 1).
fn world() -> World {
    let keys: Vec<PrivateKey> = (0..7).map(key_from_seed).collect();
    let spec = [
        (1, 0, 1_000_000u128),
        (2, 0, 500),
        (3, 0, 0),
        (4, 1, 10_000),
        (5, 1, 0),
        (6, 0, u128::MAX - 10),
    ];
    let accounts: Vec<_> = spec
        .iter()
        .map(|&(i, token, balance)| genesis_account(i, &keys[i as usize].public(), token, balance))
        .collect();
    let g: Genesis = serde_json::from_value(json!({
        "chain_id": CHAIN,
        "accounts": accounts,
        "fee_accounts": [{"token": 0, "index": 3}, {"token": 1, "index": 5}],
    }))
    .unwrap();
    World {
        keys,
        ledger: Ledger::from_genesis(&g).unwrap(),
    }
}

impl World {
    fn pay(&self, from: u32, to: u32, amount: u128, fee: u128) -> SignedTx {
        let a = self.ledger.account(from).unwrap();
        transfer(
            &self.keys[from as usize],
            CHAIN,
            from,
            to,
            a.token,
            amount,
            fee,
            a.nonce,
        )
    }

    fn snapshot(&mut self) -> (Fr, Vec<Option<kiln_rollup::account::Account>>) {
        let root = self.ledger.root();
        (
            root,
            (0..8).map(|i| self.ledger.account(i).cloned()).collect(),
        )
    }

    fn refused(&mut self, s: &SignedTx) -> TxError {
        let before = self.snapshot();
        let err = self.ledger.apply(s).unwrap_err();
        assert_eq!(self.snapshot(), before, "{err} changed the state");
        err
    }
}

#[test]
fn every_refusal_changes_nothing() {
    let mut w = world();
    let good = w.pay(1, 2, 100, 1);
    let mut forged = good.clone();
    forged.tx.amount = 101;
    assert_eq!(w.refused(&forged), TxError::BadSignature(1));
    let mut other = good.clone();
    other.signature = w.keys[2].sign(&good.tx.message());
    assert_eq!(w.refused(&other), TxError::BadSignature(1));
    let future = transfer(&w.keys[1], CHAIN, 1, 2, 0, 100, 1, 1);
    assert!(matches!(
        w.refused(&future),
        TxError::Nonce {
            expected: 0,
            got: 1,
            ..
        }
    ));
    let broke = w.pay(2, 1, 500, 1);
    assert!(matches!(
        w.refused(&broke),
        TxError::Insufficient {
            balance: 500,
            needed: 501,
            ..
        }
    ));
    let sum_overflows = w.pay(2, 1, u128::MAX, 1);
    assert!(matches!(
        w.refused(&sum_overflows),
        TxError::Unencodable(_) | TxError::Insufficient { .. }
    ));
    let wrong_token = w.pay(1, 4, 10, 0);
    assert!(matches!(
        w.refused(&wrong_token),
        TxError::Token {
            account: 4,
            held: 1,
            given: 0
        }
    ));
    let nobody = w.pay(1, 9, 10, 0);
    assert_eq!(w.refused(&nobody), TxError::UnknownReceiver(9));
    let unencodable = w.pay(1, 2, 12_345_678_901, 0);
    assert!(w.refused(&unencodable).to_string().contains("12345678900"));
    let overflow = w.pay(1, 6, 100, 0);
    assert!(matches!(
        w.refused(&overflow),
        TxError::Overflow {
            field: "amount",
            account: 6
        }
    ));
    // Then the good one applies, and its replay is refused.
    w.ledger.apply(&good).unwrap();
    assert!(matches!(
        w.refused(&good),
        TxError::Nonce {
            expected: 1,
            got: 0,
            ..
        }
    ));
}

#[test]
fn fees_are_owed_until_the_batch_closes_and_count_against_overflow() {
    let mut w = world();
    w.ledger.apply(&w.pay(1, 2, 100, 30)).unwrap();
    w.ledger.apply(&w.pay(4, 4, 5, 2)).unwrap(); // a transfer to oneself
    assert_eq!(w.ledger.account(3).unwrap().balance, 0);
    assert_eq!(w.ledger.account(4).unwrap().balance, 10_000 - 2);
    assert_eq!(w.ledger.account(4).unwrap().nonce, 1);
    assert_eq!(w.ledger.close_batch(), vec![(0, 3, 30), (1, 5, 2)]);
    assert_eq!(w.ledger.account(3).unwrap().balance, 30);
    assert_eq!(w.ledger.account(5).unwrap().balance, 2);
    // A fee in a token without a fee account.
    let g: Genesis = serde_json::from_value(json!({"chain_id": CHAIN, "accounts": [
        genesis_account(1, &w.keys[1].public(), 9, 100), genesis_account(2, &w.keys[2].public(), 9, 0)]})).unwrap();
    let mut l = Ledger::from_genesis(&g).unwrap();
    let s = transfer(&w.keys[1], CHAIN, 1, 2, 9, 10, 1, 0);
    assert_eq!(l.apply(&s).unwrap_err(), TxError::NoFeeAccount(9));
}

#[test]
fn l1_operations_create_credit_refund_and_exit() {
    let mut w = world();
    let key = w.keys[6].public();
    let eth = Fr::from(0xabcdu64);
    let dep = |index, token, amount| L1Op::Deposit {
        index,
        token,
        amount,
        key,
        eth_address: eth,
    };
    assert_eq!(w.ledger.apply_l1(&dep(100, 0, 50)), L1Outcome::Created);
    assert_eq!(w.ledger.apply_l1(&dep(100, 0, 25)), L1Outcome::Credited);
    assert_eq!(w.ledger.account(100).unwrap().balance, 75);
    assert!(matches!(
        w.ledger.apply_l1(&dep(100, 1, 5)),
        L1Outcome::Refunded(_)
    ));
    assert!(matches!(
        w.ledger.apply_l1(&dep(6, 0, 11)),
        L1Outcome::Refunded(_)
    ));
    assert!(matches!(
        w.ledger.apply_l1(&dep(0, 0, 11)),
        L1Outcome::Refunded(_)
    ));
    let stranger = L1Op::ForcedExit {
        index: 100,
        eth_address: Fr::from(1u64),
    };
    assert_eq!(w.ledger.apply_l1(&stranger), L1Outcome::Ignored);
    let owner = L1Op::ForcedExit {
        index: 100,
        eth_address: eth,
    };
    let L1Outcome::Exited(e) = w.ledger.apply_l1(&owner) else {
        panic!("no exit")
    };
    assert_eq!((e.amount, e.token, e.to), (75, 0, eth));
    assert_eq!(w.ledger.account(100).unwrap().balance, 0);
}

#[test]
fn a_fifth_fee_token_waits_for_the_next_batch() {
    let keys: Vec<PrivateKey> = (0..12).map(key_from_seed).collect();
    let accounts: Vec<_> = (1..=10u32)
        .map(|i| genesis_account(i, &keys[i as usize].public(), (i - 1) / 2, 1000))
        .collect();
    let fee_accounts: Vec<_> = (0..5u32)
        .map(|t| json!({"token": t, "index": 2 * t + 2}))
        .collect();
    let g: Genesis = serde_json::from_value(
        json!({"chain_id": CHAIN, "accounts": accounts, "fee_accounts": fee_accounts}),
    )
    .unwrap();
    let mut l = Ledger::from_genesis(&g).unwrap();
    for t in 0..FEE_SLOTS as u32 {
        let from = 2 * t + 1;
        l.apply(&transfer(
            &keys[from as usize],
            CHAIN,
            from,
            from + 1,
            t,
            1,
            1,
            0,
        ))
        .unwrap();
    }
    let fifth = transfer(&keys[9], CHAIN, 9, 10, 4, 1, 1, 0);
    assert_eq!(l.apply(&fifth).unwrap_err(), TxError::FeeSlotsFull);
    l.close_batch();
    l.apply(&fifth).unwrap();
}

fn check_trace_chain(trace: &kiln_rollup::trace::BatchTrace) {
    let mut root = trace.old_root;
    let touches = trace
        .l1
        .iter()
        .map(|s| &s.touch)
        .chain(trace.txs.iter().flat_map(|s| [&s.sender, &s.receiver]))
        .chain(trace.fees.iter().map(|s| &s.touch));
    for t in touches {
        let leaf = |a: &Option<kiln_rollup::account::Account>| {
            a.as_ref().map_or(Fr::from(0u64), |a| a.leaf())
        };
        assert!(
            verify_proof(&root, t.index, &leaf(&t.before), &t.proof),
            "write at {} does not start from the root",
            t.index
        );
        // The root after: the same path with the new leaf.
        let mut running = leaf(&t.after);
        for (k, group) in t.proof.iter().enumerate() {
            let mut g = *group;
            g[((t.index >> (2 * k)) & 3) as usize] = running;
            running = kiln_rollup::poseidon::hash_n(g);
        }
        root = running;
    }
    assert_eq!(root, trace.new_root);
}

#[test]
fn a_batch_traces_every_write_and_its_data_replays_to_the_same_root() {
    let mut w = world();
    let genesis = w.ledger.clone();
    let eth = Fr::from(9u64);
    let l1_ops = vec![L1Op::Deposit {
        index: 50,
        token: 0,
        amount: 1000,
        key: w.keys[6].public(),
        eth_address: eth,
    }];
    // The sequencer's pending state: L1 operations first, then transactions as they come.
    for op in &l1_ops {
        w.ledger.apply_l1(op);
    }
    let mut txs = Vec::new();
    for k in 0..5 {
        let s = match k {
            0 => w.pay(1, 2, 100, 3),
            1 => w.pay(4, 4, 7, 1),
            2 => w.pay(2, 2, 1, 0),
            3 => withdraw(&w.keys[6], CHAIN, 50, Fr::from(0x1234u64), 0, 10, 2, 0),
            _ => w.pay(1, 50, 5, 0),
        };
        w.ledger.apply(&s).unwrap();
        txs.push(s);
    }
    w.ledger.close_batch();
    let pending_root = w.ledger.root();

    let batch = Batch {
        number: 1,
        l1_ops: l1_ops.clone(),
        txs: txs.clone(),
    };
    let mut base = genesis.clone();
    let trace = base.execute_batch(&batch, 8).unwrap();
    assert_eq!(trace.new_root, pending_root);
    assert_eq!(base.root(), pending_root);
    // Recording without a trace (a node that does not prove) keeps the same roots, data
    // and public input, and ends in the same state (withdrawal exit included).
    let mut untraced = genesis.clone();
    let record = untraced.record_batch(&batch, 8).unwrap();
    assert_eq!(
        (record.old_root, record.new_root, record.exit_root),
        (trace.old_root, trace.new_root, trace.exit_root)
    );
    // 9 exit slots make a tree of 16 leaves: two levels over the empty ones.
    assert_ne!(record.exit_root, kiln_rollup::tree::empty_hashes()[2]);
    assert_eq!(
        (&record.data, record.public_input),
        (&trace.data, trace.public_input)
    );
    assert_eq!(untraced.root(), pending_root);
    check_trace_chain(&trace);
    assert_eq!(trace.txs.len(), 8);
    assert_eq!(trace.l1.len(), 1);
    assert_eq!(
        trace
            .fees
            .iter()
            .map(|f| (f.index, f.total))
            .collect::<Vec<_>>(),
        vec![(3, 5), (5, 1), (0, 0), (0, 0)]
    );
    assert_eq!(trace.data.len(), data_len(8));
    assert_eq!(
        trace.data.len() - data_len(7),
        12,
        "a transfer slot is 12 bytes"
    );
    assert_eq!(trace.public_input, public_input(&trace.data));

    // The exit list: the withdrawal in transaction slot 3 (exit position 1 + 3).
    let leaves: Vec<Fr> = trace
        .l1
        .iter()
        .map(|s| exit_leaf(s.exit.as_ref()))
        .chain(trace.txs.iter().map(|s| exit_leaf(s.exit.as_ref())))
        .collect();
    assert_eq!(exit_root(&leaves), trace.exit_root);
    let exit = trace.txs[3].exit.as_ref().unwrap();
    assert_eq!((exit.to, exit.amount), (Fr::from(0x1234u64), 10));
    let proof = exit_proof(&leaves, 4);
    let mut running = leaves[4];
    for (k, group) in proof.iter().enumerate() {
        assert_eq!(group[(4 >> (2 * k)) & 3], running);
        running = kiln_rollup::poseidon::hash_n(*group);
    }
    assert_eq!(running, trace.exit_root);

    // The data decodes and replays to the same root; a tampered claim does not.
    let data = BatchData::decode(&trace.data).unwrap();
    assert_eq!(data.encode().unwrap(), trace.data);
    assert_eq!(
        (
            data.txs[0].from,
            data.txs[0].to,
            data.txs[0].amount,
            data.txs[0].fee
        ),
        (1, 2, 100, 3)
    );
    assert_eq!((data.txs[3].from, data.txs[3].to), (50, 0));
    let mut replayed = genesis.clone();
    replayed.replay_data(&data).unwrap();
    assert_eq!(replayed.root(), pending_root);
    let mut wrong = data.clone();
    wrong.txs[0].amount = 99;
    assert!(matches!(
        genesis.clone().replay_data(&wrong),
        Err(BatchError::Replay { .. })
    ));
    assert!(BatchData::decode(&trace.data[1..]).is_err());

    // A batch the state refuses, and one too large for the circuit.
    let mut forged = batch.clone();
    forged.txs[1].tx.amount += 1;
    assert!(matches!(
        genesis.clone().execute_batch(&forged, 8),
        Err(BatchError::Tx {
            slot: 1,
            source: TxError::BadSignature(4)
        })
    ));
    assert!(matches!(
        genesis.clone().execute_batch(&batch, 4),
        Err(BatchError::TooManyTxs { got: 5, max: 4 })
    ));
}

#[test]
fn intake_names_the_field_that_is_wrong() {
    let w = world();
    let good = body(&w.pay(1, 2, 100, 1));
    let parsed = parse_tx(good.to_string().as_bytes(), CHAIN).unwrap();
    assert_eq!(parsed, w.pay(1, 2, 100, 1));
    let field_of = |v: serde_json::Value| match parse_tx(v.to_string().as_bytes(), CHAIN) {
        Err(IntakeError::Field { field, .. }) => field,
        other => panic!("{v}: {other:?}"),
    };
    let with = |path: &[&str], value: serde_json::Value| {
        let mut v = good.clone();
        let mut at = &mut v;
        for p in &path[..path.len() - 1] {
            at = &mut at[*p];
        }
        at.as_object_mut()
            .unwrap()
            .insert(path[path.len() - 1].to_string(), value);
        v
    };
    let without = |field: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        v
    };
    assert_eq!(field_of(with(&["type"], json!("mint"))), "type");
    assert_eq!(field_of(with(&["chain_id"], json!(8))), "chain_id");
    assert_eq!(field_of(with(&["from"], json!(0))), "from");
    assert_eq!(field_of(with(&["to"], json!(1u64 << 24))), "to");
    assert_eq!(field_of(with(&["amount"], json!("-1"))), "amount");
    assert_eq!(field_of(with(&["amount"], json!("1e5"))), "amount");
    assert_eq!(field_of(with(&["fee"], json!(1.5))), "fee");
    assert_eq!(field_of(with(&["nonce"], json!("x"))), "nonce");
    assert_eq!(field_of(with(&["token"], json!(1u64 << 32))), "token");
    assert_eq!(
        field_of(with(&["signature", "S"], json!("12a"))),
        "signature.S"
    );
    assert_eq!(
        field_of(with(
            &["signature", "R8x"],
            json!("21888242871839275222246405745257275088548364400416034343698204186575808495617")
        )),
        "signature.R8x"
    );
    for f in [
        "type",
        "from",
        "to",
        "token",
        "amount",
        "fee",
        "nonce",
        "signature",
    ] {
        assert_eq!(field_of(without(f)), f);
    }
    assert!(matches!(
        parse_tx(b"{not json", CHAIN),
        Err(IntakeError::Json(_))
    ));
    assert!(matches!(parse_tx(b"[1]", CHAIN), Err(IntakeError::Json(_))));
    // A withdrawal's `to` is an address, in decimal or hex; 161 bits is not.
    let wd = body(&withdraw(
        &w.keys[1],
        CHAIN,
        1,
        Fr::from(0xbeefu64),
        0,
        5,
        0,
        0,
    ));
    let mut hex = wd.clone();
    hex["to"] = json!("0xbeef");
    assert_eq!(
        parse_tx(hex.to_string().as_bytes(), CHAIN).unwrap(),
        parse_tx(wd.to_string().as_bytes(), CHAIN).unwrap()
    );
    hex["to"] = json!(format!("0x1{}", "0".repeat(40)));
    assert_eq!(field_of(hex), "to");
    let _ = Point::IDENTITY;
}

#[test]
fn signatures_checked_together_agree_with_one_at_a_time() {
    use kiln_rollup::babyjub::PointTable;
    use kiln_rollup::ledger::{check_signature_with, check_signatures};
    let keys: Vec<PrivateKey> = (0..4).map(key_from_seed).collect();
    let public: Vec<Point> = keys.iter().map(PrivateKey::public).collect();
    let tables: Vec<PointTable> = public.iter().map(PointTable::new).collect();
    // Eleven transactions (more than one group of eight lanes): valid ones, a tampered
    // amount, and one checked against another account's key.
    let mut txs: Vec<SignedTx> = (0..11u64)
        .map(|n| {
            transfer(
                &keys[(n % 4) as usize],
                CHAIN,
                (n % 4) as u32,
                9,
                0,
                5 + n as u128,
                1,
                n,
            )
        })
        .collect();
    txs[3].tx.amount += 1;
    let key_of = |k: usize| {
        if k == 6 {
            &public[(k + 1) % 4]
        } else {
            &public[k % 4]
        }
    };
    let items: Vec<_> = txs
        .iter()
        .enumerate()
        .map(|(k, s)| {
            (
                key_of(k),
                (k % 2 == 0).then(|| &tables[k % 4]).filter(|_| k != 6),
                s,
            )
        })
        .collect();
    let together = check_signatures(&items);
    for (k, s) in txs.iter().enumerate() {
        let alone = check_signature_with(key_of(k), s);
        assert_eq!(together[k], alone, "transaction {k}");
        assert_eq!(alone.is_ok(), k != 3 && k != 6, "transaction {k}");
    }
    assert!(check_signatures(&[]).is_empty());
}
