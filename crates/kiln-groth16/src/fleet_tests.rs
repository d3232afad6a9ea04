//! The fleet's fallback and placement with fault-injecting members: proofs stay correct,
//! faults are counted, faulty devices are quarantined and then left alone.

use std::sync::Arc;

use ark_ff::UniformRand;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::synthetic::random_circuit;
use crate::{prove, setup, verify, ProvingKey};
use kiln_algebra::curve::{Bn254, Curve, G1Projective};
use kiln_algebra::msm::MsmConfig;
use kiln_algebra::test_inputs::points;
use kiln_device::fleet::faulty::{Fault, FaultyDevice};
use kiln_device::fleet::{Calibration, Fleet, QUARANTINE_AFTER, SPLIT_MIN};
use kiln_device::{CpuDevice, Device, DeviceError, DeviceInfo, DeviceKind, DeviceSpec, MsmJob};
use kiln_formats::{write_zkey, Zkey};

type Fr = ark_bn254::Fr;

fn faulty(fault: Fault, index: usize) -> Arc<FaultyDevice<Bn254>> {
    let info = DeviceInfo {
        spec: DeviceSpec {
            kind: DeviceKind::Opencl,
            index,
        },
        name: format!("faulty {fault:?}"),
        memory_bytes: None,
        compute_units: 1,
        host_cpu: false,
        driver: None,
        emulated: false,
    };
    Arc::new(FaultyDevice::new(Arc::new(CpuDevice::new()), info, fault))
}

/// A synthetic circuit's key loaded through a fleet of the CPU and `member`, and a witness.
fn fleet_key(
    member: Arc<FaultyDevice<Bn254>>,
    rng: &mut ChaCha20Rng,
) -> (Arc<Fleet<Bn254>>, ProvingKey<Bn254>, Vec<Fr>) {
    let (r1cs, w) = random_circuit::<Bn254, _>(rng, 50, 1, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.zkey");
    write_zkey(&path, &setup(&r1cs, rng).unwrap()).unwrap();
    let zkey = Zkey::<Bn254>::open(&path).unwrap();
    let fleet = Arc::new(Fleet::new(vec![member], Calibration::in_memory()));
    let pk = ProvingKey::load(&zkey, fleet.clone()).unwrap();
    (fleet, pk, w)
}

/// Proves `proofs` times through a fleet of the CPU and `member`, checking every proof.
fn prove_through(member: Arc<FaultyDevice<Bn254>>, proofs: usize) -> Arc<Fleet<Bn254>> {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (fleet, pk, w) = fleet_key(member, &mut rng);
    for i in 0..proofs {
        let out = prove(&pk, &w, &mut rng).unwrap_or_else(|e| panic!("proof {i}: {e}"));
        assert!(
            verify(&pk.vk, &out.public, &out.proof).unwrap(),
            "proof {i}"
        );
    }
    fleet
}

#[test]
fn erroring_device_is_counted_quarantined_and_its_work_redone() {
    let member = faulty(Fault::Error, 0);
    let fleet = prove_through(member.clone(), 3);
    let status = fleet.members();
    assert_eq!(status[1].state, "quarantined", "{status:?}");
    assert_eq!(status[1].faults, QUARANTINE_AFTER);
    assert!(status[0].jobs_done > 0);
    // Once quarantined it gets no more work.
    let calls = member.calls();
    let _ = prove_through_again(&fleet);
    assert_eq!(member.calls(), calls);
}

/// One more MSM through an existing fleet.
fn prove_through_again(fleet: &Fleet<Bn254>) -> G1Projective<Bn254> {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let pts = Arc::new(points::<<Bn254 as Curve>::G1>(
        64,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(9),
    ));
    let h = fleet.load_g1(pts).unwrap();
    let s: Vec<Fr> = (0..64).map(|_| Fr::rand(&mut rng)).collect();
    fleet
        .msm_g1(&MsmJob::new(&h, 0, &s, &MsmConfig::default()))
        .unwrap()
}

#[test]
fn wrong_results_are_caught_by_the_proof_check_and_the_device_quarantined() {
    let member = faulty(Fault::WrongResult, 0);
    let fleet = prove_through(member.clone(), 3);
    let status = fleet.members();
    assert_eq!(status[1].state, "quarantined", "{status:?}");
    assert_eq!(status[1].faults, QUARANTINE_AFTER);
    let calls = member.calls();
    let _ = prove_through_again(&fleet);
    assert_eq!(member.calls(), calls, "a quarantined device got work");
}

#[test]
fn a_healthy_second_device_shares_large_msms_with_the_same_result() {
    let member = faulty(Fault::None, 0);
    let fleet = Fleet::<Bn254>::new(vec![member.clone()], Calibration::in_memory());
    let cpu = CpuDevice::<Bn254>::new();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let n = SPLIT_MIN + 123;
    let pts = Arc::new(points::<<Bn254 as Curve>::G1>(
        n,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(3),
    ));
    let (h, c) = (
        fleet.load_g1(pts.clone()).unwrap(),
        cpu.load_g1(pts).unwrap(),
    );
    let s: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let want = cpu
        .msm_g1(&MsmJob::new(&c, 0, &s, &MsmConfig::default()))
        .unwrap();
    // The first MSMs calibrate each member; later ones are split between both.
    for _ in 0..4 {
        assert_eq!(
            fleet
                .msm_g1(&MsmJob::new(&h, 0, &s, &MsmConfig::default()))
                .unwrap(),
            want
        );
    }
    let status = fleet.members();
    assert!(
        status.iter().all(|m| m.jobs_done >= 2 && m.faults == 0),
        "{status:?}"
    );
    assert!(member.calls() >= 2);
}

#[test]
fn a_bad_witness_is_not_blamed_on_the_devices() {
    let member = faulty(Fault::None, 0);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (fleet, pk, mut w) = fleet_key(member, &mut rng);
    let last = w.len() - 1;
    w[last] += Fr::from(1u64);
    assert!(prove(&pk, &w, &mut rng).is_err());
    assert!(fleet.members().iter().all(|m| m.faults == 0));
}

#[test]
fn a_failing_release_does_not_keep_the_other_members_tables() {
    let bad = faulty(Fault::Error, 0);
    let good = faulty(Fault::None, 1);
    let fleet = Fleet::new(
        vec![bad.clone() as Arc<dyn Device<Bn254>>, good.clone()],
        Calibration::in_memory(),
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let table = fleet
        .load_g1(Arc::new(points::<ark_bn254::g1::Config>(8, &mut rng)))
        .unwrap();
    let e = fleet.release(&table).unwrap_err();
    assert!(e.to_string().contains("injected fault"), "{e}");
    assert_eq!((bad.releases(), good.releases()), (1, 1));
    // The fleet forgot the table either way.
    assert!(matches!(
        fleet.release(&table),
        Err(DeviceError::UnknownBases { .. })
    ));
}
