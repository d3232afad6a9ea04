//! Reading snarkjs Groth16 proving keys (`.zkey`).
//!
//! Sections: 1 prover type (1 = Groth16), 2 header (field sizes and moduli, nVars,
//! nPublic, domainSize, then alpha1, beta1, beta2, gamma2, delta1, delta2 — the order
//! snarkjs' code writes, not the one its comment lists), 3 IC, 4 sparse A/B coefficients,
//! 5 A, 6 B1, 7 B2, 8 C (private signals only), 9 H (odd-coset Lagrange basis),
//! 10 MPC contributions (ignored). Section order in the file does not matter.
//!
//! [`Zkey::open`] maps the file and validates the header and every section's length, which
//! takes milliseconds at any size; point tables are decoded on demand, in parallel,
//! straight from the map. Header points are checked to be on the curve and in the
//! subgroup. Every table point is checked to be on its curve as it is decoded, a chunk at
//! a time while the chunk is in cache (eight points per step with AVX-512 IFMA for BN254;
//! see `oncurve`). For G1, whose cofactor is 1, that is full group membership; for G2 it
//! catches any corrupted coordinate, while a subgroup check of every point would cost more
//! than loading them. So a flipped bit in a table is refused by section, point and byte
//! offset instead of surfacing as proofs that fail their pairing check. [`Zkey::check_tables`] runs the same
//! checks over the whole file without keeping the decoded tables.

use std::path::Path;

use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::Zero;
use rayon::prelude::*;

use super::binfile::{BinFile, FileSpec, Section, SectionReader};
use super::codec::{
    check_point, g1_from_mont, g1_len, g2_from_mont, g2_len, le_decimal, modulus_decimal,
    read_prime, FrCodec, PointError,
};
use super::error::FormatError;
use super::zkey_write::ZkeyContents;
use kiln_algebra::curve::{Curve, G1Affine, G2Affine};
use kiln_algebra::oncurve::first_off_curve;

/// The container spec of `.zkey` files.
pub fn zkey_spec() -> FileSpec {
    FileSpec {
        magic: "zkey",
        kind: ".zkey",
        versions: 1..=1,
    }
}

/// Section ids of a Groth16 `.zkey`.
pub mod section {
    /// Prover type (u32; 1 = Groth16).
    pub const PROVER_TYPE: u32 = 1;
    /// Groth16 header.
    pub const HEADER: u32 = 2;
    /// IC points (G1, nPublic + 1).
    pub const IC: u32 = 3;
    /// Sparse A/B coefficients.
    pub const COEFFS: u32 = 4;
    /// A points (G1, nVars).
    pub const A: u32 = 5;
    /// B points in G1 (nVars).
    pub const B1: u32 = 6;
    /// B points in G2 (nVars).
    pub const B2: u32 = 7;
    /// C points (G1, nVars − nPublic − 1).
    pub const C: u32 = 8;
    /// H points (G1, domainSize).
    pub const H: u32 = 9;
    /// MPC contributions (csHash and contribution list).
    pub const CONTRIBUTIONS: u32 = 10;
}

/// Prover type ids found in section 1.
pub mod prover_type {
    /// Groth16.
    pub const GROTH16: u32 = 1;
    /// PLONK.
    pub const PLONK: u32 = 2;
    /// FFLONK.
    pub const FFLONK: u32 = 10;
}

/// The Groth16 header (section 2) of a zkey.
#[derive(Clone, Debug, PartialEq)]
pub struct Groth16Header<C: Curve> {
    /// Number of signals (wires), including the constant 1.
    pub n_vars: usize,
    /// Number of public signals (outputs + public inputs), excluding the constant 1.
    pub n_public: usize,
    /// Evaluation domain size (a power of two).
    pub domain_size: usize,
    /// `[α]₁`.
    pub alpha1: G1Affine<C>,
    /// `[β]₁`.
    pub beta1: G1Affine<C>,
    /// `[β]₂`.
    pub beta2: G2Affine<C>,
    /// `[γ]₂`.
    pub gamma2: G2Affine<C>,
    /// `[δ]₁`.
    pub delta1: G1Affine<C>,
    /// `[δ]₂`.
    pub delta2: G2Affine<C>,
}

/// Which QAP matrix a coefficient belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matrix {
    /// The A matrix (id 0 in the file).
    A,
    /// The B matrix (id 1 in the file).
    B,
}

impl Matrix {
    /// The id used in zkey section 4.
    pub fn id(self) -> u32 {
        match self {
            Matrix::A => 0,
            Matrix::B => 1,
        }
    }
}

/// One nonzero entry of the A or B matrix: `matrix[constraint][signal] = value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeff<F> {
    /// Which matrix.
    pub matrix: Matrix,
    /// Row (constraint index, `< domainSize`).
    pub constraint: u32,
    /// Column (signal index, `< nVars`).
    pub signal: u32,
    /// The true coefficient (the file's doubly-Montgomery encoding already undone).
    pub value: F,
}

/// Bytes per section-4 entry before the value: matrix, constraint, signal.
const COEFF_PREFIX: usize = 12;

/// The validated location of every section the prover reads.
#[derive(Clone, Copy, Debug)]
struct Sections {
    ic: Section,
    coeffs: Section,
    a: Section,
    b1: Section,
    b2: Section,
    c: Section,
    h: Section,
}

/// An open, memory-mapped Groth16 `.zkey` with a validated header and section table.
#[derive(Debug)]
pub struct Zkey<C: Curve> {
    file: BinFile,
    header: Groth16Header<C>,
    sections: Sections,
    n_coeffs: usize,
}

impl<C: Curve> Zkey<C> {
    /// Maps `path`, parses and checks the header (curve, prover type, header points) and
    /// checks every section's length against the header. Point tables are not decoded.
    pub fn open(path: &Path) -> Result<Self, FormatError> {
        Self::from_file(BinFile::open(path, &zkey_spec())?)
    }

    /// Like [`Zkey::open`], for a zkey held in memory; `name` stands in for the path.
    pub fn from_bytes(bytes: Vec<u8>, name: &Path) -> Result<Self, FormatError> {
        Self::from_file(BinFile::from_bytes(bytes, name, &zkey_spec())?)
    }

    fn from_file(file: BinFile) -> Result<Self, FormatError> {
        let path = file.path();
        let table = file.table();
        let s1 = table.require(section::PROVER_TYPE, "prover type", path)?;
        read_prover_type(&file.reader(&s1))?;
        let s2 = table.require(section::HEADER, "Groth16 header", path)?;
        let header = read_header::<C>(&mut file.reader(&s2))?;

        let g1 = g1_len::<C>() as u64;
        let g2 = g2_len::<C>() as u64;
        let n_vars = header.n_vars as u64;
        let n_public = header.n_public as u64;
        let domain = header.domain_size as u64;
        let sized = |id: u32, name: &'static str, expected: u64, why: String| {
            let s = table.require(id, name, path)?;
            check_size(&s, name, expected, why, path)?;
            Ok::<_, FormatError>(s)
        };
        let ic = sized(
            section::IC,
            "IC points",
            (n_public + 1) * g1,
            format!("(nPublic + 1) = {} G1 points of {g1} bytes", n_public + 1),
        )?;
        let coeffs = table.require(section::COEFFS, "A/B coefficients", path)?;
        let n_coeffs = file.reader(&coeffs).u32("number of coefficients")? as u64;
        let entry = (COEFF_PREFIX + C::FR_BYTES) as u64;
        check_size(
            &coeffs,
            "A/B coefficients",
            4 + n_coeffs * entry,
            format!("4-byte count + {n_coeffs} coefficients of {entry} bytes"),
            path,
        )?;
        let a = sized(
            section::A,
            "A points",
            n_vars * g1,
            format!("nVars = {n_vars} G1 points of {g1} bytes"),
        )?;
        let b1 = sized(
            section::B1,
            "B1 points",
            n_vars * g1,
            format!("nVars = {n_vars} G1 points of {g1} bytes"),
        )?;
        let b2 = sized(
            section::B2,
            "B2 points",
            n_vars * g2,
            format!("nVars = {n_vars} G2 points of {g2} bytes"),
        )?;
        let n_private = n_vars - n_public - 1;
        let c = sized(
            section::C,
            "C points",
            n_private * g1,
            format!("nVars - nPublic - 1 = {n_private} G1 points of {g1} bytes"),
        )?;
        let h = sized(
            section::H,
            "H points",
            domain * g1,
            format!("domainSize = {domain} G1 points of {g1} bytes"),
        )?;
        Ok(Zkey {
            header,
            sections: Sections {
                ic,
                coeffs,
                a,
                b1,
                b2,
                c,
                h,
            },
            n_coeffs: n_coeffs as usize,
            file,
        })
    }

    /// The Groth16 header.
    pub fn header(&self) -> &Groth16Header<C> {
        &self.header
    }

    /// The zkey's path (or the name given to [`Zkey::from_bytes`]).
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Number of entries in the coefficient section.
    pub fn n_coeffs(&self) -> usize {
        self.n_coeffs
    }

    /// The raw bytes of a validated section (3 to 9), for uploading point tables to a
    /// device without decoding them; `None` for other ids.
    pub fn raw_section(&self, id: u32) -> Option<&[u8]> {
        let s = &self.sections;
        let sec = match id {
            section::IC => s.ic,
            section::COEFFS => s.coeffs,
            section::A => s.a,
            section::B1 => s.b1,
            section::B2 => s.b2,
            section::C => s.c,
            section::H => s.h,
            _ => return None,
        };
        Some(self.file.body(&sec))
    }

    /// The IC points (section 3), `nPublic + 1` of them, each checked to be on the curve.
    pub fn ic(&self) -> Result<Vec<G1Affine<C>>, FormatError> {
        self.g1_table(&self.sections.ic, "IC point")
    }

    /// The A points (section 5), one per signal, each checked to be on the curve.
    pub fn a_points(&self) -> Result<Vec<G1Affine<C>>, FormatError> {
        self.g1_table(&self.sections.a, "A point")
    }

    /// The B points in G1 (section 6), one per signal, each checked to be on the curve.
    pub fn b1_points(&self) -> Result<Vec<G1Affine<C>>, FormatError> {
        self.g1_table(&self.sections.b1, "B1 point")
    }

    /// The B points in G2 (section 7), one per signal, each checked to be on the twist
    /// (not for subgroup membership: see the module docs).
    pub fn b2_points(&self) -> Result<Vec<G2Affine<C>>, FormatError> {
        let s = &self.sections.b2;
        decode_table(
            self.file.body(s),
            g2_len::<C>(),
            G2Affine::<C>::zero(),
            self.g2_record(s, "B2 point"),
            self.curve_check(s, "B2 point", g2_len::<C>()),
        )
    }

    /// The C points (section 8), one per private signal (`nVars − nPublic − 1`), each
    /// checked to be on the curve.
    pub fn c_points(&self) -> Result<Vec<G1Affine<C>>, FormatError> {
        self.g1_table(&self.sections.c, "C point")
    }

    /// The H points (section 9), `domainSize` of them, each checked to be on the curve.
    pub fn h_points(&self) -> Result<Vec<G1Affine<C>>, FormatError> {
        self.g1_table(&self.sections.h, "H point")
    }

    /// The sparse A and B coefficients (section 4), in file order, with their true values.
    pub fn coeffs(&self) -> Result<Vec<Coeff<C::Fr>>, FormatError> {
        let fill = Coeff {
            matrix: Matrix::A,
            constraint: 0,
            signal: 0,
            value: C::Fr::zero(),
        };
        let entry = COEFF_PREFIX + C::FR_BYTES;
        let body = &self.file.body(&self.sections.coeffs)[4..];
        decode_table(body, entry, fill, self.coeff_record(), |_, _| Ok(()))
    }

    /// Validates every table of the key the way the prover's decoding does, without keeping
    /// the decoded tables: the IC points (section 3), every coefficient (section 4: matrix
    /// id, constraint and signal in range, value below the modulus) and every point of
    /// sections 5 to 9 (coordinates below the modulus, on the curve; G2 points on the
    /// twist). Runs in parallel; costs about as much as decoding the tables once.
    ///
    /// Together with [`Zkey::open`] (header, header points, section sizes) this is a full
    /// check of the file, for accepting an uploaded key. The error names the section, the
    /// point or coefficient index and its absolute byte offset.
    pub fn check_tables(&self) -> Result<(), FormatError> {
        let s = self.sections;
        let (g1, g2) = (g1_len::<C>(), g2_len::<C>());
        let entry = COEFF_PREFIX + C::FR_BYTES;
        let coeffs = &self.file.body(&s.coeffs)[4..];
        check_records(coeffs, entry, self.coeff_record(), |_, _| Ok(()))?;
        for (sec, name) in [
            (&s.ic, "IC point"),
            (&s.a, "A point"),
            (&s.b1, "B1 point"),
            (&s.c, "C point"),
            (&s.h, "H point"),
        ] {
            check_records(
                self.file.body(sec),
                g1,
                self.g1_record(sec, name),
                self.curve_check(sec, name, g1),
            )?;
        }
        check_records(
            self.file.body(&s.b2),
            g2,
            self.g2_record(&s.b2, "B2 point"),
            self.curve_check(&s.b2, "B2 point", g2),
        )
    }

    /// Decodes one section-4 entry (`i`, its bytes), range-checking every field.
    fn coeff_record(
        &self,
    ) -> impl Fn(usize, &[u8]) -> Result<Coeff<C::Fr>, FormatError> + Sync + '_ {
        let s = self.sections.coeffs;
        let entry = COEFF_PREFIX + C::FR_BYTES;
        let codec = FrCodec::<C>::new();
        let (n_vars, domain) = (self.header.n_vars as u64, self.header.domain_size as u64);
        let reader = self.file.reader(&s);
        move |i, b| {
            let at = s.offset + 4 + (i * entry) as u64;
            let bad = |rel: u64, what: &str, problem: String| {
                reader.invalid_at(at + rel, format!("coefficient {i} {what}"), problem)
            };
            let matrix = match u32::from_le_bytes([b[0], b[1], b[2], b[3]]) {
                0 => Matrix::A,
                1 => Matrix::B,
                m => {
                    return Err(bad(
                        0,
                        "matrix",
                        format!("expected 0 (A) or 1 (B), found {m}"),
                    ))
                }
            };
            let constraint = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            if constraint as u64 >= domain {
                return Err(bad(
                    4,
                    "constraint",
                    format!("{constraint} is not below domainSize {domain}"),
                ));
            }
            let signal = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
            if signal as u64 >= n_vars {
                return Err(bad(
                    8,
                    "signal",
                    format!("{signal} is not below nVars {n_vars}"),
                ));
            }
            let value = codec.doubly_mont(&b[COEFF_PREFIX..]).ok_or_else(|| {
                bad(
                    COEFF_PREFIX as u64,
                    "value",
                    format!(
                        "{} is not below the scalar field modulus {}",
                        le_decimal(&b[COEFF_PREFIX..]),
                        modulus_decimal::<C::Fr>()
                    ),
                )
            })?;
            Ok(Coeff {
                matrix,
                constraint,
                signal,
                value,
            })
        }
    }

    /// Decodes everything (header, coefficients, all point tables) into memory.
    pub fn contents(&self) -> Result<ZkeyContents<C>, FormatError> {
        Ok(ZkeyContents {
            header: self.header.clone(),
            ic: self.ic()?,
            coeffs: self.coeffs()?,
            a: self.a_points()?,
            b1: self.b1_points()?,
            b2: self.b2_points()?,
            c: self.c_points()?,
            h: self.h_points()?,
        })
    }

    fn g1_table(&self, s: &Section, name: &str) -> Result<Vec<G1Affine<C>>, FormatError> {
        decode_table(
            self.file.body(s),
            g1_len::<C>(),
            G1Affine::<C>::zero(),
            self.g1_record(s, name),
            self.curve_check(s, name, g1_len::<C>()),
        )
    }

    /// Decodes G1 point `i` of section `s` from its bytes (coordinates range-checked).
    fn g1_record<'a>(
        &'a self,
        s: &'a Section,
        name: &'a str,
    ) -> impl Fn(usize, &[u8]) -> Result<G1Affine<C>, FormatError> + Sync + 'a {
        move |i, b| g1_from_mont::<C>(b).map_err(|e| self.point_error(s, name, i, g1_len::<C>(), e))
    }

    /// Decodes G2 point `i` of section `s` from its bytes (coordinates range-checked).
    fn g2_record<'a>(
        &'a self,
        s: &'a Section,
        name: &'a str,
    ) -> impl Fn(usize, &[u8]) -> Result<G2Affine<C>, FormatError> + Sync + 'a {
        move |i, b| g2_from_mont::<C>(b).map_err(|e| self.point_error(s, name, i, g2_len::<C>(), e))
    }

    /// Checks decoded points `first..` of section `s` (records of `len` bytes) against
    /// their curve equation, naming the first that fails.
    fn curve_check<'a, P: SWCurveConfig>(
        &'a self,
        s: &'a Section,
        name: &'a str,
        len: usize,
    ) -> impl Fn(usize, &[Affine<P>]) -> Result<(), FormatError> + Sync + 'a {
        move |first, points| match first_off_curve(points) {
            Some(j) => Err(self.point_error(s, name, first + j, len, PointError::NotOnCurve)),
            None => Ok(()),
        }
    }

    fn point_error(
        &self,
        s: &Section,
        name: &str,
        i: usize,
        n: usize,
        e: PointError,
    ) -> FormatError {
        FormatError::Invalid {
            path: self.path().to_path_buf(),
            section: s.id,
            offset: s.offset + (i * n) as u64,
            field: format!("{name} {i}"),
            problem: e.to_string(),
        }
    }
}

/// Records per parallel work item: enough to amortize the scheduling, few enough that a
/// chunk's decoded records are still in cache when `check` reads them.
const CHUNK: usize = 1 << 11;

/// Decodes fixed-size records of `bytes` in parallel straight into a preallocated vector
/// (no intermediate collections); `decode` gets the record index and bytes, and `check`
/// then gets each decoded chunk with the index of its first record.
fn decode_table<T: Clone + Send>(
    bytes: &[u8],
    record: usize,
    fill: T,
    decode: impl Fn(usize, &[u8]) -> Result<T, FormatError> + Sync,
    check: impl Fn(usize, &[T]) -> Result<(), FormatError> + Sync,
) -> Result<Vec<T>, FormatError> {
    let n = bytes.len() / record;
    let mut out = vec![fill; n];
    out.par_chunks_mut(CHUNK)
        .zip(bytes[..n * record].par_chunks(CHUNK * record))
        .enumerate()
        .try_for_each(|(c, (slots, chunk))| {
            let first = c * CHUNK;
            for (j, (slot, b)) in slots.iter_mut().zip(chunk.chunks_exact(record)).enumerate() {
                *slot = decode(first + j, b)?;
            }
            check(first, slots)
        })?;
    Ok(out)
}

/// Like [`decode_table`], keeping nothing: each chunk is decoded into a reused buffer.
fn check_records<T: Send>(
    bytes: &[u8],
    record: usize,
    decode: impl Fn(usize, &[u8]) -> Result<T, FormatError> + Sync,
    check: impl Fn(usize, &[T]) -> Result<(), FormatError> + Sync,
) -> Result<(), FormatError> {
    let n = bytes.len() / record;
    bytes[..n * record]
        .par_chunks(CHUNK * record)
        .enumerate()
        .try_for_each_init(
            || Vec::with_capacity(CHUNK),
            |buf, (c, chunk)| {
                let first = c * CHUNK;
                buf.clear();
                for (j, b) in chunk.chunks_exact(record).enumerate() {
                    buf.push(decode(first + j, b)?);
                }
                check(first, buf)
            },
        )
}

/// Checks section 1: Groth16, or a named refusal.
fn read_prover_type(r: &SectionReader<'_>) -> Result<(), FormatError> {
    let mut r = r.clone();
    let path = r.path();
    let offset = r.offset();
    let id = r.u32("prover type")?;
    match id {
        prover_type::GROTH16 => {}
        prover_type::PLONK => {
            return Err(FormatError::NotGroth16 {
                path: path.to_path_buf(),
                protocol: "PLONK",
                id,
                offset,
            })
        }
        prover_type::FFLONK => {
            return Err(FormatError::NotGroth16 {
                path: path.to_path_buf(),
                protocol: "FFLONK",
                id,
                offset,
            })
        }
        _ => {
            return Err(FormatError::UnknownProver {
                path: path.to_path_buf(),
                id,
                offset,
            })
        }
    }
    r.finish("the prover type")
}

/// Parses and checks section 2.
fn read_header<C: Curve>(r: &mut SectionReader<'_>) -> Result<Groth16Header<C>, FormatError> {
    let curve = C::SNARKJS_NAME;
    read_prime::<C::Fq>(
        r,
        C::FQ_BYTES,
        "base field element size n8q",
        "field modulus q",
        curve,
    )?;
    read_prime::<C::Fr>(
        r,
        C::FR_BYTES,
        "scalar field element size n8r",
        "scalar field modulus r",
        curve,
    )?;
    let n_vars = r.u32("nVars")? as usize;
    let at = r.offset();
    let n_public = r.u32("nPublic")? as usize;
    if n_public >= n_vars {
        return Err(r.invalid_at(
            at,
            "nPublic".into(),
            format!("{n_public} public signals plus the constant 1 do not fit in nVars = {n_vars}"),
        ));
    }
    let at = r.offset();
    let domain_size = r.u32("domainSize")? as usize;
    let max_log = <C::Fr as ark_ff::FftField>::TWO_ADICITY.min(31);
    if !domain_size.is_power_of_two() || domain_size > 1usize << max_log {
        return Err(r.invalid_at(
            at,
            "domainSize".into(),
            format!("expected a power of two up to 2^{max_log}, found {domain_size}"),
        ));
    }
    let alpha1 = g1_checked::<C>(r, "alpha1")?;
    let beta1 = g1_checked::<C>(r, "beta1")?;
    let beta2 = g2_checked::<C>(r, "beta2")?;
    let gamma2 = g2_checked::<C>(r, "gamma2")?;
    let delta1 = g1_checked::<C>(r, "delta1")?;
    let delta2 = g2_checked::<C>(r, "delta2")?;
    r.finish("the Groth16 header")?;
    Ok(Groth16Header {
        n_vars,
        n_public,
        domain_size,
        alpha1,
        beta1,
        beta2,
        gamma2,
        delta1,
        delta2,
    })
}

fn g1_checked<C: Curve>(r: &mut SectionReader<'_>, name: &str) -> Result<G1Affine<C>, FormatError> {
    let at = r.offset();
    let b = r.take(g1_len::<C>(), &|| format!("{name} (G1 point)"))?;
    g1_from_mont::<C>(b)
        .and_then(|p| check_point(&p).map(|()| p))
        .map_err(|e| r.invalid_at(at, name.to_string(), e.to_string()))
}

fn g2_checked<C: Curve>(r: &mut SectionReader<'_>, name: &str) -> Result<G2Affine<C>, FormatError> {
    let at = r.offset();
    let b = r.take(g2_len::<C>(), &|| format!("{name} (G2 point)"))?;
    g2_from_mont::<C>(b)
        .and_then(|p| check_point(&p).map(|()| p))
        .map_err(|e| r.invalid_at(at, name.to_string(), e.to_string()))
}

fn check_size(
    s: &Section,
    name: &'static str,
    expected: u64,
    why: String,
    path: &Path,
) -> Result<(), FormatError> {
    if s.len != expected {
        return Err(FormatError::SectionSize {
            path: path.to_path_buf(),
            section: s.id,
            name,
            offset: s.offset,
            expected,
            found: s.len,
            why,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{container, fixture, fixture_bytes, sections_of};
    use crate::json::{to_snarkjs_string, vk_to_json};
    use crate::r1cs::read_r1cs;
    use ark_ff::One;
    use kiln_algebra::curve::Bn254;

    type Z = Zkey<Bn254>;
    type Fr = ark_bn254::Fr;

    fn open_bytes(b: Vec<u8>) -> Result<Z, FormatError> {
        Z::from_bytes(b, Path::new("t.zkey"))
    }

    fn offset_of(z: &Z, id: u32) -> usize {
        z.file
            .table()
            .sections
            .iter()
            .find(|s| s.id == id)
            .unwrap()
            .offset as usize
    }

    #[test]
    fn reads_a_real_snarkjs_zkey() {
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let h = z.header();
        assert_eq!((h.n_vars, h.n_public, h.domain_size), (5, 2, 8));
        assert_eq!(z.path(), fixture("mul.zkey"));
        let c = z.contents().unwrap();
        assert_eq!(c.ic.len(), 3);
        assert_eq!((c.a.len(), c.b1.len(), c.b2.len()), (5, 5, 5));
        assert_eq!((c.c.len(), c.h.len()), (2, 8));
        // Signals that never appear in B have B points at infinity (all-zero bytes).
        assert!(c.b1.iter().any(|p| p.infinity) && c.b1.iter().any(|p| !p.infinity));
        for p in c.a.iter().chain(&c.b1).chain(&c.c).chain(&c.h).chain(&c.ic) {
            assert!(p.is_on_curve());
        }
        assert!(c.b2.iter().all(|p| p.is_on_curve()));
        assert_eq!(z.raw_section(section::H).unwrap().len(), 8 * 64);
        assert_eq!(z.raw_section(section::CONTRIBUTIONS), None);
    }

    #[test]
    fn header_points_match_snarkjs_verification_key() {
        // snarkjs exported verification_key.json from this zkey: the same bytes back
        // means alpha1, beta2, gamma2, delta2 (the header order) and IC decode correctly.
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let vk = vk_to_json(z.header(), &z.ic().unwrap());
        let want = String::from_utf8(fixture_bytes("verification_key.json")).unwrap();
        assert_eq!(to_snarkjs_string(&vk).unwrap(), want);
    }

    #[test]
    fn coefficients_are_the_true_r1cs_values() {
        // snarkjs stores c·R² in section 4; kiln must hand the prover c itself. The .r1cs
        // the zkey was made from holds c in plain form.
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let r1cs = read_r1cs::<Bn254>(&fixture("mul.r1cs")).unwrap();
        let mut want = Vec::new();
        for (i, k) in r1cs.constraints.iter().enumerate() {
            for (m, lc) in [(Matrix::A, &k.a), (Matrix::B, &k.b)] {
                for &(signal, value) in lc {
                    want.push(Coeff {
                        matrix: m,
                        constraint: i as u32,
                        signal,
                        value,
                    });
                }
            }
        }
        let n = r1cs.constraints.len() as u32;
        for s in 0..=r1cs.n_public() as u32 {
            want.push(Coeff {
                matrix: Matrix::A,
                constraint: n + s,
                signal: s,
                value: Fr::one(),
            });
        }
        let got = z.coeffs().unwrap();
        assert_eq!(got, want);
        assert!(
            got.iter().any(|c| c.value == -Fr::one()),
            "expected a -1 coefficient"
        );
        assert_eq!(z.n_coeffs(), got.len());
    }

    #[test]
    fn sections_in_any_order() {
        let b = fixture_bytes("mul.zkey");
        let mut s = sections_of(&b);
        s.reverse();
        let z = open_bytes(container("zkey", 1, &s)).unwrap();
        let orig = Z::open(&fixture("mul.zkey")).unwrap();
        assert_eq!(z.contents().unwrap(), orig.contents().unwrap());
        // The setup-ordered file (1, 2, 4, 3, 9, 8, 5, 6, 7, 10) reads too.
        Z::open(&fixture("mul_setup.zkey"))
            .unwrap()
            .contents()
            .unwrap();
    }

    #[test]
    fn refuses_plonk_fflonk_and_unknown_provers() {
        let e = Z::open(&fixture("tiny_plonk.zkey")).unwrap_err();
        assert!(
            matches!(
                e,
                FormatError::NotGroth16 {
                    protocol: "PLONK",
                    id: 2,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("this is a PLONK zkey; kiln proves Groth16"),
            "{msg}"
        );
        let mut b = fixture_bytes("mul.zkey");
        b[24..28].copy_from_slice(&10u32.to_le_bytes());
        let e = open_bytes(b.clone()).unwrap_err().to_string();
        assert!(
            e.contains("this is a FFLONK zkey; kiln proves Groth16"),
            "{e}"
        );
        b[24..28].copy_from_slice(&7u32.to_le_bytes());
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(e.contains("unknown prover type 7 at byte offset 24"), "{e}");
    }

    #[test]
    fn refuses_other_curves() {
        let orig = fixture_bytes("mul.zkey");
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let h = offset_of(&z, section::HEADER);
        let mut b = orig.clone();
        b[h + 4] ^= 1;
        let e = open_bytes(b).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, FormatError::WrongCurve { section: 2, .. }),
            "{msg}"
        );
        assert!(
            msg.contains("wrong curve: field modulus q") && msg.contains("is not bn128's"),
            "{msg}"
        );
        assert!(msg.contains(&format!("byte offset {}", h + 4)), "{msg}");
        let mut b = orig.clone();
        b[h..h + 4].copy_from_slice(&48u32.to_le_bytes());
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(
            e.contains("n8q") && e.contains("48 bytes") && e.contains("(32 bytes)"),
            "{e}"
        );
        let mut b = orig;
        b[h + 4 + 32 + 4] ^= 1;
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(
            e.contains("scalar field modulus r") && e.contains("not bn128's"),
            "{e}"
        );
    }

    #[test]
    fn refuses_wrong_magic_and_version() {
        let e = open_bytes(fixture_bytes("mul.wtns"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a .zkey file: expected magic \"zkey\"") && e.contains("\"wtns\""),
            "{e}"
        );
        let mut b = fixture_bytes("mul.zkey");
        b[4] = 2;
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(e.contains("unsupported .zkey version 2"), "{e}");
    }

    #[test]
    fn every_truncation_is_refused() {
        let b = fixture_bytes("mul.zkey");
        for len in 0..b.len() {
            assert!(
                open_bytes(b[..len].to_vec()).is_err(),
                "prefix of {len} bytes opened"
            );
        }
        let e = open_bytes(b[..b.len() - 1].to_vec()).unwrap_err();
        assert!(
            matches!(e, FormatError::SectionPastEof { section: 10, .. }),
            "{e}"
        );
    }

    #[test]
    fn section_sizes_are_checked_against_the_header() {
        let b = fixture_bytes("mul.zkey");
        let mut s = sections_of(&b);
        let a = s.iter_mut().find(|(id, _)| *id == section::A).unwrap();
        a.1.extend_from_slice(&[0u8; 64]);
        let e = open_bytes(container("zkey", 1, &s)).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                FormatError::SectionSize {
                    section: 5,
                    expected: 320,
                    found: 384,
                    ..
                }
            ),
            "{msg}"
        );
        assert!(msg.contains("nVars = 5 G1 points of 64 bytes"), "{msg}");
        let mut s = sections_of(&b);
        let c = s.iter_mut().find(|(id, _)| *id == section::COEFFS).unwrap();
        c.1[0] += 1;
        let e = open_bytes(container("zkey", 1, &s)).unwrap_err();
        assert!(
            matches!(e, FormatError::SectionSize { section: 4, .. }),
            "{e}"
        );
    }

    #[test]
    fn missing_and_duplicate_sections() {
        let b = fixture_bytes("mul.zkey");
        let mut s = sections_of(&b);
        s.retain(|(id, _)| *id != section::H);
        let e = open_bytes(container("zkey", 1, &s))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("required section 9 (H points) is missing"),
            "{e}"
        );
        let mut s = sections_of(&b);
        let ic = s.iter().find(|(id, _)| *id == section::IC).unwrap().clone();
        s.push(ic);
        let e = open_bytes(container("zkey", 1, &s))
            .unwrap_err()
            .to_string();
        assert!(e.contains("section 3 (IC points) appears 2 times"), "{e}");
        // Section 10 is optional.
        let mut s = sections_of(&b);
        s.retain(|(id, _)| *id != section::CONTRIBUTIONS);
        open_bytes(container("zkey", 1, &s)).unwrap();
    }

    #[test]
    fn bad_header_values_are_named() {
        let orig = fixture_bytes("mul.zkey");
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let h = offset_of(&z, section::HEADER);
        let counts = h + 4 + 32 + 4 + 32;
        let mut b = orig.clone();
        b[counts + 8..counts + 12].copy_from_slice(&6u32.to_le_bytes());
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(
            e.contains("domainSize: expected a power of two") && e.contains("found 6"),
            "{e}"
        );
        let mut b = orig.clone();
        b[counts + 4..counts + 8].copy_from_slice(&5u32.to_le_bytes());
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(e.contains("nPublic") && e.contains("nVars = 5"), "{e}");
        // alpha1's y changed: not on the curve.
        let alpha = counts + 12;
        let mut b = orig.clone();
        b[alpha + 40] ^= 1;
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "byte offset {alpha}: alpha1: the point is not on the curve"
            )),
            "{e}"
        );
        // delta2's x.c1 at or above the modulus.
        let delta2 = alpha + 64 * 2 + 128 * 2 + 64;
        let mut b = orig;
        b[delta2 + 32..delta2 + 64].fill(0xff);
        let e = open_bytes(b).unwrap_err().to_string();
        assert!(
            e.contains("delta2: coordinate x.c1 is not below the base field modulus"),
            "{e}"
        );
    }

    #[test]
    fn bad_table_entries_are_named() {
        let orig = fixture_bytes("mul.zkey");
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let a = offset_of(&z, section::A);
        let mut b = orig.clone();
        b[a + 64 * 3..a + 64 * 3 + 32].fill(0xff);
        let e = open_bytes(b).unwrap().a_points().unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "section 5, byte offset {}: A point 3: coordinate x",
                a + 192
            )),
            "{e}"
        );
        let c4 = offset_of(&z, section::COEFFS) + 4;
        let entry = 12 + 32;
        let cases: [(usize, &[u8], &str); 4] = [
            (
                0,
                &2u32.to_le_bytes(),
                "coefficient 1 matrix: expected 0 (A) or 1 (B), found 2",
            ),
            (
                4,
                &8u32.to_le_bytes(),
                "coefficient 1 constraint: 8 is not below domainSize 8",
            ),
            (
                8,
                &5u32.to_le_bytes(),
                "coefficient 1 signal: 5 is not below nVars 5",
            ),
            (12, &[0xff; 32], "coefficient 1 value: "),
        ];
        for (rel, patch, want) in cases {
            let mut b = orig.clone();
            let at = c4 + entry + rel;
            b[at..at + patch.len()].copy_from_slice(patch);
            let e = open_bytes(b).unwrap().coeffs().unwrap_err().to_string();
            assert!(
                e.contains(want) && e.contains(&format!("byte offset {at}")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_flipped_bit_in_any_table_point_is_refused_by_section_point_and_offset() {
        // One bit flipped in a point of sections 3 and 5 to 9 (the first point, a middle
        // one, the last; low and high bits of x and y) leaves its coordinates in range
        // but takes the point off its curve: decoding that table, check_tables and
        // contents() must all refuse it, naming the section, the point and its offset.
        let orig = fixture_bytes("mul.zkey");
        let z = open_bytes(orig.clone()).unwrap();
        z.check_tables().unwrap();
        let tables: [(u32, &str, usize); 6] = [
            (section::IC, "IC point", 64),
            (section::A, "A point", 64),
            (section::B1, "B1 point", 64),
            (section::B2, "B2 point", 128),
            (section::C, "C point", 64),
            (section::H, "H point", 64),
        ];
        let decode = |z: &Z, id: u32| -> Result<(), FormatError> {
            match id {
                section::IC => z.ic().map(drop),
                section::A => z.a_points().map(drop),
                section::B1 => z.b1_points().map(drop),
                section::B2 => z.b2_points().map(drop),
                section::C => z.c_points().map(drop),
                _ => z.h_points().map(drop),
            }
        };
        let mut checked = 0;
        for (id, name, len) in tables {
            let at = offset_of(&z, id);
            let n = z.raw_section(id).unwrap().len() / len;
            for i in [0, n / 2, n - 1] {
                let point = at + i * len;
                let body = &orig[point..point + len];
                if body.iter().all(|&b| b == 0) {
                    continue; // infinity: flips there are covered below
                }
                // Bit 0 of the first coordinate's low byte, bit 3 of y's second byte.
                for (byte, bit) in [(0, 0), (len / 2 + 1, 3)] {
                    let mut b = orig.clone();
                    b[point + byte] ^= 1 << bit;
                    let bad = open_bytes(b).unwrap();
                    let want = format!(
                        "section {id}, byte offset {point}: {name} {i}: the point is not on the curve"
                    );
                    for e in [
                        decode(&bad, id).unwrap_err(),
                        bad.check_tables().unwrap_err(),
                        bad.contents().unwrap_err(),
                    ] {
                        assert!(
                            matches!(e, FormatError::Invalid { section, offset, .. }
                                if section == id && offset == point as u64),
                            "{e}"
                        );
                        assert!(e.to_string().ends_with(&want), "{e}\nwanted: {want}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 24, "only {checked} flips tried");
        // A bit set in a point at infinity (all zero) is refused too.
        let b1 = offset_of(&z, section::B1);
        let inf = (0..5)
            .find(|i| orig[b1 + i * 64..b1 + (i + 1) * 64].iter().all(|&b| b == 0))
            .expect("mul.zkey has a B1 point at infinity");
        let mut b = orig;
        b[b1 + inf * 64 + 5] ^= 0x10;
        let e = open_bytes(b).unwrap().check_tables().unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("B1 point {inf}: the point is not on the curve")),
            "{e}"
        );
    }

    #[test]
    fn check_tables_refuses_bad_coefficients() {
        let orig = fixture_bytes("mul.zkey");
        let z = Z::open(&fixture("mul.zkey")).unwrap();
        let at = offset_of(&z, section::COEFFS) + 4 + 2 * (12 + 32) + 8;
        let mut b = orig;
        b[at..at + 4].copy_from_slice(&5u32.to_le_bytes());
        let e = open_bytes(b)
            .unwrap()
            .check_tables()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "byte offset {at}: coefficient 2 signal: 5 is not below nVars 5"
            )),
            "{e}"
        );
    }

    #[test]
    fn flipped_bytes_never_panic() {
        // Every byte of the structure (container and section headers, section 1, the
        // header's integers, the coefficient entries) and every 7th byte of point data is
        // flipped; opening then decoding everything must fail cleanly or succeed.
        let orig = fixture_bytes("mul.zkey");
        let z = open_bytes(orig.clone()).unwrap();
        let t = z.file.table().clone();
        let structural = |i: usize| {
            let i = i as u64;
            i < 12
                || t.sections.iter().any(|s| {
                    let rel = i.wrapping_sub(s.offset);
                    (s.header_offset..s.offset).contains(&i)
                        || (s.id == section::PROVER_TYPE && rel < s.len)
                        || (s.id == section::HEADER && rel < 4 + 32 + 4 + 32 + 12)
                        || (s.id == section::COEFFS && rel < s.len)
                })
        };
        for i in 0..orig.len() {
            if !structural(i) && i % 7 != 0 {
                continue;
            }
            let mut b = orig.clone();
            b[i] ^= [0x01u8, 0x80, 0xff][i % 3];
            if let Ok(z) = open_bytes(b) {
                let _ = z.contents();
            }
        }
    }
}
