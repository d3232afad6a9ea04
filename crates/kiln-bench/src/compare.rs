//! `kiln bench compare OLD NEW`: each row of two runs matched by (op, size, device,
//! variant), its change, and the noise band its repeats allow. A row slower by more than
//! its band is a regression; a CI job gates on the exit status.
//!
//! By default the compared quantity is the row's speed-up over its in-process baseline
//! (the baseline ran beside it in the same process, so a machine that is busier in one
//! run than the other moves both and the ratio holds); `--metric wall` compares wall
//! times instead. The band of a row is the larger relative spread `(max − min) / median`
//! of its two sets of repeats, and never less than the `--min-band` floor.

use std::collections::BTreeMap;

use crate::report::{Report, Row, RowKey, Stats};
use crate::BenchError;

/// What is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Speed-up over the row's in-process baseline (robust to the machine's load).
    Speedup,
    /// Wall time.
    Wall,
}

/// How a comparison is made.
#[derive(Clone, Copy, Debug)]
pub struct CompareOptions {
    /// What is compared.
    pub metric: Metric,
    /// The smallest noise band, relative (0.10 = 10 %).
    pub min_band: f64,
    /// Whether a row of the old run missing from the new one is allowed (otherwise it is a
    /// regression: a device or size that stopped working must not pass a gate).
    pub allow_missing: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            metric: Metric::Speedup,
            min_band: 0.10,
            allow_missing: false,
        }
    }
}

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the noise band.
    Unchanged,
    /// Faster beyond the band.
    Faster,
    /// Slower beyond the band.
    Regression,
}

/// One row's change.
#[derive(Clone, Debug)]
pub struct Change {
    /// The row.
    pub key: RowKey,
    /// The old value (speed-up or seconds, per the metric; medians).
    pub old: f64,
    /// The new value.
    pub new: f64,
    /// How much slower the new run is, relative: +0.25 is 25 % slower, −0.2 20 % faster.
    pub slowdown: f64,
    /// The noise band, relative.
    pub band: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// The comparison of two runs.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Rows in both runs.
    pub changes: Vec<Change>,
    /// Rows of the old run that failed in the new one (a device error or a wrong result),
    /// with what happened: always regressions.
    pub failed: Vec<(RowKey, String)>,
    /// Rows only in the old run (neither measured nor failed in the new one).
    pub only_old: Vec<RowKey>,
    /// Whether `only_old` rows are allowed.
    pub allow_missing: bool,
    /// Rows only in the new run.
    pub only_new: Vec<RowKey>,
    /// What was compared.
    pub metric: Metric,
    /// Differences between the two machines worth knowing.
    pub machine_notes: Vec<String>,
}

fn value(row: &Row, metric: Metric) -> &Stats {
    match metric {
        Metric::Speedup => &row.speedup,
        Metric::Wall => &row.wall_s,
    }
}

/// Compares `new` against `old`. Refuses two runs with no row in common.
pub fn compare(old: &Report, new: &Report, opts: CompareOptions) -> Result<Comparison, BenchError> {
    if !(opts.min_band.is_finite() && opts.min_band >= 0.0) {
        return Err(BenchError::BadArgument(format!(
            "--min-band {}: expected a fraction ≥ 0 such as 0.1",
            opts.min_band
        )));
    }
    let old_rows: BTreeMap<RowKey, &Row> = old.rows.iter().map(|r| (r.key(), r)).collect();
    let new_rows: BTreeMap<RowKey, &Row> = new.rows.iter().map(|r| (r.key(), r)).collect();
    let new_failures: BTreeMap<RowKey, &str> = new
        .failures
        .iter()
        .map(|f| (f.key(), f.message.as_str()))
        .collect();
    let mut changes = Vec::new();
    let mut failed = Vec::new();
    for (key, o) in &old_rows {
        if let Some(message) = new_failures.get(key) {
            failed.push((key.clone(), message.to_string()));
            continue;
        }
        let Some(n) = new_rows.get(key) else { continue };
        if let Some(note) = &n.note {
            failed.push((key.clone(), note.clone()));
            continue;
        }
        let (so, sn) = (value(o, opts.metric), value(n, opts.metric));
        if !(so.median > 0.0 && sn.median > 0.0) {
            continue;
        }
        let slowdown = match opts.metric {
            Metric::Speedup => so.median / sn.median - 1.0,
            Metric::Wall => sn.median / so.median - 1.0,
        };
        let band = opts.min_band.max(so.spread()).max(sn.spread());
        let verdict = if slowdown > band {
            Verdict::Regression
        } else if slowdown < -band / (1.0 + band) {
            Verdict::Faster
        } else {
            Verdict::Unchanged
        };
        changes.push(Change {
            key: key.clone(),
            old: so.median,
            new: sn.median,
            slowdown,
            band,
            verdict,
        });
    }
    if changes.is_empty() && failed.is_empty() {
        return Err(BenchError::BadArgument(
            "the two runs have no row in common (same suite, op, size, device and variant): nothing to compare".into(),
        ));
    }
    let only_old = old_rows
        .keys()
        .filter(|k| !new_rows.contains_key(*k) && !new_failures.contains_key(*k))
        .cloned()
        .collect();
    let only_new = new_rows
        .keys()
        .filter(|k| !old_rows.contains_key(*k))
        .cloned()
        .collect();
    let mut machine_notes = Vec::new();
    let (mo, mn) = (&old.machine, &new.machine);
    if mo.cpu_model != mn.cpu_model {
        machine_notes.push(format!(
            "different CPUs: {:?} then {:?}",
            mo.cpu_model, mn.cpu_model
        ));
    }
    if mo.threads != mn.threads {
        machine_notes.push(format!(
            "different thread counts: {} then {}",
            mo.threads, mn.threads
        ));
    }
    if mo.kiln_version != mn.kiln_version {
        machine_notes.push(format!("kiln {} then {}", mo.kiln_version, mn.kiln_version));
    }
    Ok(Comparison {
        changes,
        failed,
        only_old,
        allow_missing: opts.allow_missing,
        only_new,
        metric: opts.metric,
        machine_notes,
    })
}

impl Comparison {
    /// How many rows regressed: slower beyond their band, failed in the new run, or (unless
    /// allowed) missing from it.
    pub fn regressions(&self) -> usize {
        let slower = self
            .changes
            .iter()
            .filter(|c| c.verdict == Verdict::Regression)
            .count();
        let missing = if self.allow_missing {
            0
        } else {
            self.only_old.len()
        };
        slower + self.failed.len() + missing
    }

    /// The comparison as a table, with a closing verdict line.
    pub fn render(&self) -> String {
        let (what, unit) = match self.metric {
            Metric::Speedup => ("speed-up over baseline", "x"),
            Metric::Wall => ("wall time", " s"),
        };
        let mut out = format!(
            "comparing {what} (medians); change > band = regression\n{:<16} {:<5} {:<12} {:<18} {:>12} {:>12} {:>9} {:>8}  verdict\n",
            "op", "size", "device", "variant", "old", "new", "slower", "band"
        );
        for c in &self.changes {
            out.push_str(&format!(
                "{:<16} 2^{:<3} {:<12} {:<18} {:>12} {:>12} {:>+8.1}% {:>7.1}%  {}\n",
                c.key.op,
                c.key.size_log2,
                c.key.device,
                c.key.variant,
                format!("{:.4}{unit}", c.old),
                format!("{:.4}{unit}", c.new),
                c.slowdown * 100.0,
                c.band * 100.0,
                match c.verdict {
                    Verdict::Unchanged => "same",
                    Verdict::Faster => "faster",
                    Verdict::Regression => "REGRESSION",
                }
            ));
        }
        for (key, message) in &self.failed {
            out.push_str(&format!("{key}: FAILED in the new run: {message}\n"));
        }
        if !self.allow_missing {
            for key in &self.only_old {
                out.push_str(&format!(
                    "{key}: MISSING from the new run (--allow-missing to accept)\n"
                ));
            }
        }
        for note in &self.machine_notes {
            out.push_str(&format!("note: {note}\n"));
        }
        if (self.allow_missing && !self.only_old.is_empty()) || !self.only_new.is_empty() {
            out.push_str(&format!(
                "note: {} rows only in the old run, {} only in the new (not compared)\n",
                if self.allow_missing {
                    self.only_old.len()
                } else {
                    0
                },
                self.only_new.len()
            ));
        }
        let n = self.regressions();
        if n == 0 {
            out.push_str(&format!(
                "no regression in {} rows compared\n",
                self.changes.len()
            ));
        } else {
            out.push_str(&format!(
                "{n} of {} rows regressed (slower beyond their noise band, failed or missing)\n",
                self.changes.len() + self.failed.len() + self.only_old.len()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Machine, SCHEMA};

    fn row(device: &str, speedups: &[f64]) -> Row {
        let s = Stats::of(speedups).unwrap();
        Row {
            suite: "msm".into(),
            op: "msm-g1".into(),
            size_log2: 12,
            device: device.into(),
            variant: "default".into(),
            wall_s: s.clone(),
            device_s: None,
            device_clock: None,
            baseline: "b".into(),
            baseline_s: s.clone(),
            speedup: s,
            device_speedup: None,
            vs_cpu: None,
            note: None,
        }
    }

    fn report(rows: Vec<Row>) -> Report {
        Report {
            schema: SCHEMA.into(),
            started_unix: 0,
            command: vec![],
            machine: Machine::default(),
            devices: vec![],
            rows,
            failures: vec![],
        }
    }

    #[test]
    fn a_slowdown_beyond_the_band_is_a_regression_and_noise_is_not() {
        let old = report(vec![
            row("cpu:0", &[2.0, 2.1, 1.9]),
            row("fpga:0", &[1.0, 1.0, 1.0]),
        ]);
        let same = report(vec![
            row("cpu:0", &[2.05, 1.95, 2.0]),
            row("fpga:0", &[1.02, 0.99, 1.0]),
        ]);
        let c = compare(&old, &same, CompareOptions::default()).unwrap();
        assert_eq!(c.regressions(), 0, "{}", c.render());
        let slow = report(vec![
            row("cpu:0", &[1.0, 1.05, 0.95]),
            row("fpga:0", &[1.0, 1.0, 1.0]),
        ]);
        let c = compare(&old, &slow, CompareOptions::default()).unwrap();
        assert_eq!(c.regressions(), 1);
        assert!(c.render().contains("REGRESSION"));
        let c = compare(&slow, &old, CompareOptions::default()).unwrap();
        assert_eq!(c.regressions(), 0);
        assert!(c.changes.iter().any(|ch| ch.verdict == Verdict::Faster));
        // A noisy row's band widens: a 2x spread hides a 1.5x change.
        let noisy_old = report(vec![row("cpu:0", &[1.0, 2.0, 3.0])]);
        let noisy_new = report(vec![row("cpu:0", &[1.0, 1.4, 2.0])]);
        let c = compare(&noisy_old, &noisy_new, CompareOptions::default()).unwrap();
        assert_eq!(c.regressions(), 0);
    }

    #[test]
    fn a_failed_or_missing_row_is_a_regression() {
        let old = report(vec![
            row("cpu:0", &[2.0, 2.0, 2.0]),
            row("fpga:0", &[1.0, 1.0, 1.0]),
        ]);
        let mut failed = report(vec![row("cpu:0", &[2.0, 2.0, 2.0])]);
        failed.failures.push(crate::report::Failure {
            suite: "msm".into(),
            op: "msm-g1".into(),
            size_log2: 12,
            device: "fpga:0".into(),
            variant: "default".into(),
            message: "WRONG RESULT".into(),
        });
        let c = compare(&old, &failed, CompareOptions::default()).unwrap();
        assert_eq!(c.regressions(), 1);
        assert!(c.render().contains("FAILED in the new run: WRONG RESULT"));
        let missing = report(vec![row("cpu:0", &[2.0, 2.0, 2.0])]);
        let c = compare(&old, &missing, CompareOptions::default()).unwrap();
        assert_eq!(c.regressions(), 1);
        assert!(c.render().contains("MISSING"));
        let allowed = CompareOptions {
            allow_missing: true,
            ..CompareOptions::default()
        };
        assert_eq!(compare(&old, &missing, allowed).unwrap().regressions(), 0);
        let mut noted = report(vec![
            row("cpu:0", &[2.0, 2.0, 2.0]),
            row("fpga:0", &[1.0, 1.0, 1.0]),
        ]);
        noted.rows[1].note = Some("WRONG RESULT on repeat 2".into());
        assert_eq!(
            compare(&old, &noted, CompareOptions::default())
                .unwrap()
                .regressions(),
            1
        );
    }

    #[test]
    fn runs_with_nothing_in_common_are_refused() {
        let a = report(vec![row("cpu:0", &[1.0])]);
        let b = report(vec![row("fpga:0", &[1.0])]);
        assert!(compare(&a, &b, CompareOptions::default()).is_err());
    }
}
