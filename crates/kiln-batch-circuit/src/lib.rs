//! kiln's rollup batch circuit (`docs/rollup.md`, "The batch circuit"), on arkworks'
//! constraint system. This slice: the gadgets.
//!
//! - [`cs`]: the constraint-system layer (wires in circom order, checked namespaces).
//! - [`bits`]: booleans, bit decompositions and range checks, comparisons, selections.
//! - [`poseidon`]: circomlib's Poseidon.
//! - [`sha256`]: SHA-256 of a fixed-length bit string.
//! - [`babyjub`]: BabyJubJub point arithmetic in circomlib's coordinates.
//! - [`eddsa`]: EdDSA-Poseidon verification.

pub mod babyjub;
pub mod bits;
pub mod cs;
pub mod eddsa;
pub mod poseidon;
pub mod sha256;
