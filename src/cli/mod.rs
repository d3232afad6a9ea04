//! The `kiln` command line: argument definitions and one handler per command.
//!
//! Exit codes: 0 success, 1 a proof failed verification (or `bench compare` found a
//! regression), 2 bad input (a message names the
//! file, section, offset or field), 3 an internal or device failure.

pub mod args;
pub mod bench;
pub mod commands;
pub mod rollup;

pub use args::{Cli, Command};
pub use commands::run;

use std::path::PathBuf;

use kiln_device::DeviceError;
use kiln_formats::FormatError;
use kiln_groth16::{ProveError, SetupError, VerifyError};

/// A command's failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file or argument is not what the command needs.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A bad argument that is not a file format problem.
    #[error("{0}")]
    BadArgument(String),
    /// Proving refused its input or failed.
    #[error(transparent)]
    Prove(#[from] ProveError),
    /// Proving refused this witness with this key (wrong length, no constant 1, or a proof
    /// that failed its pairing self-check); the message names both files. (The prover's
    /// message is part of this one, not the source, so the chain prints it once.)
    #[error("witness {} with proving key {}: {error}", wtns.display(), zkey.display())]
    ProveInput {
        /// The witness file.
        wtns: PathBuf,
        /// The proving key file.
        zkey: PathBuf,
        /// What the prover said.
        error: Box<ProveError>,
    },
    /// Setup refused the circuit.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// Verification could not be carried out.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A device could not be opened or failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The daemon could not start or failed.
    #[error(transparent)]
    Serve(#[from] kiln_server::ServeError),
    /// A bench run or comparison could not be made, or a device failed in it.
    #[error(transparent)]
    Bench(#[from] kiln_bench::BenchError),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            // An unknown device spec is a typo on the command line, not a device failure.
            CliError::Device(DeviceError::BadSpec { .. }) => 2,
            CliError::Prove(ProveError::Device(_)) | CliError::Device(_) => 3,
            CliError::Serve(
                kiln_server::ServeError::Config(_) | kiln_server::ServeError::Rollup(_),
            ) => 2,
            CliError::Serve(_) => 3,
            CliError::Bench(
                kiln_bench::BenchError::Device(_)
                | kiln_bench::BenchError::Mismatch(_)
                | kiln_bench::BenchError::Failed(_)
                | kiln_bench::BenchError::Plot { .. },
            ) => 3,
            _ => 2,
        }
    }
}

/// Renders a failure for the terminal: its message, then each source's message that the
/// text so far does not already include (many errors here embed their cause in their own
/// message, and printing it again as the chain's next link would say it twice).
pub fn render_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let m = cause.to_string();
        if !m.is_empty() && !text.contains(&m) {
            text.push_str(": ");
            text.push_str(&m);
        }
        next = cause.source();
    }
    text
}

/// What a successful command run amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit 0).
    Ok,
    /// A proof was checked and is invalid (exit 1).
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {inner}")]
    struct Embeds {
        #[source]
        inner: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Chains {
        #[source]
        inner: std::io::Error,
    }

    #[test]
    fn errors_render_each_cause_once() {
        let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let msg = io().to_string();
        let e = Embeds { inner: io() };
        assert_eq!(render_error(&e), format!("outer: {msg}"));
        let e = Chains { inner: io() };
        assert_eq!(render_error(&e), format!("outer: {msg}"));
        let e = CliError::Format(FormatError::io(
            std::path::Path::new("w.wtns"),
            "cannot open",
            io(),
        ));
        assert_eq!(render_error(&e), format!("w.wtns: cannot open: {msg}"));
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn a_bad_device_spec_is_bad_input() {
        let bad: DeviceError = "bogus".parse::<kiln_device::DeviceSpec>().unwrap_err();
        assert_eq!(CliError::Device(bad).exit_code(), 2);
        let missing = DeviceError::Unavailable {
            spec: "cuda:7".parse().unwrap(),
            reason: "no driver".into(),
        };
        assert_eq!(CliError::Device(missing).exit_code(), 3);
    }
}
