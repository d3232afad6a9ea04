//! The `msm` suite: `Σ sᵢ·Pᵢ` over a table resident on each device, for each group and
//! size, every device variant (window widths, the CPU backend's precomputation) against
//! arkworks' `VariableBaseMSM` on the same points and scalars.

use std::sync::Arc;

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use kiln_algebra::curve::Bn254;
use kiln_algebra::msm::MsmConfig;
use kiln_device::{BasesHandle, Device, DeviceError, MsmJob};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::devices::BenchDevice;
use crate::measure::{Contender, Ctx};
use crate::spec::{GroupSel, Suite};
use crate::BenchError;

type Fr = ark_bn254::Fr;

/// The baseline's name in reports.
pub const BASELINE: &str = "arkworks VariableBaseMSM";

/// 2^log distinct points `P + i·Q`, cheap to make (additions and one batch
/// normalization), with a fixed seed so every run measures the same points.
pub fn points<P: SWCurveConfig<ScalarField = Fr>>(log: u32, seed: u64) -> Vec<Affine<P>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let g = Affine::<P>::generator();
    let q = g * Fr::rand(&mut rng);
    let mut acc = g * Fr::rand(&mut rng);
    let proj: Vec<Projective<P>> = (0..1usize << log)
        .map(|_| {
            acc += q;
            acc
        })
        .collect();
    Projective::<P>::normalize_batch(&proj)
}

/// Random scalars with a fixed seed per size.
pub fn scalars(log: u32, seed: u64) -> Vec<Fr> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ u64::from(log) << 32);
    (0..1usize << log).map(|_| Fr::rand(&mut rng)).collect()
}

/// Makes a table of one group resident on a device.
type LoadFn<P> = fn(&dyn Device<Bn254>, Arc<Vec<Affine<P>>>) -> Result<BasesHandle, DeviceError>;

/// Runs an MSM of one group on a device.
type MsmFn<P> = fn(&dyn Device<Bn254>, &MsmJob<'_, Fr>) -> Result<Projective<P>, DeviceError>;

/// How one group's tables are loaded and its MSMs run on a device.
struct GroupOps<P: SWCurveConfig> {
    group: GroupSel,
    load: LoadFn<P>,
    msm: MsmFn<P>,
}

/// Runs the suite over `sizes` for `groups`.
pub fn run(
    ctx: &mut Ctx<'_>,
    devices: &[BenchDevice],
    sizes: &[u32],
    groups: &[GroupSel],
) -> Result<(), BenchError> {
    for &g in groups {
        match g {
            GroupSel::G1 => run_group(
                ctx,
                devices,
                sizes,
                GroupOps::<ark_bn254::g1::Config> {
                    group: g,
                    load: |d, p| d.load_g1(p),
                    msm: |d, j| d.msm_g1(j),
                },
            )?,
            GroupSel::G2 => run_group(
                ctx,
                devices,
                sizes,
                GroupOps::<ark_bn254::g2::Config> {
                    group: g,
                    load: |d, p| d.load_g2(p),
                    msm: |d, j| d.msm_g2(j),
                },
            )?,
        }
    }
    Ok(())
}

fn run_group<P: SWCurveConfig<ScalarField = Fr>>(
    ctx: &mut Ctx<'_>,
    devices: &[BenchDevice],
    sizes: &[u32],
    ops: GroupOps<P>,
) -> Result<(), BenchError>
where
    Projective<P>: VariableBaseMSM<MulBase = Affine<P>, ScalarField = Fr>,
{
    let Some(&top) = sizes.iter().max() else {
        return Ok(());
    };
    let op = format!("msm-{}", ops.group.as_str().to_ascii_lowercase());
    ctx.progress
        .set_message(format!("{op}: making 2^{top} points"));
    let table = Arc::new(points::<P>(top, 0x6b69_6c6e));
    // One resident table per device instance (variants of one instance share it).
    let mut handles: Vec<(Arc<dyn Device<Bn254>>, BasesHandle)> = Vec::new();
    for d in devices {
        for v in &d.variants {
            if handles.iter().any(|(dev, _)| Arc::ptr_eq(dev, &v.device)) {
                continue;
            }
            ctx.progress
                .set_message(format!("{op}: loading 2^{top} points on {}", d.entry.label));
            match (ops.load)(v.device.as_ref(), table.clone()) {
                Ok(h) => handles.push((v.device.clone(), h)),
                // That device gets no rows for this group; the others go on.
                Err(e) => ctx.fail(
                    Suite::Msm,
                    &op,
                    top,
                    d,
                    v,
                    format!("FAILED: loading 2^{top} points on {}: {e}", d.entry.device),
                ),
            }
        }
    }
    for &log in sizes {
        let n = 1usize << log;
        let sc = scalars(log, 1);
        let bases = &table[..n];
        let cfgs: Vec<MsmConfig> = devices
            .iter()
            .flat_map(|d| &d.variants)
            .map(|v| MsmConfig {
                window_bits: v.window,
                ..MsmConfig::default()
            })
            .collect();
        let mut contenders = Vec::new();
        let mut k = 0;
        for d in devices {
            for v in &d.variants {
                let cfg = &cfgs[k];
                k += 1;
                let Some((_, handle)) = handles.iter().find(|(dev, _)| Arc::ptr_eq(dev, &v.device))
                else {
                    continue;
                };
                let sc = &sc;
                let msm = ops.msm;
                contenders.push(Contender {
                    device: d,
                    variant: v,
                    run: Box::new(move || msm(v.device.as_ref(), &MsmJob::new(handle, 0, sc, cfg))),
                });
            }
        }
        ctx.measure(
            Suite::Msm,
            &op,
            log,
            log,
            BASELINE,
            || <Projective<P> as VariableBaseMSM>::msm(bases, &sc).expect("lengths match"),
            contenders,
        );
    }
    for (dev, h) in handles {
        if let Err(e) = dev.release(&h) {
            let problem = format!(
                "FAILED: releasing the {op} table on {}: {e}",
                dev.info().spec
            );
            ctx.table.problem(ctx.progress, &problem);
            ctx.problems.push(problem);
        }
    }
    Ok(())
}
