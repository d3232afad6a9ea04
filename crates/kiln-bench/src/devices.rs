//! The devices of a run: the selection resolved against what the machine has, each opened
//! once with its kernel variants, labelled (the emulated FPGA card and PoCL say what they
//! are), optionally slowed on purpose (`KILN_BENCH_SLOW`, to test regression gates), and
//! checked up front against the sizes asked for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_algebra::curve::Bn254;
use kiln_device::{
    open_device, BasesHandle, CpuDevice, Device, DeviceError, DeviceInfo, DeviceKind, DeviceReport,
    DeviceSpec, DeviceStatus, DeviceUsage, MsmJob, MsmSum, NttOp, Points,
    DEFAULT_PRECOMPUTE_BUDGET,
};

use crate::report::DeviceEntry;
use crate::spec::{DeviceSelection, GroupSel, RunConfig, Suite, Window};
use crate::BenchError;

type Fr = <Bn254 as kiln_algebra::curve::Curve>::Fr;

/// The environment variable that slows devices on purpose: `cpu:0=3` makes every MSM and
/// NTT of `cpu:0` take three times as long (`SPEC=FACTOR`, comma-separated). For testing
/// that `kiln bench compare` catches a regression; never set in normal runs. It slows the
/// devices of this process only: the `serve` suite's daemons open their own.
pub const SLOW_ENV: &str = "KILN_BENCH_SLOW";

/// One kernel variant of a device: a device instance and the MSM window it is run with.
pub struct Variant {
    /// `default`, `c=16`, `precompute=off`, `c=13 precompute=off`.
    pub label: String,
    /// The MSM window width forced, if any.
    pub window: Window,
    /// Whether this is the device as the prover uses it (auto window, default settings).
    pub is_default: bool,
    /// The device instance.
    pub device: Arc<dyn Device<Bn254>>,
}

/// A device of the run.
pub struct BenchDevice {
    /// What the report says about it.
    pub entry: DeviceEntry,
    /// Its spec.
    pub spec: DeviceSpec,
    /// Its MSM kernel variants (the default first).
    pub variants: Vec<Variant>,
    /// The device as the suites other than `msm` run it: its first instance, with its own
    /// window choice (labelled `default`, or `precompute=off` for a CPU backend without).
    pub primary: Variant,
}

impl BenchDevice {
    /// The variant the suites other than `msm` run (windows do not apply to them).
    pub fn default_variant(&self) -> &Variant {
        &self.primary
    }
}

/// The label for tables and plots, and a note where the numbers are not what they seem.
fn label_and_note(info: &DeviceInfo) -> (String, Option<String>) {
    let pocl = info.name.contains("Portable Computing Language")
        || info
            .driver
            .as_deref()
            .is_some_and(|d| d.contains("Portable Computing Language"));
    if info.emulated {
        (
            format!("{} (emulated)", info.spec),
            Some(
                "an emulated card: wall times are the host running the card's firmware and HLS C++; the device time is the card's modelled time (engine cycles at its clock)"
                    .into(),
            ),
        )
    } else if pocl {
        (
            format!("{} (PoCL)", info.spec),
            Some("PoCL runs the OpenCL kernels on this CPU: not GPU timings".into()),
        )
    } else {
        (info.spec.to_string(), None)
    }
}

/// Parses `KILN_BENCH_SLOW` (`SPEC=FACTOR,...`).
fn slowdowns() -> Result<Vec<(DeviceSpec, f64)>, BenchError> {
    let Ok(text) = std::env::var(SLOW_ENV) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = part.split_once('=').and_then(|(s, f)| {
            let spec: DeviceSpec = s.trim().parse().ok()?;
            let factor: f64 = f.trim().parse().ok().filter(|f: &f64| *f >= 1.0)?;
            Some((spec, factor))
        });
        out.push(parsed.ok_or_else(|| {
            BenchError::BadArgument(format!(
                "{SLOW_ENV}={text:?}: {part:?}: expected SPEC=FACTOR with FACTOR ≥ 1, such as cpu:0=3"
            ))
        })?);
    }
    Ok(out)
}

/// Resolves the selection against the machine and opens every device with its variants.
/// A device named but absent is a bad argument (with the inventory's reason).
pub fn open_all(cfg: &RunConfig, reports: &[DeviceReport]) -> Result<Vec<BenchDevice>, BenchError> {
    let ready: Vec<DeviceInfo> = reports
        .iter()
        .filter_map(|r| match &r.status {
            DeviceStatus::Ready { info } => Some(info.clone()),
            DeviceStatus::Absent { .. } => None,
        })
        .collect();
    let infos: Vec<DeviceInfo> = match &cfg.devices {
        DeviceSelection::All => ready,
        DeviceSelection::List(specs) => specs
            .iter()
            .map(|spec| {
                ready
                    .iter()
                    .find(|i| i.spec == *spec)
                    .cloned()
                    .ok_or_else(|| {
                        let why = reports
                            .iter()
                            .find_map(|r| match &r.status {
                                DeviceStatus::Absent { kind, reason } if *kind == spec.kind => {
                                    Some(reason.clone())
                                }
                                _ => None,
                            })
                            .unwrap_or_else(|| {
                                let have: Vec<String> = ready
                                    .iter()
                                    .filter(|i| i.spec.kind == spec.kind)
                                    .map(|i| i.spec.to_string())
                                    .collect();
                                if have.is_empty() {
                                    "none of that kind was found".into()
                                } else {
                                    format!("this machine has {}", have.join(", "))
                                }
                            });
                        BenchError::BadArgument(format!(
                            "--device: {spec} is not present: {why} (`kiln devices` lists what is)"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let slow = slowdowns()?;
    let mut out = Vec::new();
    for info in infos {
        let factor = slow.iter().find(|(s, _)| *s == info.spec).map(|(_, f)| *f);
        let wrap = |d: Arc<dyn Device<Bn254>>| -> Arc<dyn Device<Bn254>> {
            match factor {
                Some(f) if f > 1.0 => Arc::new(SlowedDevice {
                    inner: d,
                    factor: f,
                }),
                _ => d,
            }
        };
        // The CPU backend's precomputation is a variant of its own instance; every other
        // device has one instance.
        let instances: Vec<(Option<bool>, Arc<dyn Device<Bn254>>)> =
            if info.spec.kind == DeviceKind::Cpu {
                cfg.precompute
                    .iter()
                    .map(|&on| {
                        let budget = if on { DEFAULT_PRECOMPUTE_BUDGET } else { 0 };
                        let d: Arc<dyn Device<Bn254>> =
                            Arc::new(CpuDevice::<Bn254>::new().with_precompute_budget(budget));
                        (Some(on), wrap(d))
                    })
                    .collect()
            } else {
                vec![(None, wrap(open_device::<Bn254>(info.spec)?))]
            };
        let range = kiln_device::msm_window_range(info.spec.kind);
        let mut variants = Vec::new();
        for (pre, dev) in &instances {
            for &w in &cfg.windows {
                if w.is_some_and(|c| !range.contains(&c)) {
                    continue;
                }
                let mut parts = Vec::new();
                if let Some(c) = w {
                    parts.push(format!("c={c}"));
                }
                if *pre == Some(false) {
                    parts.push("precompute=off".to_string());
                }
                variants.push(Variant {
                    is_default: parts.is_empty(),
                    label: if parts.is_empty() {
                        "default".into()
                    } else {
                        parts.join(" ")
                    },
                    window: w,
                    device: dev.clone(),
                });
            }
        }
        if variants.is_empty() {
            return Err(BenchError::BadArgument(format!(
                "--windows: {} takes window widths {}..={} only, and none of those asked for is in range",
                info.spec,
                range.start(),
                range.end()
            )));
        }
        // The prover's own configuration first.
        variants.sort_by_key(|v| !v.is_default);
        let (pre, dev) = &instances[0];
        let primary_label = if *pre == Some(false) {
            "precompute=off"
        } else {
            "default"
        };
        let primary = Variant {
            label: primary_label.into(),
            window: None,
            is_default: primary_label == "default",
            device: dev.clone(),
        };
        let (label, note) = label_and_note(&info);
        out.push(BenchDevice {
            entry: DeviceEntry {
                device: info.spec.to_string(),
                label: match factor {
                    Some(f) if f > 1.0 => format!("{label} (slowed {f}x)"),
                    _ => label,
                },
                name: info.name.clone(),
                host_cpu: info.host_cpu,
                emulated: info.emulated,
                memory_bytes: info.memory_bytes,
                note,
            },
            spec: info.spec,
            variants,
            primary,
        });
    }
    if out.is_empty() {
        return Err(BenchError::BadArgument(
            "--device: no device to measure".into(),
        ));
    }
    Ok(out)
}

/// Bytes a device needs for one operation of `suite` at 2^`log` (its inputs and outputs
/// resident at once), per group for MSMs; for proofs (`prove`, `serve`, `rollup`) `log` is
/// the proof's domain.
fn bytes_needed(suite: Suite, group: GroupSel, log: u32) -> u128 {
    let n = 1u128 << log;
    match suite {
        // The resident table and the scalars.
        Suite::Msm => n * (u128::from(group.point_bytes()) + 32),
        // Three vectors, as the prover batches them, and their twiddles.
        Suite::Ntt => n * 32 * 4,
        // The key's tables: A, B1, C, H in G1, B2 in G2, and the witness.
        Suite::Prove | Suite::Serve | Suite::Rollup => n * (4 * 64 + 128 + 32 * 4),
    }
}

fn gib(bytes: u128) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Refuses, before any work, a size some device cannot hold: device memory where it has
/// its own, the host's memory otherwise (with room for the baseline's copy, and for the
/// `serve` suite one copy per daemon), and the NTT's limit of the field (2^28 for BN254's
/// Fr). The `serve` suite has the `prove` suite's limits; the `rollup` suite's batch sizes
/// go up to [`MAX_BATCH_LOG`](crate::suites::rollup::MAX_BATCH_LOG) (4096 transfers), each
/// checked at the domain its batch circuit needs.
pub fn check_capacity(cfg: &RunConfig, devices: &[BenchDevice]) -> Result<(), BenchError> {
    use crate::suites::rollup::{domain_log_estimate, MAX_BATCH_LOG};
    let host = crate::machine::host_memory().map(u128::from);
    let max_ntt = <Fr as ark_ff::FftField>::TWO_ADICITY;
    for &suite in &cfg.suites {
        let groups: &[GroupSel] = if suite == Suite::Msm {
            &cfg.groups
        } else {
            &[GroupSel::G1]
        };
        let (option, sizes) = if suite == Suite::Rollup {
            ("--batch-sizes", &cfg.batch_sizes.0)
        } else {
            ("--sizes", &cfg.sizes.0)
        };
        for &log in sizes {
            if matches!(suite, Suite::Ntt | Suite::Prove | Suite::Serve) && log > max_ntt {
                return Err(BenchError::BadArgument(format!(
                    "--sizes: 2^{log} is too large for the {suite} suite: BN254's scalar field has NTT domains up to 2^{max_ntt}"
                )));
            }
            // The size whose memory is needed: for the rollup, the batch circuit's domain.
            let work_log = if suite == Suite::Rollup {
                if log > MAX_BATCH_LOG {
                    return Err(BenchError::BadArgument(format!(
                        "--batch-sizes: 2^{log} = {} transfers is more than a batch takes: a rollup batch holds 1 to {} transfers (the rollup contract's and kiln serve's limit), so batch sizes are log2 values in 0..={MAX_BATCH_LOG}",
                        1u64 << log,
                        1u64 << MAX_BATCH_LOG
                    )));
                }
                let domain = domain_log_estimate(log);
                if domain >= max_ntt {
                    return Err(BenchError::BadArgument(format!(
                        "--batch-sizes: a batch of {} transfers needs a proof domain of about 2^{domain}; Groth16 keys over BN254 go up to 2^{}",
                        1u64 << log,
                        max_ntt - 1
                    )));
                }
                domain
            } else {
                log
            };
            // Copies of the operation's data in host memory: the baseline's (with the
            // data generated for it), one per device instance that keeps its data in host
            // memory (the CPU backend per precomputation variant, PoCL, the emulated card),
            // and for the serve suite one more per daemon.
            let host_instances: u128 = devices
                .iter()
                .filter(|d| d.entry.host_cpu || d.entry.memory_bytes.is_none())
                .map(|d| {
                    if d.spec.kind == kiln_device::DeviceKind::Cpu {
                        cfg.precompute.len().max(1) as u128
                    } else {
                        1
                    }
                })
                .sum();
            let host_copies: u128 = match suite {
                Suite::Serve => 1 + host_instances + devices.len() as u128,
                // Points are made in projective form, half as large again, before they are
                // normalized.
                Suite::Msm => 2 + host_instances,
                _ => 1 + host_instances,
            };
            for &g in groups {
                let need = bytes_needed(suite, g, work_log);
                let what = match suite {
                    Suite::Msm => format!("a 2^{log}-point {} MSM", g.as_str()),
                    Suite::Ntt => format!("a batch of three 2^{log} NTTs"),
                    Suite::Prove | Suite::Serve => format!("a proof with a 2^{log} domain"),
                    Suite::Rollup => format!(
                        "a proof of a batch of {} transfers (a 2^{work_log} domain)",
                        1u64 << log
                    ),
                };
                for d in devices {
                    if let Some(mem) = d.entry.memory_bytes.map(u128::from) {
                        if need > mem {
                            return Err(BenchError::BadArgument(format!(
                                "{option}: {} cannot hold {what}: it needs about {}, the device has {}",
                                d.entry.label,
                                gib(need),
                                gib(mem)
                            )));
                        }
                    }
                }
                if let Some(h) = host {
                    // The baseline and the data generated for it live in host memory too.
                    if need * host_copies > h {
                        return Err(BenchError::BadArgument(format!(
                            "{option}: {what} needs about {} of host memory with its baseline{}, this machine has {}",
                            gib(need * host_copies),
                            if suite == Suite::Serve { " and the daemons' copies" } else { "" },
                            gib(h)
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A device made slower on purpose: after each MSM or NTT it waits `factor − 1` times the
/// operation's own time, as a kernel `factor` times slower would take.
struct SlowedDevice {
    inner: Arc<dyn Device<Bn254>>,
    factor: f64,
}

impl SlowedDevice {
    fn slow<T>(&self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        std::thread::sleep(Duration::from_secs_f64(
            t.elapsed().as_secs_f64() * (self.factor - 1.0),
        ));
        out
    }
}

impl Device<Bn254> for SlowedDevice {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }

    fn load(&self, points: Points<Bn254>) -> Result<BasesHandle, DeviceError> {
        self.inner.load(points)
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        self.inner.release(bases)
    }

    fn msm(&self, job: &MsmJob<'_, Fr>) -> Result<MsmSum<Bn254>, DeviceError> {
        self.slow(|| self.inner.msm(job))
    }

    fn ntt(&self, vectors: &mut [Vec<Fr>], op: NttOp<Fr>) -> Result<(), DeviceError> {
        self.slow(|| self.inner.ntt(vectors, op))
    }

    fn proof_checked(&self, accepted: bool) -> bool {
        self.inner.proof_checked(accepted)
    }

    fn usage(&self) -> Vec<DeviceUsage> {
        self.inner.usage()
    }
}
