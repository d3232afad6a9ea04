//! Input generators shared by the MSM tests and the device conformance suite: random and
//! adversarial points, uniform and circom-witness-like scalars.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::PrimeField;
use ark_std::UniformRand;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// `n` distinct points `s*G + i*H` (cheap to make: one addition each).
pub fn points<P: SWCurveConfig>(n: usize, rng: &mut ChaCha8Rng) -> Vec<Affine<P>> {
    let h = Projective::<P>::generator() * P::ScalarField::rand(rng);
    let mut acc = Projective::<P>::generator() * P::ScalarField::rand(rng);
    let v: Vec<_> = (0..n)
        .map(|_| {
            acc += h;
            acc
        })
        .collect();
    Projective::normalize_batch(&v)
}

/// `n` uniformly random field elements.
pub fn random_scalars<F: PrimeField>(n: usize, rng: &mut ChaCha8Rng) -> Vec<F> {
    (0..n).map(|_| F::rand(rng)).collect()
}

/// Scalars a circom witness would have: zeros, ones, -1, small values, equal values, and
/// random field elements.
pub fn witness_like<F: PrimeField>(n: usize, rng: &mut ChaCha8Rng) -> Vec<F> {
    (0..n)
        .map(|_| match rng.gen_range(0..8) {
            0 | 1 => F::zero(),
            2 => F::one(),
            3 => -F::one(),
            4 => F::from(rng.gen_range(2u64..1000)),
            5 => F::from(12345u64),
            _ => F::rand(rng),
        })
        .collect()
}

/// Bases with the same point many times, a point next to its negation, and infinity.
pub fn adversarial_points<P: SWCurveConfig>(n: usize, rng: &mut ChaCha8Rng) -> Vec<Affine<P>> {
    let mut v = points::<P>(n, rng);
    for i in 0..n {
        match i % 7 {
            1 => v[i] = v[0],
            3 => v[i] = -v[i - 1],
            5 => v[i] = Affine::zero(),
            _ => {}
        }
    }
    v
}
