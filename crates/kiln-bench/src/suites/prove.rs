//! The `prove` suite: whole Groth16 proofs (witness map, NTTs, five MSMs, assembly and the
//! pairing self-check) of a synthetic circuit whose domain is 2^size, with a development
//! key made in-process, on every device against the CPU backend on the same key and
//! witness. Needs no circuit files: the circuit is random but satisfiable, with circom's
//! wire layout.
//!
//! The circuit and key ([`synthetic_key`]) are shared with the `serve` suite, and the
//! timing of proofs on every device ([`measure_proofs`]) with the `rollup` suite.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiln_algebra::curve::Bn254;
use kiln_device::{CpuDevice, Device};
use kiln_formats::{write_zkey, Zkey, ZkeyContents};
use kiln_groth16::synthetic::random_circuit;
use kiln_groth16::ProvingKey;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::devices::BenchDevice;
use crate::measure::{Contender, Ctx};
use crate::spec::Suite;
use crate::BenchError;

type Fr = ark_bn254::Fr;

/// The baseline's name in reports.
pub const BASELINE: &str = "kiln cpu backend";

/// The smallest domain (log2) a circuit with one public output and one public input has.
pub const MIN_LOG: u32 = 2;

/// A temporary directory for keys and witnesses, removed when dropped.
pub(crate) fn temp_dir() -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix("kiln-bench-")
        .tempdir()
        .map_err(|e| {
            BenchError::io(
                &std::env::temp_dir(),
                "cannot make a temporary directory",
                e,
            )
        })
}

/// Writes a development key as `path` and opens it as the prover reads keys.
pub fn write_and_open_zkey(
    path: &Path,
    contents: &ZkeyContents<Bn254>,
) -> Result<Zkey<Bn254>, BenchError> {
    write_zkey(path, contents)
        .map_err(|e| BenchError::BadArgument(format!("writing {}: {e}", path.display())))?;
    open_zkey(path)
}

/// Opens a key written by [`synthetic_key`] or [`write_and_open_zkey`].
pub fn open_zkey(path: &Path) -> Result<Zkey<Bn254>, BenchError> {
    Zkey::<Bn254>::open(path)
        .map_err(|e| BenchError::BadArgument(format!("reading {}: {e}", path.display())))
}

/// Makes the synthetic circuit whose domain is 2^`log` (random but satisfiable, one public
/// output and one public input, with a fixed seed per size) and its development key;
/// writes the key as `bench-LOG.zkey` in `dir`. Returns the key's path and a witness that
/// satisfies the circuit.
pub fn synthetic_key(dir: &Path, log: u32) -> Result<(PathBuf, Vec<Fr>), BenchError> {
    // One public output and one public input: m + 2 + 1 ≤ 2^log fills the domain.
    let constraints = (1usize << log).saturating_sub(3).max(1);
    let mut rng = ChaCha20Rng::seed_from_u64(3 ^ u64::from(log) << 8);
    let (r1cs, witness) = random_circuit::<Bn254, _>(&mut rng, constraints, 1, 1);
    let contents = kiln_groth16::setup(&r1cs, &mut rng)
        .map_err(|e| BenchError::BadArgument(format!("prove 2^{log}: setup: {e}")))?;
    drop(r1cs);
    let path = dir.join(format!("bench-{log}.zkey"));
    write_zkey(&path, &contents)
        .map_err(|e| BenchError::BadArgument(format!("writing {}: {e}", path.display())))?;
    Ok((path, witness))
}

/// The baseline's key: `zkey` loaded on a CPU backend of its own.
pub fn baseline_key(zkey: &Zkey<Bn254>, what: &str) -> Result<ProvingKey<Bn254>, BenchError> {
    load_key(zkey, Arc::new(CpuDevice::<Bn254>::new()), what)
}

fn load_key(
    zkey: &Zkey<Bn254>,
    dev: Arc<dyn Device<Bn254>>,
    what: &str,
) -> Result<ProvingKey<Bn254>, BenchError> {
    ProvingKey::load(zkey, dev)
        .map_err(|e| BenchError::Mismatch(format!("{what}: loading the key: {e}")))
}

/// One proof of `witness` with `pk`, seeded so that every run does the same work. The
/// prover releases only a proof that passed its pairing check: `Ok` means a valid proof.
pub fn prove_once(pk: &ProvingKey<Bn254>, witness: &[Fr]) -> Result<(), kiln_device::DeviceError> {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    kiln_groth16::prove(pk, witness, &mut rng)
        .map(drop)
        .map_err(|e| match e {
            kiln_groth16::ProveError::Device(e) => e,
            other => kiln_device::DeviceError::Backend {
                spec: pk.device.info().spec,
                message: other.to_string(),
            },
        })
}

/// Times whole proofs of `witness` with `zkey` on every device's default variant against
/// the CPU backend in-process ([`BASELINE`]), as `op` of `suite` at `log`.
#[allow(clippy::too_many_arguments)]
pub fn measure_proofs(
    ctx: &mut Ctx<'_>,
    suite: Suite,
    op: &str,
    log: u32,
    devices: &[BenchDevice],
    zkey: &Zkey<Bn254>,
    witness: &[Fr],
) -> Result<(), BenchError> {
    let what = format!("{op} 2^{log}");
    let base_key = baseline_key(zkey, &what)?;
    // A device that cannot hold the key gets no row (a failure); the others go on.
    let mut keys: Vec<Option<ProvingKey<Bn254>>> = Vec::with_capacity(devices.len());
    for d in devices {
        match load_key(zkey, d.default_variant().device.clone(), &what) {
            Ok(pk) => keys.push(Some(pk)),
            Err(e) => {
                ctx.fail(
                    suite,
                    op,
                    log,
                    d,
                    d.default_variant(),
                    format!("FAILED: {e}"),
                );
                keys.push(None);
            }
        }
    }
    let contenders = devices
        .iter()
        .zip(&keys)
        .filter_map(|(d, pk)| Some((d, pk.as_ref()?)))
        .map(|(d, pk)| Contender {
            device: d,
            variant: d.default_variant(),
            run: Box::new(move || prove_once(pk, witness)),
        })
        .collect();
    let mut failed = None;
    // Warm-up runs are for small proofs only: the domain, not the batch size, decides.
    let domain_log = zkey.header().domain_size.trailing_zeros();
    ctx.measure(
        suite,
        op,
        log,
        domain_log,
        BASELINE,
        || {
            if let Err(e) = prove_once(&base_key, witness) {
                failed.get_or_insert(e);
            }
        },
        contenders,
    );
    match failed {
        None => Ok(()),
        Some(e) => Err(BenchError::Mismatch(format!(
            "{what}: the baseline ({BASELINE}) failed to prove: {e}"
        ))),
    }
}

/// Runs the suite over `sizes` (domain sizes, log2).
pub fn run(ctx: &mut Ctx<'_>, devices: &[BenchDevice], sizes: &[u32]) -> Result<(), BenchError> {
    let dir = temp_dir()?;
    for &log in sizes {
        let constraints = (1usize << log).saturating_sub(3).max(1);
        ctx.progress.set_message(format!(
            "prove 2^{log}: making a {constraints}-constraint circuit and its key"
        ));
        let (path, witness) = synthetic_key(dir.path(), log)?;
        let zkey = open_zkey(&path)?;
        measure_proofs(ctx, Suite::Prove, "prove", log, devices, &zkey, &witness)?;
        drop(zkey);
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}
