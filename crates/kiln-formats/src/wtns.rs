//! Witness files (`.wtns`), as written by circom's witness calculators and snarkjs.
//!
//! Magic "wtns", version 2 (version 1 has the same layout and is read too). Section 1:
//! u32 n8, the scalar field prime (n8 bytes), u32 nWitness. Section 2: nWitness values,
//! each n8 bytes, canonical little-endian (not Montgomery) and below the prime.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use super::atomic::write_atomically;
use super::binfile::{
    write_file_header, write_section_header, BinFile, FileSpec, SectionReader, SectionTable,
};
use super::codec::{le_decimal, modulus_decimal, modulus_le, read_prime, FrCodec};
use super::error::FormatError;
use kiln_algebra::curve::Curve;

/// The container spec of `.wtns` files.
pub fn wtns_spec() -> FileSpec {
    FileSpec {
        magic: "wtns",
        kind: ".wtns",
        versions: 1..=2,
    }
}

/// A decoded witness: every wire's value, `values[0]` being the constant 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wtns<C: Curve> {
    /// The wire values, in wire order.
    pub values: Vec<C::Fr>,
}

/// Reads a `.wtns` file (memory-mapped).
pub fn read_wtns<C: Curve>(path: &Path) -> Result<Wtns<C>, FormatError> {
    let file = BinFile::open(path, &wtns_spec())?;
    parse::<C>(file.bytes(), file.table(), path)
}

/// Reads a `.wtns` held in memory; `name` stands in for the path in errors.
pub fn read_wtns_bytes<C: Curve>(
    bytes: &[u8],
    name: impl AsRef<Path>,
) -> Result<Wtns<C>, FormatError> {
    let path = name.as_ref();
    let table = SectionTable::parse(bytes, path, &wtns_spec())?;
    parse::<C>(bytes, &table, path)
}

fn parse<C: Curve>(
    bytes: &[u8],
    table: &SectionTable,
    path: &Path,
) -> Result<Wtns<C>, FormatError> {
    let s1 = table.require(1, "witness header", path)?;
    let mut r = SectionReader::new(&bytes[s1.range()], s1.id, s1.offset, path);
    read_prime::<C::Fr>(
        &mut r,
        C::FR_BYTES,
        "field element size n8",
        "field modulus",
        C::SNARKJS_NAME,
    )?;
    let n = r.u32("nWitness")? as usize;
    r.finish("the witness header")?;

    let s2 = table.require(2, "witness values", path)?;
    let n8 = C::FR_BYTES;
    let expected = n as u64 * n8 as u64;
    if s2.len != expected {
        return Err(FormatError::SectionSize {
            path: path.to_path_buf(),
            section: 2,
            name: "witness values",
            offset: s2.offset,
            expected,
            found: s2.len,
            why: format!("nWitness = {n} values of {n8} bytes"),
        });
    }
    let r = SectionReader::new(&bytes[s2.range()], s2.id, s2.offset, path);
    let codec = FrCodec::<C>::new();
    let values = bytes[s2.range()]
        .par_chunks_exact(n8)
        .enumerate()
        .map(|(i, b)| {
            codec.canonical(b).ok_or_else(|| {
                r.invalid_at(
                    s2.offset + (i * n8) as u64,
                    format!("witness value {i}"),
                    format!(
                        "{} is not below the field modulus {}",
                        le_decimal(b),
                        modulus_decimal::<C::Fr>()
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Wtns { values })
}

/// Writes `values` as a version-2 `.wtns` file (atomically).
pub fn write_wtns<C: Curve>(path: &Path, values: &[C::Fr]) -> Result<(), FormatError> {
    if values.len() > u32::MAX as usize {
        return Err(FormatError::Inconsistent {
            path: path.to_path_buf(),
            problem: format!("{} witness values do not fit in 32 bits", values.len()),
        });
    }
    let n8 = C::FR_BYTES;
    write_atomically(path, |w| {
        write_file_header(w, "wtns", 2, 2)?;
        write_section_header(w, 1, (4 + n8 + 4) as u64)?;
        w.write_all(&(n8 as u32).to_le_bytes())?;
        w.write_all(&modulus_le::<C::Fr>(n8))?;
        w.write_all(&(values.len() as u32).to_le_bytes())?;
        write_section_header(w, 2, (values.len() * n8) as u64)?;
        let codec = FrCodec::<C>::new();
        let mut buf = vec![0u8; n8];
        for v in values {
            codec.write_canonical(v, &mut buf);
            w.write_all(&buf)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::modulus_le;
    use crate::fixtures::{container, fixture, fixture_bytes, sections_of};
    use kiln_algebra::curve::Bn254;

    type Fr = ark_bn254::Fr;

    fn read(b: &[u8]) -> Result<Wtns<Bn254>, FormatError> {
        read_wtns_bytes::<Bn254>(b, "t.wtns")
    }

    #[test]
    fn reads_a_real_witness() {
        // input a = 3, b = 11: wires are [1, c = (a·b)² + a, a, b, t = a·b].
        let w = read_wtns::<Bn254>(&fixture("mul.wtns")).unwrap();
        let want: Vec<Fr> = [1u64, 1092, 3, 11, 33]
            .iter()
            .map(|&x| Fr::from(x))
            .collect();
        assert_eq!(w.values, want);
        assert_eq!(read(&fixture_bytes("mul.wtns")).unwrap(), w);
    }

    #[test]
    fn write_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.wtns");
        let w = read_wtns::<Bn254>(&fixture("mul.wtns")).unwrap();
        write_wtns::<Bn254>(&p, &w.values).unwrap();
        // snarkjs' writer produces the same bytes.
        assert_eq!(std::fs::read(&p).unwrap(), fixture_bytes("mul.wtns"));
        let values = vec![-Fr::from(1u64), Fr::from(0u64), Fr::from(u64::MAX)];
        write_wtns::<Bn254>(&p, &values).unwrap();
        assert_eq!(read_wtns::<Bn254>(&p).unwrap().values, values);
        write_wtns::<Bn254>(&p, &[]).unwrap();
        assert!(read_wtns::<Bn254>(&p).unwrap().values.is_empty());
    }

    #[test]
    fn refuses_other_curves_and_out_of_range_values() {
        let orig = fixture_bytes("mul.wtns");
        // Section 1 body starts at 24: n8 (4 bytes) then the prime.
        let mut b = orig.clone();
        b[28] ^= 1;
        let e = read(&b).unwrap_err().to_string();
        assert!(
            e.contains("wrong curve: field modulus at byte offset 28") && e.contains("not bn128's"),
            "{e}"
        );
        let mut b = orig.clone();
        b[24] = 48;
        let e = read(&b).unwrap_err().to_string();
        assert!(e.contains("wrong curve") && e.contains("48 bytes"), "{e}");
        // Section 2 body starts at 76; value 2 at 76 + 64.
        let mut b = orig;
        b[140..172].copy_from_slice(&modulus_le::<Fr>(32));
        let e = read(&b).unwrap_err().to_string();
        assert!(
            e.contains("section 2, byte offset 140: witness value 2: ")
                && e.contains("is not below the field modulus"),
            "{e}"
        );
    }

    #[test]
    fn wrong_count_magic_version_and_missing_sections() {
        let orig = fixture_bytes("mul.wtns");
        let mut b = orig.clone();
        b[60..64].copy_from_slice(&6u32.to_le_bytes());
        let e = read(&b).unwrap_err().to_string();
        assert!(
            e.contains("section 2 (witness values)") && e.contains("expected 192"),
            "{e}"
        );
        let mut b = orig.clone();
        b[4] = 3;
        assert!(read(&b)
            .unwrap_err()
            .to_string()
            .contains("unsupported .wtns version 3"));
        let e = read(&fixture_bytes("mul.r1cs")).unwrap_err().to_string();
        assert!(e.contains("expected magic \"wtns\""), "{e}");
        let mut s = sections_of(&orig);
        s.remove(1);
        let e = read(&container("wtns", 2, &s)).unwrap_err().to_string();
        assert!(
            e.contains("required section 2 (witness values) is missing"),
            "{e}"
        );
        // Version 1 files have the same layout.
        let s = sections_of(&orig);
        assert!(read(&container("wtns", 1, &s)).is_ok());
    }

    #[test]
    fn every_truncation_is_refused_and_flips_never_panic() {
        let orig = fixture_bytes("mul.wtns");
        for len in 0..orig.len() {
            assert!(read(&orig[..len]).is_err(), "prefix of {len} bytes parsed");
        }
        for i in 0..orig.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = orig.clone();
                b[i] ^= mask;
                let _ = read(&b);
            }
        }
    }
}
