//! Development setup: a circuit-specific Groth16 key from freshly sampled toxic waste.
//!
//! NOT FOR PRODUCTION: one party samples τ, α, β, γ, δ and forgets them; anyone who kept
//! them could forge proofs. This is how tests and benchmarks make keys of any size quickly.
//! The key has exactly snarkjs's layout: the QAP over a radix-2 domain with one extra
//! constraint `A[m+i][i] = 1` per public signal (and the constant), A and B coefficients
//! only (the prover computes C = A∘B), and the H table in the odd-coset Lagrange basis.

use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{batch_inversion, AdditiveGroup, FftField, Field, One, UniformRand, Zero};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;

use kiln_algebra::curve::{Curve, G1Affine, G1Projective, G2Affine, G2Projective};
use kiln_formats::{Coeff, Groth16Header, Matrix, R1cs, ZkeyContents};

use super::witness_map::coset_shift;

/// Why a key could not be made for a circuit.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The circuit needs a larger domain than the curve's 2-adic roots allow.
    #[error("the circuit needs a domain of 2^{log} points ({constraints} constraints + {public} public signals + 1); the curve supports at most 2^{max} for Groth16")]
    TooLarge {
        /// log2 of the needed domain.
        log: u32,
        /// log2 of the largest usable domain.
        max: u32,
        /// Constraints in the circuit.
        constraints: usize,
        /// Public signals.
        public: usize,
    },
    /// A constraint names a wire the circuit does not have.
    #[error("constraint {constraint} uses wire {wire}, but the circuit has only {n_wires} wires")]
    WireOutOfRange {
        /// The constraint.
        constraint: usize,
        /// The wire id.
        wire: u32,
        /// Wires in the circuit.
        n_wires: usize,
    },
}

/// Fixed-base multiples `[s_j]·G` for many scalars, normalized to affine.
fn batch_mul_g1<C: Curve>(scalars: &[C::Fr]) -> Vec<G1Affine<C>> {
    let g = G1Affine::<C>::generator().into_group();
    BatchMulPreprocessing::<G1Projective<C>>::new(g, scalars.len()).batch_mul(scalars)
}

fn batch_mul_g2<C: Curve>(scalars: &[C::Fr]) -> Vec<G2Affine<C>> {
    let g = G2Affine::<C>::generator().into_group();
    BatchMulPreprocessing::<G2Projective<C>>::new(g, scalars.len()).batch_mul(scalars)
}

/// A random field element that is neither zero nor in `avoid`.
fn sample_nonzero<F: Field + UniformRand, R: RngCore>(rng: &mut R, avoid: &[F]) -> F {
    loop {
        let x = F::rand(rng);
        if !x.is_zero() && !avoid.contains(&x) {
            return x;
        }
    }
}

/// Makes a Groth16 key for `r1cs` from fresh toxic waste drawn from `rng`.
pub fn setup<C: Curve, R: RngCore + CryptoRng>(
    r1cs: &R1cs<C>,
    rng: &mut R,
) -> Result<ZkeyContents<C>, SetupError> {
    let m = r1cs.constraints.len();
    let n_public = r1cs.n_public();
    let n_vars = r1cs.n_wires;
    let needed = m + n_public + 1;
    let domain_size = needed.max(2).next_power_of_two();
    let log = domain_size.trailing_zeros();
    let max = C::Fr::TWO_ADICITY - 1;
    if log > max {
        return Err(SetupError::TooLarge {
            log,
            max,
            constraints: m,
            public: n_public,
        });
    }
    for (i, c) in r1cs.constraints.iter().enumerate() {
        for (w, _) in c.a.iter().chain(&c.b).chain(&c.c) {
            if *w as usize >= n_vars {
                return Err(SetupError::WireOutOfRange {
                    constraint: i,
                    wire: *w,
                    n_wires: n_vars,
                });
            }
        }
    }

    // The coefficient section: A and B of every constraint, then A[m+i][i] = 1.
    let mut coeffs = Vec::new();
    for (i, c) in r1cs.constraints.iter().enumerate() {
        for (which, lc) in [(Matrix::A, &c.a), (Matrix::B, &c.b)] {
            coeffs.extend(lc.iter().filter(|(_, v)| !v.is_zero()).map(|(w, v)| Coeff {
                matrix: which,
                constraint: i as u32,
                signal: *w,
                value: *v,
            }));
        }
    }
    for i in 0..=n_public {
        coeffs.push(Coeff {
            matrix: Matrix::A,
            constraint: (m + i) as u32,
            signal: i as u32,
            value: C::Fr::one(),
        });
    }

    let omega = C::Fr::get_root_of_unity(domain_size as u64).expect("domain checked above");
    let shift = coset_shift::<C::Fr>(domain_size).expect("domain checked above");
    let n_fr = C::Fr::from(domain_size as u64);
    let powers: Vec<C::Fr> = std::iter::successors(Some(C::Fr::one()), |p| Some(*p * omega))
        .take(domain_size)
        .collect();
    let coset_set: Vec<C::Fr> = powers.iter().map(|p| *p * shift).collect();
    let mut avoid = powers.clone();
    avoid.extend_from_slice(&coset_set);

    // Toxic waste. τ avoids the domain and the coset so every Lagrange term is defined.
    let tau = sample_nonzero(rng, &avoid);
    let alpha = sample_nonzero::<C::Fr, _>(rng, &[]);
    let beta = sample_nonzero::<C::Fr, _>(rng, &[]);
    let gamma = sample_nonzero::<C::Fr, _>(rng, &[]);
    let delta = sample_nonzero(rng, &[gamma]);
    let gamma_inv = gamma.inverse().expect("nonzero");
    let delta_inv = delta.inverse().expect("nonzero");

    // Lagrange basis at τ: L_i(τ) = (τ^n − 1)/n · ω^i/(τ − ω^i).
    let tau_n = tau.pow([domain_size as u64]);
    let z_tau = tau_n - C::Fr::one();
    let mut denoms: Vec<C::Fr> = powers.iter().map(|p| tau - p).collect();
    batch_inversion(&mut denoms);
    let scale = z_tau * n_fr.inverse().expect("nonzero");
    let lagrange: Vec<C::Fr> = powers
        .par_iter()
        .zip(&denoms)
        .map(|(p, d)| scale * p * d)
        .collect();

    // u_j(τ), v_j(τ), w_j(τ) for every signal.
    let mut u = vec![C::Fr::zero(); n_vars];
    let mut v = vec![C::Fr::zero(); n_vars];
    let mut w = vec![C::Fr::zero(); n_vars];
    for (i, c) in r1cs.constraints.iter().enumerate() {
        for (acc, lc) in [(&mut u, &c.a), (&mut v, &c.b), (&mut w, &c.c)] {
            for (wire, coef) in lc {
                acc[*wire as usize] += lagrange[i] * coef;
            }
        }
    }
    for (i, ui) in u.iter_mut().enumerate().take(n_public + 1) {
        *ui += lagrange[m + i];
    }

    // IC (public) and C (private) scalars: (β·u + α·v + w)/γ or /δ.
    let k: Vec<C::Fr> = (0..n_vars)
        .into_par_iter()
        .map(|j| beta * u[j] + alpha * v[j] + w[j])
        .collect();
    let ic_scalars: Vec<C::Fr> = k[..=n_public].iter().map(|x| *x * gamma_inv).collect();
    let c_scalars: Vec<C::Fr> = k[n_public + 1..].iter().map(|x| *x * delta_inv).collect();

    // H_i = Z(τ)·(τ^n + 1)·x_i / (2n·δ·(τ − x_i)) with x_i = g·ω^i on the odd coset.
    let mut hden: Vec<C::Fr> = coset_set.iter().map(|x| tau - x).collect();
    batch_inversion(&mut hden);
    let hscale =
        z_tau * (tau_n + C::Fr::one()) * (n_fr.double() * delta).inverse().expect("nonzero");
    let h_scalars: Vec<C::Fr> = coset_set
        .par_iter()
        .zip(&hden)
        .map(|(x, d)| hscale * x * d)
        .collect();

    let g1 = G1Affine::<C>::generator();
    let g2 = G2Affine::<C>::generator();
    let header = Groth16Header {
        n_vars,
        n_public,
        domain_size,
        alpha1: (g1 * alpha).into_affine(),
        beta1: (g1 * beta).into_affine(),
        beta2: (g2 * beta).into_affine(),
        gamma2: (g2 * gamma).into_affine(),
        delta1: (g1 * delta).into_affine(),
        delta2: (g2 * delta).into_affine(),
    };
    Ok(ZkeyContents {
        header,
        ic: batch_mul_g1::<C>(&ic_scalars),
        coeffs,
        a: batch_mul_g1::<C>(&u),
        b1: batch_mul_g1::<C>(&v),
        b2: batch_mul_g2::<C>(&v),
        c: batch_mul_g1::<C>(&c_scalars),
        h: batch_mul_g1::<C>(&h_scalars),
    })
}
