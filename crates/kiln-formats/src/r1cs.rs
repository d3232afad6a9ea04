//! circom constraint systems (`.r1cs`), and checking a witness against them.
//!
//! Magic "r1cs", version 1, sections in any order. Section 1 (header): u32 n8, the prime
//! (n8 bytes), u32 nWires, u32 nPubOut, u32 nPubIn, u32 nPrvIn, u64 nLabels,
//! u32 nConstraints. Section 2: per constraint, the linear combinations A, B, C, each a
//! u32 term count followed by (u32 wire id, n8-byte canonical little-endian coefficient)
//! terms. Section 3 (optional): nWires u64 labels. Custom-gate sections (4, 5) are ignored.

use std::path::Path;

use ark_ff::{One, Zero};
use rayon::prelude::*;

use super::binfile::{BinFile, FileSpec, SectionReader, SectionTable};
use super::codec::{le_decimal, modulus_decimal, read_prime, to_decimal, FrCodec};
use super::error::FormatError;
use kiln_algebra::curve::Curve;

/// The container spec of `.r1cs` files.
pub fn r1cs_spec() -> FileSpec {
    FileSpec {
        magic: "r1cs",
        kind: ".r1cs",
        versions: 1..=1,
    }
}

/// One rank-1 constraint `⟨a, w⟩ · ⟨b, w⟩ = ⟨c, w⟩`, each side a list of (wire, coefficient).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint<F> {
    /// The A linear combination.
    pub a: Vec<(u32, F)>,
    /// The B linear combination.
    pub b: Vec<(u32, F)>,
    /// The C linear combination.
    pub c: Vec<(u32, F)>,
}

/// A decoded `.r1cs` file. Wire 0 is the constant 1, then public outputs, public inputs,
/// private inputs, then internal wires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct R1cs<C: Curve> {
    /// Number of wires (witness length).
    pub n_wires: usize,
    /// Number of public outputs.
    pub n_pub_out: usize,
    /// Number of public inputs.
    pub n_pub_in: usize,
    /// Number of private inputs.
    pub n_prv_in: usize,
    /// Number of labels (signals before optimization) in the symbol table.
    pub n_labels: u64,
    /// The constraints, in file order.
    pub constraints: Vec<Constraint<C::Fr>>,
}

/// Why a witness does not satisfy a constraint system.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitnessCheckError {
    /// The witness has the wrong number of values.
    #[error("the witness has {found} values; the circuit has {expected} wires")]
    WrongLength {
        /// Wires in the circuit.
        expected: usize,
        /// Values in the witness.
        found: usize,
    },
    /// `w[0]` (the constant wire) is not 1.
    #[error("witness value 0 (the constant wire) must be 1, found {found}")]
    FirstNotOne {
        /// The value found, in decimal.
        found: String,
    },
    /// A constraint refers to a wire beyond the witness.
    #[error("constraint {index} refers to wire {wire}, but there are only {n_wires} wires")]
    WireOutOfRange {
        /// Constraint index.
        index: usize,
        /// The wire id.
        wire: u32,
        /// Number of wires.
        n_wires: usize,
    },
    /// The first constraint that does not hold.
    #[error("constraint {index} is not satisfied: A·w = {a}, B·w = {b}, but C·w = {c} (expected A·w × B·w)")]
    Unsatisfied {
        /// Constraint index (0-based, file order).
        index: usize,
        /// `⟨a, w⟩` in decimal.
        a: String,
        /// `⟨b, w⟩` in decimal.
        b: String,
        /// `⟨c, w⟩` in decimal.
        c: String,
    },
}

impl<C: Curve> R1cs<C> {
    /// Number of public signals (outputs + public inputs), excluding the constant 1.
    pub fn n_public(&self) -> usize {
        self.n_pub_out + self.n_pub_in
    }

    /// Checks that `w` satisfies every constraint, naming the first that fails.
    pub fn check_witness(&self, w: &[C::Fr]) -> Result<(), WitnessCheckError> {
        if w.len() != self.n_wires {
            return Err(WitnessCheckError::WrongLength {
                expected: self.n_wires,
                found: w.len(),
            });
        }
        if w.first().is_some_and(|x| !x.is_one()) {
            return Err(WitnessCheckError::FirstNotOne {
                found: to_decimal(&w[0]),
            });
        }
        let eval = |index: usize, lc: &[(u32, C::Fr)]| {
            lc.iter().try_fold(C::Fr::zero(), |acc, (wire, k)| {
                match w.get(*wire as usize) {
                    Some(v) => Ok(acc + *k * v),
                    None => Err(WitnessCheckError::WireOutOfRange {
                        index,
                        wire: *wire,
                        n_wires: w.len(),
                    }),
                }
            })
        };
        let check = |(index, k): (usize, &Constraint<C::Fr>)| {
            let (a, b, c) = (eval(index, &k.a)?, eval(index, &k.b)?, eval(index, &k.c)?);
            if a * b == c {
                Ok(())
            } else {
                Err(WitnessCheckError::Unsatisfied {
                    index,
                    a: to_decimal(&a),
                    b: to_decimal(&b),
                    c: to_decimal(&c),
                })
            }
        };
        // Find the first failure in parallel, then report it.
        match self
            .constraints
            .par_iter()
            .enumerate()
            .position_first(|ik| check(ik).is_err())
        {
            Some(i) => check((i, &self.constraints[i])),
            None => Ok(()),
        }
    }
}

/// Reads a `.r1cs` file (memory-mapped).
pub fn read_r1cs<C: Curve>(path: &Path) -> Result<R1cs<C>, FormatError> {
    let file = BinFile::open(path, &r1cs_spec())?;
    parse::<C>(file.bytes(), file.table(), path)
}

/// Reads a `.r1cs` held in memory; `name` stands in for the path in errors.
pub fn read_r1cs_bytes<C: Curve>(
    bytes: &[u8],
    name: impl AsRef<Path>,
) -> Result<R1cs<C>, FormatError> {
    let path = name.as_ref();
    let table = SectionTable::parse(bytes, path, &r1cs_spec())?;
    parse::<C>(bytes, &table, path)
}

fn parse<C: Curve>(
    bytes: &[u8],
    table: &SectionTable,
    path: &Path,
) -> Result<R1cs<C>, FormatError> {
    let s1 = table.require(1, "header", path)?;
    let mut r = SectionReader::new(&bytes[s1.range()], s1.id, s1.offset, path);
    read_prime::<C::Fr>(
        &mut r,
        C::FR_BYTES,
        "field element size n8",
        "field modulus",
        C::SNARKJS_NAME,
    )?;
    let n_wires = r.u32("nWires")? as usize;
    let at = r.offset();
    let n_pub_out = r.u32("nPubOut")? as usize;
    let n_pub_in = r.u32("nPubIn")? as usize;
    let n_prv_in = r.u32("nPrvIn")? as usize;
    let n_labels = r.u64("nLabels")?;
    let n_constraints = r.u32("nConstraints")? as usize;
    r.finish("the header")?;
    // Only the constant and the public signals must be wires: circom --O2 may eliminate
    // private inputs, so nPrvIn can count inputs that have no wire (snarkjs accepts that).
    let n_io = 1 + n_pub_out + n_pub_in;
    if n_io > n_wires {
        return Err(r.invalid_at(
            at,
            "nPubOut + nPubIn".into(),
            format!(
                "1 + nPubOut {n_pub_out} + nPubIn {n_pub_in} = {n_io} exceeds nWires {n_wires}"
            ),
        ));
    }

    let s2 = table.require(2, "constraints", path)?;
    let mut r = SectionReader::new(&bytes[s2.range()], s2.id, s2.offset, path);
    let codec = FrCodec::<C>::new();
    // Each constraint takes at least 12 bytes: never trust the count for allocation.
    let mut constraints = Vec::with_capacity(n_constraints.min(r.remaining() / 12));
    for index in 0..n_constraints {
        let mut lc = |side: &str| read_lc::<C>(&mut r, &codec, index, side, n_wires);
        let a = lc("A")?;
        let b = lc("B")?;
        let c = lc("C")?;
        constraints.push(Constraint { a, b, c });
    }
    r.finish(&format!("{n_constraints} constraints"))?;

    if let Some(s3) = table.unique(3, "wire-to-label map", path)? {
        let expected = n_wires as u64 * 8;
        if s3.len != expected {
            return Err(FormatError::SectionSize {
                path: path.to_path_buf(),
                section: 3,
                name: "wire-to-label map",
                offset: s3.offset,
                expected,
                found: s3.len,
                why: format!("nWires = {n_wires} labels of 8 bytes"),
            });
        }
    }
    Ok(R1cs {
        n_wires,
        n_pub_out,
        n_pub_in,
        n_prv_in,
        n_labels,
        constraints,
    })
}

fn read_lc<C: Curve>(
    r: &mut SectionReader<'_>,
    codec: &FrCodec<C>,
    index: usize,
    side: &str,
    n_wires: usize,
) -> Result<Vec<(u32, C::Fr)>, FormatError> {
    let n8 = C::FR_BYTES;
    let n_terms = r.u32_with(&|| format!("constraint {index} {side} term count"))? as usize;
    let mut terms = Vec::with_capacity(n_terms.min(r.remaining() / (4 + n8)));
    for t in 0..n_terms {
        let at = r.offset();
        let wire = r.u32_with(&|| format!("constraint {index} {side} term {t} wire"))?;
        if wire as usize >= n_wires {
            return Err(r.invalid_at(
                at,
                format!("constraint {index} {side} term {t} wire"),
                format!("{wire} is not below nWires {n_wires}"),
            ));
        }
        let at = r.offset();
        let b = r.take(n8, &|| {
            format!("constraint {index} {side} term {t} coefficient")
        })?;
        let k = codec.canonical(b).ok_or_else(|| {
            r.invalid_at(
                at,
                format!("constraint {index} {side} term {t} coefficient"),
                format!(
                    "{} is not below the field modulus {}",
                    le_decimal(b),
                    modulus_decimal::<C::Fr>()
                ),
            )
        })?;
        terms.push((wire, k));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::modulus_le;
    use crate::fixtures::{container, fixture, fixture_bytes, sections_of};
    use crate::wtns::read_wtns;
    use kiln_algebra::curve::Bn254;

    type Fr = ark_bn254::Fr;

    fn read(b: &[u8]) -> Result<R1cs<Bn254>, FormatError> {
        read_r1cs_bytes::<Bn254>(b, "t.r1cs")
    }

    fn witness() -> Vec<Fr> {
        read_wtns::<Bn254>(&fixture("mul.wtns")).unwrap().values
    }

    #[test]
    fn reads_a_real_r1cs() {
        // circom writes section 2 before section 1.
        let r = read_r1cs::<Bn254>(&fixture("mul.r1cs")).unwrap();
        assert_eq!(
            (r.n_wires, r.n_pub_out, r.n_pub_in, r.n_prv_in),
            (5, 1, 1, 1)
        );
        assert_eq!((r.n_labels, r.constraints.len(), r.n_public()), (5, 2, 2));
        // Constraint 0: t = a·b, as (-a)·b = -t: wires a = 2, b = 3, t = 4.
        let k = &r.constraints[0];
        assert_eq!(k.a, vec![(2, -Fr::from(1u64))]);
        assert_eq!(k.b, vec![(3, Fr::from(1u64))]);
        assert_eq!(k.c, vec![(4, -Fr::from(1u64))]);
        assert_eq!(read(&fixture_bytes("mul.r1cs")).unwrap(), r);
    }

    #[test]
    fn checks_witnesses() {
        let r = read_r1cs::<Bn254>(&fixture("mul.r1cs")).unwrap();
        let w = witness();
        r.check_witness(&w).unwrap();
        let e = r.check_witness(&w[..4]).unwrap_err();
        assert_eq!(
            e,
            WitnessCheckError::WrongLength {
                expected: 5,
                found: 4
            }
        );
        assert_eq!(
            e.to_string(),
            "the witness has 4 values; the circuit has 5 wires"
        );
        let mut bad = w.clone();
        bad[0] = Fr::from(2u64);
        assert!(matches!(
            r.check_witness(&bad),
            Err(WitnessCheckError::FirstNotOne { .. })
        ));
        let mut bad = w.clone();
        bad[1] += Fr::from(1u64); // c = t² + a no longer holds (constraint 1).
        let e = r.check_witness(&bad).unwrap_err();
        assert!(
            matches!(e, WitnessCheckError::Unsatisfied { index: 1, .. }),
            "{e}"
        );
        assert!(
            e.to_string().starts_with("constraint 1 is not satisfied"),
            "{e}"
        );
        let mut bad = w;
        bad[4] += Fr::from(1u64); // t is in both constraints: the first is reported.
        assert!(matches!(
            r.check_witness(&bad),
            Err(WitnessCheckError::Unsatisfied { index: 0, .. })
        ));
        let mut r = r;
        r.constraints[0].a[0].0 = 9;
        assert!(matches!(
            r.check_witness(&witness()),
            Err(WitnessCheckError::WireOutOfRange {
                index: 0,
                wire: 9,
                ..
            })
        ));
    }

    #[test]
    fn bad_values_are_named() {
        let orig = fixture_bytes("mul.r1cs");
        let s = sections_of(&orig);
        let (hdr, cons) = (&s[1], &s[0]);
        assert_eq!((hdr.0, cons.0), (1, 2));
        // Constraint 0, A: count at 0, wire at 4, coefficient at 8.
        let mut c = cons.1.clone();
        c[4..8].copy_from_slice(&5u32.to_le_bytes());
        let e = read(&container("r1cs", 1, &[(2, c), hdr.clone()]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "section 2, byte offset 28: constraint 0 A term 0 wire: 5 is not below nWires 5"
            ),
            "{e}"
        );
        let mut c = cons.1.clone();
        c[8..40].copy_from_slice(&modulus_le::<Fr>(32));
        let e = read(&container("r1cs", 1, &[(2, c), hdr.clone()]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("constraint 0 A term 0 coefficient")
                && e.contains("not below the field modulus"),
            "{e}"
        );
        let mut c = cons.1.clone();
        c.push(0);
        let e = read(&container("r1cs", 1, &[(2, c), hdr.clone()]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1 unexpected trailing bytes after 2 constraints"),
            "{e}"
        );
        let mut h = hdr.1.clone();
        h[4] ^= 1;
        let e = read(&container("r1cs", 1, &[cons.clone(), (1, h)]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("wrong curve: field modulus") && e.contains("not bn128's"),
            "{e}"
        );
        // Header counts after the prime (at 36): nWires, nPubOut, nPubIn, nPrvIn.
        let hdr_at = 12 + 12 + cons.1.len() + 12;
        let mut h = hdr.1.clone();
        h[36 + 8..36 + 12].copy_from_slice(&4u32.to_le_bytes());
        let e = read(&container("r1cs", 1, &[cons.clone(), (1, h)]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("section 1, byte offset {}: nPubOut + nPubIn: 1 + nPubOut 1 + nPubIn 4 = 6 exceeds nWires 5", hdr_at + 36 + 4)),
            "{e}"
        );
        // More private inputs than wires left for them: circom --O2 eliminates private
        // inputs it does not need, and snarkjs reads such files.
        let mut h = hdr.1.clone();
        h[36 + 12..36 + 16].copy_from_slice(&3u32.to_le_bytes());
        let r = read(&container("r1cs", 1, &[cons.clone(), (1, h)])).unwrap();
        assert_eq!((r.n_wires, r.n_public(), r.n_prv_in), (5, 2, 3));
        r.check_witness(&witness()).unwrap();
        let e = read(&container(
            "r1cs",
            1,
            &[(1, hdr.1.clone()), (3, vec![0; 8])],
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("required section 2 (constraints) is missing"),
            "{e}"
        );
        let e = read(&container(
            "r1cs",
            1,
            &[(1, hdr.1.clone()), cons.clone(), (3, vec![0; 8])],
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("section 3 (wire-to-label map)") && e.contains("expected 40"),
            "{e}"
        );
        // The label map is optional.
        read(&container("r1cs", 1, &[(1, hdr.1.clone()), cons.clone()])).unwrap();
        let mut b = orig;
        b[4] = 2;
        assert!(read(&b)
            .unwrap_err()
            .to_string()
            .contains("unsupported .r1cs version 2"));
    }

    #[test]
    fn every_truncation_is_refused_and_flips_never_panic() {
        let orig = fixture_bytes("mul.r1cs");
        for len in 0..orig.len() {
            assert!(read(&orig[..len]).is_err(), "prefix of {len} bytes parsed");
        }
        let w = witness();
        for i in 0..orig.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = orig.clone();
                b[i] ^= mask;
                if let Ok(r) = read(&b) {
                    let _ = r.check_witness(&w);
                }
            }
        }
    }
}

/// Writes `r` as a `.r1cs` file (atomically) that snarkjs and [`read_r1cs`] read: magic
/// "r1cs", version 1, the header (section 1), the constraints in order with their terms as
/// given (section 2) and the wire-to-label map (section 3) with label `i` for wire `i`.
/// `n_labels` is written as given; it must be at least `n_wires` for the map to make sense.
pub fn write_r1cs<C: Curve>(path: &Path, r: &R1cs<C>) -> Result<(), FormatError> {
    use super::atomic::write_atomically;
    use super::binfile::{write_file_header, write_section_header};
    use super::codec::modulus_le;
    use std::io::Write;

    let too_big = |what: &str, n: usize| FormatError::Inconsistent {
        path: path.to_path_buf(),
        problem: format!("{what} = {n} does not fit in the .r1cs header's 32 bits"),
    };
    let u32_of = |what: &str, n: usize| u32::try_from(n).map_err(|_| too_big(what, n));
    let n_wires = u32_of("nWires", r.n_wires)?;
    let n_pub_out = u32_of("nPubOut", r.n_pub_out)?;
    let n_pub_in = u32_of("nPubIn", r.n_pub_in)?;
    let n_prv_in = u32_of("nPrvIn", r.n_prv_in)?;
    let n_constraints = u32_of("nConstraints", r.constraints.len())?;
    let n8 = C::FR_BYTES;
    for (index, k) in r.constraints.iter().enumerate() {
        for (side, lc) in [("A", &k.a), ("B", &k.b), ("C", &k.c)] {
            u32_of(&format!("constraint {index} {side} term count"), lc.len())?;
            if let Some((wire, _)) = lc.iter().find(|(w, _)| *w >= n_wires) {
                return Err(FormatError::Inconsistent {
                    path: path.to_path_buf(),
                    problem: format!(
                        "constraint {index} {side} refers to wire {wire}, but there are only {n_wires} wires"
                    ),
                });
            }
        }
    }
    let body_len: u64 = r
        .constraints
        .iter()
        .map(|k| {
            [&k.a, &k.b, &k.c]
                .iter()
                .map(|lc| 4 + lc.len() as u64 * (4 + n8 as u64))
                .sum::<u64>()
        })
        .sum();
    write_atomically(path, |w| {
        write_file_header(w, "r1cs", 1, 3)?;
        write_section_header(w, 1, (4 + n8 + 4 * 4 + 8 + 4) as u64)?;
        w.write_all(&(n8 as u32).to_le_bytes())?;
        w.write_all(&modulus_le::<C::Fr>(n8))?;
        for x in [n_wires, n_pub_out, n_pub_in, n_prv_in] {
            w.write_all(&x.to_le_bytes())?;
        }
        w.write_all(&r.n_labels.to_le_bytes())?;
        w.write_all(&n_constraints.to_le_bytes())?;
        write_section_header(w, 2, body_len)?;
        let codec = FrCodec::<C>::new();
        let mut buf = vec![0u8; n8];
        for k in &r.constraints {
            for lc in [&k.a, &k.b, &k.c] {
                w.write_all(&(lc.len() as u32).to_le_bytes())?;
                for (wire, coeff) in lc {
                    w.write_all(&wire.to_le_bytes())?;
                    codec.write_canonical(coeff, &mut buf);
                    w.write_all(&buf)?;
                }
            }
        }
        write_section_header(w, 3, u64::from(n_wires) * 8)?;
        for label in 0..u64::from(n_wires) {
            w.write_all(&label.to_le_bytes())?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod write_tests {
    use super::*;
    use crate::fixtures::fixture;
    use kiln_algebra::curve::Bn254;

    #[test]
    fn write_then_read_back_is_equal() {
        let r = read_r1cs::<Bn254>(&fixture("mul.r1cs")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("back.r1cs");
        write_r1cs(&p, &r).unwrap();
        assert_eq!(read_r1cs::<Bn254>(&p).unwrap(), r);
        let mut bad = r;
        bad.constraints[0].c[0].0 = 5;
        let e = write_r1cs(&p, &bad).unwrap_err().to_string();
        assert!(e.contains("constraint 0 C refers to wire 5"), "{e}");
    }
}
