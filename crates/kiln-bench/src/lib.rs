//! `kiln bench`: kiln's bench suites for hardware engineers. Every device found (the CPU
//! backend, OpenCL and CUDA GPUs, FPGA cards, the emulated card labelled so) runs the same
//! operations side by side, each repeat next to its baseline run in the same process
//! (arkworks for MSM and NTT, the CPU backend for whole proofs, rollup batch proofs and
//! proofs through `kiln serve`, bare EdDSA-Poseidon verification for the rollup's grouped
//! signature checks); a run prints a table, and with an output directory writes JSON
//! (schema [`report::SCHEMA`]), CSV and plots. [`compare()`] sets two runs against each
//! other and flags regressions beyond the noise of their repeats.
//!
//! The suites ([`suites`]): `msm`, `ntt`, `prove` (a synthetic circuit), `serve` (the same
//! proofs through a `kiln serve` daemon per device, started from this executable) and
//! `rollup` (the appliance's rollup: batch proofs and signature checks).

pub mod compare;
pub mod csv_out;
pub mod devices;
pub mod machine;
pub mod measure;
pub mod plot;
pub mod report;
pub mod run;
pub mod spec;
pub mod suites;
pub mod table;

pub use compare::{compare, CompareOptions, Comparison, Metric};
pub use run::{run, RunOutcome};
pub use spec::{BuildInfo, DeviceSelection, RunConfig, Sizes, Suite};

use std::path::PathBuf;

/// The `tracing` target of this crate's events: `RUST_LOG=kiln::bench=debug` shows them alone.
pub(crate) const TARGET: &str = "kiln::bench";

/// Why a bench run or comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The arguments ask for something that cannot be run (the message says what and why).
    #[error("{0}")]
    BadArgument(String),
    /// A file could not be read or written.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file given to `compare` is not a bench report.
    #[error("{}: not a kiln bench report: {reason}", path.display())]
    BadReport {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A device failed while being measured.
    #[error(transparent)]
    Device(#[from] kiln_device::DeviceError),
    /// A plot could not be drawn.
    #[error("plotting {}: {reason}", path.display())]
    Plot {
        /// The plot file.
        path: PathBuf,
        /// What the plotting library said.
        reason: String,
    },
    /// A result disagreed with the baseline's (a broken kernel: nothing is reported for it).
    #[error("{0}")]
    Mismatch(String),
    /// Something failed after the run had started (arguments were fine): a file that could
    /// not be written, a key that could not be made, a daemon that would not start.
    #[error("{0}")]
    Failed(String),
}

impl BenchError {
    /// This error as it stands once the run has started: what would have been a bad
    /// argument before any work is a failure of the run (exit 3, not 2).
    pub fn after_start(self) -> Self {
        match self {
            e @ (BenchError::BadArgument(_)
            | BenchError::Io { .. }
            | BenchError::BadReport { .. }) => BenchError::Failed(e.to_string()),
            e => e,
        }
    }

    /// An I/O error on `path` while doing `what`.
    pub fn io(path: &std::path::Path, what: &'static str, source: std::io::Error) -> Self {
        BenchError::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }
}
