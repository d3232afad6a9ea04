//! `kiln serve` as the black-box tests run it: the real binary on a free loopback port,
//! real HTTP (ureq), answers with their status, headers and JSON.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

/// The admin key the test servers run with.
pub const ADMIN: &str = "test-admin-key-0123456789abcdef";

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

impl Server {
    /// Starts `kiln serve` on a free loopback port with the test admin key.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Self::start_with(data_dir, extra, Some(ADMIN)).0
    }

    /// Starts it; returns the server and the stdout lines printed before "listening".
    pub fn start_with(
        data_dir: &Path,
        extra: &[&str],
        admin: Option<&str>,
    ) -> (Server, Vec<String>) {
        let log = unique(data_dir.with_file_name("serve.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
        cmd.arg("serve");
        if !extra.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("KILN_ADMIN_KEY")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(a) = admin {
            cmd.env("KILN_ADMIN_KEY", a);
        }
        let mut child = cmd.spawn().expect("cannot start kiln serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let base = loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!(
                    "kiln serve exited before listening; stderr:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if let Some(addr) = line.trim().strip_prefix("kiln serve: listening on ") {
                break addr.to_string();
            }
            lines.push(line.trim().to_string());
        };
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        (
            Server {
                child,
                base,
                data_dir: data_dir.to_path_buf(),
                log,
            },
            lines,
        )
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    pub fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "kiln serve died; stderr:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        let r = self.call("GET", "/healthz", None, Body::None);
        assert_eq!(r.status, 200, "{r:?}");
    }

    pub fn call(&self, method: &str, path: &str, key: Option<&str>, body: Body) -> Resp {
        call(&self.base, method, path, key, body, &[])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "server log {}:\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let _ = std::fs::remove_file(&self.log);
        let _ = &self.data_dir;
    }
}

pub fn unique(p: PathBuf) -> PathBuf {
    static N: Mutex<u64> = Mutex::new(0);
    let mut n = N.lock().unwrap();
    *n += 1;
    PathBuf::from(format!("{}-{}-{}", p.display(), std::process::id(), *n))
}

pub enum Body<'a> {
    None,
    Json(Value),
    Bytes(&'a [u8]),
    /// Sent with `Transfer-Encoding: chunked` (no Content-Length).
    Chunked(&'a [u8]),
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {self:?}"))
    }

    /// Asserts the status and, for errors, the JSON error shape; returns the JSON.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {self:?}");
        let v = self.json();
        if status >= 400 {
            let e = &v["error"];
            assert!(
                e["code"].is_string() && !e["message"].as_str().unwrap_or("").is_empty(),
                "error answers are {{\"error\": {{\"code\", \"message\"}}}}: {self:?}"
            );
        }
        v
    }
}

pub fn agent() -> &'static ureq::Agent {
    static A: OnceLock<ureq::Agent> = OnceLock::new();
    A.get_or_init(|| {
        ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(120))
            .build()
    })
}

pub fn call(
    base: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Body,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = agent().request(method, &format!("{base}{path}"));
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    for (h, v) in headers {
        req = req.set(h, v);
    }
    // Bytes go as application/octet-stream unless the caller set a Content-Type.
    if !headers
        .iter()
        .any(|(h, _)| h.eq_ignore_ascii_case("content-type"))
    {
        req = req.set("Content-Type", "application/octet-stream");
    }
    let res = match body {
        Body::None => req.call(),
        Body::Json(v) => req
            .set("Content-Type", "application/json")
            .send_string(&v.to_string()),
        Body::Bytes(b) => req.send_bytes(b),
        Body::Chunked(b) => req.send(std::io::Cursor::new(b)),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: transport error: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.to_lowercase(), v.to_string())))
        .collect();
    let text = resp.into_string().unwrap_or_default();
    Resp {
        status,
        headers,
        text,
    }
}
