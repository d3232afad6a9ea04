//! Measured throughput per device, operation and size, learned from every operation the
//! fleet runs (the first run on a device is its calibration) and optionally stored as JSON
//! so a restarted daemon places work well from its first proof.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The operations the fleet places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A G1 MSM (size: points).
    MsmG1,
    /// A G2 MSM (size: points).
    MsmG2,
    /// A batched NTT step (size: elements over all vectors).
    Ntt,
}

impl OpKind {
    /// The MSM over points of `group`.
    pub fn msm(group: crate::Group) -> Self {
        match group {
            crate::Group::G1 => OpKind::MsmG1,
            crate::Group::G2 => OpKind::MsmG2,
        }
    }
}

/// Items per second, keyed by device, operation and log2 of the size (rounded up).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Calibration {
    /// `"<device> <op> <log2 size>"` → items per second (an exponential moving average).
    rates: HashMap<String, f64>,
    /// Where to store it, if anywhere.
    #[serde(skip)]
    path: Option<PathBuf>,
    /// When it was last stored.
    #[serde(skip)]
    saved_at: Option<Instant>,
}

/// Refinements of known rates are stored at most this often (a new rate at once), so a
/// busy prover does not write the file after every operation.
const SAVE_EVERY: Duration = Duration::from_secs(10);

/// Weight of a new measurement in the moving average.
const ALPHA: f64 = 0.3;

fn key(device: &str, op: OpKind, size: usize) -> String {
    let log = usize::BITS - size.max(1).saturating_sub(1).leading_zeros();
    format!("{device} {op:?} {log}")
}

impl Calibration {
    /// An empty table kept in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// The table stored at `path` (empty if the file is missing or unreadable), saved back
    /// there when a rate is first measured, and refinements every few seconds.
    pub fn stored_at(path: &Path) -> Self {
        let mut c: Calibration = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        c.path = Some(path.to_path_buf());
        c
    }

    /// The table in its default place: `KILN_CALIBRATION` if set, else
    /// `$XDG_CACHE_HOME/kiln/calibration.json` or `~/.cache/kiln/calibration.json`; kept in
    /// memory only when none of these can be determined or created.
    pub fn default_store() -> Self {
        let path = std::env::var_os("KILN_CALIBRATION")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .map(|d| d.join("kiln").join("calibration.json"))
            });
        match path {
            Some(p)
                if p.parent()
                    .is_none_or(|d| std::fs::create_dir_all(d).is_ok()) =>
            {
                Self::stored_at(&p)
            }
            _ => Self::in_memory(),
        }
    }

    /// Estimated seconds for `op` of `size` items on `device`; `None` until measured.
    pub fn estimate(&self, device: &str, op: OpKind, size: usize) -> Option<f64> {
        self.rates
            .get(&key(device, op, size))
            .map(|rate| size as f64 / rate.max(1e-9))
    }

    /// Records that `op` of `size` items took `seconds` on `device`.
    pub fn record(&mut self, device: &str, op: OpKind, size: usize, seconds: f64) {
        if size == 0 || seconds <= 0.0 {
            return;
        }
        let rate = size as f64 / seconds;
        let k = key(device, op, size);
        let new = !self.rates.contains_key(&k);
        let entry = self.rates.entry(k).or_insert(rate);
        *entry = (1.0 - ALPHA) * *entry + ALPHA * rate;
        let due = self.saved_at.is_none_or(|t| t.elapsed() >= SAVE_EVERY);
        if !(new || due) {
            return;
        }
        self.saved_at = Some(Instant::now());
        if let Some(path) = &self.path {
            // Best effort: a calibration that cannot be saved is re-learned next time.
            if let Ok(json) = serde_json::to_vec_pretty(self) {
                let _ = save(path, &json);
            }
        }
    }
}

/// Replaces `path` with `json` atomically (a synced temporary file renamed over it).
fn save(path: &Path, json: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let mut b = tempfile::Builder::new();
    #[cfg(unix)] // The mode any new file gets (0o666 less the umask), as before.
    b.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = b.tempfile_in(dir.unwrap_or(Path::new(".")))?;
    tmp.write_all(json)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_follow_measurements_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calibration.json");
        let mut c = Calibration::stored_at(&path);
        assert_eq!(c.estimate("cpu:0", OpKind::MsmG1, 1000), None);
        c.record("cpu:0", OpKind::MsmG1, 1000, 0.01);
        let e = c.estimate("cpu:0", OpKind::MsmG1, 1000).unwrap();
        assert!((e - 0.01).abs() < 1e-9, "{e}");
        // Same power-of-two bucket, proportional to size.
        let e2 = c.estimate("cpu:0", OpKind::MsmG1, 1020).unwrap();
        assert!(e2 > e);
        let again = Calibration::stored_at(&path);
        assert_eq!(again.estimate("cpu:0", OpKind::MsmG1, 1000), Some(e));
        assert_eq!(again.estimate("cpu:0", OpKind::Ntt, 1000), None);
    }
}
