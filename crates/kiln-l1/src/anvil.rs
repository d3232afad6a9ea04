//! A development L1: foundry's `anvil` started by the appliance (`--l1-rpc anvil`), on a
//! free loopback port, its chain kept in the data dir (`--state`, written every second and
//! at exit) and stopped with the appliance (it gets SIGKILL when kiln dies, however kiln
//! dies). The binary is `$KILN_ANVIL`, else `anvil` in `$KILN_NPM_BIN`, in
//! `.ci/npm/node_modules/.bin` (where `bash .ci/run --install` puts it), or on `PATH`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::L1Error;

/// anvil's first development account's well-known private key (its default mnemonic).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A running anvil; killed when dropped.
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where anvil is.
pub fn anvil_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("KILN_ANVIL") {
        return PathBuf::from(p);
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("KILN_NPM_BIN") {
        candidates.push(PathBuf::from(dir).join("anvil"));
    }
    candidates.push(PathBuf::from(".ci/npm/node_modules/.bin/anvil"));
    candidates
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("anvil"))
}

impl Anvil {
    /// Starts anvil with its chain in `state_file` (loaded if it exists) and blocks every
    /// `block_time_s` seconds (0: a block per transaction), and waits until it listens.
    pub fn start(state_file: &Path, block_time_s: u64) -> Result<Anvil, L1Error> {
        let bin = anvil_binary();
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--state-interval",
            "1",
        ])
        .arg("--state")
        .arg(state_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if block_time_s > 0 {
            cmd.args(["--block-time", &block_time_s.to_string()]);
        }
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the child
        // when this process dies.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| {
            L1Error::Config(format!(
                "cannot start anvil ({}: {e}); install it with `bash .ci/run --install`, set KILN_ANVIL, or give --l1-rpc URL",
                bin.display()
            ))
        })?;
        let mut out = BufReader::new(child.stdout.take().expect("anvil's stdout is piped"));
        let url = loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                return Err(L1Error::Config(format!(
                    "{} exited before listening (is {} a valid anvil state file?)",
                    bin.display(),
                    state_file.display()
                )));
            }
            if let Some(addr) = line.trim().strip_prefix("Listening on ") {
                break format!("http://{addr}");
            }
        };
        std::thread::spawn(move || for _ in out.lines() {});
        tracing::info!(target: crate::TARGET, %url, state = %state_file.display(), "development L1 (anvil) started");
        Ok(Anvil { child, url })
    }
}
