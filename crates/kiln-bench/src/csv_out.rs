//! `bench.csv`: one line per row with the medians and ranges, for spreadsheets.

use std::path::Path;

use crate::report::{DeviceClock, Report};
use crate::BenchError;

/// The CSV's columns, in order.
pub const COLUMNS: [&str; 21] = [
    "suite",
    "op",
    "size_log2",
    "size",
    "device",
    "label",
    "variant",
    "repeats",
    "wall_median_s",
    "wall_min_s",
    "wall_max_s",
    "device_median_s",
    "device_clock",
    "baseline",
    "baseline_median_s",
    "speedup_median",
    "speedup_min",
    "speedup_max",
    "vs_cpu_median",
    "emulated",
    "note",
];

/// Writes `report`'s rows to `path`.
pub fn write_csv(report: &Report, path: &Path) -> Result<(), BenchError> {
    let io = |e: std::io::Error| BenchError::io(path, "cannot write", e);
    let mut w = csv::Writer::from_path(path).map_err(|e| io(e.into()))?;
    w.write_record(COLUMNS).map_err(|e| io(e.into()))?;
    for r in &report.rows {
        let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:e}"));
        let emulated = report
            .devices
            .iter()
            .any(|d| d.device == r.device && d.emulated);
        w.write_record([
            r.suite.clone(),
            r.op.clone(),
            r.size_log2.to_string(),
            (1u64 << r.size_log2).to_string(),
            r.device.clone(),
            report.label(&r.device),
            r.variant.clone(),
            r.wall_s.samples.len().to_string(),
            format!("{:e}", r.wall_s.median),
            format!("{:e}", r.wall_s.min),
            format!("{:e}", r.wall_s.max),
            opt(r.device_s.as_ref().map(|s| s.median)),
            match r.device_clock {
                Some(DeviceClock::Kernel) => "kernel".into(),
                Some(DeviceClock::ModelledCard) => "modelled-card".into(),
                None => String::new(),
            },
            r.baseline.clone(),
            format!("{:e}", r.baseline_s.median),
            format!("{:.4}", r.speedup.median),
            format!("{:.4}", r.speedup.min),
            format!("{:.4}", r.speedup.max),
            r.vs_cpu
                .as_ref()
                .map_or_else(String::new, |s| format!("{:.4}", s.median)),
            emulated.to_string(),
            r.note.clone().unwrap_or_default(),
        ])
        .map_err(|e| io(e.into()))?;
    }
    w.flush().map_err(io)
}
