//! The MSM against its naive definition, on G1 and G2, random and adversarial inputs.

use super::*;
use ark_bn254::{Fr, G1Projective, G2Projective};
use ark_ec::{AffineRepr, PrimeGroup};
use ark_ff::{BigInteger, Field, One};
use ark_std::UniformRand;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::test_inputs::{adversarial_points, points, random_scalars, witness_like};

type G1 = ark_bn254::g1::Config;
type G2 = ark_bn254::g2::Config;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn cfg(window_bits: Option<u32>, max_threads: Option<usize>) -> MsmConfig {
    MsmConfig {
        window_bits,
        max_threads,
    }
}

fn assert_matches_naive<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
    what: &str,
) {
    assert_matches(bases, scalars, msm_naive(bases, scalars), what);
}

fn assert_matches<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[P::ScalarField],
    expect: Projective<P>,
    what: &str,
) {
    let got = msm(bases, scalars, &MsmConfig::default()).unwrap();
    assert_eq!(got, expect, "{what}: n = {}", scalars.len());
    let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
    assert_eq!(
        msm_bigint(bases, &bigints, &MsmConfig::default()).unwrap(),
        expect,
        "{what} (bigint)"
    );
}

/// Random inputs of every length in `sizes` (prefixes of one input, so the naive sums are
/// computed incrementally: the reference is the slow part in a debug build).
fn random_prefixes<P: SWCurveConfig>(sizes: &[usize], seed: u64, what: &str) {
    let mut r = rng(seed);
    let max = sizes.iter().copied().max().unwrap_or(0);
    let bases = points::<P>(max, &mut r);
    let scalars = random_scalars::<P::ScalarField>(max, &mut r);
    let mut expect = Projective::<P>::zero();
    let mut done = 0;
    for &n in sizes {
        expect += msm_naive(&bases[done..n], &scalars[done..n]);
        done = n;
        assert_matches(&bases[..n], &scalars[..n], expect, what);
    }
}

#[test]
fn random_inputs_g1() {
    random_prefixes::<G1>(&[0, 1, 2, 3, 17, 100, 1000, 4097], 1, "random G1");
}

#[test]
fn random_inputs_g2() {
    random_prefixes::<G2>(&[0, 1, 2, 3, 17, 100, 1000], 2, "random G2");
}

#[test]
fn witness_like_scalars_and_adversarial_points() {
    let mut r = rng(3);
    for n in [1, 2, 3, 17, 100, 1000] {
        let bases = adversarial_points::<G1>(n, &mut r);
        let scalars = witness_like::<Fr>(n, &mut r);
        assert_matches_naive(&bases, &scalars, "witness-like G1");
    }
    for n in [17, 600] {
        let bases = adversarial_points::<G2>(n, &mut r);
        let scalars = witness_like::<Fr>(n, &mut r);
        assert_matches_naive(&bases, &scalars, "witness-like G2");
    }
}

#[test]
fn uniform_scalars() {
    let mut r = rng(4);
    let bases = points::<G1>(2000, &mut r);
    let rand = Fr::rand(&mut r);
    for (what, s) in [
        ("zeros", Fr::zero()),
        ("ones", Fr::one()),
        ("minus ones", -Fr::one()),
        ("twos", Fr::from(2u64)),
        ("all equal", rand),
    ] {
        let scalars = vec![s; bases.len()];
        let expect = bases
            .iter()
            .map(|b| G1Projective::from(*b))
            .sum::<G1Projective>()
            * s;
        assert_eq!(
            msm(&bases, &scalars, &MsmConfig::default()).unwrap(),
            expect,
            "{what}"
        );
    }
    // The same point under the same scalar: every bucket addition is a doubling.
    let same = vec![bases[0]; 1500];
    let scalars = vec![rand; same.len()];
    let expect = G1Projective::from(bases[0]) * (rand * Fr::from(1500u64));
    assert_eq!(msm(&same, &scalars, &MsmConfig::default()).unwrap(), expect);
    // A point and its negation, same scalar: everything cancels.
    let pm: Vec<_> = (0..1000)
        .map(|i| if i % 2 == 0 { bases[i] } else { -bases[i - 1] })
        .collect();
    let scalars = vec![rand; pm.len()];
    assert!(msm(&pm, &scalars, &MsmConfig::default()).unwrap().is_zero());
}

#[test]
fn forced_windows_and_thread_counts_agree() {
    let mut r = rng(5);
    let n = 200;
    let bases = adversarial_points::<G1>(n, &mut r);
    let scalars = witness_like::<Fr>(n, &mut r);
    let expect = msm_naive(&bases, &scalars);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    for bits in 1..=16 {
        for threads in [Some(1), Some(3), None] {
            let got = pool.install(|| msm(&bases, &scalars, &cfg(Some(bits), threads)).unwrap());
            assert_eq!(got, expect, "window_bits {bits}, max_threads {threads:?}");
        }
    }
    let bases2 = adversarial_points::<G2>(60, &mut r);
    let scalars2 = witness_like::<Fr>(60, &mut r);
    let expect2 = msm_naive(&bases2, &scalars2);
    for bits in [1, 4, 9, 13] {
        let got = pool.install(|| msm(&bases2, &scalars2, &cfg(Some(bits), None)).unwrap());
        assert_eq!(got, expect2, "G2 window_bits {bits}");
    }
}

#[test]
fn explicit_plans_with_chunks_and_tiny_batches() {
    let mut r = rng(6);
    let n = 300;
    let bases = adversarial_points::<G1>(n, &mut r);
    let scalars = witness_like::<Fr>(n, &mut r);
    let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
    let expect = msm_naive(&bases, &scalars);
    let classified = classify::classify(&bases, &bigints, 3);
    for c in [2, 5, 8] {
        for (chunks, split) in [(1, 0), (1, 2), (3, 1)] {
            for batch in [1, 64] {
                let win = plan::Windows {
                    c,
                    count: digits::windows_for_bits(254, c),
                    chunks,
                    split,
                    batch,
                };
                let got = pippenger::run(&bases, &bigints, &classified, win, 3);
                assert_eq!(
                    got, expect,
                    "c {c} chunks {chunks} split {split} batch {batch}"
                );
            }
        }
    }
}

#[test]
fn fewer_scalars_than_bases_and_errors() {
    let mut r = rng(7);
    let bases = points::<G1>(50, &mut r);
    let scalars = random_scalars::<Fr>(30, &mut r);
    assert_eq!(
        msm(&bases, &scalars, &MsmConfig::default()).unwrap(),
        msm_naive(&bases[..30], &scalars)
    );
    assert_eq!(
        msm(&bases[..10], &scalars, &MsmConfig::default()).unwrap_err(),
        MsmError::LengthMismatch {
            bases: 10,
            scalars: 30
        }
    );
    for bits in [0, MAX_WINDOW_BITS + 1] {
        assert_eq!(
            msm(&bases, &scalars, &cfg(Some(bits), None)).unwrap_err(),
            MsmError::WindowBits {
                bits,
                max: MAX_WINDOW_BITS
            }
        );
    }
    assert_eq!(
        msm(&bases, &scalars, &cfg(None, Some(0))).unwrap_err(),
        MsmError::ZeroThreads
    );
    let empty: [Affine<G1>; 0] = [];
    assert!(msm::<G1>(&empty, &[], &MsmConfig::default())
        .unwrap()
        .is_zero());
}

#[test]
fn non_canonical_bigints_are_integers() {
    let g = ark_bn254::G1Affine::generator();
    let mut big = Fr::MODULUS;
    big.add_with_carry(&5u64.into());
    let all_ones = ark_ff::BigInt([u64::MAX; 4]);
    // (2^256 - 1) mod r, computed in the field.
    let all_ones_mod_r = Fr::from(2u64).pow([256u64]) - Fr::one();
    for bits in [None, Some(7), Some(16)] {
        let got = msm_bigint(&[g, g], &[big, all_ones], &cfg(bits, None)).unwrap();
        assert_eq!(
            got,
            G1Projective::from(g) * (Fr::from(5u64) + all_ones_mod_r),
            "{bits:?}"
        );
    }
    let _ = G2Projective::generator();
}
