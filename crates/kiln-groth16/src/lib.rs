//! Groth16 on any [`Curve`](kiln_algebra::curve::Curve): the snarkjs-compatible prover pipeline,
//! the verifier, and a development setup that writes circuit-specific keys.
//!
//! The prover follows snarkjs/rapidsnark exactly (so keys from the circom ecosystem work
//! unchanged): A·w and B·w from the zkey's sparse coefficients, C = A∘B, the three vectors
//! moved to the odd coset `g·ω^i` (g a primitive 2n-th root of unity), h = a·b − c there,
//! and the H table used as-is. Every proof is checked with the pairing equation before it
//! leaves [`prover::prove`].

pub mod prover;
pub mod proving_key;
pub mod ptau;
pub mod setup;
pub mod snarkjs;
pub mod solidity;
pub mod types;
pub mod verifier;
pub mod witness_map;

/// The `tracing` target of this crate's events: `RUST_LOG=kiln::groth16=debug` shows them alone.
pub(crate) const TARGET: &str = "kiln::groth16";

pub use prover::{prove, ProofOutput, ProveError, ProveTimings};
pub use proving_key::ProvingKey;
pub use setup::{setup, SetupError};
pub use verifier::{verify, PreparedVerifyingKey, VerifyError};

pub use types::{Proof, VerifyingKey};

pub mod synthetic;

#[cfg(test)]
mod fleet_tests;
#[cfg(test)]
mod tests;
