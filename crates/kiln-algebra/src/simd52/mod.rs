//! Eight-lane prime-field arithmetic in 52-bit limbs with AVX-512 IFMA (x86-64 only),
//! shared by the NTT (BN254 Fr butterflies) and the MSM (BN254 Fq affine additions).
//!
//! Submodules: `field` (the [`V8`] vector type, generic over a [`Modulus`]) and `layout`
//! (ark's `[u64; 4]` elements ↔ vectors: consecutive loads and stores, gathers and
//! scatters through pointers). Callers check [`cpu_supported`] once before using either.

pub(crate) mod field;
pub(crate) mod layout;

pub(crate) use field::{Bn254Fq, Bn254Fr, V8};

/// Whether BN254's Fq is laid out exactly as its `[u64; 4]` limbs and Fq2 as its two parts
/// back to back, as the gathers through pointers into points assume (checked on values
/// rather than assumed).
pub(crate) fn bn254_fq_layout_ok() -> bool {
    use ark_bn254::{Fq, Fq2};
    let x = Fq::from(0x1234_5678_u64);
    let y = Fq2::new(x, -x);
    let base = &y as *const Fq2 as usize;
    std::mem::size_of::<Fq>() == 32
        && std::mem::align_of::<Fq>() == std::mem::align_of::<[u64; 4]>()
        && std::ptr::addr_eq(&x as *const Fq, &x.0 .0 as *const [u64; 4])
        && std::mem::size_of::<Fq2>() == 64
        && &y.c0 as *const Fq as usize == base
        && &y.c1 as *const Fq as usize == base + 32
}

/// Whether this CPU has the instructions the vector code needs (`avx512f`, `avx512ifma`).
pub(crate) fn cpu_supported() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}
