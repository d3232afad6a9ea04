//! kiln: a hardware-accelerated Groth16 proving appliance.
//!
//! The crate is layered bottom-up: [`curve`] (which pairing curves, and their byte layouts),
//! `formats` (circom/snarkjs files), `msm` and `ntt` (CPU algorithms), `device` (the trait every
//! backend implements, and the CPU backend), and `groth16` (prover pipeline, verifier, dev setup).

pub mod cli;
pub mod curve;
pub mod device;
pub mod formats;
pub mod groth16;
pub mod msm;
pub mod ntt;
pub mod sched;
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd52;
#[cfg(test)]
pub(crate) mod test_inputs;
