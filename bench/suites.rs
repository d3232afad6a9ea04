//! kiln's benchmark suites: each kiln operation next to its named baseline, in the same
//! process, reported as a ratio. Run through `bench/run.sh` or
//! `cargo bench --bench suites -- [msm] [ntt] [zkey] [devices]
//! [--max-log N] [--out FILE]`. `devices` runs every accelerator found against the CPU
//! backend.
//!
//! Baselines: arkworks' `VariableBaseMSM::msm` for MSM, ark-poly's `Radix2EvaluationDomain`
//! for NTT. Each measurement is the best of several runs (fewer at large sizes).

use std::time::{Duration, Instant};

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use kiln_algebra::curve::Bn254;
use kiln_algebra::msm::{msm, MsmConfig};
use kiln_algebra::ntt::NttDomain;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

/// One row of the results table.
#[derive(Serialize)]
struct Row {
    suite: String,
    size_log2: u32,
    baseline: String,
    baseline_ms: f64,
    kiln_ms: f64,
    /// baseline time / kiln time: above 1 means kiln is faster.
    speedup: f64,
    /// What the numbers mean when they are not what they seem (e.g. PoCL is not a GPU).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// Best wall time of `runs` calls.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn runs_for(log: u32) -> usize {
    if log >= 20 {
        2
    } else if log >= 16 {
        3
    } else {
        5
    }
}

/// 2^log distinct points P + i·Q, cheap to make (additions, one batch normalization).
fn points<P: SWCurveConfig<ScalarField = Fr>>(log: u32, rng: &mut ChaCha20Rng) -> Vec<Affine<P>> {
    let g = Affine::<P>::generator();
    let q = g * Fr::rand(rng);
    let mut acc = g * Fr::rand(rng);
    let proj: Vec<Projective<P>> = (0..1usize << log)
        .map(|_| {
            acc += q;
            acc
        })
        .collect();
    Projective::<P>::normalize_batch(&proj)
}

fn row(suite: &str, log: u32, baseline: &str, base: Duration, ours: Duration) -> Row {
    let r = Row {
        suite: suite.into(),
        size_log2: log,
        baseline: baseline.into(),
        baseline_ms: base.as_secs_f64() * 1e3,
        kiln_ms: ours.as_secs_f64() * 1e3,
        speedup: base.as_secs_f64() / ours.as_secs_f64(),
        note: None,
    };
    println!(
        "{:<14} 2^{:<3} {:<34} {:>11.2} {:>11.2} {:>8.2}x",
        r.suite, r.size_log2, r.baseline, r.baseline_ms, r.kiln_ms, r.speedup
    );
    r
}

fn suite_msm(max_log: u32, rows: &mut Vec<Row>) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let cfg = MsmConfig::default();
    let logs: Vec<u32> = [12, 14, 16, 18, 20]
        .into_iter()
        .filter(|&l| l <= max_log)
        .collect();
    let all = points::<ark_bn254::g1::Config>(*logs.last().unwrap_or(&12), &mut rng);
    for &log in &logs {
        let n = 1usize << log;
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let bases = &all[..n];
        let (tb, want) = best(runs_for(log), || {
            G1Projective::msm(bases, &scalars).unwrap()
        });
        let (tk, got) = best(runs_for(log), || msm(bases, &scalars, &cfg).unwrap());
        assert_eq!(want, got, "kiln MSM disagrees with arkworks at 2^{log}");
        rows.push(row("msm-g1", log, "ark VariableBaseMSM", tb, tk));
    }
    let log = 16.min(max_log);
    let n = 1usize << log;
    let bases = points::<ark_bn254::g2::Config>(log, &mut rng);
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let (tb, want) = best(3, || G2Projective::msm(&bases, &scalars).unwrap());
    let (tk, got) = best(3, || msm(&bases, &scalars, &cfg).unwrap());
    assert_eq!(want, got, "kiln G2 MSM disagrees with arkworks");
    rows.push(row("msm-g2", log, "ark VariableBaseMSM", tb, tk));
    // circom-like scalars: most are 0 or 1, the rest random.
    let log = 16.min(max_log);
    let n = 1usize << log;
    let scalars: Vec<Fr> = (0..n)
        .map(|i| match i % 4 {
            0 => Fr::from(0u64),
            1 | 2 => Fr::from(1u64),
            _ => Fr::rand(&mut rng),
        })
        .collect();
    let bases = &all[..n];
    let (tb, want) = best(3, || G1Projective::msm(bases, &scalars).unwrap());
    let (tk, got) = best(3, || msm(bases, &scalars, &cfg).unwrap());
    assert_eq!(
        want, got,
        "kiln MSM disagrees with arkworks on circom-like scalars"
    );
    rows.push(row("msm-g1-circom", log, "ark VariableBaseMSM", tb, tk));
}

fn suite_ntt(max_log: u32, rows: &mut Vec<Row>) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for log in [12u32, 16, 18, 20].into_iter().filter(|&l| l <= max_log) {
        let n = 1usize << log;
        let data: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let ark = Radix2EvaluationDomain::<Fr>::new(n).expect("domain");
        let ours = NttDomain::<Fr>::new(n).expect("domain");
        let (tb, want) = best(runs_for(log), || {
            let mut v = data.clone();
            ark.fft_in_place(&mut v);
            v
        });
        let (tk, got) = best(runs_for(log), || {
            let mut v = data.clone();
            ours.ntt(&mut v).expect("ntt");
            v
        });
        assert_eq!(want, got, "kiln NTT disagrees with ark-poly at 2^{log}");
        rows.push(row("ntt", log, "ark-poly Radix2 fft", tb, tk));
        let g = Fr::from(7u64);
        let coset = ark.get_coset(g).expect("coset");
        let (tb, want) = best(runs_for(log), || {
            let mut v = data.clone();
            ark.ifft_in_place(&mut v);
            coset.fft_in_place(&mut v);
            v
        });
        let (tk, got) = best(runs_for(log), || {
            let mut v = data.clone();
            ours.intt_then_coset_ntt(&mut v, g).expect("ntt");
            v
        });
        assert_eq!(
            want, got,
            "kiln domain→coset disagrees with ark-poly at 2^{log}"
        );
        rows.push(row(
            "intt+coset-ntt",
            log,
            "ark-poly ifft + coset fft",
            tb,
            tk,
        ));
    }
}

/// A row of the devices suite: `suite@device` against the CPU backend, with its note.
fn device_row(
    suite: &str,
    device: &impl std::fmt::Display,
    log: u32,
    cpu: Duration,
    dev: Duration,
    note: &Option<String>,
) -> Row {
    let mut r = row(
        &format!("{suite}@{device}"),
        log,
        "kiln cpu backend",
        cpu,
        dev,
    );
    r.note = note.clone();
    r
}

/// Every accelerator found (`kiln devices`) against the CPU backend in the same run: G1 MSM
/// over a resident table and a batch of three domain→coset NTTs, as the prover uses them.
fn suite_devices(max_log: u32, rows: &mut Vec<Row>) {
    use kiln_device::{
        open_device, probe_devices, CpuDevice, Device, DeviceKind, DeviceStatus, MsmJob, NttOp,
    };
    use std::sync::Arc;
    let cpu = CpuDevice::<Bn254>::new();
    let mut found = 0;
    for report in probe_devices::<Bn254>() {
        let info = match report.status {
            DeviceStatus::Ready { info } if info.spec.kind != DeviceKind::Cpu => info,
            DeviceStatus::Absent { kind, reason } => {
                println!("{:<14} absent: {reason}", kind.as_str());
                continue;
            }
            _ => continue,
        };
        let dev = match open_device::<Bn254>(info.spec) {
            Ok(d) => d,
            Err(e) => {
                println!("{:<14} cannot open: {e}", info.spec);
                continue;
            }
        };
        found += 1;
        let note = info
            .name
            .contains("Portable Computing Language")
            .then(|| "PoCL runs the kernels on this CPU: not GPU timings".to_string());
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let top = max_log.min(16);
        let all = Arc::new(points::<ark_bn254::g1::Config>(top, &mut rng));
        let (hc, hd) = (cpu.load_g1(all.clone()).unwrap(), dev.load_g1(all).unwrap());
        let cfg = MsmConfig::default();
        for log in [12u32, 14, 16].into_iter().filter(|&l| l <= top) {
            let n = 1usize << log;
            let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let (tb, want) = best(runs_for(log), || {
                cpu.msm_g1(&MsmJob::new(&hc, 0, &scalars, &cfg)).unwrap()
            });
            let (tk, got) = best(runs_for(log), || {
                dev.msm_g1(&MsmJob::new(&hd, 0, &scalars, &cfg)).unwrap()
            });
            assert_eq!(
                want, got,
                "{} MSM disagrees with the CPU at 2^{log}",
                info.spec
            );
            rows.push(device_row("msm-g1", &info.spec, log, tb, tk, &note));
        }
        for log in [12u32, 16].into_iter().filter(|&l| l <= top) {
            let n = 1usize << log;
            let data: Vec<Vec<Fr>> = (0..3)
                .map(|_| (0..n).map(|_| Fr::rand(&mut rng)).collect())
                .collect();
            let op = NttOp::DomainToCoset(Fr::from(7u64));
            let run = |d: &dyn Device<Bn254>| {
                let mut v = data.clone();
                d.ntt(&mut v, op).unwrap();
                v
            };
            let (tb, want) = best(runs_for(log), || run(&cpu));
            let (tk, got) = best(runs_for(log), || run(dev.as_ref()));
            assert_eq!(
                want, got,
                "{} NTT disagrees with the CPU at 2^{log}",
                info.spec
            );
            rows.push(device_row("3×ntt", &info.spec, log, tb, tk, &note));
        }
        if let Some(n) = &note {
            println!("  ({}: {n})", info.spec);
        }
    }
    if found == 0 {
        println!("devices: no accelerator found (`kiln devices` says why each backend is absent)");
    }
}

/// A structurally valid Groth16 zkey with a 2^log domain (every table point the generator).
fn synthetic_zkey(log: u32, path: &std::path::Path) {
    use kiln_formats::{write_zkey, Coeff, Groth16Header, Matrix, ZkeyContents};
    let n = 1usize << log;
    let g1 = G1Affine::generator();
    let g2 = G2Affine::generator();
    let header = Groth16Header::<Bn254> {
        n_vars: n,
        n_public: 1,
        domain_size: n,
        alpha1: g1,
        beta1: g1,
        beta2: g2,
        gamma2: g2,
        delta1: g1,
        delta2: g2,
    };
    let coeffs = (0..n as u32)
        .map(|i| Coeff {
            matrix: if i % 2 == 0 { Matrix::A } else { Matrix::B },
            constraint: i,
            signal: i,
            value: Fr::from(u64::from(i) + 1),
        })
        .collect();
    let z = ZkeyContents {
        header,
        ic: vec![g1; 2],
        coeffs,
        a: vec![g1; n],
        b1: vec![g1; n],
        b2: vec![g2; n],
        c: vec![g1; n - 2],
        h: vec![g1; n],
    };
    write_zkey(path, &z).expect("write synthetic zkey");
}

/// zkey open (memory map + header + section table) against reading the whole file, the
/// full decode of every table into a resident CPU proving key, and `Zkey::check_tables`.
fn suite_zkey(max_log: u32, rows: &mut Vec<Row>) {
    use kiln_device::CpuDevice;
    use kiln_formats::Zkey;
    use kiln_groth16::ProvingKey;
    use std::sync::Arc;
    let log = 20.min(max_log);
    let dir = std::env::temp_dir().join(format!("kiln-bench-zkey-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("synthetic.zkey");
    synthetic_zkey(log, &path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let (tb, bytes) = best(3, || std::fs::read(&path).expect("read"));
    drop(bytes);
    let (tk, zkey) = best(5, || Zkey::<Bn254>::open(&path).expect("open"));
    rows.push(row("zkey-open", log, "std::fs::read whole file", tb, tk));
    println!("    ({} MiB file)", size >> 20);
    let (tl, _pk) = best(2, || {
        ProvingKey::load(&zkey, Arc::new(CpuDevice::<Bn254>::new())).expect("load")
    });
    rows.push(row("zkey-load", log, "std::fs::read whole file", tb, tl));
    // The upload-time validation: every point on its curve, every coefficient in range.
    let (tc, ()) = best(3, || zkey.check_tables().expect("check"));
    rows.push(row("zkey-check", log, "std::fs::read whole file", tb, tc));
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut suites = Vec::new();
    let mut max_log = 20u32;
    let mut out = String::from("bench/out/suites.json");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--max-log" => max_log = args.next().and_then(|v| v.parse().ok()).unwrap_or(20),
            "--out" => out = args.next().unwrap_or(out),
            s => suites.push(s.to_string()),
        }
    }
    if suites.is_empty() {
        suites = vec!["msm".into(), "ntt".into(), "zkey".into()];
    }
    println!(
        "threads: {}   (speedup = baseline / kiln; >1 means kiln is faster)",
        rayon::current_num_threads()
    );
    println!(
        "{:<14} {:<5} {:<34} {:>11} {:>11} {:>9}",
        "suite", "size", "baseline", "base ms", "kiln ms", "speedup"
    );
    let mut rows = Vec::new();
    for s in &suites {
        match s.as_str() {
            "msm" => suite_msm(max_log, &mut rows),
            "ntt" => suite_ntt(max_log, &mut rows),
            "zkey" => suite_zkey(max_log, &mut rows),
            "devices" => suite_devices(max_log, &mut rows),
            other => eprintln!("unknown suite {other:?} (known: msm, ntt, zkey, devices)"),
        }
    }
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let json = serde_json::to_string_pretty(&rows).expect("rows serialize");
    match std::fs::write(&out, json) {
        Ok(()) => println!("wrote {out}"),
        Err(e) => eprintln!("could not write {out}: {e}"),
    }
}
