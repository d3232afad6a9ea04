//! The `serve` suite: whole proofs through the appliance's daemon, against the same proof
//! made in-process. For each device of the run, this executable is started as `kiln serve
//! --listen 127.0.0.1:0 --device SPEC` on a data directory of its own; a tenant is made with
//! the daemon's admin key, and for each size the synthetic circuit's key (the `prove`
//! suite's, [`super::prove::synthetic_key`]) is uploaded once and warmed up with one proof.
//! Op `serve-prove` is then one proof end to end as a client sees it: the `.wtns` posted
//! (`POST /v1/circuits/{id}/proofs`), the job long-polled (`GET /v1/proofs/{id}?wait=30`)
//! until it succeeded, its proof and public signals decoded from the answer and checked
//! with kiln's Groth16 verifier against the key's verifying key. The baseline is
//! [`BASELINE`]: the same key and witness proven by the CPU backend in this process.
//!
//! The daemons are killed when the suite ends, fails or panics (and, on Linux, when this
//! process dies). The device time of the rows is empty: the daemon's proving happens in
//! another process, whose device clocks this one cannot read.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use kiln_algebra::curve::Bn254;
use kiln_device::{DeviceError, DeviceSpec};
use kiln_formats::json::{public_from_json, ProofJson};
use kiln_groth16::snarkjs::proof_from_json;
use kiln_groth16::PreparedVerifyingKey;
use serde_json::Value;

use crate::devices::BenchDevice;
use crate::measure::{Contender, Ctx};
use crate::spec::Suite;
use crate::suites::prove;
use crate::BenchError;

type Fr = ark_bn254::Fr;

/// The baseline's name in reports.
pub const BASELINE: &str = "kiln prove in-process (cpu backend)";

/// The operation's name in reports.
pub const OP: &str = "serve-prove";

/// The environment variable that makes the suite alter the proofs the daemon returns for
/// some devices (`fpga:0`, or a comma list of specs) before checking them, to test that
/// every proof is checked; never set in normal runs.
pub const TAMPER_ENV: &str = "KILN_BENCH_TAMPER";

/// How long a daemon may take to start listening (opening a device may compile kernels).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Seconds each long-poll of a job waits for it to end.
const POLL_WAIT_S: u32 = 30;

/// The longest one proof through the daemon may take before its device's row fails.
const JOB_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3600);

/// A limit well above any key or witness a bench makes (the daemon's defaults, 4 GiB of
/// zkey and 64 MiB of witness, are below what the largest sizes need).
const NO_LIMIT: u64 = 1 << 50;

/// The devices whose daemon proofs [`TAMPER_ENV`] asks to alter.
pub fn tampered() -> Result<Vec<DeviceSpec>, BenchError> {
    let Ok(text) = std::env::var(TAMPER_ENV) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<DeviceSpec>().map_err(|_| {
                BenchError::BadArgument(format!(
                    "{TAMPER_ENV}={text:?}: {p:?} is not a device spec: expected a comma list such as cpu:0,fpga:0"
                ))
            })
        })
        .collect()
}

/// A device failure of the daemon proving on `spec`.
fn failure(spec: DeviceSpec, message: String) -> DeviceError {
    DeviceError::Backend {
        spec,
        message: format!("kiln serve: {message}"),
    }
}

/// A `kiln serve` child process of this one, with its tenant's API key. Killed (and
/// reaped) when dropped.
struct Daemon {
    spec: DeviceSpec,
    child: Child,
    base: String,
    api_key: String,
    log: PathBuf,
    agent: ureq::Agent,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        tracing::debug!(target: crate::TARGET, device = %self.spec, "kiln serve stopped");
    }
}

/// The last lines of a daemon's log, for error messages.
fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        let len = f.metadata().map_or(0, |m| m.len());
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(2000)));
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().rev().take(8).collect();
    if lines.is_empty() {
        "(its log is empty)".into()
    } else {
        let mut lines = lines;
        lines.reverse();
        format!("its log ends:\n    {}", lines.join("\n    "))
    }
}

/// Makes the child die with this process (Linux: the parent-death signal), so that no
/// daemon outlives a bench killed before its guards run.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and calls only prctl,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

impl Daemon {
    /// Starts `exe serve` on `spec` with a data directory under `dir`, waits until it
    /// listens, and makes a tenant.
    fn start(exe: &Path, dir: &Path, spec: DeviceSpec) -> Result<Daemon, String> {
        let name = format!("serve-{}-{}", spec.kind.as_str(), spec.index);
        let data = dir.join(&name);
        let log = dir.join(format!("{name}.log"));
        let stderr = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let admin = format!(
            "kiln-bench-admin-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let mut cmd = Command::new(exe);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(["--device", &spec.to_string()])
            .args(["--rollup", "false", "--workers", "1", "--key-cache", "1"])
            // The CPU backend as the baseline's: the same precomputation budget.
            .args([
                "--precompute-mib",
                &(kiln_device::DEFAULT_PRECOMPUTE_BUDGET >> 20).to_string(),
            ])
            .args(["--max-body-bytes", &NO_LIMIT.to_string()])
            .args(["--max-zkey-bytes", &NO_LIMIT.to_string()])
            .args(["--max-stored-bytes", &NO_LIMIT.to_string()])
            .env("KILN_ADMIN_KEY", &admin)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {} serve: {e}", exe.display()))?;
        let stdout = child.stdout.take();
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(u64::from(POLL_WAIT_S) + 90))
            .timeout_write(Duration::from_secs(600))
            .build();
        // From here on the guard kills the child on every way out.
        let mut daemon = Daemon {
            spec,
            child,
            base: String::new(),
            api_key: String::new(),
            log,
            agent,
        };
        let (tx, rx) = mpsc::channel();
        if let Some(stdout) = stdout {
            std::thread::spawn(move || {
                let mut out = BufReader::new(stdout);
                let mut line = String::new();
                loop {
                    line.clear();
                    match out.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if let Some(addr) =
                                line.trim().strip_prefix("kiln serve: listening on ")
                            {
                                let _ = tx.send(addr.to_string());
                                break;
                            }
                        }
                    }
                }
                // Keep draining, so the daemon never blocks on its stdout.
                let _ = std::io::copy(&mut out, &mut std::io::sink());
            });
        }
        daemon.base = match rx.recv_timeout(START_TIMEOUT) {
            Ok(base) => base,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "did not listen within {} s; {}",
                    START_TIMEOUT.as_secs(),
                    log_tail(&daemon.log)
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = daemon
                    .child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                return Err(format!(
                    "exited before listening ({status}); {}",
                    log_tail(&daemon.log)
                ));
            }
        };
        let tenant = daemon.call("POST", "/v1/tenants", &admin, Body::Json("{}"), &[201])?;
        daemon.api_key = tenant["api_key"]
            .as_str()
            .ok_or_else(|| format!("POST /v1/tenants answered no api_key: {tenant}"))?
            .to_string();
        tracing::info!(target: crate::TARGET, device = %spec, base = %daemon.base, "kiln serve started");
        Ok(daemon)
    }

    /// One request; the answer's JSON when its status is one of `want`.
    fn call(
        &mut self,
        method: &str,
        path: &str,
        key: &str,
        body: Body<'_>,
        want: &[u16],
    ) -> Result<Value, String> {
        let req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {key}"));
        let res = match body {
            Body::None => req.call(),
            Body::Json(text) => req
                .set("Content-Type", "application/json")
                .send_string(text),
            Body::Bytes(bytes) => req
                .set("Content-Type", "application/octet-stream")
                .send_bytes(bytes),
        };
        let resp = match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => {
                let exited = match self.child.try_wait() {
                    Ok(Some(status)) => {
                        format!(" (the daemon exited: {status}; {})", log_tail(&self.log))
                    }
                    _ => String::new(),
                };
                return Err(format!("{method} {path}: {e}{exited}"));
            }
        };
        let status = resp.status();
        let text = resp
            .into_string()
            .map_err(|e| format!("{method} {path}: reading the answer: {e}"))?;
        if !want.contains(&status) {
            return Err(format!("{method} {path}: {status} {}", text.trim()));
        }
        serde_json::from_str(&text)
            .map_err(|e| format!("{method} {path}: the answer is not JSON ({e}): {text}"))
    }

    /// Uploads a zkey; the circuit's id.
    fn upload(&mut self, zkey: &[u8]) -> Result<String, String> {
        let key = self.api_key.clone();
        let c = self.call("POST", "/v1/circuits", &key, Body::Bytes(zkey), &[200, 201])?;
        c["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("POST /v1/circuits answered no id: {c}"))
    }

    /// Posts a `.wtns` and long-polls its job until it ends; the succeeded job (with its
    /// proof and public signals).
    fn prove(&mut self, circuit: &str, wtns: &[u8]) -> Result<Value, String> {
        let key = self.api_key.clone();
        let job = self.call(
            "POST",
            &format!("/v1/circuits/{circuit}/proofs"),
            &key,
            Body::Bytes(wtns),
            &[202],
        )?;
        let id = job["id"]
            .as_str()
            .ok_or_else(|| format!("the submission answered no job id: {job}"))?
            .to_string();
        let deadline = std::time::Instant::now() + JOB_DEADLINE;
        loop {
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "job {id} did not finish within {} s",
                    JOB_DEADLINE.as_secs()
                ));
            }
            let job = self.call(
                "GET",
                &format!("/v1/proofs/{id}?wait={POLL_WAIT_S}"),
                &key,
                Body::None,
                &[200],
            )?;
            match job["status"].as_str() {
                Some("succeeded") => return Ok(job),
                Some("queued" | "running") => continue,
                _ => return Err(format!("job {id} did not succeed: {job}")),
            }
        }
    }

    /// Deletes a circuit (its key and stored file); best effort.
    fn delete(&mut self, circuit: &str) {
        let key = self.api_key.clone();
        let _ = self.call(
            "DELETE",
            &format!("/v1/circuits/{circuit}"),
            &key,
            Body::None,
            &[200, 204],
        );
    }
}

/// A request body.
enum Body<'a> {
    None,
    Json(&'a str),
    Bytes(&'a [u8]),
}

/// Checks a succeeded job's proof: its public signals are the witness's, and it passes
/// the pairing check against the key's verifying key.
fn check_proof(
    job: &Value,
    pvk: &PreparedVerifyingKey<Bn254>,
    public: &[Fr],
    tamper: bool,
) -> Result<(), String> {
    let json: ProofJson = serde_json::from_value(job["proof"].clone())
        .map_err(|e| format!("the job's proof is not a snarkjs proof ({e}): {job}"))?;
    let mut proof = proof_from_json::<Bn254>(&json)
        .map_err(|e| format!("the job's proof does not decode: {e}"))?;
    if tamper {
        proof.a = -proof.a;
    }
    let signals: Vec<String> = serde_json::from_value(job["public_signals"].clone())
        .map_err(|e| format!("the job's public signals are not a list of numbers ({e}): {job}"))?;
    let got = public_from_json::<Bn254>(&signals)
        .map_err(|e| format!("the job's public signals do not decode: {e}"))?;
    if got != public {
        return Err(format!(
            "the job's public signals {signals:?} are not the witness's"
        ));
    }
    match pvk.verify(public, &proof) {
        Ok(true) => Ok(()),
        Ok(false) => Err(
            "WRONG PROOF: the daemon's proof fails the pairing check against the key's verifying key"
                .into(),
        ),
        Err(e) => Err(format!("the proof cannot be verified: {e}")),
    }
}

/// Runs the suite over `sizes` (domain sizes, log2), one daemon per device.
pub fn run(ctx: &mut Ctx<'_>, devices: &[BenchDevice], sizes: &[u32]) -> Result<(), BenchError> {
    let tamper = tampered()?;
    let exe = std::env::current_exe()
        .map_err(|e| BenchError::io(Path::new("/proc/self/exe"), "cannot find kiln itself", e))?;
    // Declared before the daemons: dropped (removed) after they are killed.
    let dir = prove::temp_dir()?;
    let mut daemons: Vec<Result<Daemon, String>> = Vec::with_capacity(devices.len());
    for d in devices {
        ctx.progress.set_message(format!(
            "serve: starting kiln serve --device {}",
            d.entry.device
        ));
        let daemon = Daemon::start(&exe, dir.path(), d.spec);
        if let Err(e) = &daemon {
            tracing::warn!(target: crate::TARGET, device = %d.spec, error = %e, "kiln serve did not start");
        }
        daemons.push(daemon);
    }
    for &log in sizes {
        ctx.progress.set_message(format!(
            "serve 2^{log}: making the synthetic circuit and its key"
        ));
        let (zkey_path, witness) = prove::synthetic_key(dir.path(), log)?;
        let zkey = prove::open_zkey(&zkey_path)?;
        let what = format!("{OP} 2^{log}");
        let base_key = prove::baseline_key(&zkey, &what)?;
        let n_public = zkey.header().n_public;
        drop(zkey);
        let public: Vec<Fr> = witness[1..=n_public].to_vec();
        let pvk = &base_key.pvk;
        let wtns_path = dir.path().join(format!("bench-{log}.wtns"));
        kiln_formats::write_wtns::<Bn254>(&wtns_path, &witness).map_err(|e| {
            BenchError::BadArgument(format!("writing {}: {e}", wtns_path.display()))
        })?;
        let wtns =
            std::fs::read(&wtns_path).map_err(|e| BenchError::io(&wtns_path, "cannot read", e))?;
        let zkey_bytes =
            std::fs::read(&zkey_path).map_err(|e| BenchError::io(&zkey_path, "cannot read", e))?;
        // The key uploaded once per daemon and made resident by one proof.
        let mut circuits: Vec<Result<String, String>> = Vec::with_capacity(daemons.len());
        for (d, daemon) in devices.iter().zip(daemons.iter_mut()) {
            let circuit = match daemon {
                Ok(daemon) => {
                    ctx.progress.set_message(format!(
                        "serve 2^{log}: uploading the key to kiln serve on {} and warming up",
                        d.entry.device
                    ));
                    daemon.upload(&zkey_bytes).inspect(|c| {
                        // A failure shows in the timed runs; the warm-up only loads the key.
                        let _ = daemon.prove(c, &wtns);
                    })
                }
                Err(e) => Err(format!("did not start: {e}")),
            };
            circuits.push(circuit);
        }
        drop(zkey_bytes);
        let (wtns, public) = (&wtns, &public);
        let contenders = devices
            .iter()
            .zip(daemons.iter_mut())
            .zip(&circuits)
            .map(|((d, daemon), circuit)| {
                let spec = d.spec;
                let tamper = tamper.contains(&spec);
                Contender {
                    device: d,
                    variant: d.default_variant(),
                    run: Box::new(move || {
                        let daemon = daemon.as_mut().map_err(|e| failure(spec, e.clone()))?;
                        let circuit = circuit.as_ref().map_err(|e| failure(spec, e.clone()))?;
                        let job = daemon.prove(circuit, wtns).map_err(|e| failure(spec, e))?;
                        check_proof(&job, pvk, public, tamper).map_err(|e| failure(spec, e))
                    }) as Box<dyn FnMut() -> Result<(), DeviceError> + '_>,
                }
            })
            .collect();
        let mut failed = None;
        ctx.measure(
            Suite::Serve,
            OP,
            log,
            log,
            BASELINE,
            || {
                if let Err(e) = prove::prove_once(&base_key, &witness) {
                    failed.get_or_insert(e);
                }
            },
            contenders,
        );
        if let Some(e) = failed {
            return Err(BenchError::Mismatch(format!(
                "{what}: the baseline ({BASELINE}) failed to prove: {e}"
            )));
        }
        for (daemon, circuit) in daemons.iter_mut().zip(&circuits) {
            if let (Ok(daemon), Ok(circuit)) = (daemon, circuit) {
                daemon.delete(circuit);
            }
        }
        let _ = std::fs::remove_file(&zkey_path);
        let _ = std::fs::remove_file(&wtns_path);
    }
    drop(daemons);
    Ok(())
}
