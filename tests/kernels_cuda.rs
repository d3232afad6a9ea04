//! The GPU kernels compiled as CUDA by nvcc (from PyPI in CI) for sm_80 and sm_90: any
//! compile error fails, and each kernel's registers, shared memory, stack and spills, as
//! `ptxas -v` reports them, must match `kernels/ptxas.txt` (rewrite it with
//! `KILN_UPDATE_PTXAS=1 cargo test --test kernels_cuda`). Skipped, saying so, when no nvcc
//! is found, unless `KILN_REQUIRE_NVCC` is set (CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The CUDA architectures checked: A100 and H100.
const ARCHS: [&str; 2] = ["sm_80", "sm_90"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// nvcc from `KILN_NVCC`, `.ci/py` (where `.ci/run` installs it), or the PATH.
fn find_nvcc() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KILN_NVCC").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let py = repo().join(".ci/py/nvidia");
    if let Ok(entries) = std::fs::read_dir(&py) {
        for e in entries.flatten() {
            let nvcc = e.path().join("bin/nvcc");
            if nvcc.is_file() {
                return Some(nvcc);
            }
        }
    }
    Command::new("nvcc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("nvcc"))
}

/// ptxas's resource lines for one architecture, one line per kernel:
/// `sm_80 g1_bucket_sum: registers 128, stack 0, spill stores 0, spill loads 0, smem 0, cmem[0] 400`.
fn compile(nvcc: &Path, arch: &str, out_dir: &Path) -> Vec<String> {
    let kernels = repo().join("kernels");
    let out = Command::new(nvcc)
        .arg("-cubin")
        .arg(format!("-arch={arch}"))
        .args(["-O3", "-Xptxas", "-v", "-I"])
        .arg(&kernels)
        .arg("-o")
        .arg(out_dir.join(format!("kiln_{arch}.cubin")))
        .arg(kernels.join("kiln.cu"))
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", nvcc.display()));
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "nvcc failed for {arch}:\n{log}{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !log.contains("error"),
        "nvcc reported errors for {arch}:\n{log}"
    );
    // Per kernel, ptxas prints "Compiling entry function 'K'", then "Function properties
    // for K" and its stack/spill line, then "Used N registers, ...". Properties of called
    // (non-inlined) device functions are interleaved and are not attributed to a kernel.
    let mut lines = Vec::new();
    let mut entry: Option<String> = None;
    let mut props_for = String::new();
    let mut stack = String::new();
    for line in log.lines() {
        let info = line.trim_start_matches("ptxas info    :").trim();
        if let Some(rest) = info.strip_prefix("Compiling entry function '") {
            entry = rest.split('\'').next().map(str::to_string);
            stack.clear();
        } else if let Some(rest) = info.strip_prefix("Function properties for ") {
            props_for = rest.trim().to_string();
        } else if info.contains("bytes stack frame") {
            if entry.as_deref() == Some(props_for.as_str()) {
                stack = info.to_string();
            }
        } else if let (Some(k), Some(rest)) = (entry.take(), info.strip_prefix("Used ")) {
            lines.push(format!("{arch} {k}: used {rest}; {stack}"));
        }
    }
    assert!(
        !lines.is_empty(),
        "no ptxas resource lines for {arch}:\n{log}"
    );
    lines
}

/// nvcc's release line, e.g. `Cuda compilation tools, release 13.5, V13.5.37`.
fn nvcc_version(nvcc: &Path) -> String {
    let out = Command::new(nvcc)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("running {} --version: {e}", nvcc.display()));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("release"))
        .unwrap_or("unknown nvcc")
        .trim()
        .to_string()
}

#[test]
fn kernels_compile_as_cuda_for_sm80_and_sm90() {
    let Some(nvcc) = find_nvcc() else {
        assert!(
            std::env::var_os("KILN_REQUIRE_NVCC").is_none(),
            "KILN_REQUIRE_NVCC is set but no nvcc was found (KILN_NVCC, .ci/py, PATH)"
        );
        eprintln!("skipped: no nvcc (install with `bash .ci/run`, or set KILN_NVCC)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("kiln-cuda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let version = nvcc_version(&nvcc);
    let mut report = format!(
        "# ptxas -v resource usage of kernels/kiln.cu, one line per kernel and architecture.\n\
         # Kept current by tests/kernels_cuda.rs (KILN_UPDATE_PTXAS=1 rewrites it).\n\
         # {version}\n"
    );
    // The architectures compile in parallel (ptxas is single-threaded, ~40 s each).
    let per_arch: Vec<Vec<String>> = std::thread::scope(|s| {
        let jobs: Vec<_> = ARCHS
            .iter()
            .map(|arch| s.spawn(|| compile(&nvcc, arch, &dir)))
            .collect();
        jobs.into_iter()
            .map(|j| j.join().expect("nvcc thread"))
            .collect()
    });
    for line in per_arch.into_iter().flatten() {
        report.push_str(&line);
        report.push('\n');
    }
    let _ = std::fs::remove_dir_all(&dir);
    let path = repo().join("kernels/ptxas.txt");
    if std::env::var_os("KILN_UPDATE_PTXAS").is_some() {
        std::fs::write(&path, &report).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    // Another nvcc allocates registers differently: compiling cleanly is all that can be
    // checked then, except in CI, which pins the recorded version.
    if !committed.contains(&version) && std::env::var_os("KILN_REQUIRE_NVCC").is_none() {
        eprintln!(
            "kernels compile; ptxas.txt was recorded with another nvcc, not compared ({version})"
        );
        return;
    }
    assert_eq!(
        committed, report,
        "kernels/ptxas.txt is stale: rerun with KILN_UPDATE_PTXAS=1 and commit it"
    );
}
