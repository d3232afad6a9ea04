//! Eight-lane prime-field arithmetic in 52-bit limbs with AVX-512 IFMA (x86-64 only),
//! shared by the NTT (BN254 Fr butterflies) and the MSM (BN254 Fq affine additions).
//!
//! Submodules: `field` (the [`V8`] vector type, generic over a [`Modulus`]) and `layout`
//! (ark's `[u64; 4]` elements ↔ vectors: consecutive loads and stores, gathers and
//! scatters through pointers). Callers check [`cpu_supported`] once before using either.

pub(crate) mod field;
pub(crate) mod layout;

pub(crate) use field::{Bn254Fq, Bn254Fr, V8};

/// Whether this CPU has the instructions the vector code needs (`avx512f`, `avx512ifma`).
pub(crate) fn cpu_supported() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}
