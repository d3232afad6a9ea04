//! kiln's L1 contracts (`contracts/`): the committed artifacts of `contracts/out/` are what a
//! fresh solc-js compile makes (`node contracts/build.mjs --check`), and foundry's forge runs
//! the Solidity tests of `contracts/test/*.t.sol` and they pass. forge runs offline with
//! solc-js standing in for a native solc (`contracts/foundry.toml` names
//! `contracts/solc-js-wrapper`), so neither test needs a network or a native compiler; both
//! need the npm peers of `.ci/run` (solc, circomlibjs, forge).

mod common;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{npm_bin, repo_root, Output, TestDir};

/// The npm `node_modules` holding the peers (the parent of [`npm_bin`]).
fn node_modules() -> PathBuf {
    let bin = npm_bin();
    bin.parent()
        .unwrap_or_else(|| panic!("{} has no parent directory", bin.display()))
        .to_path_buf()
}

/// Runs `program args...` in `dir` with `KILN_NPM_MODULES` pointing at the npm peers and
/// captures its output.
fn run_in<S: AsRef<OsStr>>(dir: &Path, program: impl AsRef<OsStr>, args: &[S]) -> Output {
    let program = program.as_ref();
    let args: Vec<OsString> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let cmdline = std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(program)
        .args(&args)
        .current_dir(dir)
        .env("KILN_NPM_MODULES", node_modules())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start `{cmdline}` in {}: {e}", dir.display()));
    Output {
        cmdline: format!("(cd {} && {cmdline})", dir.display()),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh compile of `contracts/src` and `contracts/test` (and circomlibjs's Poseidon
/// contracts) reproduces every committed artifact of `contracts/out/`, byte for byte, and
/// nothing there lacks a source.
#[test]
fn committed_contract_artifacts_match_a_fresh_build() {
    let out = run_in(&repo_root(), "node", &["contracts/build.mjs", "--check"]);
    assert!(
        out.success(),
        "contracts/out/ is not what contracts/build.mjs makes now: run `node contracts/build.mjs` \
         and commit contracts/out/\n{out}"
    );
    assert!(
        out.stdout.contains("artifacts match a fresh build"),
        "build.mjs --check did not report its comparison:\n{out}"
    );
}

/// `forge test` in `contracts/` (offline, solc-js behind `solc-js-wrapper`) compiles the
/// contracts and the Solidity tests and every test passes. forge's build output goes to a
/// temp dir so concurrent runs do not share `forge-out/` and `forge-cache/`.
#[test]
fn forge_solidity_tests_pass() {
    let forge = npm_bin().join("forge");
    assert!(
        forge.exists(),
        "forge not found at {}: run `bash .ci/run` first (it installs foundry's forge from npm)",
        forge.display()
    );
    let tmp = TestDir::new("forge");
    let contracts = repo_root().join("contracts");
    let out = run_in(
        &contracts,
        &forge,
        &[
            OsStr::new("test"),
            OsStr::new("--offline"),
            OsStr::new("--out"),
            tmp.join("out").as_os_str(),
            OsStr::new("--cache-path"),
            tmp.join("cache").as_os_str(),
        ],
    );
    assert!(out.success(), "forge test failed:\n{out}");

    // The summary line: "Ran N test suites in ...: P tests passed, 0 failed, 0 skipped (T total tests)".
    let summary = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Ran ") && l.contains("test suites"))
        .unwrap_or_else(|| panic!("forge printed no summary line:\n{out}"));
    let passed: usize = summary
        .split(": ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the passed tests from {summary:?}:\n{out}"));
    assert!(
        summary.contains(" 0 failed, 0 skipped"),
        "forge reported failed or skipped tests:\n{out}"
    );
    assert!(
        passed >= 40 && out.stdout.contains("test/KilnRollup.t.sol:"),
        "forge ran only {passed} tests, expected KilnRollup.t.sol's:\n{out}"
    );
}
