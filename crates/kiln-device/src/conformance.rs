//! The conformance suite every device backend runs against the CPU backend (the CPU backend
//! itself is tested against naive definitions in `msm` and `ntt`): MSMs on G1 and G2 over
//! resident tables with start offsets, random and circom-like scalars, adversarial points
//! (repeats, negations, infinity), lengths 0, 1 and not powers of two, forced windows; and
//! every NTT op on batches of vectors, lengths 1 to 2^10.
//!
//! Compiled for this crate's tests, and for other crates' with the cargo feature
//! `conformance` (a backend crate's dev-dependency on kiln-device names it).

use std::sync::Arc;

use ark_ff::{FftField, UniformRand};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{CpuDevice, Device, MsmJob, NttOp};
use kiln_algebra::curve::{Bn254, Curve};
use kiln_algebra::msm::MsmConfig;
use kiln_algebra::test_inputs::{adversarial_points, random_scalars, witness_like};

type Fr = <Bn254 as Curve>::Fr;

/// Runs the whole suite on `dev`, comparing with the CPU backend.
pub fn check_device(dev: &dyn Device<Bn254>) {
    check_msm(dev);
    check_ntt(dev);
}

/// MSMs over resident G1 and G2 tables.
pub fn check_msm(dev: &dyn Device<Bn254>) {
    let cpu = CpuDevice::<Bn254>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let n = 700;
    let g1 = Arc::new(adversarial_points::<<Bn254 as Curve>::G1>(n, &mut rng));
    let g2 = Arc::new(adversarial_points::<<Bn254 as Curve>::G2>(n / 4, &mut rng));
    let (d1, c1) = (dev.load_g1(g1.clone()).unwrap(), cpu.load_g1(g1).unwrap());
    let (d2, c2) = (dev.load_g2(g2.clone()).unwrap(), cpu.load_g2(g2).unwrap());
    let name = &dev.info().name;
    let auto = MsmConfig::default();
    let cases: Vec<(&str, usize, Vec<Fr>, MsmConfig)> = vec![
        ("empty", 0, vec![], auto),
        ("one scalar", 3, vec![Fr::from(5u64)], auto),
        (
            "zero and one",
            0,
            vec![Fr::from(0u64), Fr::from(1u64), -Fr::from(1u64)],
            auto,
        ),
        (
            "random, odd length",
            1,
            random_scalars(n - 1, &mut rng),
            auto,
        ),
        ("witness-like", 0, witness_like(n, &mut rng), auto),
        ("offset", 250, random_scalars(300, &mut rng), auto),
        (
            "narrow window",
            0,
            random_scalars(97, &mut rng),
            MsmConfig {
                window_bits: Some(3),
                ..auto
            },
        ),
        (
            "wide window",
            7,
            witness_like(200, &mut rng),
            MsmConfig {
                window_bits: Some(16),
                ..auto
            },
        ),
    ];
    for (what, start, scalars, cfg) in &cases {
        let got = dev.msm_g1(&MsmJob::new(&d1, *start, scalars, cfg)).unwrap();
        let want = cpu.msm_g1(&MsmJob::new(&c1, *start, scalars, cfg)).unwrap();
        assert_eq!(got, want, "{name}: G1 MSM, {what}");
        let len = scalars.len().min(n / 4 - start.min(&(n / 4)));
        let start2 = (*start).min(n / 4 - len);
        let got = dev
            .msm_g2(&MsmJob::new(&d2, start2, &scalars[..len], cfg))
            .unwrap();
        let want = cpu
            .msm_g2(&MsmJob::new(&c2, start2, &scalars[..len], cfg))
            .unwrap();
        assert_eq!(got, want, "{name}: G2 MSM, {what}");
    }
    // Out of range and the wrong group are errors, not crashes.
    assert!(dev
        .msm_g1(&MsmJob::new(&d1, n - 1, &[Fr::from(1u64); 2], &auto))
        .is_err());
    assert!(dev
        .msm_g2(&MsmJob::new(&d1, 0, &[Fr::from(1u64)], &auto))
        .is_err());
    dev.release(&d1).unwrap();
    assert!(
        dev.msm_g1(&MsmJob::new(&d1, 0, &[Fr::from(1u64)], &auto))
            .is_err(),
        "{name}: released table"
    );
    dev.release(&d2).unwrap();
}

/// Every NTT op on a batch of three vectors, against the CPU backend.
pub fn check_ntt(dev: &dyn Device<Bn254>) {
    let cpu = CpuDevice::<Bn254>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let shift = Fr::GENERATOR;
    let ops = [
        NttOp::Forward,
        NttOp::Inverse,
        NttOp::CosetForward(shift),
        NttOp::CosetInverse(shift),
        NttOp::DomainToCoset(Fr::rand(&mut rng)),
    ];
    let name = &dev.info().name;
    for log in [0u32, 1, 2, 5, 10] {
        let n = 1usize << log;
        let mut batch: Vec<Vec<Fr>> = (0..3).map(|_| random_scalars(n, &mut rng)).collect();
        // Edge values: all zero, a one-hot vector.
        batch[1].iter_mut().for_each(|x| *x = Fr::from(0u64));
        batch[2][0] = Fr::from(1u64);
        for op in ops {
            let mut got = batch.clone();
            let mut want = batch.clone();
            dev.ntt(&mut got, op).unwrap();
            cpu.ntt(&mut want, op).unwrap();
            assert_eq!(got, want, "{name}: {op:?} at n = {n}");
        }
    }
    // Mismatched lengths and non-powers of two are refused.
    assert!(dev
        .ntt(
            &mut [vec![Fr::from(1u64); 4], vec![Fr::from(1u64); 2]],
            NttOp::Forward
        )
        .is_err());
    assert!(dev
        .ntt(&mut [vec![Fr::from(1u64); 3]], NttOp::Forward)
        .is_err());
}

#[test]
fn the_cpu_backend_passes_the_suite() {
    check_device(&CpuDevice::<Bn254>::new());
}
