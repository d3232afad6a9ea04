//! C-simulation suite of the FPGA card's HLS engines (`hw/`).
//!
//! Each test compiles one C-simulation test bench (`hw/tb/tb_<engine>.cpp` with every
//! `hw/src/*.cpp`) with g++ against the `ap_types` headers the `hls4ml` wheel installs, feeds
//! it vectors computed here with arkworks, runs it, and compares its output bit for bit:
//!
//! - `mont_mul`: Fq and Fr Montgomery products, random and edge cases (0, 1, p − 1, the
//!   elements whose Montgomery form is 1 or p − 1, R² mod p);
//! - `point_add`: XYZZ + affine and XYZZ + XYZZ in G1 and G2, random operands in random
//!   XYZZ representations and every special case (either operand at infinity, equal and
//!   opposite points); results are normalized to affine here and must equal arkworks' sums,
//!   infinity must be written as all zeros;
//! - `msm`: bucket accumulation and reduction for several (n, c, segments, windows, chunk)
//!   with n not a power of two, repeated points and scalars, points at infinity, digits
//!   ±2^(c−1): every segment's `R_s`, `T_s` against their definition over buckets computed
//!   here from the Booth digits of `firmware/src/abi.rs`, and the whole MSM,
//!   `Σ_w 2^(wc) Σ_s (R_s + k0_s·T_s)`, against arkworks' `VariableBaseMSM`; plus the engine
//!   statistics (cycles, issued additions, stalls, hazard deferrals);
//! - `ntt`: forward transforms of 2^1..2^14 points against a naive DFT (spot checks above
//!   2^10), the inverse with ω^−1 and the scaling by n^−1 back to the input, coset scaling.
//!
//! Every bench must also refuse malformed input files with a non-zero exit status.
//!
//! The headers: `KILN_AP_TYPES` if set, else `<hls4ml package>/templates/vivado/ap_types`
//! (found through `python3`); the vendored copy in `hw/ap_types/` must be byte-identical.
//! Without either the suite fails and says to run `bash .ci/run --install`.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::Command;

use ark_bn254::{Fq, Fq2, Fr, G1Affine};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{
    BigInt, BigInteger, FftField, Field, Fp, FpConfig, One, PrimeField, UniformRand, Zero,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tempfile::TempDir;

// ---- the toolchain ------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ap_types headers installed by the hls4ml wheel.
fn ap_types_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KILN_AP_TYPES") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("ap_int.h").is_file(),
            "KILN_AP_TYPES={} has no ap_int.h",
            dir.display()
        );
        return dir;
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg("import importlib.util,os;print(os.path.dirname(importlib.util.find_spec('hls4ml').origin))")
        .output();
    if let Ok(out) = out {
        if out.status.success() {
            let pkg = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let dir = Path::new(&pkg).join("templates/vivado/ap_types");
            if dir.join("ap_int.h").is_file() {
                return dir;
            }
        }
    }
    panic!(
        "no ap_types headers: set KILN_AP_TYPES or run `bash .ci/run --install` (installs hls4ml)"
    );
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A compiled test bench in its own temporary directory.
struct Bench {
    dir: TempDir,
    exe: PathBuf,
    name: String,
    saved: std::cell::Cell<u32>,
}

impl Bench {
    fn build(name: &str) -> Bench {
        let root = repo_root();
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join(name);
        let mut cmd = Command::new("g++");
        cmd.args(["-std=c++17", "-O2", "-w"])
            .arg("-I")
            .arg(root.join("hw/include"))
            .arg("-I")
            .arg(ap_types_dir())
            .arg(root.join(format!("hw/tb/{name}.cpp")));
        for src in files_under(&root.join("hw/src")) {
            if src.extension().is_some_and(|e| e == "cpp") {
                cmd.arg(root.join("hw/src").join(src));
            }
        }
        let out = cmd.arg("-o").arg(&exe).output().expect("g++ runs");
        assert!(
            out.status.success(),
            "g++ failed for {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Bench {
            dir,
            exe,
            name: name.to_string(),
            saved: std::cell::Cell::new(0),
        }
    }

    /// Runs the bench on `input`; returns its exit code and output file.
    fn run_raw(&self, input: &[u8]) -> (Option<i32>, Vec<u8>) {
        let inp = self.dir.path().join("in.bin");
        let outp = self.dir.path().join("out.bin");
        std::fs::write(&inp, input).unwrap();
        let _ = std::fs::remove_file(&outp);
        let out = Command::new(&self.exe)
            .arg(&inp)
            .arg(&outp)
            .output()
            .unwrap();
        let data = std::fs::read(&outp).unwrap_or_default();
        (out.status.code(), data)
    }

    /// Runs the bench on well-formed `input`, which is also kept as
    /// `$KILN_HLS_VECTORS/<bench>_<k>.bin` when that is set (the vectors of
    /// `hw/*/run_hls.tcl`).
    fn run(&self, input: &[u8]) -> Vec<u8> {
        if let Some(dir) = std::env::var_os("KILN_HLS_VECTORS") {
            let k = self.saved.get();
            self.saved.set(k + 1);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                Path::new(&dir).join(format!("{}_{k}.bin", self.name)),
                input,
            )
            .unwrap();
        }
        let (code, data) = self.run_raw(input);
        assert_eq!(code, Some(0), "bench {} failed", self.exe.display());
        data
    }

    /// Every malformed input must be refused with a non-zero status.
    fn assert_refuses(&self, inputs: &[(&str, Vec<u8>)]) {
        for (what, input) in inputs {
            let (code, _) = self.run_raw(input);
            assert!(
                code.is_some_and(|c| c != 0),
                "{} accepted malformed input ({what}): {code:?}",
                self.exe.display()
            );
        }
    }
}

// ---- encodings ----------------------------------------------------------------------------

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

/// Montgomery limbs of an arkworks prime-field element (arkworks 0.5 keeps `x·2^256 mod p`).
fn mont_bytes<P: FpConfig<4>>(x: &Fp<P, 4>) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, l) in x.0 .0.iter().enumerate() {
        b[8 * i..8 * i + 8].copy_from_slice(&l.to_le_bytes());
    }
    b
}

fn mont_from<P: FpConfig<4>>(b: &[u8]) -> Fp<P, 4> {
    let mut l = [0u64; 4];
    for (i, x) in l.iter_mut().enumerate() {
        *x = u64_at(b, 8 * i);
    }
    Fp(BigInt::new(l), PhantomData)
}

/// A base field of a curve, in the card's byte format.
trait Coord: Field {
    const BYTES: usize;
    fn put(&self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

impl Coord for Fq {
    const BYTES: usize = 32;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&mont_bytes(self));
    }
    fn get(b: &[u8]) -> Self {
        mont_from(b)
    }
}

impl Coord for Fq2 {
    const BYTES: usize = 64;
    fn put(&self, out: &mut Vec<u8>) {
        self.c0.put(out);
        self.c1.put(out);
    }
    fn get(b: &[u8]) -> Self {
        Fq2::new(Fq::get(&b[..32]), Fq::get(&b[32..64]))
    }
}

fn put_affine<P: SWCurveConfig>(p: &Affine<P>, out: &mut Vec<u8>)
where
    P::BaseField: Coord,
{
    if p.infinity {
        out.extend_from_slice(&vec![0u8; 2 * <P::BaseField as Coord>::BYTES]);
    } else {
        p.x.put(out);
        p.y.put(out);
    }
}

/// `p` as XYZZ with a random scale `λ`: (x λ², y λ³, λ², λ³).
fn put_xyzz<P: SWCurveConfig>(p: &Affine<P>, rng: &mut ChaCha20Rng, out: &mut Vec<u8>)
where
    P::BaseField: Coord,
{
    if p.infinity {
        out.extend_from_slice(&vec![0u8; 4 * <P::BaseField as Coord>::BYTES]);
        return;
    }
    let mut l = P::BaseField::rand(rng);
    if l.is_zero() {
        l = P::BaseField::one();
    }
    let l2 = l.square();
    let l3 = l2 * l;
    (p.x * l2).put(out);
    (p.y * l3).put(out);
    l2.put(out);
    l3.put(out);
}

/// An XYZZ output back to affine; infinity must be all zeros, and ZZ³ = ZZZ² must hold.
fn get_xyzz<P: SWCurveConfig>(b: &[u8]) -> Affine<P>
where
    P::BaseField: Coord,
{
    let n = <P::BaseField as Coord>::BYTES;
    let x = P::BaseField::get(&b[..n]);
    let y = P::BaseField::get(&b[n..2 * n]);
    let zz = P::BaseField::get(&b[2 * n..3 * n]);
    let zzz = P::BaseField::get(&b[3 * n..4 * n]);
    if zz.is_zero() {
        assert!(
            b[..4 * n].iter().all(|&v| v == 0),
            "infinity not written as zeros"
        );
        return Affine::<P>::identity();
    }
    assert_eq!(zz.square() * zz, zzz.square(), "ZZ^3 != ZZZ^2");
    let p = Affine::<P>::new_unchecked(x * zz.inverse().unwrap(), y * zzz.inverse().unwrap());
    assert!(p.is_on_curve(), "result not on the curve");
    p
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

// ---- vendored headers ---------------------------------------------------------------------

#[test]
fn vendored_ap_types_match_hls4ml() {
    let upstream = ap_types_dir();
    let vendored = repo_root().join("hw/ap_types");
    let up = files_under(&upstream);
    let ours: Vec<PathBuf> = files_under(&vendored)
        .into_iter()
        .filter(|p| p != Path::new("LICENSE") && p != Path::new("NOTICE.md"))
        .collect();
    assert_eq!(
        up,
        ours,
        "hw/ap_types/ lists other files than {}",
        upstream.display()
    );
    for rel in &up {
        let a = std::fs::read(upstream.join(rel)).unwrap();
        let b = std::fs::read(vendored.join(rel)).unwrap();
        assert!(
            a == b,
            "hw/ap_types/{} differs from hls4ml's copy",
            rel.display()
        );
    }
    assert!(vendored.join("LICENSE").is_file() && vendored.join("NOTICE.md").is_file());
}

// ---- Montgomery multiplier ----------------------------------------------------------------

fn mont_case<P: FpConfig<4>>(bench: &Bench, field: u32, seed: u64) {
    let mut r = rng(seed);
    let modulus = P::MODULUS;
    let mut pm1 = modulus;
    pm1.sub_with_borrow(&BigInt::from(1u64));
    // the element of value R mod p (Montgomery form R^2 mod p), and of value R^2 mod p
    let r_val = Fp::<P, 4>::from_bigint(Fp::<P, 4>::one().0).unwrap();
    let r2_val = Fp::<P, 4>::from_bigint(r_val.0).unwrap();
    let edge: Vec<Fp<P, 4>> = vec![
        Fp::zero(),
        Fp::one(),
        -Fp::<P, 4>::one(),
        Fp(BigInt::from(1u64), PhantomData), // Montgomery form 1, i.e. R^-1
        Fp(pm1, PhantomData),                // Montgomery form p - 1
        Fp::from(2u64),
        r_val,
        r2_val,
    ];
    let mut a = Vec::new();
    let mut b = Vec::new();
    for x in &edge {
        for y in &edge {
            a.push(*x);
            b.push(*y);
        }
    }
    for _ in 0..1000 {
        a.push(Fp::rand(&mut r));
        b.push(Fp::rand(&mut r));
    }
    let n = a.len();
    let mut input = Vec::new();
    put_u32(&mut input, field);
    put_u32(&mut input, n as u32);
    for x in a.iter().chain(&b) {
        input.extend_from_slice(&mont_bytes(x));
    }
    let out = bench.run(&input);
    assert_eq!(out.len(), 32 * n + 32);
    for i in 0..n {
        let want = a[i] * b[i];
        assert_eq!(
            &out[32 * i..32 * i + 32],
            &mont_bytes(&want),
            "field {field}: {} * {}",
            a[i],
            b[i]
        );
    }
    let cycles = u64_at(&out, 32 * n);
    let issued = u64_at(&out, 32 * n + 8);
    assert!(cycles > n as u64);
    assert_eq!(issued, n as u64);
}

#[test]
fn mont_mul_fq_fr() {
    let bench = Bench::build("tb_mont_mul");
    mont_case::<<Fq as PrimeFieldConfig>::Config>(&bench, 0, 1);
    mont_case::<<Fr as PrimeFieldConfig>::Config>(&bench, 1, 2);

    let good = |field: u32, n: u32| {
        let mut v = Vec::new();
        put_u32(&mut v, field);
        put_u32(&mut v, n);
        v.extend_from_slice(&vec![0u8; 64 * n as usize]);
        v
    };
    assert_eq!(bench.run_raw(&good(0, 3)).0, Some(0));
    let mut noncanonical = good(1, 1);
    noncanonical[8..40].copy_from_slice(&[0xff; 32]);
    let mut trailing = good(0, 2);
    trailing.push(0);
    let mut short = good(0, 2);
    short.pop();
    bench.assert_refuses(&[
        ("empty", vec![]),
        ("bad field", good(2, 1)),
        ("n = 0", good(0, 0)),
        ("truncated", short),
        ("trailing byte", trailing),
        ("element >= p", noncanonical),
    ]);
}

/// The arkworks field config behind `Fq` / `Fr`.
trait PrimeFieldConfig {
    type Config: FpConfig<4>;
}
impl<P: FpConfig<4>> PrimeFieldConfig for Fp<P, 4> {
    type Config = P;
}

// ---- point adder --------------------------------------------------------------------------

fn padd_case<P: SWCurveConfig>(bench: &Bench, group: u32, seed: u64)
where
    P::BaseField: Coord,
{
    let mut r = rng(seed);
    let g = Projective::<P>::generator();
    let rand_pt = |r: &mut ChaCha20Rng| (g * P::ScalarField::rand(r)).into_affine();
    let inf = Affine::<P>::identity();
    let nb = <P::BaseField as Coord>::BYTES;

    // (a, b) pairs: random, then every special case.
    let mut pairs: Vec<(Affine<P>, Affine<P>)> = Vec::new();
    for _ in 0..40 {
        pairs.push((rand_pt(&mut r), rand_pt(&mut r)));
    }
    for _ in 0..4 {
        let p = rand_pt(&mut r);
        let q = rand_pt(&mut r);
        pairs.push((inf, p)); // a at infinity
        pairs.push((p, inf)); // b at infinity
        pairs.push((inf, inf));
        pairs.push((p, p)); // doubling
        pairs.push((p, -p)); // opposite
        pairs.push((q, (q + q).into_affine())); // a + 2a
        pairs.push((-q, q));
    }
    let g_aff = g.into_affine();
    pairs.push((g_aff, g_aff));

    for mode in 0..2u32 {
        let mut input = Vec::new();
        put_u32(&mut input, group);
        put_u32(&mut input, mode);
        // one extra: a with ZZ = 0 but non-zero X, Y (infinity by the ZZ rule)
        put_u32(&mut input, pairs.len() as u32 + 1);
        for (a, _) in &pairs {
            put_xyzz(a, &mut r, &mut input);
        }
        let p = rand_pt(&mut r);
        let mut garbage = Vec::new();
        put_xyzz(&p, &mut r, &mut garbage);
        garbage[2 * nb..].fill(0);
        input.extend_from_slice(&garbage);
        for (_, b) in &pairs {
            if mode == 0 {
                put_affine(b, &mut input);
            } else {
                put_xyzz(b, &mut r, &mut input);
            }
        }
        if mode == 0 {
            put_affine(&p, &mut input);
        } else {
            put_xyzz(&p, &mut r, &mut input);
        }
        let out = bench.run(&input);
        let n = pairs.len() + 1;
        assert_eq!(out.len(), 4 * nb * n + 32);
        for (i, (a, b)) in pairs.iter().enumerate() {
            let got = get_xyzz::<P>(&out[4 * nb * i..]);
            let want = (*a + *b).into_affine();
            assert_eq!(got, want, "group {group} mode {mode} case {i}");
        }
        assert_eq!(get_xyzz::<P>(&out[4 * nb * (n - 1)..]), p, "ZZ = 0 operand");
        assert_eq!(u64_at(&out, 4 * nb * n + 8), n as u64);
    }

    // malformed
    let mut good = Vec::new();
    put_u32(&mut good, group);
    put_u32(&mut good, 0);
    put_u32(&mut good, 1);
    put_xyzz(&inf, &mut r, &mut good);
    put_affine(&inf, &mut good);
    assert_eq!(bench.run_raw(&good).0, Some(0));
    let mut bad_group = good.clone();
    bad_group[0] = 3;
    let mut bad_mode = good.clone();
    bad_mode[4] = 2;
    let mut noncanon = good.clone();
    noncanon[12..44].fill(0xff);
    bench.assert_refuses(&[
        ("bad group", bad_group),
        ("bad mode", bad_mode),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("element >= q", noncanon),
    ]);
}

#[test]
fn point_add_g1_g2() {
    let bench = Bench::build("tb_point_add");
    padd_case::<ark_bn254::g1::Config>(&bench, 1, 10);
    padd_case::<ark_bn254::g2::Config>(&bench, 2, 11);
}

// ---- MSM engine ---------------------------------------------------------------------------

fn windows(c: u32) -> u32 {
    255u32.div_ceil(c)
}

/// The Booth digit of window `w` (firmware/src/abi.rs): `v − 2^c·b_{wc+c−1} + b_{wc−1}`.
fn booth_digit(s: &BigInt<4>, c: u32, w: u32) -> i64 {
    let bit = |i: u32| -> i64 {
        if i >= 256 {
            0
        } else {
            s.get_bit(i as usize) as i64
        }
    };
    let lo = w * c;
    let v: i64 = (0..c).map(|j| bit(lo + j) << j).sum();
    let low = if w == 0 { 0 } else { bit(lo - 1) };
    v - (bit(lo + c - 1) << c) + low
}

struct MsmCase<P: SWCurveConfig> {
    points: Vec<Affine<P>>,
    scalars: Vec<P::ScalarField>,
    c: u32,
    segments: u32,
    w0: u32,
    nw: u32,
    chunk: u32,
}

struct WindowOut<P: SWCurveConfig> {
    acc_stats: [u64; 4],
    red_stats: [u64; 4],
    sums: Vec<Affine<P>>, // R_0, T_0, R_1, T_1, ...
}

fn run_msm<P: SWCurveConfig>(
    bench: &Bench,
    group: u32,
    cases: &[MsmCase<P>],
) -> Vec<Vec<WindowOut<P>>>
where
    P::BaseField: Coord,
    P::ScalarField: PrimeField<BigInt = BigInt<4>>,
{
    let mut input = Vec::new();
    put_u32(&mut input, group);
    put_u32(&mut input, cases.len() as u32);
    for cs in cases {
        for v in [
            cs.points.len() as u32,
            cs.c,
            cs.segments,
            cs.w0,
            cs.nw,
            cs.chunk,
        ] {
            put_u32(&mut input, v);
        }
        for p in &cs.points {
            put_affine(p, &mut input);
        }
        for s in &cs.scalars {
            input.extend_from_slice(&s.into_bigint().to_bytes_le());
        }
    }
    let out = bench.run(&input);
    let xb = 4 * <P::BaseField as Coord>::BYTES;
    let mut pos = 0;
    let mut res = Vec::new();
    for cs in cases {
        let mut ws = Vec::new();
        for _ in 0..cs.nw {
            let st =
                |pos: usize| -> [u64; 4] { std::array::from_fn(|k| u64_at(&out, pos + 8 * k)) };
            let acc_stats = st(pos);
            let red_stats = st(pos + 32);
            pos += 64;
            let sums = (0..2 * cs.segments as usize)
                .map(|j| get_xyzz::<P>(&out[pos + j * xb..]))
                .collect();
            pos += 2 * cs.segments as usize * xb;
            ws.push(WindowOut {
                acc_stats,
                red_stats,
                sums,
            });
        }
        res.push(ws);
    }
    assert_eq!(pos, out.len(), "msm output length");
    res
}

/// Checks every window's segment sums against their definition, the statistics, and (when
/// all windows ran) the whole MSM against arkworks. Returns the total deferrals.
fn check_msm<P: SWCurveConfig>(cs: &MsmCase<P>, ws: &[WindowOut<P>]) -> u64
where
    P::ScalarField: PrimeField<BigInt = BigInt<4>>,
{
    let nb = 1usize << (cs.c - 1);
    let m = nb / cs.segments as usize;
    let big: Vec<BigInt<4>> = cs.scalars.iter().map(|s| s.into_bigint()).collect();
    let mut total = Projective::<P>::zero();
    let mut deferred = 0;
    for (wi, wo) in ws.iter().enumerate() {
        let w = cs.w0 + wi as u32;
        let mut buckets = vec![Projective::<P>::zero(); nb];
        let mut nonzero = 0u64;
        for (p, s) in cs.points.iter().zip(&big) {
            let d = booth_digit(s, cs.c, w);
            assert!(d.unsigned_abs() as usize <= nb);
            if d > 0 {
                buckets[d as usize - 1] += p;
                nonzero += 1;
            } else if d < 0 {
                buckets[(-d) as usize - 1] -= p;
                nonzero += 1;
            }
        }
        let mut window_sum = Projective::<P>::zero();
        for s in 0..cs.segments as usize {
            let k0 = s * m;
            let mut r = Projective::<P>::zero();
            let mut t = Projective::<P>::zero();
            for (j, b) in buckets[k0..k0 + m].iter().enumerate() {
                r += *b * P::ScalarField::from((j + 1) as u64);
                t += b;
            }
            assert_eq!(
                wo.sums[2 * s],
                r.into_affine(),
                "R_{s} window {w} c {}",
                cs.c
            );
            assert_eq!(
                wo.sums[2 * s + 1],
                t.into_affine(),
                "T_{s} window {w} c {}",
                cs.c
            );
            window_sum += r + t * P::ScalarField::from(k0 as u64);
        }
        total += window_sum * P::ScalarField::from(2u64).pow([(w * cs.c) as u64]);
        // statistics: accumulation
        let [cycles, issued, stalls, def] = wo.acc_stats;
        assert_eq!(issued, nonzero, "issued additions, window {w}");
        assert!(cycles > issued && stalls > 0);
        assert_eq!(cycles, issued + stalls, "cycles = issued + stalls");
        deferred += def;
        // reduction: 2 additions per bucket; stalls when the segments cannot fill the adder
        let [rcycles, rissued, rstalls, _] = wo.red_stats;
        assert_eq!(rissued, 2 * nb as u64);
        assert!(rstalls > 0);
        assert_eq!(
            rcycles,
            rissued + rstalls,
            "reduction cycles = issued + stalls"
        );
    }
    if cs.w0 == 0 && cs.nw == windows(cs.c) {
        let want = Projective::<P>::msm(&cs.points, &cs.scalars).unwrap();
        assert_eq!(
            total.into_affine(),
            want.into_affine(),
            "end-to-end MSM, c {}",
            cs.c
        );
    }
    deferred
}

fn scalar_from_u64<F: PrimeField>(v: u64) -> F {
    F::from(v)
}

fn msm_suite<P: SWCurveConfig>(bench: &Bench, group: u32, seed: u64, big: bool)
where
    P::BaseField: Coord,
    P::ScalarField: PrimeField<BigInt = BigInt<4>>,
{
    let mut r = rng(seed);
    let g = Projective::<P>::generator();
    let rand_pts = |r: &mut ChaCha20Rng, n: usize| -> Vec<Affine<P>> {
        let v: Vec<Projective<P>> = (0..n).map(|_| g * P::ScalarField::rand(r)).collect();
        Projective::<P>::normalize_batch(&v)
    };
    let mut cases = Vec::new();
    // random, n not a power of two, all windows, one chunk
    let n = if big { 37 } else { 21 };
    cases.push(MsmCase {
        points: rand_pts(&mut r, n),
        scalars: (0..n).map(|_| P::ScalarField::rand(&mut r)).collect(),
        c: 4,
        segments: 2,
        w0: 0,
        nw: windows(4),
        chunk: n as u32,
    });
    // chunks accumulate into the same buckets (clear only first), infinity points, repeated
    // points, edge scalars (0, 1, -1, digits +-2^(c-1))
    let n = if big { 100 } else { 40 };
    let mut points = rand_pts(&mut r, n);
    points[3] = Affine::<P>::identity();
    points[17] = Affine::<P>::identity();
    points[5] = points[4];
    points[6] = points[4];
    let mut scalars: Vec<P::ScalarField> = (0..n).map(|_| P::ScalarField::rand(&mut r)).collect();
    scalars[0] = P::ScalarField::zero();
    scalars[1] = P::ScalarField::one();
    scalars[2] = -P::ScalarField::one();
    // c = 5: 16 = 0b10000 gives digit -16 (then +1); 0x1ff gives -1, then +16
    scalars[7] = scalar_from_u64(16);
    scalars[8] = scalar_from_u64(0x1ff);
    scalars[9] = scalar_from_u64(0x10_8421); // 10000 10000 10000 ... pattern
    scalars[5] = scalars[4];
    cases.push(MsmCase {
        points,
        scalars,
        c: 5,
        segments: 4,
        w0: 0,
        nw: windows(5),
        chunk: 13,
    });
    // the hazard: every scalar equal, so every point hits one bucket
    let n = if big { 300 } else { 120 };
    let s = P::ScalarField::rand(&mut r);
    cases.push(MsmCase {
        points: rand_pts(&mut r, n),
        scalars: vec![s; n],
        c: 7,
        segments: 8,
        w0: 0,
        nw: windows(7),
        chunk: n as u32,
    });
    if big {
        // a wide window, many segments, a few windows
        let n = 3000;
        cases.push(MsmCase {
            points: rand_pts(&mut r, n),
            scalars: (0..n).map(|_| P::ScalarField::rand(&mut r)).collect(),
            c: 16,
            segments: 256,
            w0: 14,
            nw: 2,
            chunk: 1000,
        });
        let n = 1000;
        cases.push(MsmCase {
            points: rand_pts(&mut r, n),
            scalars: (0..n).map(|_| P::ScalarField::rand(&mut r)).collect(),
            c: 10,
            segments: 64,
            w0: 0,
            nw: windows(10),
            chunk: n as u32,
        });
    }
    let outs = run_msm(bench, group, &cases);
    for (i, (cs, ws)) in cases.iter().zip(&outs).enumerate() {
        let deferred = check_msm(cs, ws);
        if i == 2 {
            assert!(
                deferred > 0,
                "the equal-scalar case must hit the bucket hazard"
            );
            // every point of the window goes to one bucket: the adder serializes
            let cycles = ws.iter().map(|w| w.acc_stats[0]).max().unwrap();
            assert!(
                cycles > (n_of(cs) as u64) * 100,
                "hazard case too fast: {cycles}"
            );
        }
        if cs.c == 16 {
            // 2 * 256 segments keep the adder full: only start-up and drain stall
            let [cyc, iss, _, _] = ws[0].red_stats;
            assert!(
                cyc < iss + iss / 50 + 2000,
                "reduction stalls: {cyc} cycles for {iss}"
            );
        }
        if cs.c == 4 {
            // 2 segments cannot fill the adder: stalls dominate
            let [_, iss, st, _] = ws[0].red_stats;
            assert!(st > 10 * iss, "c = 4 reduction should stall: {st} vs {iss}");
        }
    }
}

fn n_of<P: SWCurveConfig>(cs: &MsmCase<P>) -> usize {
    cs.points.len()
}

#[test]
fn msm_g1_g2() {
    let bench = Bench::build("tb_msm");
    msm_suite::<ark_bn254::g1::Config>(&bench, 1, 20, true);
    msm_suite::<ark_bn254::g2::Config>(&bench, 2, 21, false);

    // a G1 case through the whole-MSM helper of arkworks' affine types, as a sanity check
    // of the encoding (the same path the emulator's host code takes)
    let pts: Vec<G1Affine> = vec![G1Affine::generator(); 3];
    let sc = vec![Fr::from(3u64), Fr::from(5u64), Fr::from(7u64)];
    let cs = MsmCase {
        points: pts,
        scalars: sc,
        c: 2,
        segments: 1,
        w0: 0,
        nw: windows(2),
        chunk: 1,
    };
    let ws = run_msm(&bench, 1, std::slice::from_ref(&cs));
    check_msm(&cs, &ws[0]);

    // malformed
    let mut good = Vec::new();
    for v in [1u32, 1, 1, 4, 2, 0, 1, 1] {
        put_u32(&mut good, v);
    }
    put_affine(&G1Affine::generator(), &mut good);
    good.extend_from_slice(&Fr::from(9u64).into_bigint().to_bytes_le());
    assert_eq!(bench.run_raw(&good).0, Some(0));
    let patch = |at: usize, v: u32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        b
    };
    let mut big_scalar = good.clone();
    let l = big_scalar.len();
    big_scalar[l - 32..].fill(0xff);
    bench.assert_refuses(&[
        ("group 3", patch(0, 3)),
        ("zero cases", patch(4, 0)),
        ("c = 1", patch(12, 1)),
        ("c = 17", patch(12, 17)),
        ("segments 3", patch(16, 3)),
        ("segments > buckets", patch(16, 16)),
        ("windows past the scalar", patch(24, 65)),
        ("chunk 0", patch(28, 0)),
        ("scalar >= r", big_scalar),
        ("truncated", good[..good.len() - 5].to_vec()),
    ]);
}

// ---- NTT engine ---------------------------------------------------------------------------

fn ntt_input(ops: &[(u32, u32, Fr, Fr, &[Fr])]) -> Vec<u8> {
    let mut v = Vec::new();
    put_u32(&mut v, ops.len() as u32);
    for (kind, log_n, p0, p1, data) in ops {
        put_u32(&mut v, *kind);
        put_u32(&mut v, *log_n);
        v.extend_from_slice(&mont_bytes(p0));
        v.extend_from_slice(&mont_bytes(p1));
        for x in *data {
            v.extend_from_slice(&mont_bytes(x));
        }
    }
    v
}

/// Splits the bench output into each op's data and stats.
fn ntt_output(out: &[u8], sizes: &[usize]) -> Vec<(Vec<Fr>, [u64; 4])> {
    let mut pos = 0;
    let mut res = Vec::new();
    for &n in sizes {
        let data = (0..n).map(|i| mont_from(&out[pos + 32 * i..])).collect();
        pos += 32 * n;
        let st = std::array::from_fn(|k| u64_at(out, pos + 8 * k));
        pos += 32;
        res.push((data, st));
    }
    assert_eq!(pos, out.len());
    res
}

fn eval_at(coeffs: &[Fr], x: Fr) -> Fr {
    coeffs.iter().rev().fold(Fr::zero(), |acc, c| acc * x + c)
}

#[test]
fn ntt_forward_inverse_scale() {
    let bench = Bench::build("tb_ntt");
    let mut r = rng(30);
    let logs: Vec<u32> = (1..=14).collect();
    let inputs: Vec<Vec<Fr>> = logs
        .iter()
        .map(|&l| (0..1usize << l).map(|_| Fr::rand(&mut r)).collect())
        .collect();
    let omegas: Vec<Fr> = logs
        .iter()
        .map(|&l| Fr::get_root_of_unity(1u64 << l).unwrap())
        .collect();
    let sizes: Vec<usize> = inputs.iter().map(|v| v.len()).collect();

    // forward
    let ops: Vec<_> = logs
        .iter()
        .zip(&inputs)
        .zip(&omegas)
        .map(|((&l, d), &w)| (0u32, l, w, Fr::zero(), d.as_slice()))
        .collect();
    let fwd = ntt_output(&bench.run(&ntt_input(&ops)), &sizes);
    for ((&l, x), ((y, st), &w)) in logs.iter().zip(&inputs).zip(fwd.iter().zip(&omegas)) {
        let n = 1usize << l;
        let check: Vec<usize> = if l <= 10 {
            (0..n).collect()
        } else {
            (0..8)
                .map(|_| r.gen_range(0..n))
                .chain([0, n - 1])
                .collect()
        };
        for j in check {
            assert_eq!(y[j], eval_at(x, w.pow([j as u64])), "NTT 2^{l} output {j}");
        }
        let bfly = (l as u64) * (n as u64 / 2);
        assert_eq!(st[1], bfly);
        assert!(st[0] > bfly + n as u64);
    }

    // inverse (unscaled, omega^-1), then scale by n^-1 (shift 1): the input again
    let ops: Vec<_> = logs
        .iter()
        .zip(&fwd)
        .zip(&omegas)
        .map(|((&l, (d, _)), w)| (0u32, l, w.inverse().unwrap(), Fr::zero(), d.as_slice()))
        .collect();
    let inv = ntt_output(&bench.run(&ntt_input(&ops)), &sizes);
    let ninv: Vec<Fr> = logs
        .iter()
        .map(|&l| Fr::from(1u64 << l).inverse().unwrap())
        .collect();
    let ops: Vec<_> = logs
        .iter()
        .zip(&inv)
        .zip(&ninv)
        .map(|((&l, (d, _)), &f)| (1u32, l, f, Fr::one(), d.as_slice()))
        .collect();
    let back = ntt_output(&bench.run(&ntt_input(&ops)), &sizes);
    for ((&l, x), (y, st)) in logs.iter().zip(&inputs).zip(&back) {
        assert_eq!(x, y, "inverse NTT 2^{l} round trip");
        assert_eq!(st[1], 1u64 << l);
    }

    // coset scaling: x_i * factor * shift^i (2^13 and 2^14 reach the HI table)
    let shift = Fr::GENERATOR;
    let factor = Fr::rand(&mut r);
    let ops: Vec<_> = logs
        .iter()
        .zip(&inputs)
        .map(|(&l, d)| (1u32, l, factor, shift, d.as_slice()))
        .collect();
    let sc = ntt_output(&bench.run(&ntt_input(&ops)), &sizes);
    for ((&l, x), (y, _)) in logs.iter().zip(&inputs).zip(&sc) {
        let mut s = factor;
        for (i, (a, b)) in x.iter().zip(y).enumerate() {
            assert_eq!(*a * s, *b, "scale 2^{l} element {i}");
            s *= shift;
        }
    }

    // malformed
    let one = [Fr::one(), Fr::one()];
    let good = ntt_input(&[(0, 1, -Fr::one(), Fr::zero(), &one[..])]);
    assert_eq!(bench.run_raw(&good).0, Some(0));
    let patch = |at: usize, v: u32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        b
    };
    let mut noncanon = good.clone();
    let l = noncanon.len();
    noncanon[l - 32..].fill(0xff);
    bench.assert_refuses(&[
        ("no ops", patch(0, 0)),
        ("kind 2", patch(4, 2)),
        ("log_n 0", patch(8, 0)),
        ("log_n 25", patch(8, 25)),
        ("element >= r", noncanon),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("trailing", [good.as_slice(), &[0u8]].concat()),
    ]);
}
