//! TEMPORARY shim over arkworks with the msm module's public API; replaced by kiln's own
//! Pippenger (the msm helper's work) before landing.
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::VariableBaseMSM;
use ark_ff::PrimeField;

/// MSM tuning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MsmConfig {
    /// Window width in bits; None = automatic.
    pub window_bits: Option<u32>,
    /// Upper bound on worker threads; None = the rayon pool's size.
    pub max_threads: Option<usize>,
}

/// MSM errors.
#[derive(Debug, thiserror::Error)]
pub enum MsmError {
    /// More scalars than bases.
    #[error("MSM length mismatch: {scalars} scalars for {bases} bases")]
    LengthMismatch {
        /// bases
        bases: usize,
        /// scalars
        scalars: usize,
    },
}

/// sum scalars[i]*bases[i].
pub fn msm<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
    _cfg: &MsmConfig,
) -> Result<Projective<P>, MsmError> {
    if scalars.len() > bases.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len(),
        });
    }
    Ok(Projective::<P>::msm_unchecked(
        &bases[..scalars.len()],
        scalars,
    ))
}

/// Naive reference.
pub fn msm_naive<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
) -> Projective<P> {
    bases.iter().zip(scalars).map(|(b, s)| *b * s).sum()
}
#[allow(unused)]
fn _unused<F: PrimeField>() {}
