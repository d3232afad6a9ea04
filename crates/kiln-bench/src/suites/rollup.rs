//! The `rollup` suite: the appliance's own rollup at 2^size transfers per batch
//! (`--batch-sizes`). For each batch size a full batch of signed transfers is made with
//! kiln's wallet, executed on a development genesis, and its witness computed natively
//! (every constraint of the batch circuit checked); then two operations:
//!
//! - `rollup-prove`: the batch proven with a development key of the batch circuit (made
//!   in-process, written as a zkey and read back as the prover reads keys) on every
//!   device's default variant, against the CPU backend in-process on the same key and
//!   witness (the `prove` suite's baseline). Every proof passes its pairing check before the
//!   prover releases it, and the witness's public input is the batch data's hash.
//! - `rollup-sigcheck`: the batch's 2^size signatures checked as the sequencer checks them
//!   ([`check_signatures`]: groups of [`GROUP`], messages and challenges hashed together,
//!   with the senders' key tables, built beforehand as the sequencer keeps them), on
//!   `cpu:0` only (skipped when the run has no `cpu:0`), against bare EdDSA-Poseidon
//!   verification one signature at a time ([`SIGCHECK_BASELINE`]); both on every core.
//!   Every valid signature must be accepted.
//!
//! The native witness computation is not measured: it has no in-process baseline to stand
//! beside (the batch circuit is kiln's own, not a circom circuit with a witness calculator).

use std::path::Path;

use kiln_device::{DeviceError, DeviceKind};
use kiln_rollup::babyjub::{Point, PointTable};
use kiln_rollup::batch::Batch;
use kiln_rollup::intake::SignedTx;
use kiln_rollup::ledger::{check_signatures, Genesis, Ledger, SignatureCheck};
use kiln_rollup::trace::BatchTrace;
use kiln_rollup::wallet::{genesis_account, key_from_seed, transfer};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::devices::BenchDevice;
use crate::measure::{Contender, Ctx};
use crate::spec::Suite;
use crate::suites::prove;
use crate::BenchError;

/// The largest batch size (log2 of its transfers): 4096 transfers, the most a batch takes
/// (the rollup contract's limit, and `kiln serve --rollup-max-batch-size`'s).
pub const MAX_BATCH_LOG: u32 = 12;

/// Signatures checked together, as the sequencer groups them (`kiln_sequencer`'s
/// `MAX_GROUP`).
pub const GROUP: usize = 64;

/// The signature check's baseline in reports.
pub const SIGCHECK_BASELINE: &str = "EdDSA-Poseidon verify, one signature at a time";

/// The batch circuit's constraints are at most `BASE + n·PER_TRANSFER` for n transfers
/// (170,197 for one; 7,887,627 for 256): the header, fee credits and SHA-256 rounds of
/// every batch ...
const BASE_CONSTRAINTS: u64 = 151_000;

/// ... and per transfer its slot, its 12 bytes of batch data through SHA-256, its share of
/// an L1 slot and of the exit tree (about 30,500 in large batches).
const PER_TRANSFER_CONSTRAINTS: u64 = 30_600;

/// The development rollup's chain id.
const CHAIN: u64 = 7;

/// An estimate, from above, of the batch circuit's constraints at 2^`batch_log` transfers
/// (synthesizing the circuit to count them takes as long as making its witness).
pub fn constraints_estimate(batch_log: u32) -> u64 {
    let n = 1u64 << batch_log.min(63);
    BASE_CONSTRAINTS.saturating_add(n.saturating_mul(PER_TRANSFER_CONSTRAINTS))
}

/// log2 of the proof domain of a batch of 2^`batch_log` transfers, from
/// [`constraints_estimate`] (constraints + 1 public input + 1 ≤ domain).
pub fn domain_log_estimate(batch_log: u32) -> u32 {
    let needed = constraints_estimate(batch_log).saturating_add(2);
    needed
        .checked_next_power_of_two()
        .map_or(64, u64::trailing_zeros)
}

/// A full batch of signed transfers, executed.
pub struct FullBatch {
    /// The transfers, senders 1..=n to n+1..=2n, each with a fee of 1.
    pub txs: Vec<SignedTx>,
    /// Each transfer's sender key, in the same order.
    pub keys: Vec<Point>,
    /// The executed batch, slot by slot, as the circuit reads it.
    pub trace: BatchTrace,
}

/// Makes and executes a full batch of `n` transfers on a development genesis (accounts 1
/// to 2n, and 2n+1 collecting the fees); `bench/rollup_prove.rs` proves the same batches.
pub fn full_batch(n: usize) -> Result<FullBatch, BenchError> {
    let bad =
        |what: String| BenchError::Mismatch(format!("rollup 2^{}: {what}", n.trailing_zeros()));
    let n32 = u32::try_from(n).map_err(|_| bad(format!("{n} transfers do not fit a batch")))?;
    let fee_index = 2 * n32 + 1;
    let accounts: Vec<serde_json::Value> = (1..=fee_index)
        .into_par_iter()
        .map(|i| genesis_account(i, &key_from_seed(u64::from(i)).public(), 0, 1_000_000))
        .collect();
    let genesis: Genesis = serde_json::from_value(serde_json::json!({
        "chain_id": CHAIN,
        "accounts": accounts,
        "fee_accounts": [{"token": 0, "index": fee_index}],
    }))
    .map_err(|e| bad(format!("the development genesis does not parse: {e}")))?;
    let mut ledger = Ledger::from_genesis(&genesis).map_err(|e| bad(e.to_string()))?;
    let (txs, keys): (Vec<SignedTx>, Vec<Point>) = (1..=n32)
        .into_par_iter()
        .map(|i| {
            let key = key_from_seed(u64::from(i));
            (
                transfer(&key, CHAIN, i, i + n32, 0, 1000, 1, 0),
                key.public(),
            )
        })
        .unzip();
    let trace = ledger
        .execute_batch(
            &Batch {
                number: 1,
                l1_ops: vec![],
                txs: txs.clone(),
            },
            n,
        )
        .map_err(|e| bad(format!("the batch does not execute: {e}")))?;
    Ok(FullBatch { txs, keys, trace })
}

/// Runs the suite over `batch_logs` (log2 of the transfers per batch).
pub fn run(
    ctx: &mut Ctx<'_>,
    devices: &[BenchDevice],
    batch_logs: &[u32],
) -> Result<(), BenchError> {
    let dir = prove::temp_dir()?;
    let cpu = devices
        .iter()
        .find(|d| d.spec.kind == DeviceKind::Cpu && d.spec.index == 0);
    if cpu.is_none() {
        ctx.table.note(
            ctx.progress,
            "rollup-sigcheck: not measured, cpu:0 is not in the run (the sequencer checks signatures on the CPU)",
        );
    }
    for &log in batch_logs {
        let n = 1usize << log;
        ctx.progress.set_message(format!(
            "rollup 2^{log}: signing and executing a batch of {n} transfers"
        ));
        let batch = full_batch(n)?;
        measure_prove(ctx, devices, log, &batch, dir.path())?;
        if let Some(cpu) = cpu {
            measure_sigcheck(ctx, cpu, log, &batch)?;
        }
    }
    Ok(())
}

/// `rollup-prove` at 2^`log` transfers.
fn measure_prove(
    ctx: &mut Ctx<'_>,
    devices: &[BenchDevice],
    log: u32,
    batch: &FullBatch,
    dir: &Path,
) -> Result<(), BenchError> {
    let n = 1usize << log;
    let bad = |what: String| BenchError::Mismatch(format!("rollup-prove 2^{log}: {what}"));
    ctx.progress.set_message(format!(
        "rollup-prove 2^{log}: the batch's witness and circuit"
    ));
    let witness = kiln_batch_circuit::witness(&batch.trace)
        .map_err(|e| bad(format!("the batch has no witness: {e}")))?;
    if witness.get(1) != Some(&batch.trace.public_input) {
        return Err(bad(
            "the witness's public input is not the hash of the batch data".into(),
        ));
    }
    let r1cs = kiln_batch_circuit::r1cs(n).map_err(|e| bad(e.to_string()))?;
    ctx.progress.set_message(format!(
        "rollup-prove 2^{log}: a development key for {} constraints",
        r1cs.constraints.len()
    ));
    let mut rng = ChaCha20Rng::seed_from_u64(0x726f_6c6c ^ u64::from(log) << 8);
    let contents = kiln_groth16::setup(&r1cs, &mut rng)
        .map_err(|e| BenchError::BadArgument(format!("rollup-prove 2^{log}: setup: {e}")))?;
    drop(r1cs);
    let path = dir.join(format!("batch-{log}.zkey"));
    let zkey = prove::write_and_open_zkey(&path, &contents)?;
    drop(contents);
    let measured = prove::measure_proofs(
        ctx,
        Suite::Rollup,
        "rollup-prove",
        log,
        devices,
        &zkey,
        &witness,
    );
    drop(zkey);
    let _ = std::fs::remove_file(&path);
    measured
}

/// `rollup-sigcheck` at 2^`log` signatures, on `cpu` (the run's `cpu:0`).
fn measure_sigcheck(
    ctx: &mut Ctx<'_>,
    cpu: &BenchDevice,
    log: u32,
    batch: &FullBatch,
) -> Result<(), BenchError> {
    let n = batch.txs.len();
    ctx.progress
        .set_message(format!("rollup-sigcheck 2^{log}: the senders' key tables"));
    let tables: Vec<PointTable> = batch.keys.par_iter().map(PointTable::new).collect();
    let items: Vec<SignatureCheck<'_>> = batch
        .keys
        .iter()
        .zip(&tables)
        .zip(&batch.txs)
        .map(|((key, table), tx)| (key, Some(table), tx))
        .collect();
    let bare = || -> Vec<bool> {
        batch
            .txs
            .par_iter()
            .zip(&batch.keys)
            .map(|(s, key)| kiln_rollup::eddsa::verify(&s.tx.message(), &s.signature, key))
            .collect()
    };
    let accepted = bare().iter().filter(|ok| **ok).count();
    if accepted != n {
        return Err(BenchError::Mismatch(format!(
            "rollup-sigcheck 2^{log}: bare verification accepts {accepted} of {n} valid signatures"
        )));
    }
    let spec = cpu.spec;
    let items = &items;
    let grouped = move || -> Result<Vec<bool>, DeviceError> {
        let ok: Vec<bool> = items
            .par_chunks(GROUP)
            .flat_map_iter(|group| check_signatures(group).into_iter().map(|r| r.is_ok()))
            .collect();
        let accepted = ok.iter().filter(|ok| **ok).count();
        if accepted != n {
            return Err(DeviceError::Backend {
                spec,
                message: format!("the grouped check accepts {accepted} of {n} valid signatures"),
            });
        }
        Ok(ok)
    };
    ctx.measure(
        Suite::Rollup,
        "rollup-sigcheck",
        log,
        log,
        SIGCHECK_BASELINE,
        bare,
        vec![Contender {
            device: cpu,
            variant: cpu.default_variant(),
            run: Box::new(grouped),
        }],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The capacity check's estimate bounds the real circuit from above, closely.
    #[test]
    fn the_constraint_estimate_bounds_the_batch_circuit() {
        for log in 0..=5 {
            let real = kiln_batch_circuit::shape(1 << log).unwrap().constraints as u64;
            let est = constraints_estimate(log);
            assert!(est >= real, "2^{log}: estimate {est} < {real}");
            assert!(est * 100 <= real * 115, "2^{log}: estimate {est} ≫ {real}");
        }
        assert_eq!(domain_log_estimate(0), 18);
        assert_eq!(domain_log_estimate(MAX_BATCH_LOG), 27);
    }

    /// A batch of two transfers executes, its witness satisfies the circuit and carries the
    /// batch data's hash, and both signature checks accept every signature.
    #[test]
    fn a_full_batch_has_a_witness_and_valid_signatures() {
        let b = full_batch(2).unwrap();
        assert_eq!((b.txs.len(), b.keys.len(), b.trace.txs.len()), (2, 2, 2));
        let w = kiln_batch_circuit::witness(&b.trace).unwrap();
        assert_eq!(w[1], b.trace.public_input);
        let tables: Vec<PointTable> = b.keys.iter().map(PointTable::new).collect();
        let items: Vec<SignatureCheck<'_>> = b
            .keys
            .iter()
            .zip(&tables)
            .zip(&b.txs)
            .map(|((k, t), tx)| (k, Some(t), tx))
            .collect();
        assert!(check_signatures(&items).iter().all(Result::is_ok));
        assert!(b
            .txs
            .iter()
            .zip(&b.keys)
            .all(|(s, k)| kiln_rollup::eddsa::verify(&s.tx.message(), &s.signature, k)));
    }
}
