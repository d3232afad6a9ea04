//! The Groth16 verifier: `e(A, B) = e(α, β)·e(Σ pub_i·IC_i, γ)·e(C, δ)`, checked as one
//! multi-pairing with a single final exponentiation.

use ark_ec::pairing::{Pairing, PairingOutput};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};

use kiln_algebra::curve::{Curve, G1Projective};

use super::{Proof, VerifyingKey};

/// Why a verification could not be carried out (distinct from "the proof is invalid").
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The number of public signals does not match the key.
    #[error("the verifying key expects {expected} public signals, {got} were given")]
    PublicCount {
        /// What the key's IC length implies.
        expected: usize,
        /// What was given.
        got: usize,
    },
}

/// A verifying key with the pairing-side work that does not depend on the proof done once.
pub struct PreparedVerifyingKey<C: Curve> {
    /// The key itself.
    pub vk: VerifyingKey<C>,
    alpha_beta: PairingOutput<C::Engine>,
    gamma_neg: <C::Engine as Pairing>::G2Prepared,
    delta_neg: <C::Engine as Pairing>::G2Prepared,
}

impl<C: Curve> PreparedVerifyingKey<C> {
    /// Prepares `vk` (one pairing and two G2 preparations).
    pub fn new(vk: &VerifyingKey<C>) -> Self {
        PreparedVerifyingKey {
            vk: vk.clone(),
            alpha_beta: C::Engine::pairing(vk.alpha1, vk.beta2),
            gamma_neg: (-vk.gamma2.into_group()).into_affine().into(),
            delta_neg: (-vk.delta2.into_group()).into_affine().into(),
        }
    }

    /// Checks `proof` against `public`: `Ok(true)` valid, `Ok(false)` invalid.
    pub fn verify(&self, public: &[C::Fr], proof: &Proof<C>) -> Result<bool, VerifyError> {
        let ic = &self.vk.ic;
        if ic.is_empty() || public.len() != ic.len() - 1 {
            return Err(VerifyError::PublicCount {
                expected: ic.len().saturating_sub(1),
                got: public.len(),
            });
        }
        let vk_x: G1Projective<C> =
            ic[0].into_group() + G1Projective::<C>::msm_unchecked(&ic[1..], public);
        // e(A,B)·e(X,−γ)·e(C,−δ) = e(α,β)
        let lhs = C::Engine::multi_pairing(
            [proof.a, vk_x.into_affine(), proof.c],
            [
                <C::Engine as Pairing>::G2Prepared::from(proof.b),
                self.gamma_neg.clone(),
                self.delta_neg.clone(),
            ],
        );
        Ok(lhs == self.alpha_beta)
    }
}

/// Verifies a proof (prepares the key each call; keep a [`PreparedVerifyingKey`] to verify
/// many proofs against one key).
pub fn verify<C: Curve>(
    vk: &VerifyingKey<C>,
    public: &[C::Fr],
    proof: &Proof<C>,
) -> Result<bool, VerifyError> {
    PreparedVerifyingKey::new(vk).verify(public, proof)
}
