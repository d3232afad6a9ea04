//! Timing one point of a sweep: the baseline and every device variant, repeat after
//! repeat, each repeat's runs back to back (so a change in the machine's load hits the
//! baseline and the device alike), results checked against the baseline's, the device's
//! own clock read beside the wall clock; then one [`Row`] per device variant.

use std::time::Instant;

use indicatif::ProgressBar;
use kiln_device::{DeviceError, UsageClock};

use crate::devices::{BenchDevice, Variant};
use crate::report::{DeviceClock, Failure, Row, Stats};
use crate::spec::Suite;
use crate::table::Table;

/// Work up to this size (log2) gets one untimed warm-up run per device before the repeats
/// (first-launch costs: buffers, caches, code paths); larger ones are long enough not to.
const WARM_UP_MAX_LOG: u32 = 16;

/// One device variant's run of the operation at this point.
pub struct Contender<'a, O> {
    /// The device.
    pub device: &'a BenchDevice,
    /// The variant.
    pub variant: &'a Variant,
    /// Runs the operation once.
    pub run: Box<dyn FnMut() -> Result<O, DeviceError> + 'a>,
}

/// The state a run carries through its suites.
pub struct Ctx<'a> {
    /// Whether the progress bar's length was set for the whole run beforehand (otherwise
    /// each point adds its runs as it starts).
    pub planned: bool,
    /// Timed repeats per row.
    pub repeats: usize,
    /// The progress bar (hidden when not on a terminal).
    pub progress: &'a ProgressBar,
    /// The terminal table.
    pub table: &'a mut Table,
    /// The rows so far.
    pub rows: Vec<Row>,
    /// Failures and wrong results (the run still reports everything else, then fails).
    pub problems: Vec<String>,
    /// The same failures by row, for the report (`compare` counts them as regressions).
    pub failures: Vec<Failure>,
}

/// What one contender gathered over the repeats.
#[derive(Default)]
struct Samples {
    wall: Vec<f64>,
    device: Vec<f64>,
    clock: Option<DeviceClock>,
    failed: Option<String>,
}

/// The device time of the usage entries a run produced, with what clock it is.
fn device_time(usage: &[kiln_device::DeviceUsage]) -> Option<(f64, DeviceClock)> {
    let first = usage.first()?;
    let clock = match first.clock {
        UsageClock::Kernel => DeviceClock::Kernel,
        UsageClock::ModelledCard { .. } => DeviceClock::ModelledCard,
    };
    Some((
        usage.iter().map(|u| u.device_time.as_secs_f64()).sum(),
        clock,
    ))
}

impl Ctx<'_> {
    /// Records that `variant` of `device` could not run `op` at 2^`log` at all (its table or
    /// key would not load): a problem for the exit status and a failure in the report.
    pub fn fail(
        &mut self,
        suite: Suite,
        op: &str,
        log: u32,
        device: &BenchDevice,
        variant: &Variant,
        message: String,
    ) {
        self.table.problem(self.progress, &message);
        self.failures.push(Failure {
            suite: suite.as_str().into(),
            op: op.into(),
            size_log2: log,
            device: device.entry.device.clone(),
            variant: variant.label.clone(),
            message: message.clone(),
        });
        self.problems.push(message);
    }

    /// Times `baseline` and every contender at one point (size 2^`log`), `repeats` times,
    /// and adds a row per contender. `work_log` is log2 of the work the operation does (the
    /// size itself, or a batch's proof domain): small work gets a warm-up run first. A
    /// contender whose result differs from the baseline's, or that fails, is reported as a
    /// problem and gets a row only for what it completed.
    #[allow(clippy::too_many_arguments)]
    pub fn measure<O: PartialEq>(
        &mut self,
        suite: Suite,
        op: &str,
        log: u32,
        work_log: u32,
        baseline_name: &str,
        mut baseline: impl FnMut() -> O,
        mut contenders: Vec<Contender<'_, O>>,
    ) {
        let repeats = self.repeats.max(1);
        if !self.planned {
            self.progress
                .inc_length((repeats * (1 + contenders.len())) as u64);
        }
        self.progress
            .set_message(format!("{op} 2^{log}: warming up"));
        if work_log <= WARM_UP_MAX_LOG {
            baseline();
            for c in contenders.iter_mut() {
                let _ = (c.run)();
                let _ = c.variant.device.usage();
            }
        }
        let mut base_s = Vec::with_capacity(repeats);
        let mut samples: Vec<Samples> = contenders.iter().map(|_| Samples::default()).collect();
        for rep in 0..repeats {
            self.progress
                .set_message(format!("{op} 2^{log}: repeat {}/{repeats}", rep + 1));
            let t = Instant::now();
            let want = baseline();
            base_s.push(t.elapsed().as_secs_f64());
            self.progress.inc(1);
            for (c, s) in contenders.iter_mut().zip(samples.iter_mut()) {
                self.progress.inc(1);
                if s.failed.is_some() {
                    continue;
                }
                let _ = c.variant.device.usage();
                let t = Instant::now();
                let got = (c.run)();
                let wall = t.elapsed().as_secs_f64();
                let usage = c.variant.device.usage();
                match got {
                    Ok(got) if got == want => {
                        s.wall.push(wall);
                        if let Some((d, clock)) = device_time(&usage) {
                            s.device.push(d);
                            s.clock = Some(clock);
                        }
                    }
                    Ok(_) => {
                        s.failed = Some(format!(
                            "WRONG RESULT: {op} 2^{log} on {} [{}] disagrees with {baseline_name}",
                            c.device.entry.device, c.variant.label
                        ))
                    }
                    Err(e) => {
                        s.failed = Some(format!(
                            "FAILED: {op} 2^{log} on {} [{}]: {e}",
                            c.device.entry.device, c.variant.label
                        ))
                    }
                }
            }
        }
        let base = Stats::of(&base_s);
        // The CPU backend's default variant is every row's second baseline.
        let cpu_wall: Option<Vec<f64>> = contenders
            .iter()
            .zip(&samples)
            .find(|(c, s)| {
                c.device.spec.kind == kiln_device::DeviceKind::Cpu
                    && c.variant.is_default
                    && s.failed.is_none()
            })
            .map(|(_, s)| s.wall.clone());
        for (c, mut s) in contenders.iter().zip(samples) {
            let n = s.wall.len();
            let ratio = |num: &[f64], wall: &[f64]| -> Option<Stats> {
                let r: Vec<f64> = num.iter().zip(wall).map(|(b, w)| b / w).collect();
                Stats::of(&r)
            };
            let speedup = ratio(&base_s[..n], &s.wall);
            if n > 0 && speedup.is_none() && s.failed.is_none() {
                s.failed = Some(format!(
                    "NO RATIO: {op} 2^{log} on {} [{}] measured a time of zero",
                    c.device.entry.device, c.variant.label
                ));
            }
            if let Some(problem) = &s.failed {
                self.fail(suite, op, log, c.device, c.variant, problem.clone());
            }
            let (Some(wall), Some(base), Some(speedup)) =
                (Stats::of(&s.wall), base.clone(), speedup)
            else {
                continue;
            };
            // The device's own clock against a whole baseline is meaningful for single
            // operations (MSM, NTT), not for proofs whose host work it leaves out.
            let own_clock_ratio = matches!(suite, Suite::Msm | Suite::Ntt);
            let row = Row {
                suite: suite.as_str().into(),
                op: op.into(),
                size_log2: log,
                device: c.device.entry.device.clone(),
                variant: c.variant.label.clone(),
                speedup,
                device_speedup: (own_clock_ratio
                    && s.device.len() == n
                    && s.device.iter().all(|d| *d > 0.0))
                .then(|| {
                    let r: Vec<f64> = base_s.iter().zip(&s.device).map(|(b, d)| b / d).collect();
                    Stats::of(&r)
                })
                .flatten(),
                vs_cpu: cpu_wall
                    .as_ref()
                    .filter(|cw| cw.len() >= n)
                    .and_then(|cw| ratio(&cw[..n], &s.wall)),
                device_s: (s.device.len() == n)
                    .then(|| Stats::of(&s.device))
                    .flatten(),
                device_clock: s.clock.filter(|_| s.device.len() == n),
                baseline: baseline_name.into(),
                baseline_s: base,
                wall_s: wall,
                note: s.failed.clone(),
            };
            self.table.row(self.progress, &row, &c.device.entry.label);
            self.rows.push(row);
        }
    }
}
