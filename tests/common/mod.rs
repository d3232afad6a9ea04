//! Shared helpers for kiln's integration tests.
//!
//! Everything here drives real programs: the `kiln` binary built by cargo, and the npm peers
//! (snarkjs, circom2) that `.ci/run` installs into `.ci/npm`. Nothing is mocked. If the peers
//! are missing the tests fail (never skip) with a message saying to run `.ci/run`.
//!
//! Expensive artefacts are cached under `.ci/cache/` (gitignored) and shared between test
//! processes, which may run in parallel: powers of tau (made by `tests/fixtures/ptau.sh`,
//! which locks with flock, or from 2^14 on by kiln's development writer) and snarkjs-made
//! keys (locked here with `File::lock`, written to a temp name and renamed into place).
//!
//! Environment:
//! - `KILN_NPM_BIN`   — the npm `.bin` dir with `snarkjs` and `circom2`
//!   (default `<repo>/.ci/npm/node_modules/.bin`);
//! - `KILN_CACHE_DIR` — the cache (default `<repo>/.ci/cache`);
//! - `KILN_KEEP_TMP=1` — keep every test's temp dir (failed tests always keep theirs).
#![allow(dead_code)]

pub mod chain;
pub mod l1;
pub mod server;
pub mod wallet;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};

/// BN254 scalar field modulus r (witness values, public signals), decimal.
pub const FR_MODULUS: &str =
    "21888242871839275222246405745257275088548364400416034343698204186575808495617";
/// BN254 base field modulus q (proof coordinates), decimal.
pub const FQ_MODULUS: &str =
    "21888242871839275222246405745257275088696311157297823662689037894645226208583";

/// The committed circuit fixtures (see `tests/fixtures/circuits/build.sh`).
pub const CIRCUITS: [&str; 3] = ["poseidon", "eddsa", "smt"];

const RUN_CI: &str = "run `bash .ci/run` first: it installs the npm peers (snarkjs, circom2, \
                      circomlib) into .ci/npm; or point KILN_NPM_BIN at their .bin directory";

// ---------------------------------------------------------------------------------------
// Locations

/// The repository root (the crate's manifest dir).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared cache dir (`KILN_CACHE_DIR` or `<repo>/.ci/cache`), created on demand.
pub fn cache_dir() -> PathBuf {
    let dir = std::env::var_os("KILN_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".ci").join("cache"));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The npm `.bin` dir holding `snarkjs` and `circom2`. Panics (failing the test) with a
/// pointer to `.ci/run` if the peers or node itself are missing.
pub fn npm_bin() -> PathBuf {
    static CHECKED: OnceLock<PathBuf> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let dir = std::env::var_os("KILN_NPM_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_root().join(".ci/npm/node_modules/.bin"));
            for tool in ["snarkjs", "circom2"] {
                if !dir.join(tool).exists() {
                    panic!("{tool} not found in {}: {RUN_CI}", dir.display());
                }
            }
            match Command::new("node").arg("--version").output() {
                Ok(out) if out.status.success() => {}
                Ok(out) => panic!(
                    "`node --version` failed ({}): {}; {RUN_CI}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(e) => panic!("cannot run `node` ({e}); {RUN_CI}"),
            }
            dir
        })
        .clone()
}

// ---------------------------------------------------------------------------------------
// Running programs

/// What a finished program did.
pub struct Output {
    /// The command line, for messages.
    pub cmdline: String,
    /// Exit code; -1 if it was killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// Panics with the whole output unless the program exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        if !self.success() {
            panic!("command failed:\n{self}");
        }
        self
    }

    /// Panics with the whole output unless the program exited with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        if self.code != code {
            panic!("expected exit code {code}, got:\n{self}");
        }
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  $ {}", self.cmdline)?;
        writeln!(f, "  exit code: {}", self.code)?;
        writeln!(f, "  --- stdout ---\n{}", indent(&self.stdout))?;
        write!(f, "  --- stderr ---\n{}", indent(&self.stderr))
    }
}

fn indent(s: &str) -> String {
    if s.trim().is_empty() {
        return "    (empty)".into();
    }
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `program args...` to completion (stdin closed) and captures its output. Panics
/// only if the program cannot be started at all.
pub fn run<I, S>(program: impl AsRef<OsStr>, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_with_env(program, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_with_env<I, S>(program: impl AsRef<OsStr>, args: I, env: &[(&str, &str)]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = program.as_ref();
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let cmdline = std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot start `{cmdline}`: {e}"));
    Output {
        cmdline,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs snarkjs from the npm peers. Check the result with [`Output::ok`].
pub fn snarkjs<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = run(npm_bin().join("snarkjs"), args);
    if out.code == 127 {
        panic!("snarkjs could not start ({RUN_CI}):\n{out}");
    }
    out
}

/// Runs circom2 from the npm peers, from the repository root (circom2 is a WASI program:
/// include paths must lie under its working directory, so pass repo-relative paths).
pub fn circom2<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let exe = npm_bin().join("circom2");
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(&exe)
        .args(&args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start circom2 ({e}); {RUN_CI}"));
    Output {
        cmdline: format!("(cd {} && circom2 {:?})", repo_root().display(), args),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the `kiln` binary built for this test run; returns (exit code, stdout, stderr) in
/// an [`Output`].
pub fn kiln<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(env!("CARGO_BIN_EXE_kiln"), args)
}

/// Asserts that a kiln run refused bad input the way every command must: exit code 2, no
/// panic, and a message on stderr that mentions at least one of `needles`
/// (case-insensitive).
#[track_caller]
pub fn assert_bad_input(out: &Output, needles: &[&str]) {
    assert_eq!(out.code, 2, "expected exit code 2 (bad input):\n{out}");
    assert!(
        !out.stderr.contains("panicked"),
        "kiln panicked instead of reporting bad input:\n{out}"
    );
    let err = out.stderr.to_lowercase();
    assert!(
        needles.iter().any(|n| err.contains(&n.to_lowercase())),
        "stderr should name the problem (one of {needles:?}):\n{out}"
    );
}

// ---------------------------------------------------------------------------------------
// Temp dirs

/// A per-test scratch directory. Removed on drop, except when the test failed (or
/// `KILN_KEEP_TMP=1`), in which case its path is printed so the files can be inspected.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(test: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("kiln-{test}-"))
            .tempdir()
            .expect("cannot create a temp dir");
        TestDir { path: dir.keep() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<dir>/<name>`.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("KILN_KEEP_TMP").is_some() {
            eprintln!("test files kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Circuit fixtures and witnesses

/// A committed fixture circuit: source, compiled r1cs + witness generator, and an input.
#[derive(Clone, Debug)]
pub struct Circuit {
    pub name: String,
    pub r1cs: PathBuf,
    pub wasm: PathBuf,
    pub input: PathBuf,
}

/// The fixture `name` (one of [`CIRCUITS`]).
pub fn circuit(name: &str) -> Circuit {
    let dir = repo_root().join("tests/fixtures/circuits");
    let c = Circuit {
        name: name.to_string(),
        r1cs: dir.join(format!("build/{name}.r1cs")),
        wasm: dir.join(format!("build/{name}_js/{name}.wasm")),
        input: dir.join(format!("{name}.input.json")),
    };
    for f in [&c.r1cs, &c.wasm, &c.input] {
        assert!(
            f.is_file(),
            "fixture file {} is missing (regenerate with tests/fixtures/circuits/build.sh)",
            f.display()
        );
    }
    c
}

impl Circuit {
    /// Header counts of the compiled circuit.
    pub fn info(&self) -> R1csInfo {
        R1csInfo::read(&self.r1cs)
    }

    /// Computes the witness for the fixture's input with `snarkjs wtns calculate` into
    /// `<dir>/<name>.wtns`.
    pub fn witness(&self, dir: &Path) -> PathBuf {
        let out = dir.join(format!("{}.wtns", self.name));
        snarkjs([
            OsStr::new("wtns"),
            OsStr::new("calculate"),
            self.wasm.as_os_str(),
            self.input.as_os_str(),
            out.as_os_str(),
        ])
        .ok();
        assert!(
            out.is_file(),
            "snarkjs wtns calculate wrote no {}",
            out.display()
        );
        out
    }

    /// The snarkjs Groth16 key for this circuit (cached; see [`snarkjs_groth16_zkey`]).
    pub fn snarkjs_zkey(&self) -> PathBuf {
        snarkjs_groth16_zkey(&self.r1cs)
    }
}

/// Compiles fixture `name` from its source with `tests/fixtures/circuits/build.sh` (circom2,
/// the fixture's optimisation level, then a `snarkjs wtns check` of its input) into `out`.
pub fn build_fixture(name: &str, out: &Path) {
    let script = repo_root().join("tests/fixtures/circuits/build.sh");
    let res = Command::new("bash")
        .arg(&script)
        .arg("--out")
        .arg(out)
        .arg(name)
        .env("KILN_NPM_BIN", npm_bin())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        res.status.success(),
        "{} --out {} {name} failed ({}):\n{}{}",
        script.display(),
        out.display(),
        res.status,
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// iden3 binary files (.r1cs, .wtns, .zkey): magic, u32 version, u32 nSections, then
// sections of (u32 id, u64 length, data). All little-endian.

/// One section of an iden3 binary file.
#[derive(Clone, Copy, Debug)]
pub struct Section {
    pub id: u32,
    /// Offset of the section's 12-byte (id, length) header.
    pub header_at: usize,
    /// Offset of its data.
    pub data_at: usize,
    pub len: usize,
}

/// Parses the section table of an iden3 binary file, checking the magic.
pub fn sections(bytes: &[u8], magic: &[u8; 4]) -> Vec<Section> {
    assert!(bytes.len() >= 12, "file too short for an iden3 header");
    assert_eq!(&bytes[..4], magic, "unexpected magic");
    let n = u32_at(bytes, 8) as usize;
    let mut at = 12;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = u32_at(bytes, at);
        let len = u64_at(bytes, at + 4) as usize;
        out.push(Section {
            id,
            header_at: at,
            data_at: at + 12,
            len,
        });
        at += 12 + len;
        assert!(
            at <= bytes.len(),
            "section {id} runs past the end of the file"
        );
    }
    out
}

/// The first section with this id.
pub fn section(bytes: &[u8], magic: &[u8; 4], id: u32) -> Section {
    sections(bytes, magic)
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no section {id}"))
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Header counts of an `.r1cs` file (section 1).
#[derive(Clone, Copy, Debug)]
pub struct R1csInfo {
    pub n8: usize,
    pub n_wires: usize,
    pub n_pub_out: usize,
    pub n_pub_in: usize,
    pub n_prv_in: usize,
    pub n_constraints: usize,
}

impl R1csInfo {
    pub fn read(path: &Path) -> Self {
        let b = read(path);
        let h = section(&b, b"r1cs", 1).data_at;
        let n8 = u32_at(&b, h) as usize;
        let at = h + 4 + n8;
        R1csInfo {
            n8,
            n_wires: u32_at(&b, at) as usize,
            n_pub_out: u32_at(&b, at + 4) as usize,
            n_pub_in: u32_at(&b, at + 8) as usize,
            n_prv_in: u32_at(&b, at + 12) as usize,
            // at + 16: u64 nLabels
            n_constraints: u32_at(&b, at + 24) as usize,
        }
    }

    /// Public signals (outputs, then public inputs), as in public.json and zkey's nPublic.
    pub fn n_public(&self) -> usize {
        self.n_pub_out + self.n_pub_in
    }

    /// log2 of the Groth16 domain, exactly as snarkjs computes it in `zkey new`
    /// (constraints plus one "IC" constraint per public signal and the constant one).
    pub fn groth16_power(&self) -> u32 {
        let n = self.n_constraints + self.n_public(); // + 1 - 1
        n.ilog2() + 1
    }

    pub fn domain_size(&self) -> usize {
        1 << self.groth16_power()
    }
}

/// A `.wtns` file in memory, for reading and tampering with values.
#[derive(Clone)]
pub struct Wtns {
    pub bytes: Vec<u8>,
    /// Bytes per value.
    pub n8: usize,
    /// Number of values.
    pub n: usize,
    /// Offset of value 0 (section 2's data).
    pub values_at: usize,
}

impl Wtns {
    pub fn read(path: &Path) -> Self {
        let bytes = read(path);
        let h = section(&bytes, b"wtns", 1).data_at;
        let n8 = u32_at(&bytes, h) as usize;
        let n = u32_at(&bytes, h + 4 + n8) as usize;
        let values = section(&bytes, b"wtns", 2);
        assert_eq!(values.len, n * n8, "wtns section 2 length");
        Wtns {
            n8,
            n,
            values_at: values.data_at,
            bytes,
        }
    }

    pub fn value(&self, i: usize) -> Fr {
        Fr::from_le_bytes_mod_order(self.raw(i))
    }

    pub fn values(&self) -> Vec<Fr> {
        (0..self.n).map(|i| self.value(i)).collect()
    }

    /// The raw little-endian bytes of value `i`.
    pub fn raw(&self, i: usize) -> &[u8] {
        let at = self.values_at + i * self.n8;
        &self.bytes[at..at + self.n8]
    }

    /// Overwrites value `i` with raw little-endian bytes (may be ≥ the modulus).
    pub fn set_raw(&mut self, i: usize, le: &[u8]) {
        assert_eq!(le.len(), self.n8);
        let at = self.values_at + i * self.n8;
        self.bytes[at..at + self.n8].copy_from_slice(le);
    }

    pub fn set(&mut self, i: usize, v: Fr) {
        let mut le = v.into_bigint().to_bytes_le();
        le.resize(self.n8, 0);
        self.set_raw(i, &le);
    }

    pub fn write(&self, path: &Path) {
        fs::write(path, &self.bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// `(A·w)(B·w) = C·w` for every constraint of `r1cs`: the index of the first constraint the
/// witness does not satisfy, or `None`. Panics if the witness length does not match.
pub fn first_unsatisfied(r1cs: &Path, w: &Wtns) -> Option<usize> {
    let info = R1csInfo::read(r1cs);
    assert_eq!(w.n, info.n_wires, "witness length vs r1cs wires");
    let values = w.values();
    let b = read(r1cs);
    let mut at = section(&b, b"r1cs", 2).data_at;
    let n8 = info.n8;
    let lc = |at: &mut usize| -> Fr {
        let terms = u32_at(&b, *at) as usize;
        *at += 4;
        let mut acc = Fr::zero();
        for _ in 0..terms {
            let wire = u32_at(&b, *at) as usize;
            let coeff = Fr::from_le_bytes_mod_order(&b[*at + 4..*at + 4 + n8]);
            acc += coeff * values[wire];
            *at += 4 + n8;
        }
        acc
    };
    for i in 0..info.n_constraints {
        let a = lc(&mut at);
        let bb = lc(&mut at);
        let c = lc(&mut at);
        if a * bb != c {
            return Some(i);
        }
    }
    None
}

/// Writes `out`: a copy of the witness `good` with one private value (about the middle
/// of the witness) increased by one. Returns the first constraint it violates.
pub fn tamper_witness(r1cs: &Path, good: &Path, out: &Path) -> usize {
    let mut w = Wtns::read(good);
    assert_eq!(
        first_unsatisfied(r1cs, &w),
        None,
        "the untampered witness must satisfy {}",
        r1cs.display()
    );
    let i = w.n / 2;
    let v = w.value(i);
    w.set(i, v + Fr::from(1u64));
    let first = first_unsatisfied(r1cs, &w)
        .unwrap_or_else(|| panic!("changing witness value {i} violated no constraint"));
    w.write(out);
    first
}

/// Little-endian bytes of `modulus + delta`, padded to `n8` bytes.
pub fn modulus_plus(modulus: &str, delta: u64, n8: usize) -> Vec<u8> {
    let m: num_bigint::BigUint = modulus.parse().unwrap();
    let mut le = (m + delta).to_bytes_le();
    assert!(le.len() <= n8);
    le.resize(n8, 0);
    le
}

pub fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()))
}

pub fn write_json(path: &Path, v: &serde_json::Value) {
    let text = serde_json::to_string_pretty(v).unwrap();
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------------------
// Cached setups: powers of tau and snarkjs keys

/// From this power on, [`ptau`] writes kiln's development powers of tau instead of running
/// snarkjs, whose `prepare phase2` takes hours there.
pub const DEV_PTAU_FROM: u32 = 14;

/// The prepared powers-of-tau file for 2^power constraints, made once into the cache:
/// below [`DEV_PTAU_FROM`] by `tests/fixtures/ptau.sh` (snarkjs, flock-protected), from
/// there on by [`kiln_groth16::ptau::write_dev_ptau`] (seconds; random toxic waste and no
/// contributions, which `groth16 setup`, `zkey contribute` and `zkey verify` accept).
pub fn ptau(power: u32) -> PathBuf {
    if power >= DEV_PTAU_FROM {
        let path = cache_dir().join(format!("pot{power}_dev.ptau"));
        return cached(&path, |tmp| {
            kiln_groth16::ptau::write_dev_ptau(tmp, power, &mut rand::rngs::OsRng)
                .unwrap_or_else(|e| panic!("kiln's development ptau of power {power}: {e}"));
        });
    }
    npm_bin();
    let script = repo_root().join("tests/fixtures/ptau.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(power.to_string())
        .env("KILN_NPM_BIN", npm_bin())
        .env("KILN_CACHE_DIR", cache_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} {power} failed ({}):\n{}{}",
        script.display(),
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(stdout.trim().lines().last().unwrap_or_default());
    assert!(
        path.is_file(),
        "ptau.sh printed {path:?}, which is not a file"
    );
    path
}

/// Hex SHA-256 of a file (coreutils `sha256sum`, so shell scripts can compute the same
/// cache keys).
pub fn sha256_hex(path: &Path) -> String {
    let out = run("sha256sum", [path]).ok();
    out.stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Makes `path` once across all concurrent test processes: under an exclusive lock on
/// `<path>.lock`, `make` writes a temp file in the same directory which is then renamed
/// to `path`, so nobody ever sees a half-written file.
pub fn cached(path: &Path, make: impl FnOnce(&Path)) -> PathBuf {
    if path.is_file() {
        return path.to_path_buf();
    }
    let dir = path.parent().expect("cache path has a parent");
    fs::create_dir_all(dir).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let lock_path = dir.join(format!("{name}.lock"));
    let lock =
        File::create(&lock_path).unwrap_or_else(|e| panic!("create {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("lock {}: {e}", lock_path.display()));
    if !path.is_file() {
        // Keep the extension: snarkjs picks formats by it in places.
        let tmp = dir.join(format!("tmp-{}-{name}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        make(&tmp);
        assert!(tmp.is_file(), "cache builder wrote no {}", tmp.display());
        fs::rename(&tmp, path)
            .unwrap_or_else(|e| panic!("rename {} -> {}: {e}", tmp.display(), path.display()));
    }
    drop(lock);
    path.to_path_buf()
}

/// A deterministic beacon for snarkjs contributions in tests (nothing secret).
pub const BEACON: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// A snarkjs Groth16 proving key for `r1cs`: `snarkjs groth16 setup` on the smallest ptau
/// that fits, then one `zkey beacon` contribution (so δ ≠ γ and the key carries a
/// contributions section, like keys from a real ceremony). Cached, keyed by the r1cs hash.
pub fn snarkjs_groth16_zkey(r1cs: &Path) -> PathBuf {
    let power = R1csInfo::read(r1cs).groth16_power();
    let stem = r1cs.file_stem().unwrap().to_string_lossy().into_owned();
    let key = &sha256_hex(r1cs)[..16];
    let path = cache_dir()
        .join("zkey")
        .join(format!("{stem}-{key}-pot{power}.groth16.zkey"));
    cached(&path, |tmp| {
        let ptau = ptau(power);
        let zkey0 = tmp.with_extension("0000.zkey");
        snarkjs([
            OsStr::new("groth16"),
            "setup".as_ref(),
            r1cs.as_os_str(),
            ptau.as_os_str(),
            zkey0.as_os_str(),
        ])
        .ok();
        snarkjs([
            OsStr::new("zkey"),
            "beacon".as_ref(),
            zkey0.as_os_str(),
            tmp.as_os_str(),
            BEACON.as_ref(),
            "10".as_ref(),
            "-n=kiln test beacon".as_ref(),
        ])
        .ok();
        let _ = fs::remove_file(&zkey0);
    })
}

/// A snarkjs PLONK proving key for `r1cs` (for testing that kiln refuses it by name).
/// PLONK needs a bigger domain than Groth16; the smallest ptau that works is used. Cached.
pub fn snarkjs_plonk_zkey(r1cs: &Path) -> PathBuf {
    let stem = r1cs.file_stem().unwrap().to_string_lossy().into_owned();
    let key = &sha256_hex(r1cs)[..16];
    let path = cache_dir()
        .join("zkey")
        .join(format!("{stem}-{key}.plonk.zkey"));
    cached(&path, |tmp| {
        let first = R1csInfo::read(r1cs).groth16_power();
        for power in first..first + 4 {
            let ptau = ptau(power);
            let out = snarkjs([
                OsStr::new("plonk"),
                "setup".as_ref(),
                r1cs.as_os_str(),
                ptau.as_os_str(),
                tmp.as_os_str(),
            ]);
            if out.success() && tmp.is_file() {
                return;
            }
            let text = format!("{}{}", out.stdout, out.stderr);
            assert!(
                text.contains("too big"),
                "snarkjs plonk setup failed:\n{out}"
            );
        }
        panic!(
            "no ptau up to 2^{} fits {} for PLONK",
            first + 3,
            r1cs.display()
        );
    })
}

/// `snarkjs zkey export verificationkey zkey out`.
pub fn snarkjs_export_vk(zkey: &Path, out: &Path) {
    snarkjs([
        OsStr::new("zkey"),
        "export".as_ref(),
        "verificationkey".as_ref(),
        zkey.as_os_str(),
        out.as_os_str(),
    ])
    .ok();
}

/// `snarkjs groth16 prove zkey wtns proof public`.
pub fn snarkjs_prove(zkey: &Path, wtns: &Path, proof: &Path, public: &Path) {
    snarkjs([
        OsStr::new("groth16"),
        "prove".as_ref(),
        zkey.as_os_str(),
        wtns.as_os_str(),
        proof.as_os_str(),
        public.as_os_str(),
    ])
    .ok();
}

/// Asserts `snarkjs groth16 verify vk public proof` accepts.
#[track_caller]
pub fn assert_snarkjs_verifies(vk: &Path, public: &Path, proof: &Path) {
    let out = snarkjs([
        OsStr::new("groth16"),
        "verify".as_ref(),
        vk.as_os_str(),
        public.as_os_str(),
        proof.as_os_str(),
    ]);
    assert!(
        out.success() && out.stdout.contains("OK"),
        "snarkjs groth16 verify rejected the proof:\n{out}"
    );
}

/// Whether `kiln devices` lists a ready `opencl:0`. When it does not, prints that the calling
/// test is skipped, and panics instead if `KILN_REQUIRE_OPENCL` is set (CI installs PoCL and
/// sets it, so there a skip is a failure).
pub fn opencl_device_present() -> bool {
    let devices = kiln(["devices"]).ok();
    if devices
        .stdout
        .lines()
        .any(|l| l.starts_with("opencl:0") && l.contains("ready"))
    {
        return true;
    }
    assert!(
        std::env::var_os("KILN_REQUIRE_OPENCL").is_none(),
        "KILN_REQUIRE_OPENCL is set but there is no OpenCL device:\n{}",
        devices.stdout
    );
    eprintln!("skipped: no OpenCL device ({})", devices.stdout.trim());
    false
}
