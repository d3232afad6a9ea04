//! End-to-end tests of the pipeline on synthetic circuits: setup → zkey file → prove →
//! verify, and the ways a proof or a witness can be wrong.

use std::sync::Arc;

use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, UniformRand};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::synthetic::random_circuit;
use super::*;
use kiln_algebra::curve::Bn254;
use kiln_device::CpuDevice;
use kiln_formats::{write_zkey, Zkey};

type Fr = ark_bn254::Fr;

fn key_for(
    n_constraints: usize,
    n_out: usize,
    n_in: usize,
    seed: u64,
) -> (ProvingKey<Bn254>, Vec<Fr>, tempfile::TempDir) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (r1cs, w) = random_circuit::<Bn254, _>(&mut rng, n_constraints, n_out, n_in);
    r1cs.check_witness(&w)
        .expect("synthetic witness satisfies its circuit");
    let contents = setup(&r1cs, &mut rng).expect("setup");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.zkey");
    write_zkey(&path, &contents).expect("write zkey");
    let zkey = Zkey::<Bn254>::open(&path).expect("open zkey");
    let pk = ProvingKey::load(&zkey, Arc::new(CpuDevice::new())).expect("load key");
    (pk, w, dir)
}

#[test]
fn proofs_verify_for_circuits_of_several_shapes() {
    for (m, out, inp) in [(1, 0, 0), (5, 1, 1), (60, 2, 3), (300, 0, 4), (1030, 3, 0)] {
        let (pk, w, _dir) = key_for(m, out, inp, m as u64);
        let mut rng = ChaCha20Rng::seed_from_u64(99);
        let ProofOutput { proof, public, .. } = prove(&pk, &w, &mut rng).expect("prove");
        assert_eq!(public.len(), out + inp);
        assert_eq!(public, w[1..=out + inp].to_vec());
        assert!(verify(&pk.vk, &public, &proof).unwrap(), "m={m}");
    }
}

#[test]
fn tampered_proofs_and_public_signals_are_rejected() {
    let (pk, w, _dir) = key_for(40, 2, 2, 7);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ProofOutput { proof, public, .. } = prove(&pk, &w, &mut rng).unwrap();
    let g1 = ark_bn254::G1Affine::generator();
    let g2 = ark_bn254::G2Affine::generator();
    let bad_a = Proof {
        a: (proof.a + g1).into_affine(),
        ..proof
    };
    let bad_b = Proof {
        b: (proof.b + g2).into_affine(),
        ..proof
    };
    let bad_c = Proof {
        c: (proof.c + g1).into_affine(),
        ..proof
    };
    for p in [bad_a, bad_b, bad_c] {
        assert!(!verify(&pk.vk, &public, &p).unwrap());
    }
    for i in 0..public.len() {
        let mut p = public.clone();
        p[i] += Fr::one();
        assert!(!verify(&pk.vk, &p, &proof).unwrap(), "public[{i}] changed");
    }
    assert!(matches!(
        verify(&pk.vk, &public[1..], &proof),
        Err(VerifyError::PublicCount {
            expected: 4,
            got: 3
        })
    ));
}

#[test]
fn two_proofs_of_one_witness_differ_but_both_verify() {
    let (pk, w, _dir) = key_for(20, 1, 1, 3);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let ProofOutput {
        proof: p1, public, ..
    } = prove(&pk, &w, &mut rng).unwrap();
    let ProofOutput {
        proof: p2,
        public: _,
        ..
    } = prove(&pk, &w, &mut rng).unwrap();
    assert_ne!(p1, p2, "r and s must be fresh per proof");
    assert!(verify(&pk.vk, &public, &p2).unwrap());
}

#[test]
fn bad_witnesses_are_refused_without_a_proof() {
    let (pk, w, _dir) = key_for(30, 1, 1, 11);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut short = w.clone();
    short.pop();
    assert!(matches!(
        prove(&pk, &short, &mut rng),
        Err(ProveError::WitnessLength { .. })
    ));
    let mut not_one = w.clone();
    not_one[0] = Fr::from(2u64);
    assert!(matches!(
        prove(&pk, &not_one, &mut rng),
        Err(ProveError::WitnessConstant)
    ));
    for idx in [1, w.len() / 2, w.len() - 1] {
        let mut bad = w.clone();
        bad[idx] = Fr::rand(&mut rng);
        assert!(
            matches!(prove(&pk, &bad, &mut rng), Err(ProveError::Unsatisfied)),
            "altered witness value {idx} must not yield a proof"
        );
    }
}
