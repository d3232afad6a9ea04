//! The results of a bench run as data: what `--out DIR` writes as `bench.json` (schema
//! [`SCHEMA`], documented in `docs/bench-schema.md`) and what `kiln bench compare` reads.
//!
//! A run is a list of [`Row`]s: one operation (`op`) of one suite at one size on one device
//! in one kernel variant, timed over repeats, each repeat next to the same operation on the
//! row's baseline (arkworks for MSM and NTT, the CPU backend for whole proofs) run in the
//! same process just before it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BenchError;

/// The schema of `bench.json`: its name and major version. A reader refuses other majors;
/// minor additions (new optional fields) keep the major.
pub const SCHEMA: &str = "kiln-bench/1";

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// When the run started, in seconds since the Unix epoch.
    pub started_unix: u64,
    /// The command line that produced it.
    pub command: Vec<String>,
    /// Where it ran.
    pub machine: Machine,
    /// The devices measured.
    pub devices: Vec<DeviceEntry>,
    /// One row per (suite, op, size, device, variant).
    pub rows: Vec<Row>,
    /// Device runs that failed or disagreed with their baseline. A device that failed on its
    /// first repeat has no row, only this; one that failed later has both.
    #[serde(default)]
    pub failures: Vec<Failure>,
}

/// A device run that failed or whose result disagreed with the baseline's.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    /// The suite.
    pub suite: String,
    /// The operation.
    pub op: String,
    /// log2 of the size.
    pub size_log2: u32,
    /// The device.
    pub device: String,
    /// The variant.
    pub variant: String,
    /// What happened.
    pub message: String,
}

impl Failure {
    /// The key of the row it concerns.
    pub fn key(&self) -> RowKey {
        RowKey::of(
            &self.suite,
            &self.op,
            self.size_log2,
            &self.device,
            &self.variant,
        )
    }
}

/// The machine a run was made on.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Machine {
    /// The CPU's model name (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// The CPU features that matter to field arithmetic (adx, bmi2, avx2, avx512*, ...).
    pub cpu_flags: Vec<String>,
    /// Logical cores the process may use.
    pub cores: usize,
    /// Physical cores, where the OS says.
    pub physical_cores: Option<usize>,
    /// Threads in the compute pool (rayon).
    pub threads: usize,
    /// Main memory in bytes, where the OS says.
    pub memory_bytes: Option<u64>,
    /// Operating system and kernel (`linux 6.1.0`).
    pub os: String,
    /// Every GPU or card found, with its driver.
    pub accelerators: Vec<Accelerator>,
    /// kiln's version.
    pub kiln_version: String,
    /// The cargo features kiln was built with (`opencl`, `cuda`, `fpga`).
    pub kiln_features: Vec<String>,
    /// `release` or `debug`.
    pub build_profile: String,
}

/// A GPU or card on the machine (measured or not).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Accelerator {
    /// Its device spec (`opencl:0`).
    pub device: String,
    /// Its model.
    pub name: String,
    /// Its driver and version, where known.
    pub driver: Option<String>,
    /// Whether it is emulated on the host (the FPGA card without hardware).
    pub emulated: bool,
}

/// A device measured in the run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeviceEntry {
    /// Its spec (`cpu:0`, `opencl:0`, `fpga:0`).
    pub device: String,
    /// The label used in tables and plots (`fpga:0 (emulated)`).
    pub label: String,
    /// Its model.
    pub name: String,
    /// Whether it computes on the host's cores (the CPU backend, PoCL, the emulated card).
    pub host_cpu: bool,
    /// Whether it is an emulation (then `device_s` is a model, not a measurement).
    pub emulated: bool,
    /// Device memory in bytes, where it has its own.
    pub memory_bytes: Option<u64>,
    /// What its numbers mean when they are not what they seem (PoCL is not a GPU).
    pub note: Option<String>,
}

/// Minimum, median and maximum of a sample, with the sample.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// The smallest value.
    pub min: f64,
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The largest value.
    pub max: f64,
    /// Every value, in the order measured.
    pub samples: Vec<f64>,
}

impl Stats {
    /// The statistics of `samples`; `None` when it is empty or holds a non-finite value.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Stats {
            min: sorted[0],
            median,
            max: sorted[n - 1],
            samples: samples.to_vec(),
        })
    }

    /// The spread of the repeats relative to the median: `(max − min) / median` for fewer
    /// than five samples; from five on, the lowest and highest are left out, so that one
    /// outlier does not widen the noise band of a comparison.
    pub fn spread(&self) -> f64 {
        if self.median <= 0.0 {
            return 0.0;
        }
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        let (lo, hi) = if sorted.len() >= 5 {
            (sorted[1], sorted[sorted.len() - 2])
        } else {
            (self.min, self.max)
        };
        (hi - lo) / self.median
    }
}

/// What a row's `device_s` measures.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceClock {
    /// Kernel time from the driver's timers (OpenCL profiling events, CUDA events).
    Kernel,
    /// The emulated FPGA card's modelled time: engine cycles at the card's clock.
    ModelledCard,
}

/// One measured operation at one size on one device in one variant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// The suite (`msm`, `ntt`, `prove`, `serve`, `rollup`).
    pub suite: String,
    /// The operation within it (`msm-g1`, `ntt-forward`, `prove`).
    pub op: String,
    /// log2 of the size (points, vector length, constraints, batch size).
    pub size_log2: u32,
    /// The device's spec (`cpu:0`).
    pub device: String,
    /// The kernel variant (`default`, `c=16`, `precompute=off`).
    pub variant: String,
    /// Wall time per repeat, seconds.
    pub wall_s: Stats,
    /// The device's own time per repeat, seconds (see `device_clock`), where it reports one.
    pub device_s: Option<Stats>,
    /// What `device_s` measures.
    pub device_clock: Option<DeviceClock>,
    /// The baseline's name (`arkworks VariableBaseMSM`).
    pub baseline: String,
    /// The baseline's wall time per repeat, seconds, each run just before the row's.
    pub baseline_s: Stats,
    /// Per repeat, baseline time / wall time: above 1 means faster than the baseline.
    pub speedup: Stats,
    /// Per repeat, baseline time / device time: what the device's own clock gives (for the
    /// emulated card, the modelled card against the host's baseline).
    #[serde(default)]
    pub device_speedup: Option<Stats>,
    /// Per repeat, the CPU backend's time / wall time, where the CPU backend ran too.
    pub vs_cpu: Option<Stats>,
    /// Anything the reader should know (a result that disagreed, a skipped repeat).
    pub note: Option<String>,
}

impl Row {
    /// The key that matches this row across runs.
    pub fn key(&self) -> RowKey {
        RowKey::of(
            &self.suite,
            &self.op,
            self.size_log2,
            &self.device,
            &self.variant,
        )
    }
}

/// What identifies a row across runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// The suite.
    pub suite: String,
    /// The operation.
    pub op: String,
    /// log2 of the size.
    pub size_log2: u32,
    /// The device.
    pub device: String,
    /// The variant.
    pub variant: String,
}

impl RowKey {
    /// The key of (suite, op, size, device, variant).
    pub fn of(suite: &str, op: &str, size_log2: u32, device: &str, variant: &str) -> RowKey {
        RowKey {
            suite: suite.into(),
            op: op.into(),
            size_log2,
            device: device.into(),
            variant: variant.into(),
        }
    }
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} 2^{} {} {}",
            self.op, self.size_log2, self.device, self.variant
        )
    }
}

impl Report {
    /// Reads a `bench.json`, refusing other schemas with a message naming the file.
    pub fn read(path: &Path) -> Result<Report, BenchError> {
        let text = std::fs::read_to_string(path).map_err(|e| BenchError::Io {
            path: path.to_path_buf(),
            what: "cannot read",
            source: e,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| BenchError::BadReport {
                path: path.to_path_buf(),
                reason: format!("not JSON: {e}"),
            })?;
        let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
        if schema != SCHEMA {
            return Err(BenchError::BadReport {
                path: path.to_path_buf(),
                reason: format!(
                    "schema {schema:?}: expected {SCHEMA:?} (a file written by `kiln bench --out`)"
                ),
            });
        }
        serde_json::from_value(value).map_err(|e| BenchError::BadReport {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// The label of a device for tables and plots (its spec when it is not listed).
    pub fn label(&self, device: &str) -> String {
        self.devices
            .iter()
            .find(|d| d.device == device)
            .map_or_else(|| device.to_string(), |d| d.label.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_take_min_median_max() {
        let s = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(s.samples, vec![3.0, 1.0, 2.0]);
        let s = Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!((s.spread() - 3.0 / 2.5).abs() < 1e-12);
        // From five samples on, one outlier at each end does not count.
        let s = Stats::of(&[1.0, 1.1, 1.0, 5.0, 0.1]).unwrap();
        assert!((s.spread() - 0.1).abs() < 1e-12, "{}", s.spread());
        assert!(Stats::of(&[]).is_none());
        assert!(Stats::of(&[1.0, f64::NAN]).is_none());
    }
}
