//! Unit tests of the vector arithmetic and layout against arkworks, on random and edge
//! values (skipped, with a note, on CPUs without AVX-512 IFMA).

use ark_bn254::Fr;
use ark_ff::{Field, One, UniformRand, Zero};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::{scaled, Limbs, V8};
use crate::simd52::cpu_supported;
use crate::simd52::layout::{load, load_rev, store};

/// Eight values: edge cases first, then random ones.
fn samples(seed: u64) -> Vec<[Fr; 8]> {
    let mut rng = StdRng::seed_from_u64(seed);
    let edge = [
        Fr::zero(),
        Fr::one(),
        -Fr::one(),
        -Fr::from(2u64),
        Fr::from(u64::MAX),
        Fr::from(2u64).pow([253u64]),
        -Fr::from(2u64).pow([200u64]),
        Fr::from(16u64).inverse().unwrap_or_default(),
    ];
    let mut out = vec![edge];
    out.extend((0..20).map(|_| std::array::from_fn(|_| Fr::rand(&mut rng))));
    out
}

fn limbs(x: &[Fr; 8]) -> [Limbs; 8] {
    x.map(|e| e.0 .0)
}

fn fr(x: &[Limbs; 8]) -> [Fr; 8] {
    x.map(|l| Fr::new_unchecked(ark_ff::BigInt(l)))
}

/// Reduces to canonical form and stores.
#[target_feature(enable = "avx512f")]
fn out(v: V8) -> [Fr; 8] {
    let mut l = [[0u64; 4]; 8];
    store(v.reduce_p(), &mut l);
    fr(&l)
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn check_all() {
    let all = samples(7);
    for a in &all {
        let va = load(&limbs(a));
        assert_eq!(out(va), *a, "load/store round trip");
        let mut rev = *a;
        rev.reverse();
        assert_eq!(out(load_rev(&limbs(a))), rev, "reversed load");
        for b in &all {
            let vb = load(&limbs(b));
            let b16 = load(&b.map(scaled));
            let each = |f: fn(Fr, Fr) -> Fr| -> [Fr; 8] { std::array::from_fn(|i| f(a[i], b[i])) };
            assert_eq!(out(va.mul(b16)), each(|x, y| x * y), "mul");
            assert_eq!(out(va.add(vb)), each(|x, y| x + y), "add");
            assert_eq!(out(va.sub(vb)), each(|x, y| x - y), "sub");
            assert_eq!(
                out(va.sub_lazy(vb).reduce_2p()),
                each(|x, y| x - y),
                "sub_lazy"
            );
            // Lazy chains: sums and differences stay < 2p, products of (< 4p)·(< 2p) < 2p.
            let s = va.add(vb).add(vb);
            let d = va.sub_lazy(vb);
            assert_eq!(
                out(d.mul(b16)),
                each(|x, y| (x - y) * y),
                "mul of lazy difference"
            );
            // Both operands unreduced: (x − y) < 4p times s·y < 2p, which enters `mul`
            // as a raw representative, so the product carries a factor 1/16.
            let inv16 = Fr::from(16u64).inverse().unwrap_or_default();
            let expect: [Fr; 8] =
                std::array::from_fn(|i| (a[i] - b[i]) * (a[i] + b[i] + b[i]) * b[i] * inv16);
            assert_eq!(out(d.mul(s.mul(b16))), expect, "mul of lazy operands");
        }
    }
}

#[test]
fn vector_arithmetic_matches_ark() {
    if !cpu_supported() {
        eprintln!("AVX-512 IFMA not available on this CPU: vector arithmetic not tested");
        return;
    }
    // SAFETY: the CPU supports avx512f and avx512ifma (checked above).
    unsafe { check_all() };
}
