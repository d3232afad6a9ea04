//! The terminal table: one line per row as it completes, printed above the progress bar
//! (on standard output, so it pipes and redirects like any table).

use indicatif::ProgressBar;

use crate::report::{DeviceClock, Row, Stats};

/// Prints rows as they complete.
#[derive(Default)]
pub struct Table {
    header_printed: bool,
    /// Every line printed, for tests and for the summary.
    pub lines: Vec<String>,
}

/// Milliseconds with a sensible number of digits.
pub fn ms(seconds: f64) -> String {
    let m = seconds * 1e3;
    if m >= 1000.0 {
        format!("{m:.0}")
    } else if m >= 10.0 {
        format!("{m:.1}")
    } else {
        format!("{m:.2}")
    }
}

fn ratio(s: &Stats) -> String {
    format!("{:.2}x", s.median)
}

fn ratio_range(s: &Stats) -> String {
    format!("{:.2}x ({:.2}-{:.2})", s.median, s.min, s.max)
}

impl Table {
    fn print(&mut self, pb: &ProgressBar, line: String) {
        pb.suspend(|| println!("{line}"));
        self.lines.push(line);
    }

    /// The column headings (printed before the first row).
    pub fn header(&mut self, pb: &ProgressBar) {
        if self.header_printed {
            return;
        }
        self.header_printed = true;
        self.print(
            pb,
            format!(
                "{:<16} {:<5} {:<32} {:<22} {:>22} {:>14} {:>11} {:>24} {:>7}",
                "op",
                "size",
                "device",
                "variant",
                "wall ms (min-max)",
                "device ms",
                "base ms",
                "speed-up (min-max)",
                "vs cpu"
            ),
        );
    }

    /// One row.
    pub fn row(&mut self, pb: &ProgressBar, row: &Row, label: &str) {
        self.header(pb);
        let wall = format!(
            "{} ({}-{})",
            ms(row.wall_s.median),
            ms(row.wall_s.min),
            ms(row.wall_s.max)
        );
        let device = match (&row.device_s, row.device_clock) {
            (Some(d), Some(DeviceClock::ModelledCard)) => format!("{} model", ms(d.median)),
            (Some(d), _) => format!("{} kernel", ms(d.median)),
            _ => "-".into(),
        };
        let line = format!(
            "{:<16} 2^{:<3} {:<32} {:<22} {:>22} {:>14} {:>11} {:>24} {:>7}",
            row.op,
            row.size_log2,
            label,
            row.variant,
            wall,
            device,
            ms(row.baseline_s.median),
            ratio_range(&row.speedup),
            row.vs_cpu.as_ref().map_or_else(|| "-".into(), ratio)
        );
        self.print(pb, line);
    }

    /// A line for a failure or a wrong result.
    pub fn problem(&mut self, pb: &ProgressBar, text: &str) {
        self.header(pb);
        self.print(pb, format!("!! {text}"));
    }

    /// A free-form line (a section heading, a note).
    pub fn note(&mut self, pb: &ProgressBar, text: &str) {
        self.print(pb, text.to_string());
    }
}
