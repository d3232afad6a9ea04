//! kiln-rollup against circomlibjs, the library the protocol's wallets are built on, on
//! random inputs: Poseidon of every supported arity, keys from random private keys,
//! signatures (equal to circomlibjs's, which are deterministic, and accepted by its
//! `verifyPoseidon`), the state tree's root and proofs (circomlibjs rebuilds the root from
//! the leaves and checks each proof), and signed messages.
//!
//! Needs node and the npm peers that `.ci/run` installs (`KILN_NPM_BIN`, else
//! `.ci/npm/node_modules` of this repository).

use std::path::PathBuf;
use std::process::Command;

use ark_ff::UniformRand;
use kiln_rollup::eddsa::PrivateKey;
use kiln_rollup::poseidon::{hash, MAX_INPUTS};
use kiln_rollup::tree::{StateTree, CAPACITY};
use kiln_rollup::tx::{Tx, TxKind};
use kiln_rollup::Fr;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn node_modules() -> PathBuf {
    let dir = match std::env::var_os("KILN_NPM_BIN") {
        Some(bin) => PathBuf::from(bin).join(".."),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../.ci/npm/node_modules"
        )),
    };
    assert!(
        dir.join("circomlibjs").exists(),
        "circomlibjs is not installed at {}: run `bash .ci/run --install` first",
        dir.display()
    );
    dir
}

fn dec(x: &Fr) -> String {
    x.to_string()
}

#[test]
fn kiln_rollup_agrees_with_circomlibjs_on_random_inputs() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let field = |rng: &mut ChaCha8Rng| Fr::rand(rng);

    // Poseidon, every arity 1..=12, three times each.
    let mut poseidon = Vec::new();
    let mut want_poseidon = Vec::new();
    for n in (1..=MAX_INPUTS).cycle().take(3 * MAX_INPUTS) {
        let inputs: Vec<Fr> = (0..n).map(|_| field(&mut rng)).collect();
        want_poseidon.push(dec(&hash(&inputs).unwrap()));
        poseidon.push(json!({"inputs": inputs.iter().map(dec).collect::<Vec<_>>()}));
    }

    // Keys and signatures.
    let mut keys = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..16 {
        let mut prv = [0u8; 32];
        rng.fill_bytes(&mut prv);
        let key = PrivateKey(prv);
        let public = key.public();
        let msg = field(&mut rng);
        let sig = key.sign(&msg);
        let hex: String = prv.iter().map(|b| format!("{b:02x}")).collect();
        keys.push(json!({
            "prv": hex,
            "msg": dec(&msg),
            "pub": [dec(&public.x), dec(&public.y)],
            "sig": {"r8": [dec(&sig.r8.x), dec(&sig.r8.y)], "s": sig.s_value().to_string()},
        }));
        ours.push((public, sig));
    }

    // A tree: clustered and scattered indices, the edges of the index range among them.
    let mut tree = StateTree::new();
    let mut indices: Vec<u32> = vec![1, 2, 3, 4, 5, CAPACITY - 1, 1 << 12, (1 << 12) + 1];
    indices.extend((0..24).map(|_| rng.gen_range(1..CAPACITY)));
    indices.sort_unstable();
    indices.dedup();
    let mut leaves = Vec::new();
    for &i in &indices {
        let leaf = field(&mut rng);
        tree.set_leaf(i, leaf);
        leaves.push(json!({"index": i, "leaf": dec(&leaf)}));
    }
    let root = tree.root();
    let proofs: Vec<Value> = indices
        .iter()
        .chain([6u32, 77].iter())
        .map(|&i| {
            let path = tree.proof(i);
            json!({
                "index": i,
                "leaf": dec(&tree.leaf(i)),
                "path": path.iter().map(|g| g.iter().map(dec).collect::<Vec<_>>()).collect::<Vec<_>>(),
            })
        })
        .collect();

    // Signed messages.
    let mut messages = Vec::new();
    let mut want_messages = Vec::new();
    for k in 0..8u64 {
        let tx = Tx {
            chain_id: 1 + k,
            kind: if k % 2 == 0 {
                TxKind::Transfer
            } else {
                TxKind::Withdraw
            },
            from: rng.gen_range(1..CAPACITY),
            to: field(&mut rng),
            token: rng.gen_range(0..4),
            amount: rng.gen(),
            fee: rng.gen::<u64>().into(),
            nonce: rng.gen(),
        };
        want_messages.push(dec(&tx.message()));
        let f = [
            tx.chain_id.to_string(),
            (tx.kind as u64).to_string(),
            tx.from.to_string(),
            dec(&tx.to),
            tx.token.to_string(),
            tx.amount.to_string(),
            tx.fee.to_string(),
            tx.nonce.to_string(),
        ];
        messages.push(json!({"fields": f}));
    }

    let cases = json!({
        "poseidon": poseidon,
        "keys": keys,
        "tree": {"leaves": leaves, "proofs": proofs},
        "messages": messages,
    });
    let dir = std::env::temp_dir().join(format!("kiln-rollup-circomlibjs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cases.json");
    std::fs::write(&file, cases.to_string()).unwrap();
    let out = Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/circomlibjs.cjs"
        ))
        .arg(node_modules())
        .arg(&file)
        .output()
        .expect("run node");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "node failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();

    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(strings(&got["poseidon"]), want_poseidon, "Poseidon");
    for (k, (public, sig)) in got["keys"].as_array().unwrap().iter().zip(&ours) {
        assert_eq!(
            strings(&k["pub"]),
            [dec(&public.x), dec(&public.y)],
            "prv2pub"
        );
        assert_eq!(
            strings(&k["r8"]),
            [dec(&sig.r8.x), dec(&sig.r8.y)],
            "signPoseidon R8"
        );
        assert_eq!(k["s"], sig.s_value().to_string(), "signPoseidon S");
        assert_eq!(
            k["accepted"], true,
            "verifyPoseidon refused kiln's signature"
        );
        assert_eq!(
            k["tamperedAccepted"], false,
            "verifyPoseidon accepted another message"
        );
    }
    assert_eq!(got["tree"]["root"], dec(&root), "state root");
    assert_eq!(got["bad"], json!([]), "circomlibjs found mismatches");
    assert_eq!(strings(&got["messages"]), want_messages, "signed messages");
}
