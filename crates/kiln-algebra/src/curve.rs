//! The pairing curves kiln proves on, and how their field elements are laid out in the
//! circom/snarkjs binary files.
//!
//! Everything above this module (formats, MSM, NTT, devices, the Groth16 pipeline) is
//! generic over [`Curve`], so adding BLS12-381 means one more `impl Curve` here.
//! Field elements in `.zkey` point sections are little-endian Montgomery limbs, which is
//! exactly arkworks' in-memory representation: decoding is a copy plus a range check.

use ark_ec::pairing::Pairing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ff::{BigInt, Field, Fp, MontBackend, MontConfig, PrimeField};

/// A pairing-friendly curve usable by kiln, with its snarkjs naming and byte layouts.
pub trait Curve: Send + Sync + Sized + 'static + Copy + std::fmt::Debug {
    /// Scalar field (the field of witnesses and MSM scalars).
    type Fr: PrimeField;
    /// Base field of G1.
    type Fq: PrimeField;
    /// Base field of G2 (a quadratic extension of `Fq`).
    type Fq2: Field<BasePrimeField = Self::Fq>;
    /// G1 curve parameters.
    type G1: SWCurveConfig<BaseField = Self::Fq, ScalarField = Self::Fr>;
    /// G2 curve parameters.
    type G2: SWCurveConfig<BaseField = Self::Fq2, ScalarField = Self::Fr>;
    /// The arkworks pairing engine for this curve.
    type Engine: Pairing<
        ScalarField = Self::Fr,
        BaseField = Self::Fq,
        G1 = Projective<Self::G1>,
        G1Affine = Affine<Self::G1>,
        G2 = Projective<Self::G2>,
        G2Affine = Affine<Self::G2>,
    >;

    /// The curve's name in snarkjs JSON (`"curve": "bn128"`).
    const SNARKJS_NAME: &'static str;
    /// Bytes per base-field element in iden3 binary files (`n8q`).
    const FQ_BYTES: usize;
    /// Bytes per scalar-field element in iden3 binary files (`n8r`).
    const FR_BYTES: usize;

    /// Decodes a base-field element from little-endian Montgomery bytes (`FQ_BYTES` long).
    /// Returns `None` when the value is not below the modulus.
    fn fq_from_mont_le(bytes: &[u8]) -> Option<Self::Fq>;
    /// Encodes a base-field element as little-endian Montgomery bytes.
    fn fq_to_mont_le(x: &Self::Fq, out: &mut [u8]);
    /// Decodes a scalar-field element from little-endian Montgomery bytes.
    fn fr_from_mont_le(bytes: &[u8]) -> Option<Self::Fr>;
    /// Encodes a scalar-field element as little-endian Montgomery bytes.
    fn fr_to_mont_le(x: &Self::Fr, out: &mut [u8]);
    /// Builds `c0 + c1·u` in `Fq2`.
    fn fq2_new(c0: Self::Fq, c1: Self::Fq) -> Self::Fq2;
    /// Splits an `Fq2` element into `(c0, c1)`.
    fn fq2_parts(x: &Self::Fq2) -> (Self::Fq, Self::Fq);
}

/// Reads `N` little-endian u64 limbs; `None` if `bytes` is not exactly `8·N` long.
fn limbs_le<const N: usize>(bytes: &[u8]) -> Option<BigInt<N>> {
    if bytes.len() != 8 * N {
        return None;
    }
    let mut limbs = [0u64; N];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().ok()?);
    }
    Some(BigInt::new(limbs))
}

/// Interprets little-endian bytes as a Montgomery-form element of a Montgomery prime field.
pub fn mont_from_le<T: MontConfig<N>, const N: usize>(
    bytes: &[u8],
) -> Option<Fp<MontBackend<T, N>, N>> {
    let raw = limbs_le::<N>(bytes)?;
    if raw >= T::MODULUS {
        return None;
    }
    Some(Fp::new_unchecked(raw))
}

/// Writes the Montgomery form of a field element as little-endian bytes.
pub fn mont_to_le<T: MontConfig<N>, const N: usize>(x: &Fp<MontBackend<T, N>, N>, out: &mut [u8]) {
    for (chunk, limb) in out.chunks_exact_mut(8).zip(x.0 .0.iter()) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
}

/// BN254 (alt_bn128), the curve of circom, snarkjs and the Ethereum precompiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bn254;

impl Curve for Bn254 {
    type Fr = ark_bn254::Fr;
    type Fq = ark_bn254::Fq;
    type Fq2 = ark_bn254::Fq2;
    type G1 = ark_bn254::g1::Config;
    type G2 = ark_bn254::g2::Config;
    type Engine = ark_bn254::Bn254;

    const SNARKJS_NAME: &'static str = "bn128";
    const FQ_BYTES: usize = 32;
    const FR_BYTES: usize = 32;

    fn fq_from_mont_le(bytes: &[u8]) -> Option<Self::Fq> {
        mont_from_le(bytes)
    }
    fn fq_to_mont_le(x: &Self::Fq, out: &mut [u8]) {
        mont_to_le(x, out)
    }
    fn fr_from_mont_le(bytes: &[u8]) -> Option<Self::Fr> {
        mont_from_le(bytes)
    }
    fn fr_to_mont_le(x: &Self::Fr, out: &mut [u8]) {
        mont_to_le(x, out)
    }
    fn fq2_new(c0: Self::Fq, c1: Self::Fq) -> Self::Fq2 {
        ark_bn254::Fq2::new(c0, c1)
    }
    fn fq2_parts(x: &Self::Fq2) -> (Self::Fq, Self::Fq) {
        (x.c0, x.c1)
    }
}

/// Shorthand: affine G1 point of curve `C`.
pub type G1Affine<C> = Affine<<C as Curve>::G1>;
/// Shorthand: projective G1 point of curve `C`.
pub type G1Projective<C> = Projective<<C as Curve>::G1>;
/// Shorthand: affine G2 point of curve `C`.
pub type G2Affine<C> = Affine<<C as Curve>::G2>;
/// Shorthand: projective G2 point of curve `C`.
pub type G2Projective<C> = Projective<<C as Curve>::G2>;

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{One, UniformRand};

    #[test]
    fn montgomery_bytes_round_trip() {
        let mut rng = ark_std::test_rng();
        for _ in 0..100 {
            let x = ark_bn254::Fq::rand(&mut rng);
            let mut buf = [0u8; 32];
            Bn254::fq_to_mont_le(&x, &mut buf);
            assert_eq!(Bn254::fq_from_mont_le(&buf), Some(x));
        }
    }

    #[test]
    fn montgomery_one_is_r_mod_p() {
        // In Montgomery form, 1 is stored as R = 2^256 mod p.
        let mut buf = [0u8; 32];
        Bn254::fr_to_mont_le(&ark_bn254::Fr::one(), &mut buf);
        let r = num_bigint::BigUint::from(1u8) << 256;
        let p: num_bigint::BigUint = ark_bn254::Fr::MODULUS.into();
        assert_eq!(num_bigint::BigUint::from_bytes_le(&buf), r % p);
    }

    #[test]
    fn values_at_or_above_the_modulus_are_refused() {
        let mut buf = [0xffu8; 32];
        assert!(Bn254::fq_from_mont_le(&buf).is_none());
        let p: num_bigint::BigUint = ark_bn254::Fq::MODULUS.into();
        let b = p.to_bytes_le();
        buf = [0u8; 32];
        buf[..b.len()].copy_from_slice(&b);
        assert!(Bn254::fq_from_mont_le(&buf).is_none());
        assert!(Bn254::fq_from_mont_le(&buf[..31]).is_none());
    }
}
