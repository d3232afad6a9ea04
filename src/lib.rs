//! kiln: a hardware-accelerated Groth16 proving appliance.
//!
//! The crate is layered bottom-up: [`curve`] (which pairing curves, and their byte layouts),
//! `formats` (circom/snarkjs files), `msm` and `ntt` (CPU algorithms), `device` (the trait every
//! backend implements, the CPU and GPU backends), `sched` (a fleet of devices behind one
//! device), and `groth16` (prover pipeline, verifier, dev setup). On top: the control plane,
//! `kiln serve` ([`server`]), with its REST API ([`api`]), durable store ([`store`]) and proof
//! jobs ([`jobs`]).

#![recursion_limit = "512"]

pub mod api;
pub mod cli;
pub mod curve;
pub mod device;
pub mod formats;
pub mod groth16;
pub mod jobs;
pub mod msm;
pub mod ntt;
pub mod sched;
pub mod server;
#[cfg(target_arch = "x86_64")]
pub(crate) mod simd52;
pub mod store;
#[cfg(test)]
pub(crate) mod test_inputs;
