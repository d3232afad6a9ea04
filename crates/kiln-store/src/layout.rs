//! The data dir's layout: where `kiln serve` keeps the database, accepted proving keys and
//! the witnesses of unfinished jobs under `--data-dir`.

use std::path::PathBuf;

/// Where the daemon keeps its files under `--data-dir`.
#[derive(Clone, Debug)]
pub struct DataDirs {
    /// The data dir itself.
    pub root: PathBuf,
    /// Accepted proving keys, `<sha256>.zkey`.
    pub circuits: PathBuf,
    /// Witnesses of unfinished jobs, `<job id>.wtns`.
    pub witnesses: PathBuf,
    /// Uploads in progress.
    pub tmp: PathBuf,
}

impl DataDirs {
    /// The layout under `root`.
    pub fn new(root: PathBuf) -> Self {
        DataDirs {
            circuits: root.join("circuits"),
            witnesses: root.join("witnesses"),
            tmp: root.join("tmp"),
            root,
        }
    }

    /// The stored zkey of circuit `id` (a sha256 hex).
    pub fn zkey(&self, id: &str) -> PathBuf {
        self.circuits.join(format!("{id}.zkey"))
    }

    /// The stored witness of job `id`.
    pub fn witness(&self, id: &str) -> PathBuf {
        self.witnesses.join(format!("{id}.wtns"))
    }
}
