//! circom/snarkjs file formats: `.zkey` (Groth16), `.wtns`, `.r1cs` and snarkjs JSON.
//!
//! Everything is generic over [`Curve`](kiln_algebra::curve::Curve) and checked against its
//! field moduli, so a file for another curve is refused by name rather than misread.
//! Binary files are memory-mapped ([`binfile`]); nothing panics on malformed input, and
//! every [`FormatError`] says which file, section, byte offset (or JSON path) and what was
//! expected. Writers replace their target atomically.
//!
//! - [`binfile`]: the iden3 section container shared by the binary formats.
//! - [`codec`]: byte and decimal encodings of field elements and points.
//! - [`zkey`] / [`zkey_write`]: Groth16 proving keys.
//! - [`wtns`]: witnesses. [`r1cs`]: constraint systems and witness checking.
//! - [`json`]: `proof.json`, `public.json`, `verification_key.json`.

pub mod atomic;
pub mod binfile;
pub mod codec;
pub mod error;
pub mod json;
pub mod r1cs;
pub mod wtns;
pub mod zkey;
pub mod zkey_write;

#[cfg(test)]
mod fixtures;

pub use error::FormatError;
pub use json::{
    public_from_json, public_to_json, read_json, read_public, to_snarkjs_string, vk_to_json,
    write_json, ProofJson, VerificationKeyJson,
};
pub use r1cs::{read_r1cs, read_r1cs_bytes, Constraint, R1cs, WitnessCheckError};
pub use wtns::{read_wtns, read_wtns_bytes, write_wtns, Wtns};
pub use zkey::{Coeff, Groth16Header, Matrix, Zkey};
pub use zkey_write::{write_zkey, ZkeyContents};
