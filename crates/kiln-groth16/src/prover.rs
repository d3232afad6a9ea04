//! The Groth16 prover pipeline: witness map, five MSMs on the key's device, assembly with
//! fresh `r, s`, and a pairing self-check before anything is returned.

use std::time::{Duration, Instant};

use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, UniformRand};
use rand::{CryptoRng, RngCore};

use kiln_algebra::curve::Curve;
use kiln_algebra::msm::MsmConfig;
use kiln_device::{DeviceError, MsmJob};
use kiln_formats::FormatError;

use super::verifier::VerifyError;
use super::witness_map::compute_h;
use super::{Proof, ProvingKey};

/// Why a proof could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The proving key file is malformed.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The witness has the wrong number of values for this key.
    #[error("the witness has {got} values but the proving key's circuit has {expected} signals (nVars): is it a witness for another circuit?")]
    WitnessLength {
        /// nVars of the key.
        expected: usize,
        /// Values in the witness.
        got: usize,
    },
    /// Signal 0 of a circom witness is the constant 1.
    #[error("witness value 0 must be the constant 1, found another value: not a circom witness")]
    WitnessConstant,
    /// The proof failed its own pairing check against the key's verifying key: either the
    /// witness does not satisfy the circuit, or the proving key does not belong with it or
    /// is corrupt (e.g. a changed coefficient, which no format check can see).
    #[error("the proof did not verify against the proving key's own verifying key (pairing self-check; no proof was written): either the witness does not satisfy the circuit (check with `kiln wtns check <circuit.r1cs> <witness.wtns>`, which names the first unsatisfied constraint), or the proving key does not belong with this witness or is corrupt")]
    Unsatisfied,
    /// A device failed while proving. (The device's message is part of this one, so the
    /// device error is not also exposed as the source: error chains print it once.)
    #[error("device error while proving: {0}")]
    Device(DeviceError),
    /// The domain is too large for the curve's 2-adic roots (snarkjs's coset needs 2n).
    #[error("the domain size {0} is too large: the odd coset needs a 2n-th root of unity")]
    DomainTooLarge(usize),
    /// Internal verification failure.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl From<DeviceError> for ProveError {
    fn from(e: DeviceError) -> Self {
        ProveError::Device(e)
    }
}

/// Where a proof's time went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProveTimings {
    /// A·w, B·w, the NTTs and h.
    #[serde(with = "millis")]
    pub witness_map: Duration,
    /// The five MSMs.
    #[serde(with = "millis")]
    pub msm: Duration,
    /// Assembly and the pairing self-check.
    #[serde(with = "millis")]
    pub assemble_and_check: Duration,
}

/// Serializes durations as fractional milliseconds.
mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1e3)
    }
}

/// What [`prove`] returns: a proof that has passed its pairing check, with its public signals.
#[derive(Clone, Debug)]
pub struct ProofOutput<C: Curve> {
    /// The proof.
    pub proof: Proof<C>,
    /// The public signals (witness values 1..=nPublic), as snarkjs's public.json lists them.
    pub public: Vec<C::Fr>,
    /// Where the time went.
    pub timings: ProveTimings,
}

/// Proves with `pk` for the full witness `witness` (signal 0 is the constant 1). Returns the
/// proof, the public signals (witness values 1..=nPublic) and timings. The proof has passed
/// the pairing check against the key's own verifying key.
pub fn prove<C: Curve, R: RngCore + CryptoRng>(
    pk: &ProvingKey<C>,
    witness: &[C::Fr],
    rng: &mut R,
) -> Result<ProofOutput<C>, ProveError> {
    let hdr = &pk.header;
    if witness.len() != hdr.n_vars {
        return Err(ProveError::WitnessLength {
            expected: hdr.n_vars,
            got: witness.len(),
        });
    }
    if !witness[0].is_one() {
        return Err(ProveError::WitnessConstant);
    }
    // A scheduler that finds an accelerator's result wrong moves the work and asks for
    // another attempt; a single device never does, so this runs once.
    loop {
        let out = prove_once(pk, witness, rng)?;
        let accepted = out.is_some();
        if !pk.device.proof_checked(accepted) {
            return out.ok_or(ProveError::Unsatisfied);
        }
        if let Some(out) = out {
            return Ok(out);
        }
        tracing::warn!(target: crate::TARGET, "proof failed its pairing check on a device; proving again");
    }
}

/// One attempt: the proof, or `None` if it failed its pairing check.
fn prove_once<C: Curve, R: RngCore + CryptoRng>(
    pk: &ProvingKey<C>,
    witness: &[C::Fr],
    rng: &mut R,
) -> Result<Option<ProofOutput<C>>, ProveError> {
    let hdr = &pk.header;
    let dev = pk.device.as_ref();
    let cfg = MsmConfig::default();
    let t0 = Instant::now();
    let h = compute_h(&pk.a_matrix, &pk.b_matrix, witness, hdr.domain_size, dev)?;
    let t1 = Instant::now();

    let t = &pk.tables;
    let private = &witness[hdr.n_public + 1..];
    let timed = |name: &str, start: Instant| {
        tracing::debug!(
            target: crate::TARGET,
            msm = name,
            ms = start.elapsed().as_secs_f64() * 1e3,
            "msm done"
        );
    };
    let start = Instant::now();
    let a = dev.msm_g1(&MsmJob::new(&t.a, 0, witness, &cfg))?;
    timed("a", start);
    let start = Instant::now();
    let b1 = dev.msm_g1(&MsmJob::new(&t.b1, 0, witness, &cfg))?;
    timed("b1", start);
    let start = Instant::now();
    let b2 = dev.msm_g2(&MsmJob::new(&t.b2, 0, witness, &cfg))?;
    timed("b2", start);
    let start = Instant::now();
    let c = dev.msm_g1(&MsmJob::new(&t.c, 0, private, &cfg))?;
    timed("c", start);
    let start = Instant::now();
    let hm = dev.msm_g1(&MsmJob::new(&t.h, 0, &h, &cfg))?;
    timed("h", start);
    let t2 = Instant::now();

    let r = C::Fr::rand(rng);
    let s = C::Fr::rand(rng);
    let pi_a = a + hdr.alpha1 + hdr.delta1 * r;
    let pi_b = b2 + hdr.beta2 + hdr.delta2 * s;
    let b1 = b1 + hdr.beta1 + hdr.delta1 * s;
    let pi_c = c + hm + pi_a * s + b1 * r - hdr.delta1.into_group() * (r * s);
    let proof = Proof {
        a: pi_a.into_affine(),
        b: pi_b.into_affine(),
        c: pi_c.into_affine(),
    };
    let public = witness[1..=hdr.n_public].to_vec();
    if !pk.pvk.verify(&public, &proof)? {
        return Ok(None);
    }
    let timings = ProveTimings {
        witness_map: t1 - t0,
        msm: t2 - t1,
        assemble_and_check: t2.elapsed(),
    };
    Ok(Some(ProofOutput {
        proof,
        public,
        timings,
    }))
}
