//! The CPU backend: kiln's own Pippenger MSM and NTT on every core, through rayon.
//!
//! Resident tables are shared (`Arc`) host vectors, so "loading" a proving key costs nothing
//! beyond decoding it. NTT domains (twiddle tables) are built once per size and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use rayon::prelude::*;

use super::resident::ResidentTables;
use super::{
    BasesHandle, Device, DeviceError, DeviceInfo, DeviceKind, DeviceSpec, MsmJob, MsmSum, NttOp,
    Points,
};
use kiln_algebra::curve::Curve;
use kiln_algebra::msm::{
    default_precompute_bits, msm, msm_precomputed, precompute, precomputed_bytes, MsmError,
    PrecomputedBases,
};
use kiln_algebra::ntt::NttDomain;

/// Default [`CpuDevice::with_precompute_budget`]: 0, off. Precomputing a table's window
/// shifts costs about 15 MSMs' worth of doublings and ~3× the table's memory, and makes each
/// later MSM over it ~1.2-1.5× faster: it pays back after ~40 proofs with the same resident
/// key, so one-shot `kiln prove` leaves it off and a long-running daemon turns it on
/// (1 GiB per table is a reasonable budget there).
pub const DEFAULT_PRECOMPUTE_BUDGET: usize = 0;

/// A resident point table of one group and, within the budget, its precomputed window
/// shifts.
struct HostTable<P: SWCurveConfig> {
    points: Arc<Vec<Affine<P>>>,
    pre: Option<Arc<PrecomputedBases<P>>>,
}

impl<P: SWCurveConfig> Clone for HostTable<P> {
    fn clone(&self) -> Self {
        HostTable {
            points: self.points.clone(),
            pre: self.pre.clone(),
        }
    }
}

impl<P: SWCurveConfig> HostTable<P> {
    /// The table, precomputed when that takes at most `budget` bytes.
    fn new(points: Arc<Vec<Affine<P>>>, budget: usize) -> Self {
        let c = default_precompute_bits::<P>(points.len());
        let bytes = precomputed_bytes::<P>(points.len(), c);
        let pre = (!points.is_empty() && bytes <= budget).then(|| Arc::new(precompute(&points, c)));
        HostTable { points, pre }
    }

    /// The MSM `job` (its range checked by the caller).
    fn msm(&self, job: &MsmJob<'_, P::ScalarField>) -> Result<Projective<P>, MsmError> {
        let MsmJob {
            start,
            scalars,
            cfg,
            ..
        } = *job;
        match &self.pre {
            Some(pre) => msm_precomputed(pre, start, scalars, cfg),
            None => msm(&self.points[start..start + scalars.len()], scalars, cfg),
        }
    }
}

/// A resident point table on the CPU.
enum Table<C: Curve> {
    G1(HostTable<C::G1>),
    G2(HostTable<C::G2>),
}

impl<C: Curve> Clone for Table<C> {
    fn clone(&self) -> Self {
        match self {
            Table::G1(t) => Table::G1(t.clone()),
            Table::G2(t) => Table::G2(t.clone()),
        }
    }
}

/// The host CPU as a kiln device.
pub struct CpuDevice<C: Curve> {
    info: DeviceInfo,
    tables: ResidentTables<Table<C>>,
    precompute_budget: usize,
    domains: Mutex<HashMap<usize, Arc<NttDomain<C::Fr>>>>,
}

impl<C: Curve> Default for CpuDevice<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Curve> CpuDevice<C> {
    /// The CPU device, using the global rayon pool.
    pub fn new() -> Self {
        let spec = DeviceSpec {
            kind: DeviceKind::Cpu,
            index: 0,
        };
        CpuDevice {
            info: DeviceInfo {
                spec,
                name: cpu_model_name(),
                memory_bytes: None,
                compute_units: rayon::current_num_threads(),
                host_cpu: true,
                driver: None,
                emulated: false,
            },
            tables: ResidentTables::new(spec),
            precompute_budget: DEFAULT_PRECOMPUTE_BUDGET,
            domains: Mutex::new(HashMap::new()),
        }
    }

    /// Tables loaded from now on get precomputed window shifts (faster MSMs, paid once at
    /// load) only when those take at most `bytes`; 0 disables precomputation.
    pub fn with_precompute_budget(mut self, bytes: usize) -> Self {
        self.precompute_budget = bytes;
        self
    }

    fn domain(&self, size: usize) -> Result<Arc<NttDomain<C::Fr>>, DeviceError> {
        let mut domains = self.domains.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(d) = domains.get(&size) {
            return Ok(d.clone());
        }
        let d = Arc::new(NttDomain::new(size)?);
        domains.insert(size, d.clone());
        Ok(d)
    }
}

impl<C: Curve> Device<C> for CpuDevice<C> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn load(&self, points: Points<C>) -> Result<BasesHandle, DeviceError> {
        let (group, len, budget) = (points.group(), points.len(), self.precompute_budget);
        let table = match points {
            Points::G1(p) => Table::G1(HostTable::new(p, budget)),
            Points::G2(p) => Table::G2(HostTable::new(p, budget)),
        };
        Ok(self.tables.insert(table, group, len))
    }

    fn release(&self, bases: &BasesHandle) -> Result<(), DeviceError> {
        self.tables.remove(bases).map(drop)
    }

    fn msm(&self, job: &MsmJob<'_, C::Fr>) -> Result<MsmSum<C>, DeviceError> {
        let table = self.tables.for_msm(job)?;
        Ok(match table.table {
            Table::G1(t) => MsmSum::G1(t.msm(job)?),
            Table::G2(t) => MsmSum::G2(t.msm(job)?),
        })
    }

    fn ntt(&self, vectors: &mut [Vec<C::Fr>], op: NttOp<C::Fr>) -> Result<(), DeviceError> {
        let Some(first) = vectors.first() else {
            return Ok(());
        };
        let domain = self.domain(first.len())?;
        // Each transform is itself parallel; running the vectors side by side as well keeps
        // both levels busy when the vectors are small.
        vectors.par_iter_mut().try_for_each(|v| match op {
            NttOp::Forward => domain.ntt(v),
            NttOp::Inverse => domain.intt(v),
            NttOp::CosetForward(s) => domain.coset_ntt(v, s),
            NttOp::CosetInverse(s) => domain.coset_intt(v, s),
            NttOp::DomainToCoset(s) => domain.intt_then_coset_ntt(v, s),
        })?;
        Ok(())
    }
}

/// The CPU's model name from /proc/cpuinfo, or a generic name elsewhere.
fn cpu_model_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| format!("{} CPU", std::env::consts::ARCH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::UniformRand;
    use kiln_algebra::curve::{Bn254, G1Affine};
    use kiln_algebra::msm::{msm_naive, MsmConfig};

    type Fr = ark_bn254::Fr;

    fn random_g1(n: usize) -> Vec<G1Affine<Bn254>> {
        let mut rng = ark_std::test_rng();
        let g = G1Affine::<Bn254>::generator();
        (0..n)
            .map(|_| (g * Fr::rand(&mut rng)).into_affine())
            .collect()
    }

    #[test]
    fn msm_over_a_resident_table_matches_the_naive_sum_at_any_offset() {
        for budget in [0, 1 << 30] {
            resident_msm_matches_naive(CpuDevice::<Bn254>::new().with_precompute_budget(budget));
        }
    }

    fn resident_msm_matches_naive(dev: CpuDevice<Bn254>) {
        let points = random_g1(40);
        let h = dev.load_g1(Arc::new(points.clone())).unwrap();
        let mut rng = ark_std::test_rng();
        let scalars: Vec<Fr> = (0..25).map(|_| Fr::rand(&mut rng)).collect();
        for start in [0, 7, 15] {
            let got = dev
                .msm_g1(&MsmJob::new(&h, start, &scalars, &MsmConfig::default()))
                .unwrap();
            assert_eq!(got, msm_naive(&points[start..start + 25], &scalars));
        }
        assert!(matches!(
            dev.msm_g1(&MsmJob::new(&h, 16, &scalars, &MsmConfig::default())),
            Err(DeviceError::OutOfRange { .. })
        ));
        assert!(matches!(
            dev.msm_g2(&MsmJob::new(&h, 0, &scalars, &MsmConfig::default())),
            Err(DeviceError::WrongGroup { .. })
        ));
        dev.release(&h).unwrap();
        assert!(matches!(
            dev.msm_g1(&MsmJob::new(&h, 0, &scalars, &MsmConfig::default())),
            Err(DeviceError::UnknownBases { .. })
        ));
        assert!(dev.release(&h).is_err());
    }

    #[test]
    fn batched_ntt_round_trips_through_the_coset() {
        let dev = CpuDevice::<Bn254>::new();
        let mut rng = ark_std::test_rng();
        let orig: Vec<Vec<Fr>> = (0..3)
            .map(|_| (0..64).map(|_| Fr::rand(&mut rng)).collect())
            .collect();
        let shift = Fr::from(7u64);
        let mut v = orig.clone();
        dev.ntt(&mut v, NttOp::DomainToCoset(shift)).unwrap();
        dev.ntt(&mut v, NttOp::CosetInverse(shift)).unwrap();
        dev.ntt(&mut v, NttOp::Forward).unwrap();
        assert_eq!(v, orig);
        let mut odd = vec![vec![Fr::from(1u64); 3]];
        assert!(dev.ntt(&mut odd, NttOp::Forward).is_err());
    }
}
