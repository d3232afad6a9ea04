//! Black-box tests of `kiln serve`: the real binary on loopback, real HTTP (ureq), real
//! circom fixtures and snarkjs as the judge of proofs.
//!
//! Contract under test (issue 3): tenants and keys, zkey upload, proof jobs (.wtns, JSON,
//! batch), long-poll, cancel, idempotency, quotas (429 + Retry-After), isolation (404),
//! bad requests (4xx + JSON error), webhooks (HMAC-signed, retried), kill -9 + restart,
//! a bounded load test, and the OpenAPI document against the routes.
//!
//! Uses the smallest fixture (poseidon, 2^11 domain) so the whole file stays quick on 2 cores.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ark_ff::PrimeField;
use common::server::*;
use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// Fixtures

struct Fixture {
    zkey_bytes: Vec<u8>,
    circuit_id: String,
    wtns: Vec<u8>,
    witness_json: Vec<String>,
    vk: PathBuf,
    _dir: TestDir,
}

/// The poseidon fixture: snarkjs key (cached), a witness from snarkjs, the vk.
fn poseidon() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = TestDir::new("serve-fixture");
        let c = circuit("poseidon");
        let zkey = c.snarkjs_zkey();
        let wtns_path = c.witness(dir.path());
        let vk = dir.join("vk.json");
        snarkjs_export_vk(&zkey, &vk);
        let w = Wtns::read(&wtns_path);
        let witness_json = w
            .values()
            .iter()
            .map(|v| num_bigint::BigUint::from(v.into_bigint()).to_string())
            .collect();
        Fixture {
            zkey_bytes: read(&zkey),
            circuit_id: sha256_hex(&zkey),
            wtns: read(&wtns_path),
            witness_json,
            vk,
            _dir: dir,
        }
    })
}

fn new_tenant(s: &Server, body: Value) -> (String, String, String) {
    let v = s
        .call("POST", "/v1/tenants", Some(ADMIN), Body::Json(body))
        .expect(201);
    (
        v["id"].as_str().unwrap().to_string(),
        v["api_key"].as_str().unwrap().to_string(),
        v["webhook_secret"].as_str().unwrap().to_string(),
    )
}

fn upload(s: &Server, key: &str) -> Value {
    let f = poseidon();
    let r = s.call(
        "POST",
        "/v1/circuits",
        Some(key),
        Body::Bytes(&f.zkey_bytes),
    );
    assert!(r.status == 201 || r.status == 200, "{r:?}");
    r.json()
}

fn submit_wtns(s: &Server, key: &str) -> String {
    let f = poseidon();
    let v = s
        .call(
            "POST",
            &format!("/v1/circuits/{}/proofs", f.circuit_id),
            Some(key),
            Body::Bytes(&f.wtns),
        )
        .expect(202);
    assert_eq!(v["status"], "queued");
    v["id"].as_str().unwrap().to_string()
}

/// Long-polls a job until it ends (or panics after `limit`).
fn wait_final(base: &str, key: &str, id: &str, limit: Duration) -> Value {
    let t0 = Instant::now();
    loop {
        let v = call(
            base,
            "GET",
            &format!("/v1/proofs/{id}?wait=20"),
            Some(key),
            Body::None,
            &[],
        )
        .expect(200);
        let st = v["status"].as_str().unwrap().to_string();
        if ["succeeded", "failed", "cancelled"].contains(&st.as_str()) {
            return v;
        }
        assert!(t0.elapsed() < limit, "job {id} still {st} after {limit:?}");
    }
}

/// snarkjs accepts the API's proof and public signals, and the calldata is snarkjs's.
fn assert_verifies(dir: &TestDir, job: &Value) {
    assert_eq!(job["status"], "succeeded", "{job}");
    let proof = dir.join(format!("proof-{}.json", job["id"].as_str().unwrap()));
    let public = dir.join(format!("public-{}.json", job["id"].as_str().unwrap()));
    write_json(&proof, &job["proof"]);
    write_json(&public, &job["public_signals"]);
    assert_snarkjs_verifies(&poseidon().vk, &public, &proof);
    let out = snarkjs([
        "zkey".as_ref(),
        "export".as_ref(),
        "soliditycalldata".as_ref(),
        public.as_os_str(),
        proof.as_os_str(),
    ])
    .ok();
    assert_eq!(job["calldata"].as_str().unwrap(), out.stdout.trim());
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn whole_flow_single_json_and_batch_proofs_verify_in_snarkjs() {
    let f = poseidon();
    let dir = TestDir::new("serve-flow");
    let mut s = Server::start(&dir.join("data"), &[]);
    s.call("GET", "/readyz", None, Body::None).expect(200);
    let (tenant, key, _) = new_tenant(&s, json!({"name": "rollup-a"}));

    let c = upload(&s, &key);
    assert_eq!(c["id"], f.circuit_id.as_str());
    assert_eq!(c["curve"], "bn128");
    let info = circuit("poseidon").info();
    assert_eq!(c["n_public"], info.n_public());
    assert_eq!(c["n_vars"], info.n_wires);
    assert_eq!(c["domain_size"], info.domain_size());
    // Deduplicated: the same zkey again is the same circuit.
    let again = s.call(
        "POST",
        "/v1/circuits",
        Some(&key),
        Body::Bytes(&f.zkey_bytes),
    );
    assert_eq!(again.expect(200)["id"], f.circuit_id.as_str());
    let list = s
        .call("GET", "/v1/circuits", Some(&key), Body::None)
        .expect(200);
    assert_eq!(list.as_array().unwrap().len(), 1);

    // One .wtns witness.
    let id = submit_wtns(&s, &key);
    let job = wait_final(&s.base, &key, &id, Duration::from_secs(120));
    assert_verifies(&dir, &job);
    assert_eq!(job["devices"], json!(["cpu:0"]));
    assert!(job["timings"]["prove_ms"].as_f64().unwrap() > 0.0);
    assert!(job["error"].is_null());

    // One JSON witness.
    let prove_json = |body: Value| {
        let v = s
            .call(
                "POST",
                &format!("/v1/circuits/{}/proofs", f.circuit_id),
                Some(&key),
                Body::Json(body),
            )
            .expect(202);
        let id = v["id"].as_str().unwrap();
        let job = wait_final(&s.base, &key, id, Duration::from_secs(120));
        assert_verifies(&dir, &job);
        job
    };
    let job = prove_json(json!({"witness": f.witness_json, "priority": 3}));
    assert_eq!(job["priority"], 3);
    // A bare JSON array: `snarkjs wtns export json`'s output as it is.
    prove_json(json!(f.witness_json));

    // A batch of three.
    let v = s
        .call(
            "POST",
            &format!("/v1/circuits/{}/proofs", f.circuit_id),
            Some(&key),
            Body::Json(json!({"witnesses": [f.witness_json, f.witness_json, f.witness_json]})),
        )
        .expect(202);
    let ids: Vec<String> = v
        .as_array()
        .expect("a batch answers a list")
        .iter()
        .map(|j| {
            assert_eq!(j["status"], "queued");
            j["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let job = wait_final(&s.base, &key, id, Duration::from_secs(120));
        assert_verifies(&dir, &job);
    }

    // Usage, listing, metrics, devices.
    let u = s
        .call("GET", "/v1/usage", Some(&key), Body::None)
        .expect(200);
    assert_eq!(u["tenant_id"], tenant.as_str());
    assert_eq!(u["proofs"], 6);
    assert_eq!(u["constraints_proven"], 6 * info.n_constraints as u64);
    assert!(u["device_seconds"].as_f64().unwrap() > 0.0);
    let jobs = s
        .call("GET", "/v1/proofs?status=succeeded", Some(&key), Body::None)
        .expect(200);
    assert_eq!(jobs.as_array().unwrap().len(), 6);
    let m = s.call("GET", "/metrics", None, Body::None);
    assert_eq!(m.status, 200);
    assert!(
        m.headers["content-type"].starts_with("application/openmetrics-text"),
        "{:?}",
        m.headers
    );
    for needle in [
        "kiln_queue_depth 0",
        "kiln_jobs{state=\"succeeded\"} 6",
        "kiln_proof_latency_seconds_count 6",
        "kiln_device_busy_ratio{device=\"cpu:0\"}",
        "kiln_jobs_submitted_total 6",
        "kiln_prove_duration_seconds_count 6",
        "# EOF",
    ] {
        assert!(
            m.text.contains(needle),
            "metrics lack {needle:?}:\n{}",
            m.text
        );
    }
    let d = s
        .call("GET", "/v1/devices", Some(&key), Body::None)
        .expect(200);
    let cpu = &d.as_array().unwrap()[0];
    assert_eq!(cpu["kind"], "cpu");
    assert_eq!(cpu["jobs_done"], 6);
    assert!(cpu["state"] == "idle" || cpu["state"] == "busy");
    s.assert_alive();
}

#[test]
fn tenants_are_isolated_and_keys_can_be_revoked() {
    let f = poseidon();
    let dir = TestDir::new("serve-isolation");
    // Every witness read back from its file (none handed over in memory).
    let s = Server::start(&dir.join("data"), &["--witness-memory-mib", "0"]);
    let (a_id, a, _) = new_tenant(&s, json!({"name": "a"}));
    let (_b_id, b, _) = new_tenant(&s, json!({"name": "b"}));
    upload(&s, &a);
    let job = submit_wtns(&s, &a);

    // B sees none of A's things.
    let cpath = format!("/v1/circuits/{}", f.circuit_id);
    s.call("GET", &cpath, Some(&b), Body::None).expect(404);
    s.call("DELETE", &cpath, Some(&b), Body::None).expect(404);
    s.call(
        "POST",
        &format!("{cpath}/proofs"),
        Some(&b),
        Body::Bytes(&f.wtns),
    )
    .expect(404);
    s.call("GET", &format!("/v1/proofs/{job}"), Some(&b), Body::None)
        .expect(404);
    s.call(
        "POST",
        &format!("/v1/proofs/{job}/cancel"),
        Some(&b),
        Body::None,
    )
    .expect(404);
    assert!(s
        .call("GET", "/v1/circuits", Some(&b), Body::None)
        .expect(200)
        .as_array()
        .unwrap()
        .is_empty());
    assert!(s
        .call("GET", "/v1/proofs", Some(&b), Body::None)
        .expect(200)
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        s.call("GET", "/v1/usage", Some(&b), Body::None).expect(200)["proofs"],
        0
    );
    wait_final(&s.base, &a, &job, Duration::from_secs(120));
    // The admin sees everyone's usage.
    let all = s
        .call("GET", "/v1/usage", Some(ADMIN), Body::None)
        .expect(200);
    assert_eq!(all.as_array().unwrap().len(), 2);

    // Roles: tenant keys cannot administer, the admin key is not a tenant.
    s.call("POST", "/v1/tenants", Some(&a), Body::None)
        .expect(403);
    s.call("GET", "/v1/circuits", Some(ADMIN), Body::None)
        .expect(403);

    // A second key works; revoked keys stop working at once.
    let k2 = s
        .call(
            "POST",
            "/v1/keys",
            Some(&a),
            Body::Json(json!({"label": "ci"})),
        )
        .expect(201);
    let (k2_id, k2) = (
        k2["id"].as_str().unwrap().to_string(),
        k2["api_key"].as_str().unwrap().to_string(),
    );
    s.call("GET", &cpath, Some(&k2), Body::None).expect(200);
    s.call("DELETE", &format!("/v1/keys/{k2_id}"), Some(&a), Body::None)
        .expect(200);
    let r = s.call("GET", &cpath, Some(&k2), Body::None);
    assert!(r.expect(401)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    // B cannot revoke A's keys; the admin can.
    let keys = s.call("GET", "/v1/keys", Some(&a), Body::None).expect(200);
    let first = keys[0]["id"].as_str().unwrap().to_string();
    assert!(
        keys[0].get("key_hash").is_none(),
        "key hashes are never shown"
    );
    s.call("DELETE", &format!("/v1/keys/{first}"), Some(&b), Body::None)
        .expect(404);
    s.call(
        "DELETE",
        &format!("/v1/tenants/{a_id}/keys/{first}"),
        Some(ADMIN),
        Body::None,
    )
    .expect(200);
    s.call("GET", "/v1/circuits", Some(&a), Body::None)
        .expect(401);
}

#[test]
fn bad_requests_get_their_4xx_and_the_server_stays_healthy() {
    let f = poseidon();
    let dir = TestDir::new("serve-bad");
    let mut s = Server::start(&dir.join("data"), &["--max-body-bytes", "200000"]);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let good = submit_wtns(&s, &key);
    let proofs = format!("/v1/circuits/{}/proofs", f.circuit_id);

    // Authentication.
    s.call("GET", "/v1/circuits", None, Body::None).expect(401);
    s.call("GET", "/v1/circuits", Some("kiln_not-a-key"), Body::None)
        .expect(401);
    let r = call(
        &s.base,
        "GET",
        "/v1/circuits",
        None,
        Body::None,
        &[("Authorization", "Basic abc")],
    );
    r.expect(401);

    // Zkeys: truncated, garbage, a PLONK key.
    let truncated = &f.zkey_bytes[..f.zkey_bytes.len() / 2];
    let e = s
        .call("POST", "/v1/circuits", Some(&key), Body::Bytes(truncated))
        .expect(422);
    assert_eq!(e["error"]["code"], "invalid_zkey");
    assert!(
        !e["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&s.data_dir.display().to_string()),
        "messages do not leak server paths: {e}"
    );
    s.call(
        "POST",
        "/v1/circuits",
        Some(&key),
        Body::Bytes(b"not a zkey at all"),
    )
    .expect(422);
    let plonk = read(&snarkjs_plonk_zkey(&circuit("poseidon").r1cs));
    s.call("POST", "/v1/circuits", Some(&key), Body::Bytes(&plonk))
        .expect(422);
    assert_eq!(
        s.call("GET", "/v1/circuits", Some(&key), Body::None)
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Witnesses: garbage, truncated .wtns, wrong length, out of range, bad constant.
    s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(b"wtns\x02\x00\x00\x00garbage"),
    )
    .expect(422);
    s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(&f.wtns[..f.wtns.len() - 7]),
    )
    .expect(422);
    let e = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Bytes(b"\x00\x01binary junk"),
        )
        .expect(422);
    assert!(
        e["error"]["message"].as_str().unwrap().contains(".wtns"),
        "{e}"
    );
    let short: Vec<&String> = f.witness_json.iter().take(10).collect();
    let e = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Json(json!({"witness": short})),
        )
        .expect(422);
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("10 values") && msg.contains(&f.witness_json.len().to_string()),
        "{msg}"
    );
    let mut bad = f.witness_json.clone();
    bad[5] = FR_MODULUS.to_string();
    let e = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Json(json!({"witness": bad})),
        )
        .expect(422);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("witness[5]"),
        "{e}"
    );
    bad[5] = "12abc".into();
    s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Json(json!({"witness": bad})),
    )
    .expect(422);
    s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Json(json!({"witnesses": []})),
    )
    .expect(422);
    s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Json(json!({"witness": f.witness_json, "priority": 99})),
    )
    .expect(422);
    s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Json(json!({"witness": f.witness_json, "colour": 1})),
    )
    .expect(422);
    // Circuit inputs instead of a witness: refused, saying what is needed.
    let e = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Json(json!({"in": ["1", "2"]})),
        )
        .expect(422);
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("unknown field `in`") && msg.contains("not from circuit inputs"),
        "{e}"
    );
    // A bare array of the wrong length, as `snarkjs wtns export json` writes one.
    let e = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Json(json!(f.witness_json[1..])),
        )
        .expect(422);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("witness"),
        "{e}"
    );

    // Malformed JSON; over-limit body; unknown routes and ids.
    let e = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Bytes(b"{\"witness\": [\"1\","),
        )
        .expect(400);
    assert_eq!(e["error"]["code"], "malformed_json");
    let e = call(
        &s.base,
        "POST",
        "/v1/tenants",
        Some(ADMIN),
        Body::Bytes(b"{nope"),
        &[("Content-Type", "application/json")],
    )
    .expect(400);
    assert_eq!(e["error"]["code"], "malformed_json");
    let big = vec![b' '; 300_000];
    s.call("POST", &proofs, Some(&key), Body::Bytes(&big))
        .expect(413);
    // A .wtns body streams to disk, bounded by the circuit's size rather than the JSON limit.
    let mut big_wtns = b"wtns".to_vec();
    big_wtns.resize(f.wtns.len() + (64 << 10) + 1, 0);
    let e = s
        .call("POST", &proofs, Some(&key), Body::Bytes(&big_wtns))
        .expect(413);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("signals"),
        "{e}"
    );
    s.call("GET", "/v1/nothing", Some(&key), Body::None)
        .expect(404);
    s.call(
        "GET",
        "/v1/proofs/00000000-0000-0000-0000-000000000000",
        Some(&key),
        Body::None,
    )
    .expect(404);
    s.call("GET", "/v1/circuits/..%2F..%2Fetc", Some(&key), Body::None)
        .expect(404);
    s.call(
        "GET",
        &format!("/v1/proofs/{good}?wait=soon"),
        Some(&key),
        Body::None,
    )
    .expect(400);

    // A witness that does not satisfy the circuit is accepted, then fails with a reason.
    let mut unsat = f.witness_json.clone();
    let i = unsat.len() / 2;
    unsat[i] = if unsat[i] == "1" {
        "2".into()
    } else {
        "1".into()
    };
    let v = s
        .call(
            "POST",
            &proofs,
            Some(&key),
            Body::Json(json!({"witness": unsat})),
        )
        .expect(202);
    let failed = wait_final(
        &s.base,
        &key,
        v["id"].as_str().unwrap(),
        Duration::from_secs(120),
    );
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "unsatisfied_witness");

    // Still healthy, and the good job went through.
    s.assert_alive();
    let job = wait_final(&s.base, &key, &good, Duration::from_secs(120));
    assert_verifies(&dir, &job);
    assert!(!std::fs::read_to_string(&s.log)
        .unwrap()
        .contains("panicked"));
}

/// What clients other than ours send: any spelling of the Bearer scheme, HEAD, witness
/// values as JSON integers (however long), hex strings, a byte order mark; and the files
/// people send by mistake get a refusal that says what they sent.
#[test]
fn other_clients_are_understood_and_mistakes_are_named() {
    let f = poseidon();
    let dir = TestDir::new("serve-clients");
    let s = Server::start(&dir.join("data"), &["--listen", "localhost:0"]);
    assert!(s.base.starts_with("http://127.0.0.1:"), "{}", s.base);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let proofs = format!("/v1/circuits/{}/proofs", f.circuit_id);
    let with_auth = |value: &str| {
        call(
            &s.base,
            "GET",
            "/v1/circuits",
            None,
            Body::None,
            &[("Authorization", value)],
        )
    };
    for scheme in ["BEARER", "bearer", "BeArEr"] {
        with_auth(&format!("{scheme} {key}")).expect(200);
    }
    with_auth(&format!("Bearer{key}")).expect(401);

    // HEAD on GET routes; a 405 lists what the path takes.
    let r = call(&s.base, "HEAD", "/healthz", None, Body::None, &[]);
    assert_eq!((r.status, r.text.as_str()), (200, ""), "{r:?}");
    let r = call(&s.base, "HEAD", "/v1/circuits", Some(&key), Body::None, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let r = s.call("PUT", &proofs, Some(&key), Body::None);
    r.expect(405);
    assert_eq!(r.headers.get("allow").map(String::as_str), Some("POST"));
    let r = s.call("PATCH", "/v1/circuits", Some(&key), Body::None);
    r.expect(405);
    assert_eq!(
        r.headers.get("allow").map(String::as_str),
        Some("GET, HEAD, POST")
    );

    // Files sent by mistake.
    let r1cs = read(&circuit("poseidon").r1cs);
    for (body, needle) in [
        (&r1cs[..], ".r1cs circuit file"),
        (&f.zkey_bytes[..], ".zkey proving key"),
        (
            b"--xyz\r\nContent-Disposition: form-data" as &[u8],
            "multipart",
        ),
    ] {
        let e = s
            .call("POST", &proofs, Some(&key), Body::Bytes(body))
            .expect(422);
        assert_eq!(e["error"]["code"], "invalid_witness");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle) && msg.contains(".wtns"), "{msg}");
    }
    // Multipart forms (curl -F): the file part is the upload, whatever else the form holds.
    let form = |parts: &[(&str, Option<&str>, &[u8])]| {
        let mut body = Vec::new();
        for (name, file, data) in parts {
            body.extend_from_slice(b"--kilnform\r\n");
            let file = file
                .map(|f| format!("; filename=\"{f}\""))
                .unwrap_or_default();
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--kilnform--\r\n");
        body
    };
    let multipart = [("Content-Type", "multipart/form-data; boundary=kilnform")];
    let zkey_form = form(&[
        ("note", None, b"hello"),
        ("file", Some("poseidon.zkey"), &f.zkey_bytes),
    ]);
    let c = call(
        &s.base,
        "POST",
        "/v1/circuits",
        Some(&key),
        Body::Bytes(&zkey_form),
        &multipart,
    );
    assert_eq!(c.expect(200)["id"], f.circuit_id.as_str());
    let witness_json = json!({ "witness": f.witness_json }).to_string();
    let prove_form = |body: &[u8]| {
        let v = call(
            &s.base,
            "POST",
            &proofs,
            Some(&key),
            Body::Bytes(body),
            &multipart,
        )
        .expect(202);
        let id = v["id"].as_str().unwrap();
        wait_final(&s.base, &key, id, Duration::from_secs(120))
    };
    for body in [
        form(&[("witness", Some("w.wtns"), &f.wtns)]),
        form(&[("witness", None, witness_json.as_bytes())]),
    ] {
        assert_verifies(&dir, &prove_form(&body));
    }
    // Forms are read only for a known key, and what they hold besides the file is bounded.
    call(
        &s.base,
        "POST",
        &proofs,
        None,
        Body::Bytes(&zkey_form),
        &multipart,
    )
    .expect(401);
    call(
        &s.base,
        "POST",
        "/v1/circuits",
        None,
        Body::Bytes(&zkey_form),
        &multipart,
    )
    .expect(401);
    let preamble = vec![b'x'; 5 << 20];
    call(
        &s.base,
        "POST",
        &proofs,
        Some(&key),
        Body::Chunked(&preamble),
        &multipart,
    )
    .expect(413);
    // A form's option fields are options.
    let with_priority = form(&[
        ("priority", None, b"7"),
        ("witness", Some("w.wtns"), &f.wtns),
    ]);
    let job = prove_form(&with_priority);
    assert_eq!(job["priority"], 7, "{job}");
    let e = call(
        &s.base,
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(b"--other\r\n"),
        &multipart,
    )
    .expect(400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("multipart"),
        "{e}"
    );

    // A list of witnesses without its wrapper.
    let two = json!([f.witness_json, f.witness_json]);
    let e = s
        .call("POST", &proofs, Some(&key), Body::Json(two))
        .expect(422);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"witnesses\""),
        "{e}"
    );

    // A .wtns of unknown length (chunked) streams to disk and is read back from there.
    let v = s
        .call("POST", &proofs, Some(&key), Body::Chunked(&f.wtns))
        .expect(202);
    let job = wait_final(
        &s.base,
        &key,
        v["id"].as_str().unwrap(),
        Duration::from_secs(120),
    );
    assert_verifies(&dir, &job);

    // Values as JSON integers (exact, even past 2^64), as hex strings, behind a BOM.
    let dec = &f.witness_json;
    let hex: Vec<String> = dec
        .iter()
        .map(|d| {
            format!(
                "0x{}",
                num_bigint::BigUint::parse_bytes(d.as_bytes(), 10)
                    .unwrap()
                    .to_str_radix(16)
            )
        })
        .collect();
    assert!(
        dec.iter().any(|d| d.len() > 20),
        "the fixture has values past 2^64"
    );
    let numbers = format!("{{\"witness\": [{}]}}", dec.join(","));
    let bom = [
        b"\xEF\xBB\xBF".as_slice(),
        json!(dec).to_string().as_bytes(),
    ]
    .concat();
    for body in [
        numbers.into_bytes(),
        json!({ "witness": hex }).to_string().into_bytes(),
        bom,
    ] {
        let v = s
            .call("POST", &proofs, Some(&key), Body::Bytes(&body))
            .expect(202);
        let job = wait_final(
            &s.base,
            &key,
            v["id"].as_str().unwrap(),
            Duration::from_secs(120),
        );
        assert_verifies(&dir, &job);
    }

    // An idempotency key stands for the witness, however it is encoded.
    let first = call(
        &s.base,
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(&f.wtns),
        &[("Idempotency-Key", "enc-1")],
    )
    .expect(202);
    let again = call(
        &s.base,
        "POST",
        &proofs,
        Some(&key),
        Body::Json(json!({"witness": hex})),
        &[("Idempotency-Key", "enc-1")],
    );
    assert_eq!(again.expect(202)["id"], first["id"]);
    assert_eq!(
        again.headers.get("idempotent-replayed").map(String::as_str),
        Some("true")
    );

    // Pages of jobs, newest first, linked.
    let page = s.call("GET", "/v1/proofs?limit=2", Some(&key), Body::None);
    let ids: Vec<Value> = page
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].clone())
        .collect();
    let link = page
        .headers
        .get("link")
        .expect("a full page links the next")
        .clone();
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=\"next\""))
        .map(|(url, _)| url.to_string())
        .unwrap_or_else(|| panic!("Link: {link}"));
    assert!(
        next.contains("limit=2") && next.contains(&format!("before={}", ids[1].as_str().unwrap())),
        "{next}"
    );
    let rest = s.call("GET", &next, Some(&key), Body::None).expect(200);
    let rest: Vec<Value> = rest
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].clone())
        .collect();
    assert_eq!(rest.len(), 2);
    let all = s
        .call("GET", "/v1/proofs", Some(&key), Body::None)
        .expect(200);
    let all: Vec<Value> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].clone())
        .collect();
    assert_eq!(all[..4], [ids, rest].concat()[..]);
    s.call("GET", "/v1/proofs?before=nope", Some(&key), Body::None)
        .expect(400);

    // A quota no job could pass is refused.
    let e = s
        .call(
            "POST",
            "/v1/tenants",
            Some(ADMIN),
            Body::Json(json!({"quotas": {"max_queued_jobs": 0}})),
        )
        .expect(422);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("quotas.max_queued_jobs"),
        "{e}"
    );
}

/// With --webhook-deny-private, a webhook aimed inward is refused at submission.
#[test]
fn inward_webhooks_are_refused_when_private_targets_are_denied() {
    let f = poseidon();
    let dir = TestDir::new("serve-ssrf");
    let s = Server::start(&dir.join("data"), &["--webhook-deny-private"]);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let proofs = format!("/v1/circuits/{}/proofs", f.circuit_id);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/x",
        "http://localhost/x",
    ] {
        let body = json!({"witness": f.witness_json, "webhook_url": url});
        let e = s
            .call("POST", &proofs, Some(&key), Body::Json(body))
            .expect(422);
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a public address"),
            "{e}"
        );
    }
    let body = json!({"witness": f.witness_json, "webhook_url": "https://hooks.example.com/x"});
    s.call("POST", &proofs, Some(&key), Body::Json(body))
        .expect(202);
}

/// An address already taken is refused before the data dir is touched.
#[test]
fn a_taken_listen_address_is_refused_before_anything_is_created() {
    let dir = TestDir::new("serve-taken");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = dir.join("data");
    let out = kiln([
        "serve",
        "--listen",
        &addr,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stderr.contains(&addr), "{out}");
    assert!(!data.exists(), "the data dir was created: {out}");
    let out = kiln([
        "serve",
        "--listen",
        "localhost:notaport",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("listen"), "{out}");
}

#[test]
fn quotas_idempotency_cancellation_and_circuit_deletion() {
    let f = poseidon();
    let dir = TestDir::new("serve-quotas");
    let s = Server::start(&dir.join("data"), &[]);
    let proofs = format!("/v1/circuits/{}/proofs", f.circuit_id);

    // Stored-bytes quota.
    let (_, tiny, _) = new_tenant(&s, json!({"quotas": {"max_stored_bytes": 1000}}));
    let r = s.call(
        "POST",
        "/v1/circuits",
        Some(&tiny),
        Body::Bytes(&f.zkey_bytes),
    );
    r.expect(429);
    assert!(r.headers.contains_key("retry-after"), "{r:?}");
    // Three different keys at once against room for one: one is stored, two are refused.
    let keys: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let out = dir.join(format!("dev-{i}.zkey"));
            kiln([
                "setup".as_ref(),
                circuit("poseidon").r1cs.as_os_str(),
                out.as_os_str(),
            ])
            .ok();
            read(&out)
        })
        .collect();
    let room = keys[0].len() as u64 + 1000;
    let (_, roomy, _) = new_tenant(&s, json!({"quotas": {"max_stored_bytes": room}}));
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let uploads: Vec<_> = keys
            .iter()
            .map(|k| {
                let (base, roomy) = (&s.base, &roomy);
                sc.spawn(move || {
                    call(
                        base,
                        "POST",
                        "/v1/circuits",
                        Some(roomy),
                        Body::Bytes(k),
                        &[],
                    )
                    .status
                })
            })
            .collect();
        uploads.into_iter().map(|u| u.join().unwrap()).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [201, 429, 429], "{statuses:?}");
    let u = s
        .call("GET", "/v1/usage", Some(&roomy), Body::None)
        .expect(200);
    assert!(u["stored_bytes"].as_u64().unwrap() <= room, "{u}");
    // The key it has, sent again (with its length declared), is the same circuit: a 200.
    let stored = keys
        .iter()
        .find(|k| {
            let id = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(k));
            let r = s.call(
                "GET",
                &format!("/v1/circuits/{id}"),
                Some(&roomy),
                Body::None,
            );
            r.status == 200
        })
        .unwrap();
    s.call("POST", "/v1/circuits", Some(&roomy), Body::Bytes(stored))
        .expect(200);

    // Job quotas: a batch larger than the queue quota, then than the concurrency quota.
    let (_, key, _) = new_tenant(
        &s,
        json!({"quotas": {"max_queued_jobs": 2, "max_concurrent_jobs": 3}}),
    );
    upload(&s, &key);
    let w = &f.witness_json;
    let r = s.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Json(json!({"witnesses": [w, w, w]})),
    );
    r.expect(429);
    let secs: u64 = r.headers["retry-after"].parse().unwrap();
    assert!(secs >= 1);
    let (_, key2, _) = new_tenant(&s, json!({"quotas": {"max_concurrent_jobs": 2}}));
    upload(&s, &key2);
    s.call(
        "POST",
        &proofs,
        Some(&key2),
        Body::Json(json!({"witnesses": [w, w, w]})),
    )
    .expect(429);
    // The admin raises a quota; the batch that did not fit now does.
    let (tenant3, key3, _) = new_tenant(&s, json!({"quotas": {"max_concurrent_jobs": 2}}));
    upload(&s, &key3);
    let batch3 = json!({"witnesses": [w, w, w]});
    s.call("POST", &proofs, Some(&key3), Body::Json(batch3.clone()))
        .expect(429);
    let patch = |key: &str, change: Value| {
        call(
            &s.base,
            "PATCH",
            &format!("/v1/tenants/{tenant3}"),
            Some(key),
            Body::Json(change),
            &[],
        )
    };
    let raise = json!({"name": "raised", "quotas": {"max_concurrent_jobs": 3}});
    patch(&key3, raise.clone()).expect(403);
    patch(ADMIN, json!({"quotas": {"max_queued_jobs": 0}})).expect(422);
    let t = patch(ADMIN, raise).expect(200);
    assert_eq!(t["name"], "raised");
    assert_eq!(t["quotas"]["max_concurrent_jobs"], 3);
    s.call("POST", &proofs, Some(&key3), Body::Json(batch3))
        .expect(202);

    // Idempotency: the same key returns the same job; another request under it is a 409.
    let hdr = [("Idempotency-Key", "order-17")];
    let first = call(
        &s.base,
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(&f.wtns),
        &hdr,
    );
    let id = first.expect(202)["id"].as_str().unwrap().to_string();
    let second = call(
        &s.base,
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(&f.wtns),
        &hdr,
    );
    assert_eq!(second.expect(202)["id"], id.as_str());
    assert_eq!(
        second
            .headers
            .get("idempotent-replayed")
            .map(String::as_str),
        Some("true")
    );
    let body = json!({"witness": w, "priority": 1, "idempotency_key": "order-17"});
    let r = s.call("POST", &proofs, Some(&key), Body::Json(body));
    assert_eq!(r.expect(409)["error"]["code"], "idempotency_key_reused");
    // The same key from another tenant is another job.
    let other = call(
        &s.base,
        "POST",
        &proofs,
        Some(&key2),
        Body::Bytes(&f.wtns),
        &hdr,
    );
    let other_id = other.expect(202)["id"].as_str().unwrap().to_string();
    assert_ne!(other_id, id);
    wait_final(&s.base, &key2, &other_id, Duration::from_secs(120));
    let batch = json!({"witnesses": [w, w], "idempotency_key": "batch-1"});
    let b1 = s.call("POST", &proofs, Some(&key2), Body::Json(batch.clone()));
    let b1 = b1.expect(202);
    wait_final(&s.base, &key, &id, Duration::from_secs(120));
    let b2 = s
        .call("POST", &proofs, Some(&key2), Body::Json(batch))
        .expect(202);
    assert_eq!(b1, b2);
    let jobs = s
        .call("GET", "/v1/proofs", Some(&key), Body::None)
        .expect(200);
    assert_eq!(
        jobs.as_array().unwrap().len(),
        1,
        "one job for one idempotency key"
    );

    // Cancellation: the last of a batch is still queued behind the others.
    let (_, key3, _) = new_tenant(&s, json!({}));
    upload(&s, &key3);
    let v = s
        .call(
            "POST",
            &proofs,
            Some(&key3),
            Body::Json(json!({"witnesses": vec![w; 12]})),
        )
        .expect(202);
    let ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    let last = ids.last().unwrap();
    let r = s.call(
        "POST",
        &format!("/v1/proofs/{last}/cancel"),
        Some(&key3),
        Body::None,
    );
    assert!(r.status == 200 || r.status == 202, "{r:?}");
    // Deleting a circuit in use is refused.
    let cpath = format!("/v1/circuits/{}", f.circuit_id);
    let e = s
        .call("DELETE", &cpath, Some(&key3), Body::None)
        .expect(409);
    assert_eq!(e["error"]["code"], "circuit_in_use");
    let cancelled = wait_final(&s.base, &key3, last, Duration::from_secs(120));
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["proof"].is_null());
    for id in &ids[..ids.len() - 1] {
        assert_eq!(
            wait_final(&s.base, &key3, id, Duration::from_secs(120))["status"],
            "succeeded"
        );
    }
    // Cancelling an ended job is a conflict.
    s.call(
        "POST",
        &format!("/v1/proofs/{}/cancel", ids[0]),
        Some(&key3),
        Body::None,
    )
    .expect(409);
    // Now the circuit can go; other tenants keep theirs.
    s.call("DELETE", &cpath, Some(&key3), Body::None)
        .expect(200);
    s.call("GET", &cpath, Some(&key3), Body::None).expect(404);
    s.call("GET", &cpath, Some(&key), Body::None).expect(200);
    let id = submit_wtns(&s, &key);
    assert_eq!(
        wait_final(&s.base, &key, &id, Duration::from_secs(120))["status"],
        "succeeded"
    );
}

/// A one-connection-at-a-time HTTP receiver: answers 500 to the first `fail` requests,
/// then 200; records (headers, body) of each.
/// What the receiver saw: (headers, body) per request.
type Seen = Arc<Mutex<Vec<(HashMap<String, String>, String)>>>;

fn webhook_receiver(fail: usize) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = seen.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate().take(20) {
            let Ok(mut conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut headers = HashMap::new();
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.trim().split_once(':') {
                    headers.insert(k.trim().to_lowercase(), v.trim().to_string());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            rec.lock()
                .unwrap()
                .push((headers, String::from_utf8_lossy(&body).into_owned()));
            let status = if n < fail {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, seen)
}

#[test]
fn webhooks_are_signed_and_retried() {
    let f = poseidon();
    let dir = TestDir::new("serve-webhook");
    let s = Server::start(&dir.join("data"), &["--webhook-backoff-ms", "200"]);
    let (_, key, secret) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let (url, seen) = webhook_receiver(2);
    let v = s
        .call(
            "POST",
            &format!("/v1/circuits/{}/proofs", f.circuit_id),
            Some(&key),
            Body::Json(json!({"witness": f.witness_json, "webhook_url": url})),
        )
        .expect(202);
    let id = v["id"].as_str().unwrap();
    wait_final(&s.base, &key, id, Duration::from_secs(120));
    let t0 = Instant::now();
    while seen.lock().unwrap().len() < 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "webhook not retried to success"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let calls = seen.lock().unwrap().clone();
    for (headers, body) in &calls {
        let sig = headers.get("x-kiln-signature").expect("signature header");
        assert_eq!(
            sig,
            &format!(
                "sha256={}",
                kiln_jobs::webhook::sign(&secret, body.as_bytes())
            )
        );
        assert_eq!(
            headers.get("x-kiln-event").map(String::as_str),
            Some("job.succeeded")
        );
        let job: Value = serde_json::from_str(body).unwrap();
        assert_eq!(job["id"], id);
        assert_eq!(job["status"], "succeeded");
        assert!(job["proof"]["pi_a"].is_array());
    }
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(seen.lock().unwrap().len(), 3, "no deliveries after a 2xx");
}

/// Submits a batch of `n` copies of the fixture's witness and waits until one of them runs.
fn batch_until_one_runs(s: &Server, key: &str, n: usize) -> Vec<String> {
    let f = poseidon();
    let v = s
        .call(
            "POST",
            &format!("/v1/circuits/{}/proofs", f.circuit_id),
            Some(key),
            Body::Json(json!({"witnesses": vec![&f.witness_json; n]})),
        )
        .expect(202);
    let ids = v
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    let t0 = Instant::now();
    loop {
        let running = s
            .call("GET", "/v1/proofs?status=running", Some(key), Body::None)
            .expect(200);
        if !running.as_array().unwrap().is_empty() {
            return ids;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no job started");
    }
}

/// What a crash leaves behind, made by hand in the stopped server's database (jobs still
/// `running`, one of them asked to cancel; a stray witness file): at the next start, with
/// `--max-attempts 1`, neither job is proved again; each ends (cancelled, failed as
/// interrupted) with its webhook, and no witness file is left.
#[test]
fn jobs_a_crash_left_running_end_with_their_webhooks_when_they_must_not_run_again() {
    let f = poseidon();
    let dir = TestDir::new("serve-recovery");
    let data = dir.join("data");
    let (url, seen) = webhook_receiver(0);
    let s = Server::start(&data, &[]);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let proofs = format!("/v1/circuits/{}/proofs", f.circuit_id);
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let body = json!({"witness": f.witness_json, "webhook_url": url});
            let v = s
                .call("POST", &proofs, Some(&key), Body::Json(body))
                .expect(202);
            let id = v["id"].as_str().unwrap().to_string();
            wait_final(&s.base, &key, &id, Duration::from_secs(120));
            id
        })
        .collect();
    let delivered = || seen.lock().unwrap().len();
    let t0 = Instant::now();
    while delivered() < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "webhooks not delivered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s.kill9();
    // The crash: both jobs running (first attempt), the first asked to cancel.
    let sql = format!(
        "UPDATE jobs SET status = 'running', finished_at = NULL, proof = NULL, attempts = 1, \
         cancel_requested = (id = '{a}') WHERE id IN ('{a}', '{b}')",
        a = ids[0],
        b = ids[1]
    );
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
        ])
        .arg(data.join("kiln.db"))
        .arg(&sql)
        .output()
        .expect("cannot run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [&ids[0], &ids[1], "stray"] {
        std::fs::write(data.join("witnesses").join(format!("{name}.wtns")), &f.wtns).unwrap();
    }

    let s = Server::start(&data, &["--max-attempts", "1"]);
    let cancelled = wait_final(&s.base, &key, &ids[0], Duration::from_secs(10));
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["attempts"], 1, "not proved again: {cancelled}");
    let failed = wait_final(&s.base, &key, &ids[1], Duration::from_secs(10));
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], "interrupted", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 time;"),
        "{failed}"
    );
    let t0 = Instant::now();
    while delivered() < 4 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "webhooks of the ended jobs not delivered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let events: Vec<String> = seen.lock().unwrap()[2..]
        .iter()
        .map(|(h, _)| format!("{} {}", h["x-kiln-job"], h["x-kiln-event"]))
        .collect();
    for want in [
        format!("{} job.cancelled", ids[0]),
        format!("{} job.failed", ids[1]),
    ] {
        assert!(events.contains(&want), "{events:?} lacks {want}");
    }
    let left: Vec<_> = std::fs::read_dir(data.join("witnesses")).unwrap().collect();
    assert!(left.is_empty(), "witness files left: {left:?}");
}

#[test]
fn kill_9_while_proving_then_restart_finishes_every_job() {
    let dir = TestDir::new("serve-kill9");
    let data = dir.join("data");
    let s = Server::start(&data, &[]);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let ids = batch_until_one_runs(&s, &key, 8);
    s.kill9();

    let s = Server::start(&data, &[]);
    let mut restarted = 0;
    for id in &ids {
        let job = wait_final(&s.base, &key, id, Duration::from_secs(180));
        assert_eq!(job["status"], "succeeded", "{job}");
        if job["attempts"].as_u64().unwrap() > 1 {
            restarted += 1;
        }
    }
    assert_verifies(
        &dir,
        &wait_final(&s.base, &key, &ids[0], Duration::from_secs(1)),
    );
    eprintln!("{restarted} job(s) were interrupted by kill -9 and proved again after the restart");
    let u = s
        .call("GET", "/v1/usage", Some(&key), Body::None)
        .expect(200);
    assert_eq!(u["proofs"], 8);
}

/// `--device cpu,opencl:0`: the daemon proves through the device scheduler's fleet (PoCL's device in
/// CI), every job's proof verifies, the job and `/v1/devices` say which devices worked, and
/// the fleet's throughput calibration is kept in the data directory across restarts.
#[cfg(feature = "opencl")]
#[test]
fn a_fleet_of_the_cpu_and_an_opencl_device_proves_and_keeps_its_calibration() {
    if !opencl_device_present() {
        return;
    }
    let dir = TestDir::new("serve-fleet");
    let data = dir.join("data");
    let s = Server::start(&data, &["--device", "cpu,opencl:0"]);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    // Nothing measured yet: the first proof calibrates both members, so both do work.
    let job = wait_final(
        &s.base,
        &key,
        &submit_wtns(&s, &key),
        Duration::from_secs(300),
    );
    assert_verifies(&dir, &job);
    assert_eq!(job["devices"], json!(["cpu:0", "opencl:0"]), "{job}");
    let devices = s
        .call("GET", "/v1/devices", Some(&key), Body::None)
        .expect(200);
    for spec in ["cpu:0", "opencl:0"] {
        let d = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["spec"] == spec)
            .unwrap_or_else(|| panic!("{spec} missing from {devices}"));
        assert_eq!(d["state"], "idle", "{d}");
        assert_eq!(d["jobs_done"], 1, "{d}");
        assert_eq!(d["faults"], 0, "{d}");
        assert!(d["busy_seconds"].as_f64().unwrap() > 0.0, "{d}");
    }
    let metrics = call(&s.base, "GET", "/metrics", None, Body::None, &[]);
    assert!(
        metrics
            .text
            .contains("kiln_device_jobs_total{device=\"opencl:0\"} 1"),
        "{}",
        metrics.text
    );
    drop(s);
    let calibration = std::fs::read_to_string(data.join("calibration.json"))
        .expect("the fleet stores its calibration in the data directory");
    assert!(calibration.contains("opencl:0"), "{calibration}");

    // Restarted on the same data dir, the measurements are known: proofs go on verifying.
    let s = Server::start(&data, &["--device", "cpu,opencl:0"]);
    let job = wait_final(
        &s.base,
        &key,
        &submit_wtns(&s, &key),
        Duration::from_secs(300),
    );
    assert_verifies(&dir, &job);
}

/// SIGTERM while a job proves: the server exits cleanly, and after a restart every job
/// succeeds with the interrupted proof not counted as an attempt.
#[test]
fn sigterm_while_proving_requeues_the_job_without_counting_an_attempt() {
    let dir = TestDir::new("serve-sigterm");
    let data = dir.join("data");
    let mut s = Server::start(&data, &[]);
    let (_, key, _) = new_tenant(&s, json!({}));
    upload(&s, &key);
    let ids = batch_until_one_runs(&s, &key, 8);
    // A client long-polling the last job: the stop answers it rather than waiting for it.
    let poll = {
        let (base, key, id) = (s.base.clone(), key.clone(), ids[7].clone());
        std::thread::spawn(move || {
            let path = format!("/v1/proofs/{id}?wait=60");
            call(&base, "GET", &path, Some(&key), Body::None, &[]).status
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(poll.join().unwrap(), 200, "the long-poll was answered");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "an open long-poll held the stop for {:?}",
        t0.elapsed()
    );
    let log = std::fs::read_to_string(&s.log).unwrap();
    // Nearly always a job was mid-proof (jobs run back to back); report when none was.
    if !log.contains("running jobs requeued") {
        eprintln!("no job was running at the SIGTERM; the requeue path was not exercised");
    }
    drop(s);

    let s = Server::start(&data, &[]);
    for id in &ids {
        let job = wait_final(&s.base, &key, id, Duration::from_secs(180));
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["attempts"], 1, "{job}\nfirst server's log:\n{log}");
    }
}

#[test]
fn a_few_hundred_concurrent_submissions_all_succeed() {
    const THREADS: usize = 20;
    const PER_THREAD: usize = 10;
    let f = poseidon();
    let dir = TestDir::new("serve-load");
    let s = Server::start(&dir.join("data"), &[]);
    let (_, a, _) = new_tenant(&s, json!({}));
    let (_, b, _) = new_tenant(&s, json!({}));
    upload(&s, &a);
    upload(&s, &b);
    let base = s.base.clone();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let base = base.clone();
            let key = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|_| {
                        let r = call(
                            &base,
                            "POST",
                            &format!("/v1/circuits/{}/proofs", poseidon().circuit_id),
                            Some(&key),
                            Body::Bytes(&poseidon().wtns),
                            &[],
                        );
                        (
                            key.clone(),
                            r.expect(202)["id"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let jobs: Vec<(String, String)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(jobs.len(), THREADS * PER_THREAD);
    let _ = f;
    for (key, id) in &jobs {
        let job = wait_final(&s.base, key, id, Duration::from_secs(600));
        assert_eq!(job["status"], "succeeded", "{job}");
    }
    let m = s.call("GET", "/metrics", None, Body::None);
    assert!(m.text.contains(&format!(
        "kiln_jobs{{state=\"succeeded\"}} {}",
        THREADS * PER_THREAD
    )));
}

#[test]
fn the_openapi_document_is_served_and_every_documented_route_exists() {
    let dir = TestDir::new("serve-openapi");
    let s = Server::start(&dir.join("data"), &[]);
    let served = s
        .call("GET", "/v1/openapi.json", None, Body::None)
        .expect(200);
    let file = read_json(&repo_root().join("crates/kiln-server/src/api/openapi.json"));
    assert_eq!(served, file);
    let mut checked = 0;
    for (path, item) in file["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{tenant_id}", "00000000-0000-0000-0000-000000000000")
                .replace("{key_id}", "00000000-0000-0000-0000-000000000000")
                .replace("{proof_id}", "00000000-0000-0000-0000-000000000000")
                .replace("{circuit_id}", &"0".repeat(64));
            let r = s.call(&method.to_uppercase(), &concrete, Some(ADMIN), Body::None);
            assert!(r.status != 405, "{method} {path}: {r:?}");
            if r.status == 404 {
                assert_ne!(
                    r.json()["error"]["code"],
                    "no_route",
                    "{method} {path} is not routed"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, kiln_server::api::ROUTES.len());
    let r = s.call("PUT", "/v1/circuits", Some(ADMIN), Body::None);
    assert_eq!(r.status, 405, "{r:?}");
}

/// `openapi-spec-validator` (PyPI; `.ci/run` installs it into `.ci/pytools` and sets
/// `KILN_PYTOOLS`) accepts the document as OpenAPI 3.
#[test]
fn the_openapi_document_is_valid_openapi_3() {
    let tools = std::env::var_os("KILN_PYTOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".ci/pytools"));
    let check = |code: &str| {
        Command::new("python3")
            .env("PYTHONPATH", &tools)
            .args(["-c", code])
            .arg(repo_root().join("crates/kiln-server/src/api/openapi.json"))
            .output()
            .expect("cannot run python3")
    };
    if !check("import openapi_spec_validator").status.success() {
        assert!(
            std::env::var_os("KILN_PYTOOLS").is_none(),
            "KILN_PYTOOLS is set but openapi_spec_validator is not importable from it"
        );
        eprintln!("skipped: openapi-spec-validator not installed (bash .ci/run --install)");
        return;
    }
    let out = check(
        "import sys\n\
         from openapi_spec_validator import validate\n\
         from openapi_spec_validator.readers import read_from_filename\n\
         validate(read_from_filename(sys.argv[1])[0])\n\
         print('valid')",
    );
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("valid"),
        "openapi-spec-validator rejects crates/kiln-server/src/api/openapi.json:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_generated_admin_key_is_printed_once_and_persists() {
    let dir = TestDir::new("serve-admin");
    let data = dir.join("data");
    let (s, lines) = Server::start_with(&data, &[], None);
    let key = lines
        .iter()
        .find_map(|l| l.split("stored): ").nth(1))
        .unwrap_or_else(|| panic!("no generated admin key printed: {lines:?}"))
        .to_string();
    s.call("POST", "/v1/tenants", Some(&key), Body::None)
        .expect(201);
    s.kill9();
    let (s, lines) = Server::start_with(&data, &[], None);
    assert!(
        lines.iter().all(|l| !l.contains(&key)),
        "printed again: {lines:?}"
    );
    s.call("GET", "/v1/tenants", Some(&key), Body::None)
        .expect(200);
    s.call("GET", "/v1/tenants", Some(ADMIN), Body::None)
        .expect(401);
    let db = std::fs::read(data.join("kiln.db")).unwrap();
    assert!(
        !db.windows(key.len()).any(|w| w == key.as_bytes()),
        "the key itself is not stored"
    );
    // A second server on the same data dir is refused.
    let out = kiln([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("another kiln serve"), "{out}");
}
