//! The `prove` suite: whole Groth16 proofs (witness map, NTTs, five MSMs, assembly and the
//! pairing self-check) of a synthetic circuit whose domain is 2^size, with a development
//! key made in-process, on every device against the CPU backend on the same key and
//! witness. Needs no circuit files: the circuit is random but satisfiable, with circom's
//! wire layout.

use std::sync::Arc;

use kiln_algebra::curve::Bn254;
use kiln_device::{CpuDevice, Device};
use kiln_formats::{write_zkey, Zkey};
use kiln_groth16::synthetic::random_circuit;
use kiln_groth16::ProvingKey;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::devices::BenchDevice;
use crate::measure::{Contender, Ctx};
use crate::spec::Suite;
use crate::BenchError;

/// The baseline's name in reports.
pub const BASELINE: &str = "kiln cpu backend";

/// The smallest domain (log2) a circuit with one public output and one public input has.
pub const MIN_LOG: u32 = 2;

/// Runs the suite over `sizes` (domain sizes, log2).
pub fn run(ctx: &mut Ctx<'_>, devices: &[BenchDevice], sizes: &[u32]) -> Result<(), BenchError> {
    let dir = tempfile::tempdir().map_err(|e| {
        BenchError::io(
            &std::env::temp_dir(),
            "cannot make a temporary directory",
            e,
        )
    })?;
    for &log in sizes {
        // One public output and one public input: m + 2 + 1 ≤ 2^log fills the domain.
        let constraints = (1usize << log).saturating_sub(3).max(1);
        ctx.progress.set_message(format!(
            "prove 2^{log}: making a {constraints}-constraint circuit and its key"
        ));
        let mut rng = ChaCha20Rng::seed_from_u64(3 ^ u64::from(log) << 8);
        let (r1cs, witness) = random_circuit::<Bn254, _>(&mut rng, constraints, 1, 1);
        let contents = kiln_groth16::setup(&r1cs, &mut rng)
            .map_err(|e| BenchError::BadArgument(format!("prove 2^{log}: setup: {e}")))?;
        drop(r1cs);
        let path = dir.path().join(format!("bench-{log}.zkey"));
        write_zkey(&path, &contents)
            .map_err(|e| BenchError::BadArgument(format!("writing {}: {e}", path.display())))?;
        drop(contents);
        let zkey = Zkey::<Bn254>::open(&path)
            .map_err(|e| BenchError::BadArgument(format!("reading {}: {e}", path.display())))?;
        let load = |dev: Arc<dyn Device<Bn254>>| {
            ProvingKey::load(&zkey, dev)
                .map_err(|e| BenchError::Mismatch(format!("prove 2^{log}: loading the key: {e}")))
        };
        let base_key = load(Arc::new(CpuDevice::<Bn254>::new()))?;
        let keys: Vec<ProvingKey<Bn254>> = devices
            .iter()
            .map(|d| load(d.default_variant().device.clone()))
            .collect::<Result<_, _>>()?;
        let witness = &witness;
        let contenders = devices
            .iter()
            .zip(&keys)
            .map(|(d, pk)| Contender {
                device: d,
                variant: d.default_variant(),
                run: Box::new(move || {
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
                }),
            })
            .collect();
        ctx.measure(
            Suite::Prove,
            "prove",
            log,
            BASELINE,
            || {
                let mut rng = ChaCha20Rng::seed_from_u64(5);
                kiln_groth16::prove(&base_key, witness, &mut rng)
                    .map(drop)
                    .expect("the CPU backend proves a satisfied synthetic circuit");
            },
            contenders,
        );
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}
