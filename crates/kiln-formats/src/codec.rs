//! Byte and decimal encodings of field elements and curve points used by the iden3 files.
//!
//! Three encodings of a scalar-field element `c` occur:
//! - canonical little-endian (`.wtns`, `.r1cs`): the bytes hold `c`;
//! - Montgomery (zkey points, via [`Curve::fr_from_mont_le`]): the bytes hold `c·R`;
//! - "doubly Montgomery" (zkey section 4): the bytes hold `c·R²`.
//!
//! All three are decoded with one Montgomery read plus one multiplication by a cached
//! constant (`R` or `R⁻¹`), which also performs the range check (`bytes < modulus`).
//! Points are uncompressed affine `x, y` with each coordinate in Montgomery form, G2
//! coordinates as `(c0, c1)`, and the all-zero encoding meaning the point at infinity.

use ark_ec::short_weierstrass::Affine;
use ark_ec::AffineRepr;
use ark_ff::{Field, PrimeField, Zero};
use num_bigint::BigUint;

use super::binfile::SectionReader;
use super::error::FormatError;
use kiln_algebra::curve::{Curve, G1Affine, G2Affine};

/// `2^(8·n8) mod p` as a field element: the Montgomery radix for `n8`-byte elements.
pub fn montgomery_radix<F: PrimeField>(n8: usize) -> F {
    F::from(2u64).pow([8 * n8 as u64])
}

/// The field modulus as `n8` little-endian bytes.
pub fn modulus_le<F: PrimeField>(n8: usize) -> Vec<u8> {
    let m: BigUint = F::MODULUS.into();
    let mut b = m.to_bytes_le();
    b.resize(n8.max(b.len()), 0);
    b
}

/// The field modulus in decimal.
pub fn modulus_decimal<F: PrimeField>() -> String {
    let m: BigUint = F::MODULUS.into();
    m.to_string()
}

/// Little-endian bytes rendered as a decimal integer (for messages).
pub fn le_decimal(bytes: &[u8]) -> String {
    BigUint::from_bytes_le(bytes).to_string()
}

/// Encoders/decoders for scalar-field elements, with the constants they need cached.
#[derive(Clone, Copy, Debug)]
pub struct FrCodec<C: Curve> {
    r: C::Fr,
    r_inv: C::Fr,
}

impl<C: Curve> Default for FrCodec<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Curve> FrCodec<C> {
    /// Builds the codec (computes `R` and `R⁻¹` once).
    pub fn new() -> Self {
        let r = montgomery_radix::<C::Fr>(C::FR_BYTES);
        let r_inv = r.inverse().unwrap_or_else(C::Fr::zero);
        FrCodec { r, r_inv }
    }

    /// Decodes canonical little-endian bytes; `None` if not below the modulus.
    pub fn canonical(&self, bytes: &[u8]) -> Option<C::Fr> {
        C::fr_from_mont_le(bytes).map(|x| x * self.r)
    }

    /// Encodes as canonical little-endian bytes (`out` is `FR_BYTES` long).
    pub fn write_canonical(&self, x: &C::Fr, out: &mut [u8]) {
        C::fr_to_mont_le(&(*x * self.r_inv), out)
    }

    /// Decodes zkey section 4's doubly-Montgomery bytes (`c·R²`) to `c`.
    pub fn doubly_mont(&self, bytes: &[u8]) -> Option<C::Fr> {
        C::fr_from_mont_le(bytes).map(|x| x * self.r_inv)
    }

    /// Encodes `c` as zkey section 4's doubly-Montgomery bytes (`c·R²`).
    pub fn write_doubly_mont(&self, x: &C::Fr, out: &mut [u8]) {
        C::fr_to_mont_le(&(*x * self.r), out)
    }
}

/// Why bytes do not decode to an acceptable point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointError {
    /// A coordinate (named, e.g. "x" or "y.c1") is not below the base field modulus.
    Coordinate(&'static str),
    /// The point does not satisfy the curve equation.
    NotOnCurve,
    /// The point is on the curve but outside the prime-order subgroup.
    NotInSubgroup,
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointError::Coordinate(c) => {
                write!(f, "coordinate {c} is not below the base field modulus")
            }
            PointError::NotOnCurve => f.write_str("the point is not on the curve"),
            PointError::NotInSubgroup => {
                f.write_str("the point is not in the prime-order subgroup")
            }
        }
    }
}

/// Bytes of one uncompressed G1 point.
pub fn g1_len<C: Curve>() -> usize {
    2 * C::FQ_BYTES
}

/// Bytes of one uncompressed G2 point.
pub fn g2_len<C: Curve>() -> usize {
    4 * C::FQ_BYTES
}

/// Checks a decoded point: on the curve and in the subgroup.
pub fn check_point<P: ark_ec::short_weierstrass::SWCurveConfig>(
    p: &Affine<P>,
) -> Result<(), PointError> {
    if p.infinity {
        return Ok(());
    }
    if !p.is_on_curve() {
        return Err(PointError::NotOnCurve);
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(PointError::NotInSubgroup);
    }
    Ok(())
}

/// Decodes a G1 point from `g1_len` Montgomery bytes. Only coordinate ranges are checked;
/// call [`check_point`] for curve and subgroup membership.
pub fn g1_from_mont<C: Curve>(b: &[u8]) -> Result<G1Affine<C>, PointError> {
    let n = C::FQ_BYTES;
    if b.iter().all(|&x| x == 0) {
        return Ok(G1Affine::<C>::zero());
    }
    let x = C::fq_from_mont_le(&b[..n]).ok_or(PointError::Coordinate("x"))?;
    let y = C::fq_from_mont_le(&b[n..2 * n]).ok_or(PointError::Coordinate("y"))?;
    Ok(G1Affine::<C>::new_unchecked(x, y))
}

/// Decodes a G2 point from `g2_len` Montgomery bytes (`x.c0, x.c1, y.c0, y.c1`). Only
/// coordinate ranges are checked.
pub fn g2_from_mont<C: Curve>(b: &[u8]) -> Result<G2Affine<C>, PointError> {
    let n = C::FQ_BYTES;
    if b.iter().all(|&x| x == 0) {
        return Ok(G2Affine::<C>::zero());
    }
    let names = ["x.c0", "x.c1", "y.c0", "y.c1"];
    let mut c = [C::Fq::zero(); 4];
    for (i, slot) in c.iter_mut().enumerate() {
        *slot =
            C::fq_from_mont_le(&b[i * n..(i + 1) * n]).ok_or(PointError::Coordinate(names[i]))?;
    }
    Ok(G2Affine::<C>::new_unchecked(
        C::fq2_new(c[0], c[1]),
        C::fq2_new(c[2], c[3]),
    ))
}

/// Encodes a G1 point as `g1_len` Montgomery bytes (all zero for infinity).
pub fn g1_to_mont<C: Curve>(p: &G1Affine<C>, out: &mut [u8]) {
    let n = C::FQ_BYTES;
    match p.xy() {
        None => out[..2 * n].fill(0),
        Some((x, y)) => {
            C::fq_to_mont_le(&x, &mut out[..n]);
            C::fq_to_mont_le(&y, &mut out[n..2 * n]);
        }
    }
}

/// Encodes a G2 point as `g2_len` Montgomery bytes (all zero for infinity).
pub fn g2_to_mont<C: Curve>(p: &G2Affine<C>, out: &mut [u8]) {
    let n = C::FQ_BYTES;
    match p.xy() {
        None => out[..4 * n].fill(0),
        Some((x, y)) => {
            let (x0, x1) = C::fq2_parts(&x);
            let (y0, y1) = C::fq2_parts(&y);
            for (i, c) in [x0, x1, y0, y1].iter().enumerate() {
                C::fq_to_mont_le(c, &mut out[i * n..(i + 1) * n]);
            }
        }
    }
}

/// A prime-field element in decimal (snarkjs JSON style).
pub fn to_decimal<F: PrimeField>(x: &F) -> String {
    let b: BigUint = (*x).into();
    b.to_string()
}

/// Parses a decimal string (ASCII digits only) as a field element; `None` if it is not
/// a decimal integer below the modulus.
pub fn from_decimal<F: PrimeField>(s: &str) -> Option<F> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Longer than any value below the modulus: refused before the (quadratic) parse.
    let max_digits = (F::MODULUS_BIT_SIZE as usize * 30_103).div_ceil(100_000);
    let digits = s.trim_start_matches('0');
    if digits.len() > max_digits {
        return None;
    }
    let v = BigUint::parse_bytes(s.as_bytes(), 10)?;
    let m: BigUint = F::MODULUS.into();
    if v >= m {
        return None;
    }
    Some(F::from(v))
}

/// Parses a field element written as snarkjs reads one: decimal digits, or `0x`/`0X`
/// followed by hex digits; `None` if it is neither or not below the modulus.
pub fn from_integer_text<F: PrimeField>(s: &str) -> Option<F> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
    let Some(digits) = hex else {
        return from_decimal(s);
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    if digits.trim_start_matches('0').len() > (F::MODULUS_BIT_SIZE as usize).div_ceil(4) {
        return None;
    }
    let v = BigUint::parse_bytes(digits.as_bytes(), 16)?;
    let m: BigUint = F::MODULUS.into();
    if v >= m {
        return None;
    }
    Some(F::from(v))
}

/// Reads an element size (`n8q`/`n8r`/`n8`) and the prime after it from a section
/// header, refusing (as a wrong-curve error) anything that is not `F`'s size and modulus.
pub fn read_prime<F: PrimeField>(
    r: &mut SectionReader<'_>,
    n8_expected: usize,
    n8_name: &'static str,
    prime_name: &'static str,
    curve: &'static str,
) -> Result<(), FormatError> {
    let (path, section) = (r.path(), r.section());
    let wrong = |offset: u64, field: &'static str, found: String, expected: String| {
        FormatError::WrongCurve {
            path: path.to_path_buf(),
            section,
            offset,
            field,
            found,
            curve,
            expected,
        }
    };
    let offset = r.offset();
    let n8 = r.u32(n8_name)?;
    if n8 as usize != n8_expected {
        return Err(wrong(
            offset,
            n8_name,
            format!("{n8} bytes"),
            format!("{n8_expected} bytes"),
        ));
    }
    let offset = r.offset();
    let prime = r.take(n8_expected, &|| prime_name.to_string())?;
    if prime != modulus_le::<F>(n8_expected).as_slice() {
        return Err(wrong(
            offset,
            prime_name,
            le_decimal(prime),
            modulus_decimal::<F>(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;
    use ark_ff::{One, UniformRand};
    use kiln_algebra::curve::Bn254;

    type Fr = ark_bn254::Fr;

    #[test]
    fn canonical_round_trip_and_known_bytes() {
        let codec = FrCodec::<Bn254>::new();
        let mut buf = [0u8; 32];
        codec.write_canonical(&Fr::from(17u64), &mut buf);
        let mut want = [0u8; 32];
        want[0] = 17;
        assert_eq!(buf, want);
        assert_eq!(codec.canonical(&want), Some(Fr::from(17u64)));
        let mut rng = ark_std::test_rng();
        for _ in 0..50 {
            let x = Fr::rand(&mut rng);
            codec.write_canonical(&x, &mut buf);
            assert_eq!(BigUint::from_bytes_le(&buf), x.into());
            assert_eq!(codec.canonical(&buf), Some(x));
        }
        assert_eq!(codec.canonical(&modulus_le::<Fr>(32)), None);
    }

    #[test]
    fn integers_are_read_as_decimal_or_hex_below_the_modulus() {
        assert_eq!(from_integer_text::<Fr>("255"), Some(Fr::from(255u64)));
        assert_eq!(from_integer_text::<Fr>("0xff"), Some(Fr::from(255u64)));
        assert_eq!(from_integer_text::<Fr>("0XFF"), Some(Fr::from(255u64)));
        let m: BigUint = Fr::MODULUS.into();
        let below = (&m - 1u8).to_str_radix(16);
        assert_eq!(
            from_integer_text::<Fr>(&format!("0x{below}")),
            Some(-Fr::one())
        );
        for bad in ["", "0x", "-1", "1.0", "1e3", "0xg", " 1", "ff"] {
            assert_eq!(from_integer_text::<Fr>(bad), None, "{bad:?}");
        }
        assert_eq!(
            from_integer_text::<Fr>(&format!("0x{}", m.to_str_radix(16))),
            None
        );
        assert_eq!(from_integer_text::<Fr>(&m.to_string()), None);
        // Leading zeros are fine; a long run of digits is refused without being parsed.
        assert_eq!(
            from_integer_text::<Fr>(&format!("{}7", "0".repeat(1000))),
            Some(Fr::from(7u64))
        );
        assert_eq!(
            from_integer_text::<Fr>(&format!("0x{}7", "0".repeat(1000))),
            Some(Fr::from(7u64))
        );
        // (Parsed, ten million digits would take hours: this test would hang.)
        let huge = "9".repeat(10_000_000);
        assert_eq!(from_integer_text::<Fr>(&huge), None);
        assert_eq!(from_integer_text::<Fr>(&format!("0x{huge}")), None);
        let p_minus_1 = (&m - 1u8).to_string();
        assert_eq!(p_minus_1.len(), 77);
        assert_eq!(from_integer_text::<Fr>(&p_minus_1), Some(-Fr::one()));
    }

    #[test]
    fn doubly_montgomery_holds_c_times_r_squared() {
        let codec = FrCodec::<Bn254>::new();
        let r: BigUint = Fr::MODULUS.into();
        let big_r = (BigUint::one() << 256) % &r;
        let c = Fr::from(5u64);
        let mut buf = [0u8; 32];
        codec.write_doubly_mont(&c, &mut buf);
        assert_eq!(
            BigUint::from_bytes_le(&buf),
            BigUint::from(5u8) * &big_r * &big_r % &r
        );
        assert_eq!(codec.doubly_mont(&buf), Some(c));
    }

    #[test]
    fn points_round_trip_and_infinity_is_all_zero() {
        let mut rng = ark_std::test_rng();
        let p = ark_bn254::G1Projective::rand(&mut rng).into_affine();
        let q = ark_bn254::G2Projective::rand(&mut rng).into_affine();
        let mut b1 = vec![0u8; 64];
        let mut b2 = vec![0u8; 128];
        g1_to_mont::<Bn254>(&p, &mut b1);
        g2_to_mont::<Bn254>(&q, &mut b2);
        assert_eq!(g1_from_mont::<Bn254>(&b1), Ok(p));
        assert_eq!(g2_from_mont::<Bn254>(&b2), Ok(q));
        g1_to_mont::<Bn254>(&G1Affine::<Bn254>::zero(), &mut b1);
        assert!(b1.iter().all(|&x| x == 0));
        assert!(g1_from_mont::<Bn254>(&b1).unwrap().infinity);
        g2_to_mont::<Bn254>(&G2Affine::<Bn254>::zero(), &mut b2);
        assert!(g2_from_mont::<Bn254>(&b2).unwrap().infinity);
    }

    #[test]
    fn bad_points_are_named() {
        let mut b = vec![0u8; 128];
        b[64..96].copy_from_slice(&modulus_le::<ark_bn254::Fq>(32));
        assert_eq!(
            g2_from_mont::<Bn254>(&b),
            Err(PointError::Coordinate("y.c0"))
        );
        let mut b = vec![0u8; 64];
        b[0] = 1;
        let p = g1_from_mont::<Bn254>(&b).unwrap();
        assert_eq!(check_point(&p), Err(PointError::NotOnCurve));
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(from_decimal::<Fr>("17"), Some(Fr::from(17u64)));
        assert_eq!(to_decimal(&Fr::from(17u64)), "17");
        for bad in ["", "-1", "+1", "0x11", "1 ", "1e3"] {
            assert_eq!(from_decimal::<Fr>(bad), None, "{bad:?}");
        }
        assert_eq!(from_decimal::<Fr>(&modulus_decimal::<Fr>()), None);
    }
}
