//! Writing Groth16 `.zkey` files that snarkjs and rapidsnark accept.
//!
//! Sections are written in the order `snarkjs groth16 setup` writes them (1, 2, 4, 3, 9,
//! 8, 5, 6, 7, 10), with the same encodings the reader expects; section 10 holds a zero
//! circuit hash and no contributions. The file appears atomically (temp file + rename).

use std::io::Write;
use std::path::Path;

use super::atomic::write_atomically;
use super::binfile::{write_file_header, write_section_header};
use super::codec::{g1_len, g1_to_mont, g2_len, g2_to_mont, modulus_le, FrCodec};
use super::error::FormatError;
use super::zkey::{prover_type, section, Coeff, Groth16Header};
use kiln_algebra::curve::{Curve, G1Affine, G2Affine};

/// Bytes of the (zero) circuit hash at the start of section 10.
const CS_HASH_LEN: usize = 64;

/// Everything in a Groth16 zkey, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct ZkeyContents<C: Curve> {
    /// Section 2.
    pub header: Groth16Header<C>,
    /// Section 3: `nPublic + 1` points.
    pub ic: Vec<G1Affine<C>>,
    /// Section 4: sparse A/B coefficients with true values.
    pub coeffs: Vec<Coeff<C::Fr>>,
    /// Section 5: `nVars` points.
    pub a: Vec<G1Affine<C>>,
    /// Section 6: `nVars` points.
    pub b1: Vec<G1Affine<C>>,
    /// Section 7: `nVars` points.
    pub b2: Vec<G2Affine<C>>,
    /// Section 8: `nVars − nPublic − 1` points.
    pub c: Vec<G1Affine<C>>,
    /// Section 9: `domainSize` points.
    pub h: Vec<G1Affine<C>>,
}

/// Writes `z` to `path` as a Groth16 zkey (atomically). Fails without touching `path` if
/// the tables disagree with the header.
pub fn write_zkey<C: Curve>(path: &Path, z: &ZkeyContents<C>) -> Result<(), FormatError> {
    check_consistent(path, z)?;
    let hd = &z.header;
    let (g1, g2) = (g1_len::<C>() as u64, g2_len::<C>() as u64);
    let (nq, nr) = (C::FQ_BYTES, C::FR_BYTES);
    let header_len = (4 + nq + 4 + nr + 12) as u64 + 3 * g1 + 3 * g2;
    let coeff_len = 4 + z.coeffs.len() as u64 * (12 + nr) as u64;
    write_atomically(path, |w| {
        write_file_header(w, "zkey", 1, 10)?;

        write_section_header(w, section::PROVER_TYPE, 4)?;
        w.write_all(&prover_type::GROTH16.to_le_bytes())?;

        write_section_header(w, section::HEADER, header_len)?;
        w.write_all(&(nq as u32).to_le_bytes())?;
        w.write_all(&modulus_le::<C::Fq>(nq))?;
        w.write_all(&(nr as u32).to_le_bytes())?;
        w.write_all(&modulus_le::<C::Fr>(nr))?;
        for v in [hd.n_vars, hd.n_public, hd.domain_size] {
            w.write_all(&(v as u32).to_le_bytes())?;
        }
        write_g1s::<C>(w, &[hd.alpha1, hd.beta1])?;
        write_g2s::<C>(w, &[hd.beta2, hd.gamma2])?;
        write_g1s::<C>(w, &[hd.delta1])?;
        write_g2s::<C>(w, &[hd.delta2])?;

        write_section_header(w, section::COEFFS, coeff_len)?;
        w.write_all(&(z.coeffs.len() as u32).to_le_bytes())?;
        let codec = FrCodec::<C>::new();
        let mut value = vec![0u8; nr];
        for c in &z.coeffs {
            w.write_all(&c.matrix.id().to_le_bytes())?;
            w.write_all(&c.constraint.to_le_bytes())?;
            w.write_all(&c.signal.to_le_bytes())?;
            codec.write_doubly_mont(&c.value, &mut value);
            w.write_all(&value)?;
        }

        for (id, points) in [(section::IC, &z.ic), (section::H, &z.h), (section::C, &z.c)] {
            write_section_header(w, id, points.len() as u64 * g1)?;
            write_g1s::<C>(w, points)?;
        }
        for (id, points) in [(section::A, &z.a), (section::B1, &z.b1)] {
            write_section_header(w, id, points.len() as u64 * g1)?;
            write_g1s::<C>(w, points)?;
        }
        write_section_header(w, section::B2, z.b2.len() as u64 * g2)?;
        write_g2s::<C>(w, &z.b2)?;

        write_section_header(w, section::CONTRIBUTIONS, CS_HASH_LEN as u64 + 4)?;
        w.write_all(&[0u8; CS_HASH_LEN])?;
        w.write_all(&0u32.to_le_bytes())
    })
}

fn write_g1s<C: Curve>(w: &mut impl Write, points: &[G1Affine<C>]) -> std::io::Result<()> {
    let mut buf = vec![0u8; g1_len::<C>()];
    for p in points {
        g1_to_mont::<C>(p, &mut buf);
        w.write_all(&buf)?;
    }
    Ok(())
}

fn write_g2s<C: Curve>(w: &mut impl Write, points: &[G2Affine<C>]) -> std::io::Result<()> {
    let mut buf = vec![0u8; g2_len::<C>()];
    for p in points {
        g2_to_mont::<C>(p, &mut buf);
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Checks that the tables' lengths and coefficient indices agree with the header.
fn check_consistent<C: Curve>(path: &Path, z: &ZkeyContents<C>) -> Result<(), FormatError> {
    let bad = |problem: String| {
        Err(FormatError::Inconsistent {
            path: path.to_path_buf(),
            problem,
        })
    };
    let hd = &z.header;
    let limit = u32::MAX as usize;
    if hd.n_vars > limit || hd.domain_size > limit || z.coeffs.len() > limit {
        return bad(format!(
            "nVars {}, domainSize {} and the coefficient count {} must fit in 32 bits",
            hd.n_vars,
            hd.domain_size,
            z.coeffs.len()
        ));
    }
    if hd.n_public >= hd.n_vars {
        return bad(format!(
            "nPublic {} plus the constant 1 exceeds nVars {}",
            hd.n_public, hd.n_vars
        ));
    }
    if !hd.domain_size.is_power_of_two() {
        return bad(format!(
            "domainSize {} is not a power of two",
            hd.domain_size
        ));
    }
    let n_private = hd.n_vars - hd.n_public - 1;
    let tables = [
        ("IC", z.ic.len(), hd.n_public + 1, "nPublic + 1"),
        ("A", z.a.len(), hd.n_vars, "nVars"),
        ("B1", z.b1.len(), hd.n_vars, "nVars"),
        ("B2", z.b2.len(), hd.n_vars, "nVars"),
        ("C", z.c.len(), n_private, "nVars - nPublic - 1"),
        ("H", z.h.len(), hd.domain_size, "domainSize"),
    ];
    for (name, found, expected, rule) in tables {
        if found != expected {
            return bad(format!(
                "the {name} table has {found} points; expected {rule} = {expected}"
            ));
        }
    }
    for (i, c) in z.coeffs.iter().enumerate() {
        if c.constraint as usize >= hd.domain_size || c.signal as usize >= hd.n_vars {
            return bad(format!(
                "coefficient {i} at (constraint {}, signal {}) lies outside domainSize {} x nVars {}",
                c.constraint, c.signal, hd.domain_size, hd.n_vars
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{fixture, fixture_bytes, run_snarkjs, snarkjs};
    use crate::json::{to_snarkjs_string, vk_to_json};
    use crate::zkey::Zkey;
    use kiln_algebra::curve::Bn254;

    fn contents(name: &str) -> ZkeyContents<Bn254> {
        Zkey::<Bn254>::open(&fixture(name))
            .unwrap()
            .contents()
            .unwrap()
    }

    #[test]
    fn write_then_read_back_is_equal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.zkey");
        let z = contents("mul.zkey");
        write_zkey(&p, &z).unwrap();
        assert_eq!(Zkey::<Bn254>::open(&p).unwrap().contents().unwrap(), z);
    }

    #[test]
    fn matches_snarkjs_setup_output_byte_for_byte_except_the_circuit_hash() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.zkey");
        write_zkey(&p, &contents("mul_setup.zkey")).unwrap();
        let mut want = fixture_bytes("mul_setup.zkey");
        // Section 10 is last: 12-byte header, 64-byte csHash, u32 0 contributions.
        let hash = want.len() - 4 - CS_HASH_LEN;
        want[hash..hash + CS_HASH_LEN].fill(0);
        assert_eq!(std::fs::read(&p).unwrap(), want);
    }

    #[test]
    fn inconsistent_contents_are_refused_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.zkey");
        let mut z = contents("mul.zkey");
        z.h.pop();
        let e = write_zkey(&p, &z).unwrap_err().to_string();
        assert!(
            e.contains("the H table has 7 points; expected domainSize = 8"),
            "{e}"
        );
        let mut z = contents("mul.zkey");
        z.coeffs[0].signal = 99;
        let e = write_zkey(&p, &z).unwrap_err().to_string();
        assert!(
            e.contains("coefficient 0") && e.contains("signal 99"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn snarkjs_exports_the_same_verification_key_from_a_written_zkey() {
        let Some(snarkjs) = snarkjs() else { return };
        let dir = tempfile::tempdir().unwrap();
        let zkey = dir.path().join("kiln.zkey");
        let vk = dir.path().join("vk.json");
        let z = contents("mul.zkey");
        write_zkey(&zkey, &z).unwrap();
        run_snarkjs(
            &snarkjs,
            &[
                "zkey".as_ref(),
                "export".as_ref(),
                "verificationkey".as_ref(),
                zkey.as_os_str(),
                vk.as_os_str(),
            ],
        );
        let ours = to_snarkjs_string(&vk_to_json(&z.header, &z.ic)).unwrap();
        assert_eq!(std::fs::read_to_string(&vk).unwrap(), ours);
    }
}
