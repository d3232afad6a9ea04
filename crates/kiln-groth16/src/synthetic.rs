//! Synthetic satisfiable circuits, for tests and benchmarks that need a circuit of a given
//! size without compiling one. The layout follows circom's wire order: wire 0 is the
//! constant 1, then the public outputs, the public inputs, the private inputs, and the
//! internal wires.

use ark_ff::{One, UniformRand, Zero};
use rand::{Rng, RngCore};

use kiln_algebra::curve::Curve;
use kiln_formats::{Constraint, R1cs};

/// A random circuit with `n_constraints` multiplication gates (at least 1) and the given
/// public outputs and inputs, with a witness that satisfies it.
pub fn random_circuit<C: Curve, R: RngCore>(
    rng: &mut R,
    n_constraints: usize,
    n_pub_out: usize,
    n_pub_in: usize,
) -> (R1cs<C>, Vec<C::Fr>) {
    let n_prv_in = 2;
    let first_internal = 1 + n_pub_out + n_pub_in + n_prv_in;
    let gates = n_constraints.saturating_sub(n_pub_out).max(1);
    let n_wires = first_internal + gates;
    let mut w = vec![C::Fr::zero(); n_wires];
    w[0] = C::Fr::one();
    for v in w.iter_mut().take(first_internal).skip(1 + n_pub_out) {
        *v = C::Fr::rand(rng);
    }
    let mut constraints = Vec::with_capacity(gates + n_pub_out);
    // Gate g defines internal wire first_internal+g from earlier input/internal wires
    // (never the outputs, whose values are set last).
    let pick = |rng: &mut R, limit: usize| -> u32 {
        let k = rng.gen_range(0..limit - n_pub_out);
        (if k == 0 { 0 } else { k + n_pub_out }) as u32
    };
    for g in 0..gates {
        let out = first_internal + g;
        let lc = |rng: &mut R| -> Vec<(u32, C::Fr)> {
            let terms = rng.gen_range(1..=3);
            (0..terms)
                .map(|_| {
                    let coef = match rng.gen_range(0..3) {
                        0 => C::Fr::one(),
                        1 => -C::Fr::one(),
                        _ => C::Fr::rand(rng),
                    };
                    (pick(rng, out), coef)
                })
                .collect()
        };
        let a = lc(rng);
        let b = lc(rng);
        let eval = |lc: &[(u32, C::Fr)], w: &[C::Fr]| -> C::Fr {
            lc.iter().map(|(i, c)| *c * w[*i as usize]).sum()
        };
        w[out] = eval(&a, &w) * eval(&b, &w);
        constraints.push(Constraint {
            a,
            b,
            c: vec![(out as u32, C::Fr::one())],
        });
    }
    // Each public output copies an internal wire: 1 · w_k = out.
    for o in 0..n_pub_out {
        let k = first_internal + rng.gen_range(0..gates);
        w[1 + o] = w[k];
        constraints.push(Constraint {
            a: vec![(0, C::Fr::one())],
            b: vec![(k as u32, C::Fr::one())],
            c: vec![((1 + o) as u32, C::Fr::one())],
        });
    }
    let r1cs = R1cs {
        n_wires,
        n_pub_out,
        n_pub_in,
        n_prv_in,
        n_labels: n_wires as u64,
        constraints,
    };
    (r1cs, w)
}
