//! A local Ethereum chain for the Solidity tests: foundry's `anvil` from the npm peers on a
//! free loopback port (stopped when dropped), contracts compiled by solc-js (`solcjs`) and
//! deployed and called with foundry's `cast`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{npm_bin, run, Output};

/// anvil's first development account's private key (its well-known mnemonic).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A running anvil.
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
}

impl Anvil {
    /// Starts anvil on a free port and waits until it listens.
    pub fn start() -> Anvil {
        Self::start_with(&["--port", "0"])
    }

    /// Starts anvil on loopback with `args` (which name the port) and waits until it listens.
    pub fn start_with(args: &[&str]) -> Anvil {
        let mut child = Command::new(npm_bin().join("anvil"))
            .args(["--host", "127.0.0.1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start anvil ({e}): run `bash .ci/run` first"));
        let mut out = BufReader::new(child.stdout.take().expect("anvil's stdout"));
        let url = loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!("anvil exited before listening");
            }
            if let Some(addr) = line.trim().strip_prefix("Listening on ") {
                break format!("http://{addr}");
            }
        };
        std::thread::spawn(move || for _ in out.lines() {});
        Anvil { child, url }
    }

    /// `cast <args[0]> --rpc-url <this chain> <args[1..]>` (the URL right after the
    /// subcommand: `send --create CODE` takes every later word as a constructor argument).
    pub fn cast<S: AsRef<str>>(&self, args: &[S]) -> Output {
        let mut all: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        all.splice(1..1, ["--rpc-url".to_string(), self.url.clone()]);
        run(npm_bin().join("cast"), all)
    }

    /// Deploys `bytecode` (hex, no 0x) from the development account; returns its address.
    pub fn deploy(&self, bytecode: &str) -> String {
        let out = self
            .cast(&[
                "send",
                "--private-key",
                DEV_KEY,
                "--json",
                "--create",
                &format!("0x{bytecode}"),
            ])
            .ok();
        let receipt: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{out}"));
        assert_eq!(receipt["status"], "0x1", "deployment failed:\n{out}");
        receipt["contractAddress"]
            .as_str()
            .unwrap_or_else(|| panic!("no contract address:\n{out}"))
            .to_string()
    }

    /// Sends `sig(args)` to `to` as a transaction with a generous gas limit (so that no
    /// estimate cuts a precompile short); returns (success, gas used).
    pub fn send_gas(&self, to: &str, sig: &str, args: &[String]) -> (bool, u64) {
        let mut all = vec![
            "send".to_string(),
            "--private-key".into(),
            DEV_KEY.into(),
            "--gas-limit".into(),
            "5000000".into(),
            "--json".into(),
            to.into(),
            sig.into(),
        ];
        all.extend(args.iter().cloned());
        let out = self.cast(&all).ok();
        let receipt: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{out}"));
        let gas = u64::from_str_radix(
            receipt["gasUsed"]
                .as_str()
                .unwrap_or("0x0")
                .trim_start_matches("0x"),
            16,
        )
        .unwrap_or(0);
        (receipt["status"] == "0x1", gas)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Compiles the Solidity file `source` with solc-js (optimizer on) into `out_dir`; returns
/// the deployment bytecode (hex) of `contract`.
pub fn compile(source: &Path, contract: &str, out_dir: &Path) -> String {
    let dir = source.parent().expect("a source in a directory");
    let file = source.file_name().expect("a file name");
    let out = Command::new(npm_bin().join("solcjs"))
        .args(["--bin", "--optimize", "--output-dir"])
        .arg(out_dir)
        .arg(file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start solcjs ({e}): run `bash .ci/run` first"));
    assert!(
        out.status.success(),
        "solcjs failed on {}:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // solcjs names its outputs <file with . as _>_<Contract>.bin.
    let stem = file.to_string_lossy().replace(['.', '/'], "_");
    let bin = out_dir.join(format!("{stem}_{contract}.bin"));
    std::fs::read_to_string(&bin)
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()))
        .trim()
        .to_string()
}
