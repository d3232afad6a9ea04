//! `kiln bench` through the binary: suites on every device found (the CPU backend, PoCL's
//! OpenCL device, the emulated FPGA card) against their in-process baselines, with the
//! JSON, CSV and plots it writes read back (the PNGs decoded); the serve suite's daemons
//! prove, have every proof checked (a tampered one fails) and never outlive the run (not
//! even a killed one); the rollup suite proves a batch and checks its signatures; `compare`
//! flags a device slowed on purpose and passes two identical runs; bad arguments exit 2
//! having run and written nothing.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `kiln bench compare` of two output directories' bench.json with a noise band floor.
fn compare_dirs(old: &Path, new: &Path, min_band: &str) -> Output {
    let json = |d: &Path| d.join("bench.json").display().to_string();
    kiln([
        "bench",
        "compare",
        &json(old),
        &json(new),
        "--min-band",
        min_band,
    ])
}

/// Whether PoCL (or another OpenCL device) must be there: CI installs it and says so.
fn opencl_required() -> bool {
    std::env::var_os("KILN_REQUIRE_OPENCL").is_some()
}

fn rows(report: &Value) -> &Vec<Value> {
    report["rows"].as_array().expect("rows")
}

fn rows_of<'a>(report: &'a Value, device: &str, op: &str) -> Vec<&'a Value> {
    rows(report)
        .iter()
        .filter(|r| r["device"] == device && r["op"] == op)
        .collect()
}

/// Decodes a PNG fully and checks it is a real picture: its size, and more than one colour.
fn assert_png(path: &Path) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()));
    let mut buf = vec![0; decoder.output_buffer_size()];
    let info = decoder
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{}: PNG does not decode: {e}", path.display()));
    assert!(
        info.width >= 640 && info.height >= 400,
        "{}: {}x{}",
        path.display(),
        info.width,
        info.height
    );
    let px = &buf[..info.buffer_size()];
    let first = &px[..3];
    let differing = px.chunks(3).filter(|p| *p != first).count();
    assert!(
        differing > 1000,
        "{}: the image is (nearly) one colour",
        path.display()
    );
}

fn assert_svg(path: &Path, must_contain: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.trim_start().starts_with("<svg") || text.trim_start().starts_with("<?xml"),
        "{}",
        path.display()
    );
    assert!(
        text.trim_end().ends_with("</svg>"),
        "{}: unterminated",
        path.display()
    );
    for needle in must_contain {
        assert!(text.contains(needle), "{}: no {needle:?}", path.display());
    }
}

/// The acceptance run, small: `kiln bench msm --device all --out DIR` measures the CPU
/// backend, PoCL and the emulated FPGA card against arkworks in G1 and G2, and writes
/// JSON, CSV and plots that open as images.
#[test]
fn msm_on_every_device_writes_json_csv_and_plots() {
    let dir = TestDir::new("bench-msm");
    let out = dir.join("out");
    let run = kiln(
        [
            "bench",
            "msm",
            "--sizes",
            "10..12",
            "--device",
            "all",
            "--groups",
            "g1,g2",
            "--repeats",
            "2",
            "--no-progress",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()]),
    )
    .ok();
    let report = read_json(&out.join("bench.json"));
    assert_eq!(report["schema"], "kiln-bench/1");
    let devices: Vec<&str> = report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device"].as_str().unwrap())
        .collect();
    assert!(
        devices.contains(&"cpu:0") && devices.contains(&"fpga:0"),
        "{devices:?}"
    );
    let opencl = devices.contains(&"opencl:0");
    assert!(
        opencl || !opencl_required(),
        "KILN_REQUIRE_OPENCL is set but no opencl:0 was measured:\n{run}"
    );
    let fpga = report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == "fpga:0")
        .unwrap();
    assert_eq!(fpga["emulated"], true);
    assert!(fpga["label"].as_str().unwrap().contains("emulated"));
    // The table says so too, on every fpga row.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("msm-g1") && l.contains("fpga:0 (emulated)")),
        "{run}"
    );
    for op in ["msm-g1", "msm-g2"] {
        for dev in &devices {
            let rs = rows_of(&report, dev, op);
            let sizes: Vec<u64> = rs
                .iter()
                .map(|r| r["size_log2"].as_u64().unwrap())
                .collect();
            assert_eq!(sizes, vec![10, 11, 12], "{dev} {op}");
            for r in rs {
                assert_eq!(r["baseline"], "arkworks VariableBaseMSM");
                assert_eq!(r["variant"], "default");
                let wall = r["wall_s"]["samples"].as_array().unwrap();
                let base = r["baseline_s"]["samples"].as_array().unwrap();
                let speed = r["speedup"]["samples"].as_array().unwrap();
                assert_eq!((wall.len(), base.len(), speed.len()), (2, 2, 2));
                // Each repeat's ratio is its baseline time over its own.
                for i in 0..2 {
                    let want = base[i].as_f64().unwrap() / wall[i].as_f64().unwrap();
                    assert!((speed[i].as_f64().unwrap() - want).abs() < 1e-9 * want.max(1.0));
                }
                let s = &r["speedup"];
                assert!(
                    s["min"].as_f64() <= s["median"].as_f64()
                        && s["median"].as_f64() <= s["max"].as_f64()
                );
                assert!(r["vs_cpu"]["median"].as_f64().unwrap() > 0.0, "{r}");
                let clock = r["device_clock"].as_str();
                match *dev {
                    "fpga:0" => {
                        assert_eq!(clock, Some("modelled-card"), "{r}");
                        assert!(r["device_s"]["median"].as_f64().unwrap() > 0.0);
                        // The speed-up by the card's own (modelled) clock.
                        let own = r["device_speedup"]["median"].as_f64().unwrap();
                        let want = r["baseline_s"]["samples"][0].as_f64().unwrap()
                            / r["device_s"]["samples"][0].as_f64().unwrap();
                        assert!(
                            own > 0.0
                                && (r["device_speedup"]["samples"][0].as_f64().unwrap() - want)
                                    .abs()
                                    < 1e-9 * want.max(1.0),
                            "{r}"
                        );
                    }
                    "opencl:0" => assert_eq!(clock, Some("kernel"), "{r}"),
                    _ => {}
                }
            }
        }
    }
    let machine = &report["machine"];
    assert!(machine["cores"].as_u64().unwrap() >= 1);
    assert!(!machine["cpu_model"].as_str().unwrap().is_empty());
    assert!(machine["kiln_features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "fpga"));
    assert!(machine["accelerators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["device"] == "fpga:0" && a["emulated"] == true));
    // CSV: the header and one line per row.
    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("suite,op,size_log2,size,device,label,variant"));
    assert_eq!(lines.count(), rows(&report).len());
    for op in ["msm-g1", "msm-g2"] {
        assert_png(&out.join(format!("time-{op}.png")));
        assert_png(&out.join(format!("speedup-{op}.png")));
        assert_svg(
            &out.join(format!("time-{op}.svg")),
            &[op, "fpga:0 (emulated)", "arkworks"],
        );
        assert_svg(&out.join(format!("speedup-{op}.svg")), &[op, "cpu:0"]);
    }
}

/// Every suite once at a small size; kernel variants of the MSM (window widths, the CPU
/// backend's precomputation) each get their own rows.
#[test]
fn all_suites_and_kernel_variants_run() {
    let dir = TestDir::new("bench-all");
    let out = dir.join("out");
    kiln([
        "bench",
        "all",
        "--sizes",
        "9",
        "--device",
        "cpu,fpga:0",
        "--groups",
        "g1",
        "--windows",
        "auto,8",
        "--precompute",
        "on,off",
        "--batch-sizes",
        "0",
        "--repeats",
        "1",
        "--no-progress",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let report = read_json(&out.join("bench.json"));
    let variants = |dev: &str| -> Vec<String> {
        rows_of(&report, dev, "msm-g1")
            .iter()
            .map(|r| r["variant"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        variants("cpu:0"),
        ["default", "c=8", "precompute=off", "c=8 precompute=off"]
    );
    assert_eq!(variants("fpga:0"), ["default", "c=8"]);
    for (op, baseline) in [
        ("ntt", "ark-poly Radix2 fft"),
        ("intt+coset-ntt", "ark-poly Radix2 ifft + coset fft"),
        ("prove", "kiln cpu backend"),
        ("serve-prove", "kiln prove in-process (cpu backend)"),
        ("rollup-prove", "kiln cpu backend"),
    ] {
        for dev in ["cpu:0", "fpga:0"] {
            let rs = rows_of(&report, dev, op);
            assert_eq!(rs.len(), 1, "{dev} {op}");
            assert_eq!(rs[0]["baseline"], baseline);
        }
    }
    for op in ["prove", "rollup-prove"] {
        assert_eq!(
            rows_of(&report, "fpga:0", op)[0]["device_clock"],
            "modelled-card",
            "{op}"
        );
    }
    // The grouped signature check runs on the CPU backend only.
    assert_eq!(rows_of(&report, "cpu:0", "rollup-sigcheck").len(), 1);
    assert!(rows_of(&report, "fpga:0", "rollup-sigcheck").is_empty());
    let suites: Vec<&str> = rows(&report)
        .iter()
        .map(|r| r["suite"].as_str().unwrap())
        .fold(Vec::new(), |mut v, s| {
            if !v.contains(&s) {
                v.push(s);
            }
            v
        });
    assert_eq!(suites, ["msm", "ntt", "prove", "serve", "rollup"]);
}

/// Checks a row's timings: `n` repeats, each ratio its baseline time over its own, and
/// min ≤ median ≤ max.
fn assert_consistent(r: &Value, n: usize) {
    let wall = r["wall_s"]["samples"].as_array().unwrap();
    let base = r["baseline_s"]["samples"].as_array().unwrap();
    let speed = r["speedup"]["samples"].as_array().unwrap();
    assert_eq!((wall.len(), base.len(), speed.len()), (n, n, n), "{r}");
    for i in 0..n {
        let want = base[i].as_f64().unwrap() / wall[i].as_f64().unwrap();
        assert!(
            (speed[i].as_f64().unwrap() - want).abs() < 1e-9 * want.max(1.0),
            "{r}"
        );
    }
    for stat in ["wall_s", "baseline_s", "speedup"] {
        let s = &r[stat];
        assert!(
            s["min"].as_f64() <= s["median"].as_f64() && s["median"].as_f64() <= s["max"].as_f64(),
            "{stat}: {r}"
        );
    }
    assert!(r["note"].is_null(), "{r}");
}

/// The processes whose command line mentions `needle` (from /proc; this process excluded).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.chars().all(|c| c.is_ascii_digit()) && name != me.as_str()
        })
        .filter_map(|e| {
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
            cmd.contains(needle)
                .then(|| format!("{}: {cmd}", e.file_name().to_string_lossy()))
        })
        .collect()
}

/// Waits up to `limit` for no process to mention `needle`; panics naming those left.
#[track_caller]
fn assert_no_process_mentions(needle: &str, limit: Duration) {
    let t = Instant::now();
    loop {
        let left = processes_mentioning(needle);
        if left.is_empty() {
            return;
        }
        assert!(
            t.elapsed() < limit,
            "processes left behind after {limit:?}:\n{}",
            left.join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `kiln bench serve`: a daemon per device (the CPU backend and the emulated card), each
/// proof posted, long-polled and checked, against the in-process prover; a daemon whose
/// proofs are tampered with fails its rows (exit 3) while the others are reported; no
/// daemon outlives the run, whether it ends, fails or is killed.
#[test]
fn serve_proves_through_daemons_checks_every_proof_and_leaves_none_behind() {
    let dir = TestDir::new("bench-serve");
    // The bench's temporary files (and so the daemons' data directories) go here: a path
    // that only the daemons' command lines mention.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let tmp_s = tmp.to_str().unwrap();
    let out = dir.join("out");
    let args = |out: &Path, repeats: &str| -> Vec<String> {
        [
            "bench",
            "serve",
            "--sizes",
            "8",
            "--device",
            "cpu,fpga:0",
            "--repeats",
            repeats,
            "--no-progress",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let exe = env!("CARGO_BIN_EXE_kiln");
    let run = run_with_env(exe, args(&out, "2"), &[("TMPDIR", tmp_s)]).ok();
    let report = read_json(&out.join("bench.json"));
    assert_eq!(rows(&report).len(), 2, "{run}");
    for dev in ["cpu:0", "fpga:0"] {
        let rs = rows_of(&report, dev, "serve-prove");
        assert_eq!(rs.len(), 1, "{dev}");
        let r = rs[0];
        assert_eq!(r["suite"], "serve");
        assert_eq!(r["size_log2"], 8);
        assert_eq!(r["variant"], "default");
        assert_eq!(r["baseline"], "kiln prove in-process (cpu backend)");
        assert_consistent(r, 2);
        // The proving happens in the daemon: no device clock is read from here.
        assert!(
            r["device_s"].is_null() && r["device_clock"].is_null(),
            "{r}"
        );
        assert!(r["vs_cpu"]["median"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("serve-prove") && l.contains("fpga:0 (emulated)")),
        "{run}"
    );
    assert_no_process_mentions(tmp_s, Duration::from_secs(5));
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the bench left files in its temporary directory"
    );

    // Proofs from the card's daemon altered before the check: its row fails, the CPU's
    // is reported, the run exits 3 having written everything else.
    let tampered_out = dir.join("tampered");
    let bad = run_with_env(
        exe,
        args(&tampered_out, "2"),
        &[("TMPDIR", tmp_s), ("KILN_BENCH_TAMPER", "fpga:0")],
    )
    .expect_code(3);
    assert!(
        bad.stderr.contains("serve-prove 2^8 on fpga:0")
            && bad.stderr.contains("fails the pairing check"),
        "{bad}"
    );
    let report = read_json(&tampered_out.join("bench.json"));
    assert_eq!(rows_of(&report, "cpu:0", "serve-prove").len(), 1);
    assert!(rows_of(&report, "fpga:0", "serve-prove").is_empty());
    assert_no_process_mentions(tmp_s, Duration::from_secs(5));

    // A bench killed outright (no destructor runs): its daemon dies with it.
    let mut child = std::process::Command::new(exe)
        .args(args(&dir.join("killed"), "10000"))
        .env("TMPDIR", tmp_s)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while processes_mentioning(tmp_s).len() < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(120) && child.try_wait().unwrap().is_none(),
            "the daemons did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_no_process_mentions(tmp_s, Duration::from_secs(10));
}

/// `kiln bench rollup` at one transfer per batch, on the CPU backend only (the emulated
/// card's batch proof is covered by `all`): the batch proven against the CPU backend, and
/// its signature checked as the sequencer groups them against bare verification.
#[test]
fn rollup_proves_a_batch_and_checks_its_signatures() {
    let dir = TestDir::new("bench-rollup");
    let out = dir.join("out");
    kiln([
        "bench",
        "rollup",
        "--batch-sizes",
        "0",
        "--device",
        "cpu",
        "--repeats",
        "2",
        "--no-progress",
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    let report = read_json(&out.join("bench.json"));
    let ops: Vec<&str> = rows(&report)
        .iter()
        .map(|r| r["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["rollup-prove", "rollup-sigcheck"]);
    for (op, baseline) in [
        ("rollup-prove", "kiln cpu backend"),
        (
            "rollup-sigcheck",
            "EdDSA-Poseidon verify, one signature at a time",
        ),
    ] {
        let rs = rows_of(&report, "cpu:0", op);
        assert_eq!(rs.len(), 1, "{op}");
        let r = rs[0];
        assert_eq!(r["suite"], "rollup");
        assert_eq!(r["size_log2"], 0);
        assert_eq!(r["baseline"], baseline);
        assert_consistent(r, 2);
    }
    for op in ["rollup-prove", "rollup-sigcheck"] {
        assert!(out.join(format!("time-{op}.svg")).exists(), "{op}");
    }
}

fn msm_run(out: &Path, slow: Option<&str>) {
    let args = [
        "bench",
        "msm",
        "--sizes",
        "11..12",
        "--device",
        "cpu,fpga:0",
        "--groups",
        "g1",
        "--repeats",
        "5",
        "--no-progress",
        "--out",
        out.to_str().unwrap(),
    ];
    match slow {
        Some(s) => run_with_env(env!("CARGO_BIN_EXE_kiln"), args, &[("KILN_BENCH_SLOW", s)]),
        None => kiln(args),
    }
    .ok();
}

/// The regression gate: the same suite run twice passes; run with the card made five times
/// slower, `compare` flags exactly the card's rows and exits 1.
#[test]
fn compare_flags_a_slowed_device_and_passes_identical_runs() {
    let dir = TestDir::new("bench-compare");
    let (a, b, slow) = (dir.join("a"), dir.join("b"), dir.join("slow"));
    msm_run(&a, None);
    msm_run(&b, None);
    msm_run(&slow, Some("fpga:0=5"));
    // Two identical runs: no regression. The band (100 %) is wide enough for a CI machine
    // running other tests on the same cores, and far below the card's 5x slowdown (+400 %).
    let same = compare_dirs(&a, &b, "1.0");
    assert_eq!(same.code, 0, "identical runs flagged:\n{same}");
    assert!(same.stdout.contains("no regression in 4 rows"), "{same}");
    let flagged = compare_dirs(&a, &slow, "1.0");
    assert_eq!(
        flagged.code, 1,
        "the slowed card was not flagged:\n{flagged}"
    );
    let regressions: Vec<&str> = flagged
        .stdout
        .lines()
        .filter(|l| l.contains("REGRESSION"))
        .collect();
    assert_eq!(regressions.len(), 2, "{flagged}");
    assert!(
        regressions.iter().all(|l| l.contains("fpga:0")),
        "{flagged}"
    );
    assert!(
        flagged.stdout.contains("2 of 4 rows regressed"),
        "{flagged}"
    );
    // The slowed run says it was slowed.
    let slow_report = read_json(&slow.join("bench.json"));
    assert!(slow_report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["label"].as_str().unwrap().contains("slowed 5x")));
}

/// Bad arguments: exit 2 with a message naming the problem, before anything runs or is
/// written.
#[test]
fn bad_arguments_exit_2_and_write_nothing() {
    let dir = TestDir::new("bench-bad");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    for (args, needles) in [
        (
            vec!["bench", "bogus"],
            &["unrecognized subcommand", "bogus"][..],
        ),
        (
            vec!["bench", "msm", "--device", "gpu:0", "--out", o],
            &["unknown device \"gpu:0\""][..],
        ),
        (
            vec!["bench", "msm", "--device", "cuda:3", "--out", o],
            &["cuda:3 is not present"][..],
        ),
        (
            vec!["bench", "msm", "--device", "fpga:9", "--out", o],
            &["fpga:9 is not present"][..],
        ),
        (
            vec!["bench", "msm", "--sizes", "16..12", "--out", o],
            &["reversed"][..],
        ),
        (
            vec!["bench", "msm", "--sizes", "", "--out", o],
            &["empty"][..],
        ),
        (
            vec!["bench", "msm", "--sizes", "12..", "--out", o],
            &["empty"][..],
        ),
        (
            vec!["bench", "msm", "--sizes", "12..40", "--out", o],
            &["out of range"][..],
        ),
        (
            vec![
                "bench",
                "msm",
                "--device",
                "cpu,fpga:0",
                "--groups",
                "g1",
                "--sizes",
                "12,26",
                "--out",
                o,
            ],
            &["fpga:0 (emulated) cannot hold a 2^26-point G1 MSM"][..],
        ),
        (
            vec![
                "bench", "ntt", "--device", "cpu", "--sizes", "29", "--out", o,
            ],
            &["up to 2^28"][..],
        ),
        (
            vec![
                "bench", "prove", "--device", "cpu", "--sizes", "1..4", "--out", o,
            ],
            &["too small"][..],
        ),
        (
            vec!["bench", "msm", "--groups", "g3", "--out", o],
            &["unknown group"][..],
        ),
        (
            vec!["bench", "msm", "--windows", "0", "--out", o],
            &["not a window width"][..],
        ),
        (
            vec!["bench", "msm", "--repeats", "0", "--out", o],
            &["--repeats 0"][..],
        ),
        (
            vec!["bench", "rollup", "--batch-sizes", "16..2", "--out", o],
            &["--batch-sizes \"16..2\"", "reversed"][..],
        ),
        (
            vec!["bench", "all", "--batch-sizes", "0..40", "--out", o],
            &["--batch-sizes", "out of range"][..],
        ),
        (
            vec![
                "bench",
                "rollup",
                "--device",
                "cpu",
                "--batch-sizes",
                "2,13",
                "--out",
                o,
            ],
            &["2^13 = 8192 transfers is more than a batch takes"][..],
        ),
        (
            vec![
                "bench", "serve", "--device", "cpu", "--sizes", "1..4", "--out", o,
            ],
            &["too small for the serve suite"][..],
        ),
    ] {
        let r = kiln(&args);
        assert_bad_input(&r, needles);
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    // A tampering request that names no device.
    let r = run_with_env(
        env!("CARGO_BIN_EXE_kiln"),
        ["bench", "serve", "--device", "cpu", "--out", o],
        &[("KILN_BENCH_TAMPER", "gpu")],
    );
    assert_bad_input(&r, &["KILN_BENCH_TAMPER"]);
    assert!(!out.exists());
    // An output path that is a file, and compare's inputs.
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let r = kiln([
        "bench",
        "msm",
        "--device",
        "cpu",
        "--sizes",
        "8",
        "--repeats",
        "1",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_bad_input(&r, &["cannot create the output directory"]);
    let missing = dir.join("missing.json");
    let r = kiln([
        "bench",
        "compare",
        missing.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_bad_input(&r, &["cannot read"]);
    let other = dir.join("other.json");
    std::fs::write(&other, r#"{"schema": "something-else/1", "rows": []}"#).unwrap();
    let r = kiln([
        "bench",
        "compare",
        other.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert_bad_input(&r, &["not a kiln bench report", "kiln-bench/1"]);
}

/// A device that returns wrong results (a flipped bit in every result of the emulated
/// card) is reported: exit 3, its failures in bench.json, everything else written; and
/// `compare` against a clean run counts its rows as regressions.
#[test]
fn a_wrong_device_fails_the_run_and_the_gate() {
    let dir = TestDir::new("bench-wrong");
    let (clean, broken) = (dir.join("clean"), dir.join("broken"));
    let args = |out: &Path| -> Vec<String> {
        [
            "bench",
            "msm",
            "--sizes",
            "10",
            "--device",
            "cpu,fpga:0",
            "--groups",
            "g1",
            "--repeats",
            "2",
            "--no-progress",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    kiln(args(&clean)).ok();
    let run = run_with_env(
        env!("CARGO_BIN_EXE_kiln"),
        args(&broken),
        &[("KILN_FPGA_EMU_FAULT", "flip-bit@*")],
    );
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.contains("WRONG RESULT"), "{run}");
    let report = read_json(&broken.join("bench.json"));
    let failures = report["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|f| f["device"] == "fpga:0" && f["op"] == "msm-g1"),
        "{report}"
    );
    assert!(rows_of(&report, "fpga:0", "msm-g1").is_empty());
    assert_eq!(rows_of(&report, "cpu:0", "msm-g1").len(), 1);
    let gate = compare_dirs(&clean, &broken, "0.5");
    assert_eq!(gate.code, 1, "{gate}");
    assert!(gate.stdout.contains("FAILED in the new run"), "{gate}");
}
