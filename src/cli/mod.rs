//! The `kiln` command line: argument definitions and one handler per command.
//!
//! Exit codes: 0 success, 1 a proof failed verification, 2 bad input (a message names the
//! file, section, offset or field), 3 an internal or device failure.

pub mod args;
pub mod commands;

pub use args::{Cli, Command};
pub use commands::run;

use crate::device::DeviceError;
use crate::formats::FormatError;
use crate::groth16::{ProveError, SetupError, VerifyError};

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
    Serve(#[from] crate::server::ServeError),
    /// Writing an output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Prove(ProveError::Device(_)) | CliError::Device(_) => 3,
            CliError::Write { .. } => 3,
            CliError::Serve(crate::server::ServeError::Config(_)) => 2,
            CliError::Serve(_) => 3,
            _ => 2,
        }
    }
}

/// What a successful command run amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit 0).
    Ok,
    /// A proof was checked and is invalid (exit 1).
    Invalid,
}
