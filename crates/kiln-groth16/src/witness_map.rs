//! The witness map: from a witness to the evaluations of h on the odd coset, as snarkjs does.
//!
//! `a = A·w` and `b = B·w` use the zkey's sparse coefficients (stored by constraint), `c =
//! a∘b`; the three vectors go from the domain to the coset `g·ω^i` through the device's NTTs,
//! and `h_i = a_i·b_i − c_i` there. The zkey's H points already fold in the vanishing
//! polynomial (constant −2 on that coset), so h is used as-is in the H MSM.

use ark_ff::{AdditiveGroup, FftField, Field};
use rayon::prelude::*;

use kiln_algebra::curve::Curve;
use kiln_device::{Device, DeviceError, NttOp};
use kiln_formats::{Coeff, Matrix};

/// One sparse matrix of the QAP (A or B), in compressed rows: row `i` is
/// `entries[row_starts[i]..row_starts[i + 1]]`, each entry `(signal, coefficient)`.
#[derive(Clone, Debug, Default)]
pub struct SparseMatrix<F> {
    row_starts: Vec<usize>,
    entries: Vec<(u32, F)>,
}

impl<F: Field> SparseMatrix<F> {
    /// Builds the rows of `which` from the zkey's coefficient list, for `rows` constraints.
    /// Coefficients must already be range-checked (constraint < rows).
    pub fn from_coeffs(coeffs: &[Coeff<F>], which: Matrix, rows: usize) -> Self {
        let mut counts = vec![0usize; rows + 1];
        for c in coeffs.iter().filter(|c| c.matrix == which) {
            counts[c.constraint as usize + 1] += 1;
        }
        for i in 0..rows {
            counts[i + 1] += counts[i];
        }
        let row_starts = counts.clone();
        let mut fill = counts;
        let mut entries = vec![(0u32, F::zero()); row_starts[rows]];
        for c in coeffs.iter().filter(|c| c.matrix == which) {
            let slot = &mut fill[c.constraint as usize];
            entries[*slot] = (c.signal, c.value);
            *slot += 1;
        }
        SparseMatrix {
            row_starts,
            entries,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.row_starts.len().saturating_sub(1)
    }

    /// Number of stored coefficients.
    pub fn nnz(&self) -> usize {
        self.entries.len()
    }

    /// `out[i] = Σ_j M[i][j]·w[j]` for every row (out is zero past the last row). Signals
    /// must be < w.len() (checked when the key is loaded).
    pub fn mul_vec(&self, w: &[F], out: &mut [F]) {
        const CHUNK: usize = 1 << 10;
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(ci, chunk)| {
                for (k, o) in chunk.iter_mut().enumerate() {
                    let row = ci * CHUNK + k;
                    *o = if row < self.rows() {
                        self.entries[self.row_starts[row]..self.row_starts[row + 1]]
                            .iter()
                            .map(|(s, v)| *v * w[*s as usize])
                            .sum()
                    } else {
                        F::zero()
                    };
                }
            });
    }
}

/// The coset shift snarkjs uses for a domain of `n` points: a primitive 2n-th root of
/// unity, so the coset `g·ω^i` is the odd powers of the 2n-th roots.
pub fn coset_shift<F: FftField>(n: usize) -> Option<F> {
    F::get_root_of_unity((2 * n) as u64)
}

/// Computes h on the odd coset from a full witness.
pub fn compute_h<C: Curve>(
    a_matrix: &SparseMatrix<C::Fr>,
    b_matrix: &SparseMatrix<C::Fr>,
    witness: &[C::Fr],
    domain_size: usize,
    device: &dyn Device<C>,
) -> Result<Vec<C::Fr>, DeviceError> {
    let mut a = vec![C::Fr::ZERO; domain_size];
    let mut b = vec![C::Fr::ZERO; domain_size];
    rayon::join(
        || a_matrix.mul_vec(witness, &mut a),
        || b_matrix.mul_vec(witness, &mut b),
    );
    let c: Vec<C::Fr> = a.par_iter().zip(&b).map(|(x, y)| *x * y).collect();
    let shift = coset_shift::<C::Fr>(domain_size).ok_or_else(|| {
        DeviceError::Ntt(kiln_algebra::ntt::NttError::NotPowerOfTwo {
            size: 2 * domain_size,
        })
    })?;
    let mut vecs = vec![a, b, c];
    device.ntt(&mut vecs, NttOp::DomainToCoset(shift))?;
    let c = vecs.pop().unwrap_or_default();
    let b = vecs.pop().unwrap_or_default();
    let mut a = vecs.pop().unwrap_or_default();
    a.par_iter_mut()
        .zip(&b)
        .zip(&c)
        .for_each(|((x, y), z)| *x = *x * y - z);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::Fr;

    #[test]
    fn sparse_rows_multiply_like_the_dense_definition() {
        let coeffs = vec![
            Coeff {
                matrix: Matrix::A,
                constraint: 2,
                signal: 1,
                value: Fr::from(3u64),
            },
            Coeff {
                matrix: Matrix::B,
                constraint: 0,
                signal: 0,
                value: Fr::from(5u64),
            },
            Coeff {
                matrix: Matrix::A,
                constraint: 0,
                signal: 2,
                value: Fr::from(7u64),
            },
            Coeff {
                matrix: Matrix::A,
                constraint: 2,
                signal: 0,
                value: Fr::from(11u64),
            },
        ];
        let a = SparseMatrix::from_coeffs(&coeffs, Matrix::A, 4);
        assert_eq!(a.nnz(), 3);
        let w = [Fr::from(1u64), Fr::from(10u64), Fr::from(100u64)];
        let mut out = vec![Fr::from(9u64); 8];
        a.mul_vec(&w, &mut out);
        let want: Vec<Fr> = [700u64, 0, 41, 0, 0, 0, 0, 0]
            .iter()
            .map(|&x| Fr::from(x))
            .collect();
        assert_eq!(out, want);
    }

    #[test]
    fn the_coset_shift_squares_to_the_domain_generator() {
        for log in [1u32, 4, 10, 16] {
            let n = 1usize << log;
            let g: Fr = coset_shift(n).unwrap();
            let w: Fr = Fr::get_root_of_unity(n as u64).unwrap();
            assert_eq!(g.square(), w);
            assert_eq!(g.pow([n as u64]), -Fr::ONE);
        }
    }
}
