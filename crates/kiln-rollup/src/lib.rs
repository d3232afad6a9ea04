//! kiln's rollup, on the protocol that `ROLLUP.md` (protocol v1) fixes, bit-compatible with
//! circomlib and circomlibjs so that wallets built on them can make keys, sign transactions
//! and check state proofs without any kiln code.
//!
//! - [`poseidon`]: circomlib's Poseidon hash `H(x1, …, xn)`.
//! - [`babyjub`]: BabyJubJub points in circomlib's coordinates (a = 168700, d = 168696).
//! - [`eddsa`]: EdDSA-Poseidon keys, signatures and verification as circomlibjs makes them.
//! - [`amount`]: amounts and fees as decimal floats, as the batch data carries them.
//! - [`account`]: an account and its leaf `H(token, nonce, balance, Ax, Ay, ethAddr)`.
//! - [`tree`]: the quaternary Poseidon state tree of depth 12, its root and state proofs.
//! - [`tx`]: transactions, the signed message `m` and the transaction hash.
//!
//! Every value is an element of BN254's scalar field [`Fr`] (BabyJubJub's base field).

pub mod account;
pub mod amount;
pub mod babyjub;
pub mod eddsa;
pub mod poseidon;
pub mod tree;
pub mod tx;

/// BN254's scalar field: every hash input and output, coordinate, balance and index.
pub type Fr = ark_bn254::Fr;
