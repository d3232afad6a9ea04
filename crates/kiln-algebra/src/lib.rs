//! kiln's CPU algebra on pairing curves, the bottom layer every other crate builds on.
//!
//! - [`curve`]: which pairing curves kiln proves on (BN254 now) and how their field
//!   elements are laid out in circom/snarkjs files.
//! - [`msm`]: kiln's Pippenger multi-scalar multiplication.
//! - [`fr_lanes`]: eight BN254 scalar-field elements at once with AVX-512 IFMA, behind a
//!   safe interface (a token from a run-time CPU check) for the crates above.
//! - [`ntt`]: kiln's radix-2 number-theoretic transforms.
//! - [`oncurve`]: many points checked against their curve equation at once.
//! - `simd52` (x86-64): eight-lane field arithmetic in 52-bit limbs with AVX-512 IFMA,
//!   shared by the three above and chosen at run time.
//! - [`test_inputs`]: random and adversarial inputs shared by the test suites of this crate
//!   and of the device layer.

pub mod curve;
pub mod fr_lanes;
pub mod msm;
pub mod ntt;
pub mod oncurve;
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd52;
pub mod test_inputs;
