//! One bench run end to end: arguments checked and devices opened before any work, the
//! suites run with a progress bar and the table printed as rows complete, then (with an
//! output directory) `bench.json`, `bench.csv` and the plots written.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use kiln_algebra::curve::Bn254;
use kiln_device::{probe_devices, DeviceReport};

use crate::devices::{check_capacity, open_all, BenchDevice};
use crate::measure::Ctx;
use crate::report::{Report, SCHEMA};
use crate::spec::{RunConfig, Suite};
use crate::suites;
use crate::table::Table;
use crate::BenchError;

/// What a run produced.
pub struct RunOutcome {
    /// The results.
    pub report: Report,
    /// Failures and wrong results (the run reports the rest; the caller exits non-zero).
    pub problems: Vec<String>,
    /// The files written under the output directory.
    pub written: Vec<PathBuf>,
}

/// The most timed repeats a row may ask for.
pub const MAX_REPEATS: usize = 10_000;

/// Checks what can be checked without running anything: repeats, sizes per suite, the
/// devices present, their capacity, the output directory.
fn prepare(cfg: &RunConfig) -> Result<(Vec<BenchDevice>, Vec<DeviceReport>), BenchError> {
    if cfg.repeats == 0 || cfg.repeats > MAX_REPEATS {
        return Err(BenchError::BadArgument(format!(
            "--repeats {}: expected 1..={MAX_REPEATS} timed repeats (5 or more give a robust noise band)",
            cfg.repeats
        )));
    }
    for suite in [Suite::Prove, Suite::Serve] {
        if !cfg.suites.contains(&suite) {
            continue;
        }
        if let Some(&small) = cfg.sizes.0.iter().find(|&&l| l < suites::prove::MIN_LOG) {
            return Err(BenchError::BadArgument(format!(
                "--sizes: 2^{small} is too small for the {suite} suite: the smallest circuit has a 2^{} domain",
                suites::prove::MIN_LOG
            )));
        }
    }
    if cfg.suites.contains(&Suite::Serve) {
        suites::serve::tampered()?;
    }
    // One inventory for the devices to open and the machine's description.
    let reports = probe_devices::<Bn254>();
    let devices = open_all(cfg, &reports)?;
    check_capacity(cfg, &devices)?;
    if let Some(dir) = &cfg.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::io(dir, "cannot create the output directory", e))?;
        // Writable now, not after the run: a probe file, removed at once.
        let probe = dir.join(".kiln-bench-probe");
        std::fs::write(&probe, b"")
            .map_err(|e| BenchError::io(dir, "cannot write into the output directory", e))?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok((devices, reports))
}

/// Runs the suites of `cfg` and writes its outputs.
pub fn run(cfg: &RunConfig) -> Result<RunOutcome, BenchError> {
    let (devices, reports) = prepare(cfg)?;
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let machine = crate::machine::describe(&cfg.build, &reports);
    let progress = if cfg.progress {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        pb
    } else {
        ProgressBar::hidden()
    };
    let mut table = Table::default();
    table.note(
        &progress,
        &format!(
            "kiln {} ({}) on {} ({} cores, {} threads{})",
            machine.kiln_version,
            if machine.kiln_features.is_empty() {
                "no accelerator backends".to_string()
            } else {
                machine.kiln_features.join(", ")
            },
            machine.cpu_model,
            machine.cores,
            machine.threads,
            if machine.cpu_flags.is_empty() {
                String::new()
            } else {
                format!("; {}", machine.cpu_flags.join(" "))
            }
        ),
    );
    for d in &devices {
        let variants: Vec<&str> = d.variants.iter().map(|v| v.label.as_str()).collect();
        table.note(
            &progress,
            &format!(
                "device {}: {} [{}]{}",
                d.entry.label,
                d.entry.name,
                variants.join(", "),
                d.entry
                    .note
                    .as_ref()
                    .map_or_else(String::new, |n| format!("\n    ({n})"))
            ),
        );
    }
    table.note(
        &progress,
        "speed-up = baseline time / device time, per repeat (median, min-max); vs cpu = the CPU backend's time / device time",
    );
    progress.set_length(planned_runs(cfg, &devices));
    let mut ctx = Ctx {
        planned: true,
        repeats: cfg.repeats,
        progress: &progress,
        table: &mut table,
        rows: Vec::new(),
        problems: Vec::new(),
        failures: Vec::new(),
    };
    let sizes = &cfg.sizes.0;
    // A suite that cannot go on stops the run, but what was measured is still written.
    let mut fatal = None;
    for &suite in &cfg.suites {
        tracing::info!(target: crate::TARGET, suite = suite.as_str(), "suite starts");
        let done = match suite {
            Suite::Msm => suites::msm::run(&mut ctx, &devices, sizes, &cfg.groups),
            Suite::Ntt => suites::ntt::run(&mut ctx, &devices, sizes),
            Suite::Prove => suites::prove::run(&mut ctx, &devices, sizes),
            Suite::Serve => suites::serve::run(&mut ctx, &devices, sizes),
            Suite::Rollup => suites::rollup::run(&mut ctx, &devices, &cfg.batch_sizes.0),
        };
        if let Err(e) = done {
            fatal = Some(e.after_start());
            break;
        }
    }
    let (rows, problems, failures) = (ctx.rows, ctx.problems, ctx.failures);
    progress.finish_and_clear();
    let report = Report {
        schema: SCHEMA.into(),
        started_unix,
        command: cfg.command.clone(),
        machine,
        devices: devices.iter().map(|d| d.entry.clone()).collect(),
        rows,
        failures,
    };
    let written = match &cfg.out {
        Some(dir) => write_outputs(&report, dir).map_err(BenchError::after_start),
        None => Ok(Vec::new()),
    };
    if let Some(e) = fatal {
        if let Ok(paths) = &written {
            for p in paths {
                eprintln!("wrote {} (the run stopped early)", p.display());
            }
        }
        return Err(e);
    }
    Ok(RunOutcome {
        report,
        problems,
        written: written?,
    })
}

/// How many timed runs (baseline and device runs, every repeat) the run makes, for the
/// progress bar's length.
fn planned_runs(cfg: &RunConfig, devices: &[BenchDevice]) -> u64 {
    let sizes = cfg.sizes.0.len() as u64;
    let per_point = |contenders: usize| (cfg.repeats as u64).saturating_mul(1 + contenders as u64);
    let has_cpu = devices
        .iter()
        .any(|d| d.spec.kind == kiln_device::DeviceKind::Cpu);
    let variants: usize = devices.iter().map(|d| d.variants.len()).sum();
    cfg.suites
        .iter()
        .map(|suite| match suite {
            Suite::Msm => cfg.groups.len() as u64 * sizes * per_point(variants),
            Suite::Ntt => 2 * sizes * per_point(devices.len()),
            Suite::Prove | Suite::Serve => sizes * per_point(devices.len()),
            Suite::Rollup => {
                cfg.batch_sizes.0.len() as u64
                    * (per_point(devices.len()) + if has_cpu { per_point(1) } else { 0 })
            }
        })
        .sum()
}

/// Writes `bench.json`, `bench.csv` and the plots into `dir`; returns their paths.
pub fn write_outputs(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, BenchError> {
    let json_path = dir.join("bench.json");
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| BenchError::BadArgument(format!("serializing the report: {e}")))?;
    // Written whole then renamed: a reader never sees half a report.
    let tmp = dir.join(".bench.json.tmp");
    std::fs::write(&tmp, text).map_err(|e| BenchError::io(&tmp, "cannot write", e))?;
    std::fs::rename(&tmp, &json_path).map_err(|e| BenchError::io(&json_path, "cannot write", e))?;
    let csv_path = dir.join("bench.csv");
    crate::csv_out::write_csv(report, &csv_path)?;
    let mut written = vec![json_path, csv_path];
    written.extend(crate::plot::write_plots(report, dir)?);
    Ok(written)
}
