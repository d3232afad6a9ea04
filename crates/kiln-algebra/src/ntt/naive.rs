//! The O(n²) definition of the transform, for tests.

use ark_ff::FftField;

/// Evaluates the polynomial with coefficients `coeffs` at root^0, root^1, …,
/// root^{len−1} by Horner's rule (O(n²); a reference for tests, not for production).
pub fn ntt_naive<F: FftField>(coeffs: &[F], root: F) -> Vec<F> {
    let mut x = F::one();
    let mut out = Vec::with_capacity(coeffs.len());
    for _ in 0..coeffs.len() {
        out.push(coeffs.iter().rev().fold(F::zero(), |acc, c| acc * x + c));
        x *= root;
    }
    out
}
