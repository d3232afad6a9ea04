//! kiln's rollup, on the protocol that `ROLLUP.md` (protocol v1) fixes, bit-compatible with
//! circomlib and circomlibjs so that wallets built on them can make keys, sign transactions
//! and check state proofs without any kiln code.
//!
//! - [`poseidon`]: circomlib's Poseidon hash `H(x1, …, xn)`.
//! - `poseidon_lanes`: eight Poseidon hashes at once with AVX-512 IFMA, behind
//!   [`poseidon::hash_many`].
//! - [`babyjub`]: BabyJubJub points in circomlib's coordinates (a = 168700, d = 168696).
//! - `babyjub_lanes`: the EdDSA verification equation of eight signatures at once with
//!   AVX-512 IFMA, behind [`eddsa::verify_many`].
//! - [`eddsa`]: EdDSA-Poseidon keys, signatures and verification as circomlibjs makes them.
//! - [`amount`]: amounts and fees as decimal floats, as the batch data carries them.
//! - [`account`]: an account and its leaf `H(token, nonce, balance, Ax, Ay, ethAddr)`.
//! - [`tree`]: the quaternary Poseidon state tree of depth 12, its root and state proofs.
//! - [`tx`]: transactions, the signed message `m` and the transaction hash.
//! - [`intake`]: a transaction as the API takes it, checked field by field.
//! - [`ledger`]: the state with the protocol's rules: a transaction applies whole or not at all.
//! - [`batch`]: executing a closed batch for the circuit, and replaying batch data.
//! - [`batchdata`]: the batch data posted to L1, the exit tree and the public input.
//! - [`wallet`]: kiln's own keys and signed transactions, for test clients and benchmarks.
//! - [`trace`]: a closed batch slot by slot, as the batch circuit sees it.
//!
//! Every value is an element of BN254's scalar field [`Fr`] (BabyJubJub's base field).

pub mod account;
pub mod amount;
pub mod babyjub;
mod babyjub_lanes;
pub mod batch;
pub mod batchdata;
pub mod eddsa;
pub mod intake;
pub mod ledger;
pub mod poseidon;
mod poseidon_lanes;
pub mod trace;
pub mod tree;
pub mod tx;
pub mod wallet;

/// BN254's scalar field: every hash input and output, coordinate, balance and index.
pub type Fr = ark_bn254::Fr;
