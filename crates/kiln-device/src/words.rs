//! Host ↔ device data layout shared by the accelerator backends (the GPU kernels in `kernels/`,
//! the FPGA card's engines in `hw/`): field elements as
//! eight little-endian 32-bit words of their Montgomery form (R = 2^256, so the bytes are
//! arkworks' own), affine points as (x, y) with (0, 0) for infinity, Fq2 as (c0, c1),
//! MSM scalars as canonical (non-Montgomery) 256-bit integers, and XYZZ bucket points
//! (x = X/ZZ, y = Y/ZZZ) coming back.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ff::{BigInteger, Field, PrimeField, Zero};

use kiln_algebra::curve::{Curve, G1Affine, G1Projective, G2Affine, G2Projective};

/// 32-bit words per base-field element.
pub(crate) const FQ_WORDS: usize = 8;

/// Appends the Montgomery words of an Fq element.
fn push_fq<C: Curve>(x: &C::Fq, out: &mut Vec<u32>) {
    let mut bytes = [0u8; 32];
    C::fq_to_mont_le(x, &mut bytes[..C::FQ_BYTES]);
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])),
    );
}

/// The Fq element in eight Montgomery words (`None` if not a reduced value).
fn read_fq<C: Curve>(words: &[u32]) -> Option<C::Fq> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    C::fq_from_mont_le(&bytes[..C::FQ_BYTES])
}

/// Appends the Montgomery words of an Fr element.
#[cfg(any(feature = "opencl", feature = "cuda"))]
pub(crate) fn push_fr<C: Curve>(x: &C::Fr, out: &mut Vec<u32>) {
    let mut bytes = [0u8; 32];
    C::fr_to_mont_le(x, &mut bytes[..C::FR_BYTES]);
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])),
    );
}

/// The Fr element in eight Montgomery words (`None` if not a reduced value).
#[cfg(any(feature = "opencl", feature = "cuda"))]
pub(crate) fn read_fr<C: Curve>(words: &[u32]) -> Option<C::Fr> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    C::fr_from_mont_le(&bytes[..C::FR_BYTES])
}

/// MSM scalars as canonical integers, eight words each.
pub(crate) fn scalar_words<F: PrimeField>(scalars: &[F]) -> Vec<u32> {
    let mut out = Vec::with_capacity(scalars.len() * 8);
    for s in scalars {
        let bytes = s.into_bigint().to_bytes_le();
        let mut w = [0u32; 8];
        for (k, chunk) in bytes.chunks(4).take(8).enumerate() {
            let mut b = [0u8; 4];
            b[..chunk.len()].copy_from_slice(chunk);
            w[k] = u32::from_le_bytes(b);
        }
        out.extend_from_slice(&w);
    }
    out
}

/// Appends an Fq2 coordinate's words (c0 then c1).
pub(crate) fn g2_push_coord<C: Curve>(x: &C::Fq2, out: &mut Vec<u32>) {
    let (c0, c1) = C::fq2_parts(x);
    push_fq::<C>(&c0, out);
    push_fq::<C>(&c1, out);
}

/// Reads an Fq2 coordinate (16 words).
pub(crate) fn g2_read_coord<C: Curve>(words: &[u32]) -> Option<C::Fq2> {
    Some(C::fq2_new(
        read_fq::<C>(&words[..FQ_WORDS])?,
        read_fq::<C>(&words[FQ_WORDS..2 * FQ_WORDS])?,
    ))
}

/// Affine points as device words: (x, y), infinity as zeros.
pub(crate) fn affine_words<P: SWCurveConfig>(
    points: &[Affine<P>],
    coord_words: usize,
    push: impl Fn(&P::BaseField, &mut Vec<u32>),
) -> Vec<u32> {
    let mut out = Vec::with_capacity(points.len() * 2 * coord_words);
    for p in points {
        if p.infinity {
            out.resize(out.len() + 2 * coord_words, 0);
        } else {
            push(&p.x, &mut out);
            push(&p.y, &mut out);
        }
    }
    out
}

/// XYZZ points (4 coordinates each) read back from a device, as projective points.
/// `None` if any word pattern is not a reduced field element (a device fault).
pub(crate) fn xyzz_points<P: SWCurveConfig>(
    words: &[u32],
    coord_words: usize,
    read: impl Fn(&[u32]) -> Option<P::BaseField>,
) -> Option<Vec<Projective<P>>> {
    let mut out = Vec::with_capacity(words.len() / (4 * coord_words));
    for chunk in words.chunks_exact(4 * coord_words) {
        let c = |k: usize| read(&chunk[k * coord_words..(k + 1) * coord_words]);
        let (x, y, zz, zzz) = (c(0)?, c(1)?, c(2)?, c(3)?);
        if zz.is_zero() {
            out.push(Projective::zero());
            continue;
        }
        // Jacobian with Z = ZZZ / ZZ: Z^2 = ZZ and Z^3 = ZZZ (as ZZ^3 = ZZZ^2), and
        // X_J = x Z^2 = X, Y_J = y Z^3 = Y.
        let z = zzz * zz.inverse()?;
        out.push(Projective::new_unchecked(x, y, z));
    }
    Some(out)
}

/// G1 points for a device table.
pub(crate) fn g1_words<C: Curve>(points: &[G1Affine<C>]) -> Vec<u32> {
    affine_words(points, FQ_WORDS, push_fq::<C>)
}

/// G2 points for a device table.
pub(crate) fn g2_words<C: Curve>(points: &[G2Affine<C>]) -> Vec<u32> {
    affine_words(points, 2 * FQ_WORDS, g2_push_coord::<C>)
}

/// G1 XYZZ points from a device.
pub(crate) fn g1_from_xyzz<C: Curve>(words: &[u32]) -> Option<Vec<G1Projective<C>>> {
    xyzz_points(words, FQ_WORDS, read_fq::<C>)
}

/// G2 XYZZ points from a device.
pub(crate) fn g2_from_xyzz<C: Curve>(words: &[u32]) -> Option<Vec<G2Projective<C>>> {
    xyzz_points(words, 2 * FQ_WORDS, g2_read_coord::<C>)
}
