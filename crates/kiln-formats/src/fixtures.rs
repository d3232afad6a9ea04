//! Test helpers: the committed snarkjs-made fixtures and the optional real snarkjs binary.

use std::path::{Path, PathBuf};

use super::binfile::{write_file_header, write_section_header, FileSpec, SectionTable};
use std::process::Command;

/// The repository's top folder (the test fixtures and the CI's npm peers live there).
fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Path of a file in `tests/fixtures/formats/` (see the README there for how each was made).
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/formats").join(name)
}

/// Bytes of a fixture.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The real snarkjs CLI (`$KILN_SNARKJS`, else the one installed by the CI script under
/// `.ci/npm`), or `None` with a note on stderr when it is not installed.
pub fn snarkjs() -> Option<PathBuf> {
    let p = std::env::var_os("KILN_SNARKJS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".ci/npm/node_modules/.bin/snarkjs"));
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: snarkjs not found at {} (set KILN_SNARKJS)",
            p.display()
        );
        None
    }
}

/// Runs snarkjs with `args`, panicking with its output if it fails.
pub fn run_snarkjs(snarkjs: &PathBuf, args: &[&std::ffi::OsStr]) {
    let out = Command::new(snarkjs)
        .args(args)
        .output()
        .expect("run snarkjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // snarkjs sometimes reports errors with exit status 0; look at its log too.
    assert!(
        out.status.success() && !text.contains("[ERROR]"),
        "snarkjs {args:?} failed:\n{text}"
    );
}

/// Splits a container into (id, body) pairs, for rebuilding altered files.
pub fn sections_of(b: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let spec = FileSpec {
        magic: std::str::from_utf8(&b[..4]).unwrap().to_string().leak(),
        kind: "any",
        versions: 0..=u32::MAX,
    };
    let t = SectionTable::parse(b, Path::new("x"), &spec).unwrap();
    t.sections
        .iter()
        .map(|s| (s.id, b[s.range()].to_vec()))
        .collect()
}

/// Assembles a container with the given magic, version and sections.
pub fn container(magic: &str, version: u32, sections: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    write_file_header(&mut out, magic, version, sections.len() as u32).unwrap();
    for (id, body) in sections {
        write_section_header(&mut out, *id, body.len() as u64).unwrap();
        out.extend_from_slice(body);
    }
    out
}
