//! Black-box tests of `kiln serve`: the real binary on loopback, real HTTP, real SQLite,
//! proofs checked by snarkjs.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_snarkjs_verifies, circuit, snarkjs_export_vk, TestDir, Wtns};
use serde_json::{json, Value};

const ADMIN: &str = "test-admin-key-0123456789";

/// A running `kiln serve` on a free loopback port; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(data, port)
    }

    fn start_on(data: &Path, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .env("KILN_ADMIN_KEY", ADMIN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("kiln serve starts");
        let s = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if let Ok((200, _)) = s.try_call("GET", "/healthz", None, Body::None) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("kiln serve did not become healthy on {}", s.base);
    }

    fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap()
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no shutdown path runs.
        let _ = self.child.wait();
    }

    fn try_call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Body,
    ) -> Result<(u16, Value), String> {
        let mut req = ureq::request(method, &format!("{}{path}", self.base))
            .timeout(Duration::from_secs(120));
        if let Some(k) = key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        let resp = match body {
            Body::None => req.call(),
            Body::Bytes(b) => req.send_bytes(&b),
            Body::Json(v) => req
                .set("Content-Type", "application/json")
                .send_string(&v.to_string()),
            Body::Raw(s) => req.set("Content-Type", "application/json").send_string(s),
        };
        let r = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = r.status();
        let text = r.into_string().map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    fn call(&self, method: &str, path: &str, key: Option<&str>, body: Body) -> (u16, Value) {
        self.try_call(method, path, key, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn tenant(&self) -> String {
        let (status, v) = self.call("POST", "/v1/tenants", Some(ADMIN), Body::Json(json!({})));
        assert_eq!(status, 201, "{v}");
        v["api_key"].as_str().expect("api_key").to_string()
    }

    /// Waits for job `id` to end and returns its record.
    fn wait(&self, key: &str, id: &str) -> Value {
        let t = Instant::now();
        loop {
            let (status, v) = self.call(
                "GET",
                &format!("/v1/proofs/{id}?wait=30"),
                Some(key),
                Body::None,
            );
            assert_eq!(status, 200, "{v}");
            let s = v["status"].as_str().unwrap_or_default().to_string();
            if ["succeeded", "failed", "cancelled"].contains(&s.as_str()) {
                return v;
            }
            assert!(t.elapsed() < Duration::from_secs(300), "job {id} still {s}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

enum Body<'a> {
    None,
    Bytes(Vec<u8>),
    Json(Value),
    Raw(&'a str),
}

/// The circuit's snarkjs zkey, a witness file, and the verification key.
fn fixture(dir: &TestDir) -> (Vec<u8>, std::path::PathBuf, std::path::PathBuf) {
    let c = circuit("poseidon");
    let zkey = c.snarkjs_zkey();
    let vk = dir.join("vk.json");
    snarkjs_export_vk(&zkey, &vk);
    (std::fs::read(&zkey).unwrap(), c.witness(dir.path()), vk)
}

fn assert_verifies(job: &Value, vk: &Path, dir: &TestDir, name: &str) {
    assert_eq!(job["status"], "succeeded", "{job}");
    let proof = dir.join(format!("{name}.proof.json"));
    let public = dir.join(format!("{name}.public.json"));
    std::fs::write(&proof, job["proof"].to_string()).unwrap();
    std::fs::write(&public, job["public_signals"].to_string()).unwrap();
    assert_snarkjs_verifies(vk, &public, &proof);
}

#[test]
fn whole_flow_and_a_batch_verify_in_snarkjs() {
    let dir = TestDir::new("serve-flow");
    let (zkey, wtns, vk) = fixture(&dir);
    let server = Server::start(&dir.join("data"));
    let key = server.tenant();

    let (status, circuit) = server.call(
        "POST",
        "/v1/circuits",
        Some(&key),
        Body::Bytes(zkey.clone()),
    );
    assert_eq!(status, 201, "{circuit}");
    let id = circuit["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64, "the circuit id is the zkey's sha256");
    assert_eq!(circuit["curve"], "bn128");
    // The same zkey again is the same circuit.
    let (status, again) = server.call("POST", "/v1/circuits", Some(&key), Body::Bytes(zkey));
    assert!(status == 200 || status == 201, "{again}");
    assert_eq!(again["id"], circuit["id"]);

    let (status, job) = server.call(
        "POST",
        &format!("/v1/circuits/{id}/proofs"),
        Some(&key),
        Body::Bytes(std::fs::read(&wtns).unwrap()),
    );
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["status"], "queued");
    let done = server.wait(&key, job["id"].as_str().unwrap());
    assert_verifies(&done, &vk, &dir, "single");

    // A batch of JSON witnesses (decimal strings).
    let values: Vec<String> = Wtns::read(&wtns)
        .values()
        .iter()
        .map(|v| v.to_string())
        .collect();
    let (status, batch) = server.call(
        "POST",
        &format!("/v1/circuits/{id}/proofs"),
        Some(&key),
        Body::Json(json!({ "witnesses": [values.clone(), values] })),
    );
    assert_eq!(status, 202, "{batch}");
    let jobs = batch
        .as_array()
        .or_else(|| batch["jobs"].as_array())
        .expect("a list of jobs")
        .clone();
    assert_eq!(jobs.len(), 2, "{batch}");
    for (i, j) in jobs.iter().enumerate() {
        let done = server.wait(&key, j["id"].as_str().unwrap());
        assert_verifies(&done, &vk, &dir, &format!("batch{i}"));
    }
}

#[test]
fn bad_requests_get_their_4xx_and_the_server_stays_healthy() {
    let dir = TestDir::new("serve-bad");
    let (zkey, wtns, _vk) = fixture(&dir);
    let server = Server::start(&dir.join("data"));
    let key = server.tenant();
    let other = server.tenant();
    let (_, c) = server.call(
        "POST",
        "/v1/circuits",
        Some(&key),
        Body::Bytes(zkey.clone()),
    );
    let id = c["id"].as_str().unwrap().to_string();
    let proofs = format!("/v1/circuits/{id}/proofs");

    let expect = |what: &str, (status, v): (u16, Value), codes: &[u16]| {
        assert!(codes.contains(&status), "{what}: got {status} {v}");
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !msg.is_empty() && v["error"]["code"].is_string(),
            "{what}: no JSON error: {v}"
        );
    };
    expect(
        "no key",
        server.call("GET", "/v1/circuits", None, Body::None),
        &[401],
    );
    expect(
        "wrong key",
        server.call("GET", "/v1/circuits", Some("kiln_nope"), Body::None),
        &[401],
    );
    expect(
        "tenant key on an admin route",
        server.call("POST", "/v1/tenants", Some(&key), Body::Json(json!({}))),
        &[401, 403],
    );
    expect(
        "truncated zkey",
        server.call(
            "POST",
            "/v1/circuits",
            Some(&key),
            Body::Bytes(zkey[..zkey.len() / 2].to_vec()),
        ),
        &[400, 422],
    );
    expect(
        "garbage witness",
        server.call(
            "POST",
            &proofs,
            Some(&key),
            Body::Bytes(b"not a witness at all".to_vec()),
        ),
        &[400, 422],
    );
    expect(
        "wrong-length witness",
        server.call(
            "POST",
            &proofs,
            Some(&key),
            Body::Json(json!({ "witness": ["1", "2", "3"] })),
        ),
        &[400, 422],
    );
    expect(
        "malformed JSON",
        server.call("POST", &proofs, Some(&key), Body::Raw("{\"witness\": [")),
        &[400],
    );
    // Another tenant sees nothing of this one's.
    expect(
        "other tenant's circuit",
        server.call(
            "GET",
            &format!("/v1/circuits/{id}"),
            Some(&other),
            Body::None,
        ),
        &[404],
    );
    expect(
        "proving on another tenant's circuit",
        server.call(
            "POST",
            &proofs,
            Some(&other),
            Body::Bytes(std::fs::read(&wtns).unwrap()),
        ),
        &[404],
    );
    assert_eq!(server.call("GET", "/healthz", None, Body::None).0, 200);
    // And it still proves.
    let (status, job) = server.call(
        "POST",
        &proofs,
        Some(&key),
        Body::Bytes(std::fs::read(&wtns).unwrap()),
    );
    assert_eq!(status, 202, "{job}");
    assert_eq!(
        server.wait(&key, job["id"].as_str().unwrap())["status"],
        "succeeded"
    );
}

#[test]
fn accepted_jobs_survive_kill_9_and_finish_after_a_restart() {
    let dir = TestDir::new("serve-crash");
    let (zkey, wtns, vk) = fixture(&dir);
    let data = dir.join("data");
    let mut server = Server::start(&data);
    let key = server.tenant();
    let (_, c) = server.call("POST", "/v1/circuits", Some(&key), Body::Bytes(zkey));
    let id = c["id"].as_str().unwrap().to_string();
    let w = std::fs::read(&wtns).unwrap();
    let mut ids = Vec::new();
    for _ in 0..6 {
        let (status, job) = server.call(
            "POST",
            &format!("/v1/circuits/{id}/proofs"),
            Some(&key),
            Body::Bytes(w.clone()),
        );
        assert_eq!(status, 202, "{job}");
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    let port = server.port();
    server.kill();
    let server = Server::start_on(&data, port);
    for (i, j) in ids.iter().enumerate() {
        let done = server.wait(&key, j);
        assert_verifies(&done, &vk, &dir, &format!("crash{i}"));
    }
}
