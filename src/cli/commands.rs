//! One handler per `kiln` command. Outputs are written only when the whole command has
//! succeeded (temp file + rename), so a failed run leaves nothing behind.

use std::path::Path;

use rand::rngs::OsRng;

use super::args::{Command, WtnsCommand, ZkeyCommand};
use super::{CliError, Outcome};
use kiln_algebra::curve::{Bn254, Curve};
use kiln_device::fleet::Calibration;
use kiln_device::open::{check_device_list, open_devices};
use kiln_device::{probe_devices, DeviceStatus, DEFAULT_PRECOMPUTE_BUDGET};
use kiln_formats::{json, read_r1cs, read_wtns, write_zkey, FormatError, Zkey};
use kiln_groth16::snarkjs::{read_proof, read_vk, write_proof_and_public, write_vk};
use kiln_groth16::{Proof, ProvingKey, VerifyingKey};

/// Runs one command.
pub fn run(cmd: Command) -> Result<Outcome, CliError> {
    match cmd {
        Command::Prove {
            zkey,
            wtns,
            proof,
            public,
            device,
        } => prove(&zkey, &wtns, &proof, &public, &device),
        Command::Verify { vk, public, proof } => verify(&vk, &public, &proof),
        Command::Setup { r1cs, zkey } => setup(&r1cs, &zkey),
        Command::Zkey {
            command: ZkeyCommand::Info { zkey, json },
        } => zkey_info(&zkey, json),
        Command::Zkey {
            command: ZkeyCommand::ExportVk { zkey, vk },
        } => export_vk(&zkey, &vk),
        Command::Zkey {
            command: ZkeyCommand::ExportVerifier { zkey, sol, name },
        } => export_verifier(&zkey, &sol, &name),
        Command::Wtns {
            command: WtnsCommand::Check { r1cs, wtns },
        } => wtns_check(&r1cs, &wtns),
        Command::Devices { json } => devices(json),
        Command::Rollup { command } => super::rollup::run(command),
        Command::Bench { command } => super::bench::run(command),
        Command::Serve(args) => {
            kiln_server::run(*args)?;
            Ok(Outcome::Ok)
        }
    }
}

fn prove(
    zkey: &Path,
    wtns: &Path,
    proof_out: &Path,
    public_out: &Path,
    device: &str,
) -> Result<Outcome, CliError> {
    // Parse the device list before reading anything, so a typo fails fast.
    check_device_list(device)?;
    let zk = Zkey::<Bn254>::open(zkey)?;
    let witness = read_wtns::<Bn254>(wtns)?;
    let n_vars = zk.header().n_vars;
    if witness.values.len() != n_vars {
        return Err(CliError::BadArgument(format!(
            "{}: the witness has {} values but {} expects {} (nVars): is it a witness for another circuit?",
            wtns.display(),
            witness.values.len(),
            zkey.display(),
            n_vars
        )));
    }
    let dev = open_devices::<Bn254>(
        device,
        DEFAULT_PRECOMPUTE_BUDGET,
        Calibration::default_store(),
    )?;
    let device = dev.device.clone();
    let pk = ProvingKey::load(&zk, dev.device)?;
    tracing::info!(
        target: crate::TARGET,
        load_ms = pk.load_time.as_secs_f64() * 1e3,
        "proving key loaded"
    );
    let out = kiln_groth16::prove(&pk, &witness.values, &mut OsRng).map_err(|e| match e {
        e @ (kiln_groth16::ProveError::Unsatisfied
        | kiln_groth16::ProveError::WitnessConstant
        | kiln_groth16::ProveError::WitnessLength { .. }) => CliError::ProveInput {
            wtns: wtns.to_path_buf(),
            zkey: zkey.to_path_buf(),
            error: Box::new(e),
        },
        e => CliError::Prove(e),
    })?;
    tracing::info!(target: crate::TARGET, timings = ?out.timings, "proved");
    // Devices with their own clock (a GPU's kernel time, an FPGA card's modelled time)
    // report it beside the wall time.
    for usage in device.usage() {
        eprintln!("{usage}");
    }
    write_proof_and_public::<Bn254>(&out.proof, &out.public, proof_out, public_out)?;
    Ok(Outcome::Ok)
}

fn verify(vk: &Path, public: &Path, proof: &Path) -> Result<Outcome, CliError> {
    let vk: VerifyingKey<Bn254> = read_vk(vk)?;
    let public = json::read_public::<Bn254>(public)?;
    // A proof whose points are not group elements is an invalid proof (exit 1), not a
    // malformed file: that is what a tampered coordinate looks like.
    let proof: Proof<Bn254> = match read_proof(proof) {
        Ok(p) => p,
        Err(e @ FormatError::JsonPoint { .. }) => {
            println!("INVALID: {e}");
            return Ok(Outcome::Invalid);
        }
        Err(e) => return Err(e.into()),
    };
    if public.len() != vk.n_public() {
        return Err(CliError::BadArgument(format!(
            "the verification key expects {} public signals, public.json has {}",
            vk.n_public(),
            public.len()
        )));
    }
    if kiln_groth16::verify(&vk, &public, &proof)? {
        println!("OK");
        Ok(Outcome::Ok)
    } else {
        println!("INVALID: the proof does not verify against this key and these public signals");
        Ok(Outcome::Invalid)
    }
}

fn setup(r1cs: &Path, zkey: &Path) -> Result<Outcome, CliError> {
    let circuit = read_r1cs::<Bn254>(r1cs)?;
    tracing::warn!(
        target: crate::TARGET,
        "kiln setup samples toxic waste in this process: development keys only, not for production"
    );
    let contents = kiln_groth16::setup(&circuit, &mut OsRng)?;
    write_zkey(zkey, &contents)?;
    eprintln!(
        "wrote {} (domain 2^{}, {} signals, {} public): DEVELOPMENT KEY, NOT FOR PRODUCTION",
        zkey.display(),
        contents.header.domain_size.trailing_zeros(),
        contents.header.n_vars,
        contents.header.n_public
    );
    Ok(Outcome::Ok)
}

/// What `kiln zkey info` reports.
#[derive(serde::Serialize)]
struct ZkeyInfo {
    protocol: &'static str,
    curve: &'static str,
    n_vars: usize,
    n_public: usize,
    n_constraints: usize,
    domain_size: usize,
    domain_log2: u32,
}

fn zkey_info(zkey: &Path, as_json: bool) -> Result<Outcome, CliError> {
    let zk = Zkey::<Bn254>::open(zkey)?;
    // Report only on a key the prover would load: every point and coefficient checked.
    zk.check_tables()?;
    let h = zk.header();
    // snarkjs adds one A-only constraint per public signal (and the constant) after the
    // circuit's own constraints, so the circuit has (highest constraint index + 1) − (nPublic + 1).
    let rows = zk
        .coeffs()?
        .iter()
        .map(|c| c.constraint as usize + 1)
        .max()
        .unwrap_or(0);
    let info = ZkeyInfo {
        protocol: "groth16",
        curve: Bn254::SNARKJS_NAME,
        n_vars: h.n_vars,
        n_public: h.n_public,
        n_constraints: rows.saturating_sub(h.n_public + 1),
        domain_size: h.domain_size,
        domain_log2: h.domain_size.trailing_zeros(),
    };
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&info).unwrap_or_default()
        );
    } else {
        println!("protocol:    {}", info.protocol);
        println!("curve:       {}", info.curve);
        println!("nVars:       {}", info.n_vars);
        println!("nPublic:     {}", info.n_public);
        println!("constraints: {}", info.n_constraints);
        println!("domain:      2^{} = {}", info.domain_log2, info.domain_size);
    }
    Ok(Outcome::Ok)
}

fn export_vk(zkey: &Path, out: &Path) -> Result<Outcome, CliError> {
    let zk = Zkey::<Bn254>::open(zkey)?;
    write_vk(&VerifyingKey::from_zkey(&zk)?, out)?;
    Ok(Outcome::Ok)
}

fn export_verifier(zkey: &Path, out: &Path, name: &str) -> Result<Outcome, CliError> {
    let valid_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(CliError::BadArgument(format!(
            "--name {name:?}: expected a Solidity identifier (letters, digits, _; not starting with a digit)"
        )));
    }
    let zk = Zkey::<Bn254>::open(zkey)?;
    let vk = VerifyingKey::from_zkey(&zk)?;
    if vk.ic.len() < 2 {
        return Err(CliError::BadArgument(format!(
            "{}: the key has no public inputs; verifyProof(uint[2], uint[2][2], uint[2], uint[N]) needs N >= 1",
            zkey.display()
        )));
    }
    let source = kiln_groth16::solidity::solidity_verifier(&vk, name);
    kiln_formats::atomic::write_atomically(out, |w| {
        std::io::Write::write_all(w, source.as_bytes())
    })?;
    println!(
        "wrote {}: contract {name}, {} public input(s)",
        out.display(),
        vk.ic.len() - 1
    );
    Ok(Outcome::Ok)
}

fn wtns_check(r1cs: &Path, wtns: &Path) -> Result<Outcome, CliError> {
    let circuit = read_r1cs::<Bn254>(r1cs)?;
    let witness = read_wtns::<Bn254>(wtns)?;
    circuit
        .check_witness(&witness.values)
        .map_err(|e| CliError::BadArgument(format!("{}: {e}", wtns.display())))?;
    println!(
        "OK: the witness satisfies all {} constraints",
        circuit.constraints.len()
    );
    Ok(Outcome::Ok)
}

fn devices(as_json: bool) -> Result<Outcome, CliError> {
    let reports = probe_devices::<Bn254>();
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
        return Ok(Outcome::Ok);
    }
    for r in &reports {
        match &r.status {
            DeviceStatus::Ready { info } => println!(
                "{:<10} ready   {} ({} compute units{})",
                info.spec.to_string(),
                info.name,
                info.compute_units,
                info.driver
                    .as_deref()
                    .map_or(String::new(), |d| format!("; {d}"))
            ),
            DeviceStatus::Absent { kind, reason } => {
                println!("{:<10} absent  {}", kind.as_str(), reason)
            }
        }
    }
    Ok(Outcome::Ok)
}
