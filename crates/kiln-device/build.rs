//! With the `cuda` feature, builds the kernels' PTX with nvcc when the build machine has it
//! (`KILN_NVCC`, else `nvcc` on the PATH) and tells the crate to embed it (`kiln_prebuilt_ptx`;
//! the kernels are the repository's top-level `kernels/`);
//! otherwise the CUDA backend compiles the same sources with NVRTC at run time. Nothing
//! happens without the feature.
//!
//! With the `fpga` feature, compiles the FPGA card's HLS C++ engines (`hw/src/*.cpp`,
//! against the Vitis-compatible `ap_types` headers vendored in `hw/ap_types/`) into a static
//! library for the card emulator: the same sources Vitis HLS synthesizes.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    build_fpga_engines();
    println!("cargo:rustc-check-cfg=cfg(kiln_prebuilt_ptx)");
    println!("cargo:rerun-if-changed=../../kernels");
    println!("cargo:rerun-if-env-changed=KILN_NVCC");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let nvcc = std::env::var_os("KILN_NVCC")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("nvcc"));
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("kiln.ptx");
    // compute_80 PTX: the driver JIT-compiles it for sm_80 and every later GPU.
    let status = Command::new(&nvcc)
        .args([
            "-ptx",
            "-arch=compute_80",
            "-O3",
            "-I",
            "../../kernels",
            "-o",
        ])
        .arg(&out)
        .arg("../../kernels/kiln.cu")
        .status();
    match status {
        Ok(s) if s.success() => println!("cargo:rustc-cfg=kiln_prebuilt_ptx"),
        Ok(s) => println!(
            "cargo:warning=nvcc failed ({s}); the CUDA backend will compile the kernels with NVRTC at run time"
        ),
        Err(_) => {} // No nvcc here: NVRTC at run time, as designed.
    }
}

/// Compiles `hw/src/*.cpp` (with the `fpga` feature).
fn build_fpga_engines() {
    println!("cargo:rerun-if-changed=../../hw/src");
    println!("cargo:rerun-if-changed=../../hw/include");
    if std::env::var_os("CARGO_FEATURE_FPGA").is_none() {
        return;
    }
    let mut sources: Vec<PathBuf> = std::fs::read_dir("../../hw/src")
        .expect("hw/src holds the FPGA engines' C++")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cpp"))
        .collect();
    sources.sort();
    #[cfg(feature = "fpga")]
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .opt_level(3)
        .warnings(false)
        .include("../../hw/include")
        .include("../../hw/ap_types")
        .files(&sources)
        .compile("kiln_hw");
    #[cfg(not(feature = "fpga"))]
    let _ = sources;
}
