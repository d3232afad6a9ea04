//! [`FormatError`]: every way a circom/snarkjs file can be unreadable, with where and why.
//!
//! Each variant carries the file path and, where it makes sense, the section id and the
//! absolute byte offset, plus what was expected and what was found, so a user can open
//! the file in a hex editor and see the problem.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error reading or writing a `.zkey`, `.wtns`, `.r1cs` or snarkjs JSON file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be opened, mapped, read or written.
    ///
    /// The message includes the operating system's error, so it is deliberately not also
    /// the [`std::error::Error::source`]: printing an error chain shows it once.
    #[error("{path}: {action}: {error}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What kiln was doing ("cannot open", "cannot write", ...).
        action: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },

    /// The first four bytes are not the expected magic.
    #[error(
        "{path}: not a {kind} file: expected magic {expected:?} at byte offset 0, found {found}",
        path = path.display()
    )]
    WrongMagic {
        /// The file.
        path: PathBuf,
        /// The kind of file expected (".zkey", ...).
        kind: &'static str,
        /// The expected magic ("zkey", "wtns", "r1cs").
        expected: &'static str,
        /// The bytes found, rendered printable.
        found: String,
    },

    /// The container version is not one kiln reads.
    #[error(
        "{path}: unsupported {kind} version {found} at byte offset 4 (kiln reads version {supported})",
        path = path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The kind of file (".zkey", ...).
        kind: &'static str,
        /// The version found.
        found: u32,
        /// The supported versions, rendered ("1" or "1 to 2").
        supported: String,
    },

    /// The file ends in the middle of a fixed-size structure.
    #[error(
        "{path}: truncated: {what} at byte offset {offset} needs {needed} bytes, but the file has only {available} bytes from there",
        path = path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read ("file header", "header of section #3", ...).
        what: String,
        /// Absolute byte offset of the structure.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Bytes left in the file from `offset`.
        available: u64,
    },

    /// A section's declared length runs past the end of the file.
    #[error(
        "{path}: section {section} (header at byte offset {header_offset}) declares {declared} bytes of body starting at byte offset {body_offset}, but the file has only {available} bytes from there (file length {file_len})",
        path = path.display()
    )]
    SectionPastEof {
        /// The file.
        path: PathBuf,
        /// Section id.
        section: u32,
        /// Byte offset of the section's 12-byte header.
        header_offset: u64,
        /// Byte offset of the section body.
        body_offset: u64,
        /// Declared body length.
        declared: u64,
        /// Bytes actually available from `body_offset`.
        available: u64,
        /// Total file length.
        file_len: u64,
    },

    /// A section that must appear once appears several times.
    #[error(
        "{path}: section {section} ({name}) appears {count} times (headers at byte offsets {offsets:?}); expected exactly one",
        path = path.display()
    )]
    DuplicateSection {
        /// The file.
        path: PathBuf,
        /// Section id.
        section: u32,
        /// What the section holds.
        name: &'static str,
        /// How many times it appears.
        count: usize,
        /// Byte offsets of each occurrence's header.
        offsets: Vec<u64>,
    },

    /// A required section is absent.
    #[error("{path}: required section {section} ({name}) is missing", path = path.display())]
    MissingSection {
        /// The file.
        path: PathBuf,
        /// Section id.
        section: u32,
        /// What the section holds.
        name: &'static str,
    },

    /// A section's length disagrees with what its header implies.
    #[error(
        "{path}: section {section} ({name}) at byte offset {offset} is {found} bytes long; expected {expected} ({why})",
        path = path.display()
    )]
    SectionSize {
        /// The file.
        path: PathBuf,
        /// Section id.
        section: u32,
        /// What the section holds.
        name: &'static str,
        /// Byte offset of the section body.
        offset: u64,
        /// Expected length in bytes.
        expected: u64,
        /// Actual length in bytes.
        found: u64,
        /// How the expected length was computed.
        why: String,
    },

    /// The file is for a different curve (its prime or element size is not the curve's).
    #[error(
        "{path}: wrong curve: {field} at byte offset {offset} (section {section}) is {found}, which is not {curve}'s ({expected})",
        path = path.display()
    )]
    WrongCurve {
        /// The file.
        path: PathBuf,
        /// Section id.
        section: u32,
        /// Byte offset of the field.
        offset: u64,
        /// Which field ("field modulus q", "scalar field size n8r", ...).
        field: &'static str,
        /// The value found.
        found: String,
        /// The curve kiln expected (snarkjs name).
        curve: &'static str,
        /// The curve's value.
        expected: String,
    },

    /// A `.zkey` for a proving system other than Groth16.
    #[error(
        "{path}: this is a {protocol} zkey; kiln proves Groth16 (section 1 at byte offset {offset} holds prover type {id}, Groth16 is 1)",
        path = path.display()
    )]
    NotGroth16 {
        /// The file.
        path: PathBuf,
        /// "PLONK" or "FFLONK".
        protocol: &'static str,
        /// The prover type id found.
        id: u32,
        /// Byte offset of the id.
        offset: u64,
    },

    /// A `.zkey` whose prover type is not known at all.
    #[error(
        "{path}: unknown prover type {id} at byte offset {offset} (section 1); expected 1 (Groth16)",
        path = path.display()
    )]
    UnknownProver {
        /// The file.
        path: PathBuf,
        /// The prover type id found.
        id: u32,
        /// Byte offset of the id.
        offset: u64,
    },

    /// A value inside a section is out of range or malformed.
    #[error(
        "{path}: section {section}, byte offset {offset}: {field}: {problem}",
        path = path.display()
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Section id.
        section: u32,
        /// Absolute byte offset of the value.
        offset: u64,
        /// Which value ("nVars", "witness value 17", "A point 3 x", ...).
        field: String,
        /// What is wrong, with expected vs found.
        problem: String,
    },

    /// Data handed to a writer is inconsistent (e.g. table lengths disagree with the header).
    #[error("{path}: cannot write: {problem}", path = path.display())]
    Inconsistent {
        /// The file that was to be written.
        path: PathBuf,
        /// What disagrees with what.
        problem: String,
    },

    /// A snarkjs JSON document is malformed or holds an invalid value.
    #[error("{}", JsonDisplay { path, json_path, problem })]
    Json {
        /// The file, or an empty path for in-memory documents.
        path: PathBuf,
        /// The JSON path of the bad value (`pi_a[1]`, `IC[2][0]`), or empty for the whole document.
        json_path: String,
        /// What is wrong.
        problem: String,
    },

    /// A JSON point is well-formed but not a group element (off the curve or outside the
    /// prime-order subgroup). For a proof this means "invalid", not "malformed".
    #[error("{}", JsonDisplay { path, json_path, problem })]
    JsonPoint {
        /// The file, or an empty path for in-memory documents.
        path: PathBuf,
        /// The JSON path of the point (`pi_a`, `IC[2]`).
        json_path: String,
        /// Why it is not a group element.
        problem: String,
    },
}

struct JsonDisplay<'a> {
    path: &'a Path,
    json_path: &'a str,
    problem: &'a str,
}

impl fmt::Display for JsonDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.as_os_str().is_empty() {
            write!(f, "{}: ", self.path.display())?;
        }
        if !self.json_path.is_empty() {
            write!(f, "{}: ", self.json_path)?;
        }
        f.write_str(self.problem)
    }
}

impl FormatError {
    /// The file the error is about (empty for in-memory JSON documents).
    pub fn path(&self) -> &Path {
        match self {
            FormatError::Io { path, .. }
            | FormatError::WrongMagic { path, .. }
            | FormatError::UnsupportedVersion { path, .. }
            | FormatError::Truncated { path, .. }
            | FormatError::SectionPastEof { path, .. }
            | FormatError::DuplicateSection { path, .. }
            | FormatError::MissingSection { path, .. }
            | FormatError::SectionSize { path, .. }
            | FormatError::WrongCurve { path, .. }
            | FormatError::NotGroth16 { path, .. }
            | FormatError::UnknownProver { path, .. }
            | FormatError::Invalid { path, .. }
            | FormatError::Inconsistent { path, .. }
            | FormatError::Json { path, .. }
            | FormatError::JsonPoint { path, .. } => path,
        }
    }

    /// Attaches a file path to an error made without one (in-memory JSON conversions).
    pub fn with_path(mut self, file: &Path) -> Self {
        if let FormatError::Json { path, .. } | FormatError::JsonPoint { path, .. } = &mut self {
            if path.as_os_str().is_empty() {
                *path = file.to_path_buf();
            }
        }
        self
    }

    /// An I/O error on `path` while doing `action` ("cannot read").
    pub fn io(path: &Path, action: &'static str, error: std::io::Error) -> Self {
        FormatError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }

    /// A JSON document's value at `json_path` is wrong (no file yet: see [`Self::with_path`]).
    pub fn json(json_path: impl Into<String>, problem: impl Into<String>) -> Self {
        FormatError::Json {
            path: PathBuf::new(),
            json_path: json_path.into(),
            problem: problem.into(),
        }
    }
}
