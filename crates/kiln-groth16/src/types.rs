//! The prover's own types: a Groth16 [`Proof`] and the [`VerifyingKey`] it is checked
//! against. `kiln-formats` reads and writes the files they come from; [`crate::snarkjs`]
//! converts them to and from snarkjs' JSON documents.

use kiln_algebra::curve::{Curve, G1Affine, G2Affine};
use kiln_formats::{FormatError, Groth16Header, Zkey};

/// The three points of a Groth16 proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof<C: Curve> {
    /// `[A]₁`.
    pub a: G1Affine<C>,
    /// `[B]₂`.
    pub b: G2Affine<C>,
    /// `[C]₁`.
    pub c: G1Affine<C>,
}

/// A Groth16 verifying key (the points of `verification_key.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey<C: Curve> {
    /// `[α]₁`.
    pub alpha1: G1Affine<C>,
    /// `[β]₂`.
    pub beta2: G2Affine<C>,
    /// `[γ]₂`.
    pub gamma2: G2Affine<C>,
    /// `[δ]₂`.
    pub delta2: G2Affine<C>,
    /// The IC points (`nPublic + 1`).
    pub ic: Vec<G1Affine<C>>,
}

impl<C: Curve> VerifyingKey<C> {
    /// The verifying key embedded in a zkey: its header's α₁, β₂, γ₂, δ₂ and its IC points.
    pub fn from_header(header: &Groth16Header<C>, ic: Vec<G1Affine<C>>) -> Self {
        VerifyingKey {
            alpha1: header.alpha1,
            beta2: header.beta2,
            gamma2: header.gamma2,
            delta2: header.delta2,
            ic,
        }
    }

    /// The verifying key embedded in a zkey (header points and the IC section).
    pub fn from_zkey(zkey: &Zkey<C>) -> Result<Self, FormatError> {
        Ok(Self::from_header(zkey.header(), zkey.ic()?))
    }

    /// Number of public signals the key expects (`IC` has one more point).
    pub fn n_public(&self) -> usize {
        self.ic.len().saturating_sub(1)
    }
}
