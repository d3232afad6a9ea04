//! The batch circuit end to end on batches that kiln-rollup's ledger executes: valid
//! batches satisfy it (and its R1CS, through `check_witness`) with the trace's public input;
//! every tampered trace is refused, named by the constraint it breaks.

use std::sync::OnceLock;

use kiln_algebra::curve::Bn254;
use kiln_batch_circuit::{r1cs, witness, CircuitError, Fr};
use kiln_formats::r1cs::R1cs;
use kiln_rollup::babyjub::to_biguint;
use kiln_rollup::batch::Batch;
use kiln_rollup::batchdata::{public_input, HEADER_BYTES, L1_RECORD_BYTES};
use kiln_rollup::intake::SignedTx;
use kiln_rollup::ledger::{Genesis, Ledger};
use kiln_rollup::trace::{BatchTrace, L1Op};
use kiln_rollup::wallet::{key_from_seed, sign, transfer, withdraw};
use serde_json::json;

const CHAIN: u64 = 7;
/// Transaction slots of the batches here (one L1 slot).
const N: usize = 2;
const BIG: u128 = u128::MAX - 10;

fn dec(x: &Fr) -> String {
    to_biguint(x).to_string()
}

/// Accounts 1, 2 (token 0), 3 (token 1), 4 (token 0, nearly 2^128), fee accounts 10
/// (token 0) and 11 (token 1). Account 1 is owned on L1 by 0x1111.
fn genesis() -> Ledger {
    let acc = |index: u32, token: u32, balance: u128, eth: u64| {
        let key = key_from_seed(u64::from(index)).public();
        json!({"index": index, "token": token, "balance": balance.to_string(),
               "ax": dec(&key.x), "ay": dec(&key.y), "eth_address": eth.to_string()})
    };
    let g: Genesis = serde_json::from_value(json!({
        "chain_id": CHAIN,
        "accounts": [
            acc(1, 0, 1_000_000_000_000_000_000, 0x1111),
            acc(2, 0, 500_000_000_000_000_000, 0),
            acc(3, 1, 1_000, 0),
            acc(4, 0, BIG, 0),
            acc(10, 0, 0, 0),
            acc(11, 1, 0, 0),
        ],
        "fee_accounts": [{"token": 0, "index": 10}, {"token": 1, "index": 11}],
    }))
    .unwrap();
    Ledger::from_genesis(&g).unwrap()
}

fn key(index: u32) -> kiln_rollup::eddsa::PrivateKey {
    key_from_seed(u64::from(index))
}

fn send(from: u32, to: u32, token: u32, amount: u128, fee: u128, nonce: u64) -> SignedTx {
    transfer(&key(from), CHAIN, from, to, token, amount, fee, nonce)
}

fn deposit(index: u32, token: u32, amount: u128, eth: u64) -> L1Op {
    L1Op::Deposit {
        index,
        token,
        amount,
        key: key(index).public(),
        eth_address: Fr::from(eth),
    }
}

fn execute(ledger: &mut Ledger, number: u64, l1_ops: Vec<L1Op>, txs: Vec<SignedTx>) -> BatchTrace {
    ledger
        .execute_batch(
            &Batch {
                number,
                l1_ops,
                txs,
            },
            N,
        )
        .unwrap()
}

fn circuit() -> &'static R1cs<Bn254> {
    static R: OnceLock<R1cs<Bn254>> = OnceLock::new();
    R.get_or_init(|| r1cs(N).unwrap())
}

fn assert_valid(t: &BatchTrace) {
    let w = witness(t).unwrap_or_else(|e| panic!("batch {}: {e}", t.number));
    assert_eq!(w[1], t.public_input);
    circuit().check_witness(&w).unwrap();
}

/// The failure's path, asserting it is one.
fn refused(t: &BatchTrace) -> String {
    match witness(t) {
        Err(CircuitError::Unsatisfied(path)) => path,
        Err(e) => panic!("expected an unsatisfied constraint, got: {e}"),
        Ok(_) => panic!("a tampered batch satisfied the circuit"),
    }
}

fn reseal(t: &mut BatchTrace) {
    t.public_input = public_input(&t.data);
}

/// Batch 1: a deposit creating account 20, a transfer 1 → 2 with a fee, a withdrawal from 2.
fn first_batch(ledger: &mut Ledger) -> BatchTrace {
    execute(
        ledger,
        1,
        vec![deposit(20, 0, 5_000, 0x20)],
        vec![
            send(1, 2, 0, 1_000, 10, 0),
            withdraw(&key(2), CHAIN, 2, Fr::from(0xabcu64), 0, 300, 0, 0),
        ],
    )
}

#[test]
fn valid_batches_satisfy_the_circuit() {
    let mut l = genesis();
    let t1 = first_batch(&mut l);
    assert!(t1.txs[1].exit.is_some());
    assert_valid(&t1);
    // A deposit crediting account 1; a transfer to oneself with a fee in token 1; a no-op.
    let t2 = execute(
        &mut l,
        2,
        vec![deposit(1, 0, 777, 0x1111)],
        vec![send(3, 3, 1, 5, 1, 0)],
    );
    assert_valid(&t2);
    // A refunded deposit (token 0 into token 1's account 3); the new account 20 sends.
    let t3 = execute(
        &mut l,
        3,
        vec![deposit(3, 0, 50, 0x33)],
        vec![send(20, 1, 0, 100, 0, 0)],
    );
    assert!(t3.l1[0].exit.is_some());
    assert_valid(&t3);
    // A forced exit of account 1 by its owner; fees in two tokens.
    let t4 = execute(
        &mut l,
        4,
        vec![L1Op::ForcedExit {
            index: 1,
            eth_address: Fr::from(0x1111u64),
        }],
        vec![send(2, 20, 0, 7, 3, 1), send(3, 11, 1, 2, 1, 1)],
    );
    assert!(t4.l1[0].exit.is_some() && l.account(1).unwrap().balance == 0);
    assert_valid(&t4);
    // A forced exit by someone who does not own the account does nothing; a deposit to
    // index 0 is refunded. An empty batch.
    let t5 = execute(
        &mut l,
        5,
        vec![L1Op::ForcedExit {
            index: 2,
            eth_address: Fr::from(0x1111u64),
        }],
        vec![],
    );
    assert!(t5.l1[0].exit.is_none());
    assert_valid(&t5);
    let t6 = execute(&mut l, 6, vec![deposit(0, 0, 9, 0x99)], vec![]);
    assert!(t6.l1[0].exit.is_some());
    assert_valid(&t6);
    let t7 = execute(&mut l, 7, vec![], vec![]);
    assert_valid(&t7);
}

#[test]
fn a_trace_without_the_reads_of_l1_accounts_is_named() {
    let mut l = genesis();
    let t = l
        .execute_batch(
            &Batch {
                number: 1,
                l1_ops: vec![deposit(3, 0, 50, 0x33)],
                txs: vec![],
            },
            N,
        )
        .unwrap();
    if t.l1[0].touch.index != 3 {
        let e = witness(&t).unwrap_err().to_string();
        assert!(e.contains("must record a read of its index"), "{e}");
    }
}

#[test]
fn forged_signatures_and_wrong_nonces_are_refused() {
    let mut l = genesis();
    let t = first_batch(&mut l);
    // Another key's signature of the same transaction.
    let mut bad = t.clone();
    let s = bad.txs[0].tx.as_mut().unwrap();
    s.signature = key(2).sign(&s.tx.message());
    assert!(
        refused(&bad).starts_with("tx slot 0: signature"),
        "{}",
        refused(&bad)
    );
    // A signature of a transaction with the next nonce.
    let mut bad = t.clone();
    bad.txs[0].tx = Some(send(1, 2, 0, 1_000, 10, 1));
    assert!(refused(&bad).starts_with("tx slot 0: signature"));
    // A signature of another amount.
    let mut bad = t.clone();
    let s = bad.txs[1].tx.as_mut().unwrap();
    let mut other = s.tx.clone();
    other.amount += 1;
    s.signature = sign(&key(2), other).signature;
    assert!(refused(&bad).starts_with("tx slot 1: signature"));
}

#[test]
fn balances_are_range_checked() {
    let mut l = genesis();
    // Amount + fee above the balance (re-signed, so only the balance is wrong).
    let t = first_batch(&mut l);
    let mut bad = t.clone();
    bad.txs[0].tx = Some(send(1, 2, 0, 2_000_000_000_000_000_000, 10, 0));
    let p = refused(&bad);
    assert!(
        p.starts_with("tx slot 0: sender: new balance range check"),
        "{p}"
    );
    // A credit past 2^128 − 1: account 4 holds 2^128 − 11; 5 fits, 100 does not.
    let mut l = genesis();
    let t = execute(&mut l, 1, vec![], vec![send(1, 4, 0, 5, 0, 0)]);
    assert_valid(&t);
    let mut bad = t.clone();
    bad.txs[0].tx = Some(send(1, 4, 0, 100, 0, 0));
    let p = refused(&bad);
    assert!(
        p.starts_with("tx slot 0: receiver: new balance range check"),
        "{p}"
    );
}

#[test]
fn tokens_must_match() {
    let mut l = genesis();
    let t = first_batch(&mut l);
    // 1 (token 0) → 3 (token 1), signed; the receiver read is account 3's.
    let mut bad = t.clone();
    bad.txs[0].tx = Some(send(1, 3, 0, 1_000, 10, 0));
    bad.txs[0].receiver.index = 3;
    bad.txs[0].receiver.before = genesis().account(3).cloned();
    let p = refused(&bad);
    assert!(p.starts_with("tx slot 0: receiver: same token"), "{p}");
    // A transaction signed for token 1 from a token-0 account.
    let mut bad = t.clone();
    bad.txs[0].tx = Some(send(1, 2, 1, 1_000, 10, 0));
    assert!(refused(&bad).starts_with("tx slot 0: signature"));
}

#[test]
fn states_and_data_that_differ_from_the_circuits_are_refused() {
    let mut l = genesis();
    let t = first_batch(&mut l);
    // A wrong new root, exit root or transaction record in the data (resealed, so the
    // public input is the data's hash): the circuit hashes its own data.
    for (at, what) in [
        (HEADER_BYTES - 64 + 31, "new root"),
        (HEADER_BYTES - 1, "exit root"),
        (HEADER_BYTES + L1_RECORD_BYTES + 12 + 11, "tx record"),
    ] {
        let mut bad = t.clone();
        bad.data[at] ^= 1;
        reseal(&mut bad);
        let p = refused(&bad);
        assert!(
            p.starts_with("public input = sha256(batch data) mod r"),
            "{what}: {p}"
        );
    }
    // A public input that is not the data's.
    let mut bad = t.clone();
    bad.public_input += Fr::from(1u64);
    assert!(refused(&bad).starts_with("public input"));
    // A sender whose state is not the tree's.
    let mut bad = t.clone();
    bad.txs[0].sender.before.as_mut().unwrap().balance += 1;
    let p = refused(&bad);
    assert!(p.starts_with("tx slot 0: sender: state proof"), "{p}");
    // A deposit that claims to create an account that exists.
    let mut l = genesis();
    let mut bad = execute(&mut l, 1, vec![deposit(2, 0, 5, 0x20)], vec![]);
    bad.l1[0].touch.before = None;
    let p = refused(&bad);
    assert!(p.starts_with("L1 slot 0: state proof"), "{p}");
    // A forced exit by someone else, traced as if it took the balance.
    let mut l = genesis();
    let mut bad = execute(
        &mut l,
        1,
        vec![L1Op::ForcedExit {
            index: 1,
            eth_address: Fr::from(0x1111u64),
        }],
        vec![],
    );
    bad.l1[0].op = Some(L1Op::ForcedExit {
        index: 1,
        eth_address: Fr::from(0x2222u64),
    });
    let at = HEADER_BYTES + 24;
    bad.data[at..at + 20].copy_from_slice(&{
        let mut b = [0u8; 20];
        b[18..].copy_from_slice(&0x2222u16.to_be_bytes());
        b
    });
    reseal(&mut bad);
    let p = refused(&bad);
    assert!(p.starts_with("public input"), "{p}");
}

#[test]
fn fees_go_to_the_one_fee_slot_of_their_token() {
    let mut l = genesis();
    let t = first_batch(&mut l);
    assert_eq!(
        (t.fees[0].index, t.fees[0].token, t.fees[0].total),
        (10, 0, 10)
    );
    // The slot claims another token: the fee has no slot.
    let mut bad = t.clone();
    bad.fees[0].token = 1;
    let p = refused(&bad);
    assert!(p.starts_with("tx slot 0: fee: exactly one fee slot"), "{p}");
    // Two slots of the same token.
    let mut bad = t.clone();
    bad.fees[1].index = 10;
    bad.fees[1].token = 0;
    assert!(refused(&bad).starts_with("tx slot 0: fee: exactly one fee slot"));
    // The slot's account holds another token.
    let mut bad = t.clone();
    bad.fees[0].index = 11;
    bad.fees[0].touch.before = genesis().account(11).cloned();
    let p = refused(&bad);
    assert!(
        p.starts_with("fee slot 0: credit: account holds the slot's token"),
        "{p}"
    );
}

#[test]
fn the_r1cs_is_deterministic_and_round_trips() {
    let a = r1cs(1).unwrap();
    let b = r1cs(1).unwrap();
    assert!(a == b);
    assert_eq!((a.n_pub_in, a.n_pub_out, a.n_public()), (1, 0, 1));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("batch1.r1cs");
    kiln_batch_circuit::write_r1cs(&p, &a).unwrap();
    let back = kiln_formats::r1cs::read_r1cs::<Bn254>(&p).unwrap();
    assert!(back == a);
    let shape = kiln_batch_circuit::shape(1).unwrap();
    assert_eq!(
        (shape.constraints, shape.wires),
        (a.constraints.len(), a.n_wires)
    );
}
