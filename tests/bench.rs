//! `kiln bench` through the binary: suites on every device found (the CPU backend, PoCL's
//! OpenCL device, the emulated FPGA card) against their in-process baselines, with the
//! JSON, CSV and plots it writes read back (the PNGs decoded); `compare` flags a device
//! slowed on purpose and passes two identical runs; bad arguments exit 2 having run and
//! written nothing.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
    ] {
        for dev in ["cpu:0", "fpga:0"] {
            let rs = rows_of(&report, dev, op);
            assert_eq!(rs.len(), 1, "{dev} {op}");
            assert_eq!(rs[0]["baseline"], baseline);
        }
    }
    assert_eq!(
        rows_of(&report, "fpga:0", "prove")[0]["device_clock"],
        "modelled-card"
    );
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

/// The regression gate: the same suite run twice passes; run with the card made three times
/// slower, `compare` flags exactly the card's rows and exits 1.
#[test]
fn compare_flags_a_slowed_device_and_passes_identical_runs() {
    let dir = TestDir::new("bench-compare");
    let (a, b, slow) = (dir.join("a"), dir.join("b"), dir.join("slow"));
    msm_run(&a, None);
    msm_run(&b, None);
    msm_run(&slow, Some("fpga:0=3"));
    let json = |d: &Path| d.join("bench.json").display().to_string();
    // Two identical runs: no regression (a band wide enough for a loaded CI machine).
    let same = kiln([
        "bench",
        "compare",
        &json(&a),
        &json(&b),
        "--min-band",
        "0.3",
    ]);
    assert_eq!(same.code, 0, "identical runs flagged:\n{same}");
    assert!(same.stdout.contains("no regression in 4 rows"), "{same}");
    let flagged = kiln([
        "bench",
        "compare",
        &json(&a),
        &json(&slow),
        "--min-band",
        "0.3",
    ]);
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
        .any(|d| d["label"].as_str().unwrap().contains("slowed 3x")));
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
    ] {
        let r = kiln(&args);
        assert_bad_input(&r, needles);
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
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
