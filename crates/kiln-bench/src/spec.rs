//! What a run is asked to do: suites, sizes, groups, devices, kernel variants, repeats;
//! parsed from the command line's text with a clear message for every bad value.

use std::fmt;
use std::str::FromStr;

use kiln_device::DeviceSpec;

use crate::BenchError;

/// The largest size accepted anywhere (2^32 of anything is beyond any device's memory).
pub const MAX_SIZE_LOG2: u32 = 32;

/// A named suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    /// Multi-scalar multiplication over a resident table, G1 and G2.
    Msm,
    /// Batched NTTs as the prover runs them.
    Ntt,
    /// Whole Groth16 proofs of a synthetic circuit.
    Prove,
    /// Whole proofs through `kiln serve` (REST, job queue, long-poll) against in-process ones.
    Serve,
    /// The rollup's batch proofs and signature checks.
    Rollup,
}

impl Suite {
    /// Every suite, in the order `all` runs them.
    pub const ALL: [Suite; 5] = [
        Suite::Msm,
        Suite::Ntt,
        Suite::Prove,
        Suite::Serve,
        Suite::Rollup,
    ];

    /// The suite's name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Msm => "msm",
            Suite::Ntt => "ntt",
            Suite::Prove => "prove",
            Suite::Serve => "serve",
            Suite::Rollup => "rollup",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A curve group an MSM runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupSel {
    /// G1 (affine points of 64 bytes).
    G1,
    /// G2 (affine points of 128 bytes).
    G2,
}

impl GroupSel {
    /// `G1` or `G2`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupSel::G1 => "G1",
            GroupSel::G2 => "G2",
        }
    }

    /// Bytes of one affine point as devices hold it.
    pub fn point_bytes(self) -> u64 {
        match self {
            GroupSel::G1 => 64,
            GroupSel::G2 => 128,
        }
    }
}

/// Parses `g1,g2` (case-insensitive).
pub fn parse_groups(text: &str) -> Result<Vec<GroupSel>, BenchError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let g = match part.to_ascii_lowercase().as_str() {
            "g1" => GroupSel::G1,
            "g2" => GroupSel::G2,
            _ => {
                return Err(BenchError::BadArgument(format!(
                    "--groups {text:?}: unknown group {part:?}: expected g1, g2 or g1,g2"
                )))
            }
        };
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

/// A sweep of sizes as log2 values, ascending and distinct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizes(pub Vec<u32>);

impl Sizes {
    /// Parses the value of `option` (named in messages): `12..16` (both ends included;
    /// `12..=16` is the same), `14` alone, or a comma list `12,14,16`; each value a log2 size
    /// in `min..=32`.
    pub fn parse(text: &str, option: &str, min: u32) -> Result<Self, BenchError> {
        let bad = |why: String| BenchError::BadArgument(format!("{option} {text:?}: {why}"));
        let one = |s: &str| -> Result<u32, BenchError> {
            let v: u32 = s.trim().parse().map_err(|_| {
                bad(format!(
                    "{s:?} is not a number: expected log2 sizes such as 12..16 or 12,14,16"
                ))
            })?;
            if v < min || v > MAX_SIZE_LOG2 {
                return Err(bad(format!(
                    "{v} is out of range: sizes are log2 values in {min}..={MAX_SIZE_LOG2}"
                )));
            }
            Ok(v)
        };
        let text_t = text.trim();
        if text_t.is_empty() {
            return Err(bad("empty: expected a range such as 12..16".into()));
        }
        let mut sizes = if let Some((lo, hi)) = text_t.split_once("..") {
            let hi = hi.strip_prefix('=').unwrap_or(hi);
            if lo.trim().is_empty() || hi.trim().is_empty() {
                return Err(bad(
                    "an open range is empty: give both ends, such as 12..16".into(),
                ));
            }
            let (lo, hi) = (one(lo)?, one(hi)?);
            if hi < lo {
                return Err(bad(format!(
                    "the range is reversed ({lo} > {hi}): write {hi}..{lo}"
                )));
            }
            (lo..=hi).collect::<Vec<u32>>()
        } else {
            text_t
                .split(',')
                .map(one)
                .collect::<Result<Vec<u32>, _>>()?
        };
        sizes.sort_unstable();
        sizes.dedup();
        Ok(Sizes(sizes))
    }

    /// Parses `--batch-sizes`: log2 of the transfers per rollup batch, as [`Sizes::parse`]
    /// with 0 (one transfer) allowed. The rollup suite refuses what a batch cannot hold.
    pub fn parse_batch_sizes(text: &str) -> Result<Self, BenchError> {
        Self::parse(text, "--batch-sizes", 0)
    }
}

impl FromStr for Sizes {
    type Err = BenchError;

    /// `--sizes`: [`Sizes::parse`] with each value in `1..=32`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text, "--sizes", 1)
    }
}

/// Which devices to measure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceSelection {
    /// Every device found, the emulated ones included.
    All,
    /// These, in this order.
    List(Vec<DeviceSpec>),
}

impl FromStr for DeviceSelection {
    type Err = BenchError;

    /// `all`, or a comma list of device specs (`cpu,opencl:0,fpga:0`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim() == "all" {
            return Ok(DeviceSelection::All);
        }
        let mut out: Vec<DeviceSpec> = Vec::new();
        for part in text.split(',').map(str::trim) {
            let spec: DeviceSpec = part.parse().map_err(|_| {
                BenchError::BadArgument(format!(
                    "--device {text:?}: unknown device {part:?}: expected all, or a comma list of cpu, opencl:N, cuda:N, fpga:N (`kiln devices` lists them)"
                ))
            })?;
            if !out.contains(&spec) {
                out.push(spec);
            }
        }
        Ok(DeviceSelection::List(out))
    }
}

/// An MSM window width to force, or the device's own choice.
pub type Window = Option<u32>;

/// Parses `auto,13,16` into window choices.
pub fn parse_windows(text: &str) -> Result<Vec<Window>, BenchError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let w = if part == "auto" {
            None
        } else {
            let c: u32 = part
                .parse()
                .ok()
                .filter(|c| (1..=kiln_algebra::msm::MAX_WINDOW_BITS).contains(c))
                .ok_or_else(|| {
                    BenchError::BadArgument(format!(
                    "--windows {text:?}: {part:?} is not a window width: expected auto or 1..={}",
                    kiln_algebra::msm::MAX_WINDOW_BITS
                ))
                })?;
            Some(c)
        };
        if !out.contains(&w) {
            out.push(w);
        }
    }
    Ok(out)
}

/// Parses `on,off` into the CPU backend's precomputation choices.
pub fn parse_precompute(text: &str) -> Result<Vec<bool>, BenchError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let on = match part {
            "on" => true,
            "off" => false,
            _ => {
                return Err(BenchError::BadArgument(format!(
                    "--precompute {text:?}: {part:?}: expected on, off or on,off"
                )))
            }
        };
        if !out.contains(&on) {
            out.push(on);
        }
    }
    Ok(out)
}

/// Everything a run needs to know.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The suites, in order.
    pub suites: Vec<Suite>,
    /// The sizes (log2): points, vector lengths, proof domains.
    pub sizes: Sizes,
    /// The rollup suite's batch sizes (log2 of the transfers per batch; 0 is one transfer).
    pub batch_sizes: Sizes,
    /// The MSM groups.
    pub groups: Vec<GroupSel>,
    /// The devices.
    pub devices: DeviceSelection,
    /// MSM window widths to sweep (kernel variants).
    pub windows: Vec<Window>,
    /// The CPU backend's precomputation choices (kernel variants of `cpu:0`).
    pub precompute: Vec<bool>,
    /// Timed repeats per row.
    pub repeats: usize,
    /// Where to write bench.json, bench.csv and the plots.
    pub out: Option<std::path::PathBuf>,
    /// Whether to draw a progress bar (it is drawn only on a terminal in any case).
    pub progress: bool,
    /// The command line, for the report.
    pub command: Vec<String>,
    /// kiln's version and features, for the report.
    pub build: BuildInfo,
}

/// What kiln was built as (the binary knows its own features; this crate does not).
#[derive(Clone, Debug, Default)]
pub struct BuildInfo {
    /// The version.
    pub version: String,
    /// The cargo features enabled.
    pub features: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_ranges_lists_and_refuse_bad_ones() {
        assert_eq!(
            "12..16".parse::<Sizes>().unwrap().0,
            vec![12, 13, 14, 15, 16]
        );
        assert_eq!("12..=13".parse::<Sizes>().unwrap().0, vec![12, 13]);
        assert_eq!("14".parse::<Sizes>().unwrap().0, vec![14]);
        assert_eq!("16,12,16".parse::<Sizes>().unwrap().0, vec![12, 16]);
        for (bad, says) in [
            ("16..12", "reversed"),
            ("", "empty"),
            ("12..", "empty"),
            ("..", "empty"),
            ("0..4", "out of range"),
            ("12..40", "out of range"),
            ("a..b", "not a number"),
        ] {
            let e = bad.parse::<Sizes>().unwrap_err().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        // Batch sizes start at 0 (one transfer) and name their own option.
        assert_eq!(Sizes::parse_batch_sizes("0..2").unwrap().0, vec![0, 1, 2]);
        let e = Sizes::parse_batch_sizes("16..2").unwrap_err().to_string();
        assert!(e.contains("--batch-sizes") && e.contains("reversed"), "{e}");
        assert!("0".parse::<Sizes>().is_err());
    }

    #[test]
    fn devices_groups_and_variants_parse() {
        assert_eq!(
            "all".parse::<DeviceSelection>().unwrap(),
            DeviceSelection::All
        );
        let DeviceSelection::List(l) = "cpu,fpga:0,cpu".parse::<DeviceSelection>().unwrap() else {
            panic!("a list")
        };
        assert_eq!(l.len(), 2);
        let e = "cpu,gpu:0"
            .parse::<DeviceSelection>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown device \"gpu:0\""), "{e}");
        assert_eq!(parse_groups("G1,g2").unwrap().len(), 2);
        assert!(parse_groups("g3").is_err());
        assert_eq!(parse_windows("auto,13").unwrap(), vec![None, Some(13)]);
        assert!(parse_windows("0").is_err());
        assert!(parse_windows("99").is_err());
        assert_eq!(parse_precompute("on,off").unwrap(), vec![true, false]);
        assert!(parse_precompute("maybe").is_err());
    }
}
