//! snarkjs reads the circuit kiln writes and accepts its witness: `snarkjs r1cs info` and
//! `snarkjs wtns check` on the batch circuit of one slot. Needs the npm peers that
//! `.ci/run` installs into `.ci/npm` (or `KILN_NPM_BIN`); fails, never skips, without them.

use std::path::PathBuf;
use std::process::Command;

use kiln_algebra::curve::Bn254;
use kiln_batch_circuit::{r1cs, witness, write_r1cs, Fr};
use kiln_rollup::babyjub::to_biguint;
use kiln_rollup::batch::Batch;
use kiln_rollup::ledger::{Genesis, Ledger};
use kiln_rollup::wallet::{key_from_seed, transfer};
use serde_json::json;

fn snarkjs() -> PathBuf {
    let bin = std::env::var_os("KILN_NPM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/npm/node_modules/.bin")
        })
        .join("snarkjs");
    assert!(
        bin.exists(),
        "{} not found: run `bash .ci/run` first (it installs the npm peers)",
        bin.display()
    );
    bin
}

fn run(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(snarkjs()).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "snarkjs {args:?} failed:\n{text}");
    text
}

#[test]
fn snarkjs_reads_the_circuit_and_accepts_the_witness() {
    let dec = |x: &Fr| to_biguint(x).to_string();
    let k = |i: u64| key_from_seed(i).public();
    let g: Genesis = serde_json::from_value(json!({
        "chain_id": 3,
        "accounts": [
            {"index": 1, "token": 0, "balance": "1000", "ax": dec(&k(1).x), "ay": dec(&k(1).y)},
            {"index": 2, "token": 0, "balance": "0", "ax": dec(&k(2).x), "ay": dec(&k(2).y)},
        ],
        "fee_accounts": [{"token": 0, "index": 2}],
    }))
    .unwrap();
    let mut l = Ledger::from_genesis(&g).unwrap();
    let tx = transfer(&key_from_seed(1), 3, 1, 2, 0, 40, 2, 0);
    let trace = l
        .execute_batch(
            &Batch {
                number: 1,
                l1_ops: vec![],
                txs: vec![tx],
            },
            1,
        )
        .unwrap();
    let w = witness(&trace).unwrap();
    let r = r1cs(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (rp, wp) = (dir.path().join("batch.r1cs"), dir.path().join("batch.wtns"));
    write_r1cs(&rp, &r).unwrap();
    kiln_formats::wtns::write_wtns::<Bn254>(&wp, &w).unwrap();
    let info = run(&["r1cs".as_ref(), "info".as_ref(), rp.as_os_str()]);
    assert!(
        info.contains(&format!("# of Constraints: {}", r.constraints.len()))
            && info.contains(&format!("# of Wires: {}", r.n_wires))
            && info.contains("# of Public Inputs: 1"),
        "{info}"
    );
    let check = run(&[
        "wtns".as_ref(),
        "check".as_ref(),
        rp.as_os_str(),
        wp.as_os_str(),
    ]);
    assert!(check.contains("WITNESS IS CORRECT"), "{check}");
}
