//! A proving key loaded for proving: decoded once from a `.zkey`, its point tables resident
//! on a device, its QAP coefficients in compressed rows, its verifying key prepared for the
//! self-check. Reused across any number of proofs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_algebra::curve::Curve;
use kiln_device::{BasesHandle, Device};
use kiln_formats::{Groth16Header, Matrix, Zkey};

use super::prover::ProveError;
use super::verifier::PreparedVerifyingKey;
use super::witness_map::SparseMatrix;
use super::VerifyingKey;

/// The resident point tables of one key on one device.
#[derive(Debug)]
pub struct ResidentTables {
    /// [u_j(τ)]₁ for every signal.
    pub a: BasesHandle,
    /// [v_j(τ)]₁ for every signal.
    pub b1: BasesHandle,
    /// [v_j(τ)]₂ for every signal.
    pub b2: BasesHandle,
    /// [(β·u_j + α·v_j + w_j)(τ)/δ]₁ for the private signals.
    pub c: BasesHandle,
    /// The H table (odd-coset Lagrange basis, scaled).
    pub h: BasesHandle,
}

/// A Groth16 proving key ready to prove on one device.
pub struct ProvingKey<C: Curve> {
    /// The zkey's header (sizes and the α, β, γ, δ points).
    pub header: Groth16Header<C>,
    /// The verifying key embedded in the zkey.
    pub vk: VerifyingKey<C>,
    /// The verifying key prepared for the per-proof self-check.
    pub pvk: PreparedVerifyingKey<C>,
    /// A's coefficients by constraint.
    pub a_matrix: SparseMatrix<C::Fr>,
    /// B's coefficients by constraint.
    pub b_matrix: SparseMatrix<C::Fr>,
    /// The device the tables live on.
    pub device: Arc<dyn Device<C>>,
    /// Handles of the resident tables.
    pub tables: ResidentTables,
    /// How long decoding and uploading took.
    pub load_time: Duration,
}

impl<C: Curve> ProvingKey<C> {
    /// Decodes `zkey` and makes its point tables resident on `device`.
    pub fn load(zkey: &Zkey<C>, device: Arc<dyn Device<C>>) -> Result<Self, ProveError> {
        let t0 = Instant::now();
        let header = zkey.header().clone();
        let vk = VerifyingKey::from_zkey(zkey)?;
        let pvk = PreparedVerifyingKey::new(&vk);
        let coeffs = zkey.coeffs()?;
        let rows = header.domain_size;
        let (a_matrix, b_matrix) = rayon::join(
            || SparseMatrix::from_coeffs(&coeffs, Matrix::A, rows),
            || SparseMatrix::from_coeffs(&coeffs, Matrix::B, rows),
        );
        drop(coeffs);
        let tables = ResidentTables {
            a: device.load_g1(Arc::new(zkey.a_points()?))?,
            b1: device.load_g1(Arc::new(zkey.b1_points()?))?,
            b2: device.load_g2(Arc::new(zkey.b2_points()?))?,
            c: device.load_g1(Arc::new(zkey.c_points()?))?,
            h: device.load_g1(Arc::new(zkey.h_points()?))?,
        };
        Ok(ProvingKey {
            header,
            vk,
            pvk,
            a_matrix,
            b_matrix,
            device,
            tables,
            load_time: t0.elapsed(),
        })
    }
}

impl<C: Curve> Drop for ProvingKey<C> {
    fn drop(&mut self) {
        let t = &self.tables;
        for h in [&t.a, &t.b1, &t.b2, &t.c, &t.h] {
            if let Err(e) = self.device.release(h) {
                tracing::warn!(target: crate::TARGET, error = %e, "releasing a resident point table failed");
            }
        }
    }
}
