//! The `ntt` suite: batches of three vectors, as the prover hands them to a device, through
//! the forward NTT and through the domain→coset step of the witness map, on every device
//! against ark-poly's `Radix2EvaluationDomain` on the same vectors.

use ark_ff::UniformRand;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use kiln_device::NttOp;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::devices::BenchDevice;
use crate::measure::{Contender, Ctx};
use crate::spec::Suite;
use crate::BenchError;

type Fr = ark_bn254::Fr;

/// Vectors per batch (the prover's A, B and C).
pub const BATCH: usize = 3;

/// The coset shift (a generator of Fr's multiplicative group, never in a domain).
const SHIFT: u64 = 7;

/// Runs the suite over `sizes`.
pub fn run(ctx: &mut Ctx<'_>, devices: &[BenchDevice], sizes: &[u32]) -> Result<(), BenchError> {
    let shift = Fr::from(SHIFT);
    for (op, ntt_op, baseline) in [
        ("ntt", NttOp::Forward, "ark-poly Radix2 fft"),
        (
            "intt+coset-ntt",
            NttOp::DomainToCoset(shift),
            "ark-poly Radix2 ifft + coset fft",
        ),
    ] {
        for &log in sizes {
            let n = 1usize << log;
            let mut rng = ChaCha20Rng::seed_from_u64(2 ^ u64::from(log) << 8);
            let data: Vec<Vec<Fr>> = (0..BATCH)
                .map(|_| (0..n).map(|_| Fr::rand(&mut rng)).collect())
                .collect();
            let domain = Radix2EvaluationDomain::<Fr>::new(n)
                .ok_or_else(|| BenchError::BadArgument(format!("no NTT domain of size 2^{log}")))?;
            let coset = domain.get_coset(shift).ok_or_else(|| {
                BenchError::BadArgument(format!("no coset of the 2^{log} domain"))
            })?;
            let data_ref = &data;
            let contenders = devices
                .iter()
                .map(|d| {
                    let v = d.default_variant();
                    Contender {
                        device: d,
                        variant: v,
                        run: Box::new(move || {
                            let mut out = data_ref.clone();
                            v.device.ntt(&mut out, ntt_op).map(|()| out)
                        }),
                    }
                })
                .collect();
            ctx.measure(
                Suite::Ntt,
                op,
                log,
                log,
                baseline,
                || {
                    let mut out = data.clone();
                    for v in out.iter_mut() {
                        match ntt_op {
                            NttOp::Forward => domain.fft_in_place(v),
                            _ => {
                                domain.ifft_in_place(v);
                                coset.fft_in_place(v);
                            }
                        }
                    }
                    out
                },
                contenders,
            );
        }
    }
    Ok(())
}
