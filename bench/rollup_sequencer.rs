//! The rollup sequencer's throughput: confirmed transfers per second over loopback HTTP,
//! with many concurrent keep-alive clients posting pre-signed transfers to `kiln serve
//! --rollup`, and the p50/p99 time from sending a transfer to its 200 "confirmed"; beside
//! it, measured in the same run over the same transfers on every core, the machine's bare
//! EdDSA-Poseidon verification rate one signature at a time, and the rate of the grouped
//! checks the sequencer makes (64 at a time, hashes and curve equations eight at a time,
//! key tables): the ceiling of a sequencer that checks signatures this way.
//!
//! The clients are keep-alive HTTP/1.1 connections driven from one thread by an event loop
//! (as wrk drives its connections), each posting its transfers in order and waiting for
//! each answer before the next.
//!
//! `cargo bench --bench rollup_sequencer -- [--txs N] [--clients C] [--out FILE]`
//! (defaults 40000 transfers, 256 clients). The server runs with `--rollup-prove false` so
//! that the batch prover does not take the cores the sequencer is measured on; the batch
//! builder still runs (roots and data at batch close, without the prover's per-write state
//! proofs).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kiln_rollup::babyjub::PointTable;
use kiln_rollup::intake::SignedTx;
use kiln_rollup::ledger::check_signatures;
use kiln_rollup::wallet::{body, genesis_account, key_from_seed, transfer};
use rayon::prelude::*;
use serde_json::{json, Value};

const CHAIN: u64 = 7;

/// The results, as JSON.
#[derive(serde::Serialize)]
struct Report {
    transfers: usize,
    clients: usize,
    batch_size: usize,
    confirmed: usize,
    refused: usize,
    seconds: f64,
    confirmed_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    bare_verify_per_s: f64,
    /// confirmed transfers per second / bare verifications per second.
    ratio_to_bare_verify: f64,
    /// The same transfers checked as the sequencer checks them: 64 at a time, hashes eight
    /// at a time, with the senders' key tables (built beforehand), every core.
    grouped_verify_per_s: f64,
    /// confirmed transfers per second / grouped verifications per second.
    ratio_to_grouped_verify: f64,
    cores: usize,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// `kiln serve` on a free loopback port; returns the child and its base URL.
fn serve(
    data: &std::path::Path,
    genesis: &std::path::Path,
    batch: usize,
    backlog: usize,
) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args([
            "--rollup",
            "--l1-rpc",
            "none",
            "--rollup-prove",
            "false",
            "--rollup-rate-limit",
            "0",
        ])
        .arg("--rollup-genesis")
        .arg(genesis)
        .args(["--rollup-max-batch-size", &batch.to_string()])
        .args(["--rollup-max-backlog", &backlog.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start kiln serve");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let base = loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("kiln serve exited before listening");
        }
        if let Some(addr) = line.trim().strip_prefix("kiln serve: listening on ") {
            break addr.to_string();
        }
    };
    std::thread::spawn(move || for _ in out.lines() {});
    (child, base)
}

/// Posts each client's bodies in order over its own keep-alive connection, every client
/// concurrently, from one thread (an event loop, as a load generator such as wrk does, so
/// that the clients take little of the cores the server is measured on); the time from
/// sending each transfer to its 200 response, for the confirmed ones.
fn post_all(base: &str, bodies: Vec<Vec<String>>, refused: &AtomicUsize) -> Vec<Duration> {
    let addr: std::net::SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .expect("kiln serve's address");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let clients: Vec<_> = bodies
            .into_iter()
            .map(|mine| {
                tokio::spawn(async move {
                    let stream = tokio::net::TcpStream::connect(addr)
                        .await
                        .expect("connect to kiln serve");
                    stream.set_nodelay(true).expect("TCP_NODELAY");
                    let (mut sender, connection) = hyper::client::conn::handshake(stream)
                        .await
                        .expect("an HTTP/1.1 connection");
                    tokio::spawn(connection);
                    let mut lat = Vec::with_capacity(mine.len());
                    let mut refused = 0usize;
                    for b in mine {
                        let request = hyper::Request::post("/v1/rollup/transactions")
                            .header("host", addr.to_string())
                            .header("content-type", "application/json")
                            .body(hyper::Body::from(b))
                            .expect("a request");
                        let t = Instant::now();
                        let response = sender.send_request(request).await.expect("a response");
                        let status = response.status();
                        let answer = hyper::body::to_bytes(response.into_body())
                            .await
                            .expect("a response body");
                        if status.is_success() {
                            lat.push(t.elapsed());
                        } else {
                            if refused < 3 {
                                eprintln!("refused: {status} {}", String::from_utf8_lossy(&answer));
                            }
                            refused += 1;
                        }
                    }
                    (lat, refused)
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in clients {
            let (lat, n) = c.await.expect("a client");
            all.extend(lat);
            refused.fetch_add(n, Ordering::Relaxed);
        }
        all
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--txs").map_or(40_000, |v| v.parse().expect("--txs N"));
    let clients: usize = arg(&args, "--clients").map_or(256, |v| v.parse().expect("--clients C"));
    let batch: usize =
        arg(&args, "--batch-size").map_or(64, |v| v.parse().expect("--batch-size N"));
    let out = arg(&args, "--out");
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());

    // Each client owns its senders, so a sender's nonces arrive in order. Account 2k+1
    // sends to 2k+2; a client's transfers go round its senders.
    let senders_per_client = 8usize;
    let senders = clients * senders_per_client;
    let keys: Vec<_> = (0..=2 * senders as u64).map(key_from_seed).collect();
    let accounts: Vec<Value> = (1..=2 * senders as u32)
        .map(|i| genesis_account(i, &keys[i as usize].public(), 0, 1_000_000_000))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let genesis = dir.path().join("genesis.json");
    std::fs::write(
        &genesis,
        json!({"chain_id": CHAIN, "accounts": accounts}).to_string(),
    )
    .unwrap();

    eprintln!("signing {n} transfers ...");
    let per_client = n / clients;
    let work: Vec<Vec<SignedTx>> = (0..clients)
        .into_par_iter()
        .map(|c| {
            (0..per_client)
                .map(|j| {
                    let s = c * senders_per_client + j % senders_per_client;
                    let from = 2 * s as u32 + 1;
                    let nonce = (j / senders_per_client) as u64;
                    transfer(&keys[from as usize], CHAIN, from, from + 1, 0, 1, 0, nonce)
                })
                .collect()
        })
        .collect();
    let total: usize = work.iter().map(Vec::len).sum();

    // The bare verification rate over the same transfers, every core.
    let all: Vec<&SignedTx> = work.iter().flatten().collect();
    let public: Vec<_> = keys.iter().map(|k| k.public()).collect();
    let t = Instant::now();
    let ok = all
        .par_iter()
        .filter(|s| {
            kiln_rollup::eddsa::verify(&s.tx.message(), &s.signature, &public[s.tx.from as usize])
        })
        .count();
    let bare = total as f64 / t.elapsed().as_secs_f64();
    assert_eq!(ok, total, "kiln's own signatures verify");
    let tables: Vec<_> = public.iter().map(PointTable::new).collect();
    let t = Instant::now();
    let ok: usize = all
        .par_chunks(64)
        .map(|group| {
            let items: Vec<_> = group
                .iter()
                .map(|s| {
                    let from = s.tx.from as usize;
                    (&public[from], Some(&tables[from]), *s)
                })
                .collect();
            check_signatures(&items)
                .iter()
                .filter(|r| r.is_ok())
                .count()
        })
        .sum();
    let grouped = total as f64 / t.elapsed().as_secs_f64();
    assert_eq!(ok, total, "kiln's own signatures verify in groups");
    eprintln!(
        "bare EdDSA-Poseidon verification (message hash included): {bare:.0}/s on {cores} cores; grouped as the sequencer checks them: {grouped:.0}/s"
    );

    let bodies: Vec<Vec<String>> = work
        .iter()
        .map(|w| w.iter().map(|s| body(s).to_string()).collect())
        .collect();
    let data = dir.path().join("data");
    let (mut child, base) = serve(&data, &genesis, batch, total + 1);
    let url = format!("{base}/v1/rollup/transactions");
    let refused = AtomicUsize::new(0);
    eprintln!("posting {total} transfers from {clients} keep-alive clients to {url} ...");
    let start = Instant::now();
    let mut latencies = post_all(&base, bodies, &refused);
    let seconds = start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let confirmed = latencies.len();
    let report = Report {
        transfers: total,
        clients,
        batch_size: batch,
        confirmed,
        refused: refused.load(Ordering::Relaxed),
        seconds,
        confirmed_per_s: confirmed as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        bare_verify_per_s: bare,
        ratio_to_bare_verify: confirmed as f64 / seconds / bare,
        grouped_verify_per_s: grouped,
        ratio_to_grouped_verify: confirmed as f64 / seconds / grouped,
        cores,
    };
    println!(
        "sequencer: {} confirmed of {} in {:.2} s = {:.0} tx/s (p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} clients, batch size {}); bare signature verification {:.0}/s (ratio {:.2}); grouped as the sequencer checks them {:.0}/s (ratio {:.2})",
        report.confirmed,
        report.transfers,
        report.seconds,
        report.confirmed_per_s,
        report.p50_ms,
        report.p99_ms,
        report.max_ms,
        clients,
        batch,
        report.bare_verify_per_s,
        report.ratio_to_bare_verify,
        report.grouped_verify_per_s,
        report.ratio_to_grouped_verify
    );
    if let Some(path) = out {
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
}
