//! Unit tests: the fast transforms against the O(n²) definition, round trips, agreement
//! with ark_poly's `Radix2EvaluationDomain`, the permutation, and error handling.

use ark_bn254::Fr;
use ark_ff::{FftField, Field, One, UniformRand, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::bitrev::bit_reverse;
use super::plan::bitrev_index;
use super::*;

/// Domains of size `n` with every backend that can run here (the portable kernels always;
/// AVX-512 IFMA when the CPU has it).
fn domains(n: usize) -> Vec<NttDomain<Fr>> {
    let mut out = vec![NttDomain::with_backend(n, NttBackend::Scalar).unwrap()];
    let fast = NttDomain::with_backend(n, NttBackend::Avx512Ifma).unwrap();
    if fast.backend() == NttBackend::Avx512Ifma {
        out.push(fast);
    }
    out
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn random_vec(n: usize, seed: u64) -> Vec<Fr> {
    let mut r = rng(seed);
    (0..n).map(|_| Fr::rand(&mut r)).collect()
}

/// A coset shift in the style of the prover: a 2n-th root of unity (the "odd coset").
fn odd_coset_shift(n: usize) -> Fr {
    Fr::get_root_of_unity(2 * n as u64).expect("2n divides the 2-adic order")
}

/// The naive transform of x ↦ p(shift·x): scale coefficient i by shift^i first.
fn coset_naive(coeffs: &[Fr], root: Fr, shift: Fr) -> Vec<Fr> {
    let mut s = Fr::one();
    let scaled: Vec<Fr> = coeffs
        .iter()
        .map(|c| {
            let v = *c * s;
            s *= shift;
            v
        })
        .collect();
    ntt_naive(&scaled, root)
}

const NAIVE_SIZES: [usize; 6] = [1, 2, 4, 8, 64, 1024];

#[test]
fn ntt_matches_naive() {
    for (seed, &n) in NAIVE_SIZES.iter().enumerate() {
        let coeffs = random_vec(n, seed as u64);
        let ds = domains(n);
        let expect = ntt_naive(&coeffs, ds[0].root());
        for d in ds {
            let mut fast = coeffs.clone();
            d.ntt(&mut fast).unwrap();
            assert_eq!(fast, expect, "ntt, n = {n}, {d:?}");
        }
    }
}

#[test]
fn intt_matches_naive() {
    for (seed, &n) in NAIVE_SIZES.iter().enumerate() {
        let coeffs = random_vec(n, 100 + seed as u64);
        let ds = domains(n);
        let naive = ntt_naive(&coeffs, ds[0].root());
        for d in ds {
            let mut evals = naive.clone();
            d.intt(&mut evals).unwrap();
            assert_eq!(evals, coeffs, "intt, n = {n}, {d:?}");
        }
    }
}

#[test]
fn coset_transforms_match_naive() {
    for (seed, &n) in NAIVE_SIZES.iter().enumerate() {
        let coeffs = random_vec(n, 200 + seed as u64);
        let shift = Fr::rand(&mut rng(300 + seed as u64));
        let ds = domains(n);
        let expect = coset_naive(&coeffs, ds[0].root(), shift);
        let naive = ntt_naive(&coeffs, ds[0].root());
        for d in ds {
            let mut fast = coeffs.clone();
            d.coset_ntt(&mut fast, shift).unwrap();
            assert_eq!(fast, expect, "coset_ntt, n = {n}, {d:?}");

            d.coset_intt(&mut fast, shift).unwrap();
            assert_eq!(fast, coeffs, "coset_intt, n = {n}, {d:?}");

            let mut fused = naive.clone();
            d.intt_then_coset_ntt(&mut fused, shift).unwrap();
            assert_eq!(fused, expect, "intt_then_coset_ntt, n = {n}, {d:?}");
        }
    }
}

/// Sizes that exercise the portable-only tiny domains, the sequential and the parallel
/// paths, fused passes above the block level, and the tiled permutation.
const ROUND_TRIP_LOGS: [u32; 7] = [0, 1, 3, 4, 7, 10, 12];

#[test]
fn round_trips() {
    for &k in &ROUND_TRIP_LOGS {
        let n = 1 << k;
        let orig = random_vec(n, 400 + u64::from(k));
        let shift = odd_coset_shift(n);
        for d in domains(n) {
            let mut v = orig.clone();
            d.ntt(&mut v).unwrap();
            d.intt(&mut v).unwrap();
            assert_eq!(v, orig, "intt∘ntt, n = 2^{k}");

            d.intt(&mut v).unwrap();
            d.ntt(&mut v).unwrap();
            assert_eq!(v, orig, "ntt∘intt, n = 2^{k}");

            d.coset_ntt(&mut v, shift).unwrap();
            d.coset_intt(&mut v, shift).unwrap();
            assert_eq!(v, orig, "coset_intt∘coset_ntt, n = 2^{k}");

            d.coset_intt(&mut v, shift).unwrap();
            d.coset_ntt(&mut v, shift).unwrap();
            assert_eq!(v, orig, "coset_ntt∘coset_intt, n = 2^{k}");
        }
    }
}

#[test]
fn round_trips_at_2_16() {
    let n = 1 << 16;
    let orig = random_vec(n, 416);
    let shift = odd_coset_shift(n);
    for d in domains(n) {
        let mut v = orig.clone();
        d.intt(&mut v).unwrap();
        d.ntt(&mut v).unwrap();
        assert!(v == orig, "ntt∘intt, {d:?}");
        d.coset_intt(&mut v, shift).unwrap();
        d.coset_ntt(&mut v, shift).unwrap();
        assert!(v == orig, "coset_ntt∘coset_intt, {d:?}");
    }
}

#[test]
fn several_passes_agree_with_ark_poly() {
    // Small blocks force two fused passes above the block level (k − block_log stages
    // split into passes of at most four), even and uneven.
    for (k, max_block_log) in [(9u32, 4u32), (12, 4), (12, 5)] {
        let n = 1 << k;
        let ark = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
        let shift = odd_coset_shift(n);
        let ark_coset = ark.get_coset(shift).unwrap();
        let v = random_vec(n, 700 + u64::from(k + max_block_log));
        for d in domains(n) {
            let d = d.with_max_block_log(max_block_log);
            let run = |f: &dyn Fn(&mut Vec<Fr>)| {
                let mut w = v.clone();
                f(&mut w);
                w
            };
            let what = format!("n = 2^{k}, blocks ≤ 2^{max_block_log}, {d:?}");
            assert_eq!(run(&|w| d.ntt(w).unwrap()), ark.fft(&v), "fft, {what}");
            assert_eq!(run(&|w| d.intt(w).unwrap()), ark.ifft(&v), "ifft, {what}");
            assert_eq!(
                run(&|w| d.coset_ntt(w, shift).unwrap()),
                ark_coset.fft(&v),
                "coset fft, {what}"
            );
            assert_eq!(
                run(&|w| d.coset_intt(w, shift).unwrap()),
                ark_coset.ifft(&v),
                "coset ifft, {what}"
            );
            assert_eq!(
                run(&|w| d.intt_then_coset_ntt(w, shift).unwrap()),
                ark_coset.fft(&ark.ifft(&v)),
                "ifft then coset fft, {what}"
            );
        }
    }
}

#[test]
fn fused_equals_intt_then_coset_ntt() {
    for &k in &[4u32, 7, 11, 13] {
        let n = 1 << k;
        let shift = odd_coset_shift(n);
        let input = random_vec(n, 500 + u64::from(k));
        for d in domains(n) {
            let mut fused = input.clone();
            let mut separate = input.clone();
            d.intt_then_coset_ntt(&mut fused, shift).unwrap();
            d.intt(&mut separate).unwrap();
            d.coset_ntt(&mut separate, shift).unwrap();
            assert_eq!(fused, separate, "n = 2^{k}, {d:?}");
        }
    }
}

#[test]
fn agrees_with_ark_poly() {
    for &k in &[1u32, 2, 5, 9, 12] {
        let n = 1 << k;
        let ark = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
        let offset = Fr::GENERATOR;
        let ark_coset = ark.get_coset(offset).unwrap();
        let v = random_vec(n, 600 + u64::from(k));
        for d in domains(n) {
            let mut mine = v.clone();
            d.ntt(&mut mine).unwrap();
            assert_eq!(mine, ark.fft(&v), "fft, n = 2^{k}");

            let mut mine = v.clone();
            d.intt(&mut mine).unwrap();
            assert_eq!(mine, ark.ifft(&v), "ifft, n = 2^{k}");

            let mut mine = v.clone();
            d.coset_ntt(&mut mine, offset).unwrap();
            assert_eq!(mine, ark_coset.fft(&v), "coset fft, n = 2^{k}");

            let mut mine = v.clone();
            d.coset_intt(&mut mine, offset).unwrap();
            assert_eq!(mine, ark_coset.ifft(&v), "coset ifft, n = 2^{k}");

            let mut mine = v.clone();
            d.intt_then_coset_ntt(&mut mine, offset).unwrap();
            assert_eq!(
                mine,
                ark_coset.fft(&ark.ifft(&v)),
                "ifft then coset fft, n = 2^{k}"
            );
        }
    }
}

#[test]
fn root_matches_ark_and_has_exact_order() {
    for k in 0..=16u32 {
        let d = NttDomain::<Fr>::new(1 << k).unwrap();
        let ark = Radix2EvaluationDomain::<Fr>::new(1 << k).unwrap();
        assert_eq!(d.root(), ark.group_gen, "k = {k}");
        assert_eq!(d.size(), 1 << k);
        assert_eq!(d.log_size(), k);
        assert!(d.root().pow([1u64 << k]).is_one(), "ω^n = 1, k = {k}");
        if k > 0 {
            assert_eq!(
                d.root().pow([1u64 << (k - 1)]),
                -Fr::one(),
                "ω^(n/2) = −1, k = {k}"
            );
        }
    }
    // The chain: ω_{2^k} = ω_{2^(k+1)}².
    let a = NttDomain::<Fr>::new(1 << 10).unwrap().root();
    let b = NttDomain::<Fr>::new(1 << 11).unwrap().root();
    assert_eq!(a, b.square());
    // Up to the largest size, ark's generator is the same squaring chain from
    // TWO_ADIC_ROOT_OF_UNITY that `new` uses (checked without building big tables).
    let mut w = Fr::TWO_ADIC_ROOT_OF_UNITY;
    for k in (0..=Fr::TWO_ADICITY).rev() {
        let ark = Radix2EvaluationDomain::<Fr>::new(1 << k).unwrap();
        assert_eq!(ark.group_gen, w, "k = {k}");
        w.square_in_place();
    }
}

#[test]
fn bad_sizes_are_errors() {
    for size in [0usize, 3, 6, 12, 1000, (1 << 20) + 1] {
        assert_eq!(
            NttDomain::<Fr>::new(size).unwrap_err(),
            NttError::NotPowerOfTwo { size }
        );
    }
    let too_big = 1usize << (Fr::TWO_ADICITY + 1);
    assert_eq!(
        NttDomain::<Fr>::new(too_big).unwrap_err(),
        NttError::TooLarge {
            log_size: Fr::TWO_ADICITY + 1,
            max: Fr::TWO_ADICITY
        }
    );
}

#[test]
fn length_mismatch_is_an_error() {
    let shift = Fr::GENERATOR;
    for d in domains(8).into_iter().chain(domains(64)) {
        for len in [0usize, 1, 7, 9, 16, 63, 65] {
            if len == d.size() {
                continue;
            }
            let mut v = vec![Fr::one(); len];
            let expected = Err(NttError::LengthMismatch {
                expected: d.size(),
                got: len,
            });
            assert_eq!(d.ntt(&mut v), expected);
            assert_eq!(d.intt(&mut v), expected);
            assert_eq!(d.coset_ntt(&mut v, shift), expected);
            assert_eq!(d.coset_intt(&mut v, shift), expected);
            assert_eq!(d.intt_then_coset_ntt(&mut v, shift), expected);
            assert_eq!(v, vec![Fr::one(); len], "input untouched on error");
        }
    }
}

#[test]
fn zero_and_one_hot_inputs() {
    for &k in &[0u32, 1, 4, 11] {
        let n = 1 << k;
        let shift = odd_coset_shift(n);
        for d in domains(n) {
            let mut z = vec![Fr::zero(); n];
            d.ntt(&mut z).unwrap();
            d.intt(&mut z).unwrap();
            d.coset_ntt(&mut z, shift).unwrap();
            d.coset_intt(&mut z, shift).unwrap();
            d.intt_then_coset_ntt(&mut z, shift).unwrap();
            assert!(z.iter().all(Zero::is_zero), "zeros stay zero, n = 2^{k}");

            for pos in [0, n / 2, n - 1] {
                // Coefficient vector x^pos evaluates to ω^{i·pos}.
                let mut v = vec![Fr::zero(); n];
                v[pos] = Fr::one();
                d.ntt(&mut v).unwrap();
                let w = d.root().pow([pos as u64]);
                let mut x = Fr::one();
                for (i, e) in v.iter().enumerate() {
                    assert_eq!(*e, x, "ntt of x^{pos} at {i}, n = 2^{k}");
                    x *= w;
                }
                // The evaluation vector δ_pos interpolates to ω^{−i·pos}/n.
                let mut v = vec![Fr::zero(); n];
                v[pos] = Fr::one();
                d.intt(&mut v).unwrap();
                let w_inv = w.inverse().unwrap();
                let mut x = Fr::from(n as u64).inverse().unwrap();
                for (i, e) in v.iter().enumerate() {
                    assert_eq!(*e, x, "intt of δ_{pos} at {i}, n = 2^{k}");
                    x *= w_inv;
                }
            }
        }
    }
}

#[test]
fn bit_reverse_is_the_permutation() {
    for k in [0u32, 1, 2, 5, 9, 10, 11, 12, 13] {
        let n = 1usize << k;
        let mut v: Vec<usize> = (0..n).collect();
        bit_reverse(&mut v);
        for (i, x) in v.iter().enumerate() {
            assert_eq!(*x, bitrev_index(i, k), "n = 2^{k}");
        }
    }
}

#[test]
fn domain_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<NttDomain<Fr>>();
}

#[test]
fn backend_choice() {
    let scalar = NttDomain::<Fr>::with_backend(1 << 10, NttBackend::Scalar).unwrap();
    assert_eq!(scalar.backend(), NttBackend::Scalar);
    let fast = NttDomain::<Fr>::with_backend(1 << 10, NttBackend::Avx512Ifma).unwrap();
    if fast.backend() == NttBackend::Scalar {
        eprintln!("AVX-512 IFMA not available on this CPU: only the portable kernels were tested");
    }
    // Tiny domains and other fields always use the portable kernels.
    let tiny = NttDomain::<Fr>::with_backend(8, NttBackend::Avx512Ifma).unwrap();
    assert_eq!(tiny.backend(), NttBackend::Scalar);
    let other = NttDomain::<ark_bn254::Fq>::with_backend(2, NttBackend::Avx512Ifma).unwrap();
    assert_eq!(other.backend(), NttBackend::Scalar);
}
