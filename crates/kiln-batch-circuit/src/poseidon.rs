//! circomlib's Poseidon `H(x1, …, xn)` as constraints, with the circom parameters of
//! light-poseidon (the same hash as `kiln_rollup::poseidon::hash`): width `t = n + 1`,
//! state `[0, x1, …, xn]`, each round adds its constants, applies `x⁵` to every element
//! (full rounds) or to the first (partial rounds) and multiplies by the MDS matrix; the
//! hash is the first element at the end.
//!
//! Each `x⁵` costs three constraints (`x² = x·x`, `x⁴ = x²·x²`, `x⁵ = x⁴·x`); the linear
//! layers cost nothing. An S-box whose input is a constant (the capacity element's in the
//! first round) is folded. The constraints of one arity are always the same up to which
//! wires feed them, so they are derived once per arity as a template over local indices
//! (the constant, the inputs, then each constraint's output) and instantiated per hash;
//! in prove mode the values come from running the permutation natively.

use std::sync::OnceLock;

use ark_ff::{Field, One, Zero};
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;
use light_poseidon::PoseidonParameters;

use crate::cs::{Cs, Fr, Lc, Num};

/// Most inputs a hash takes (light-poseidon's circom parameters go to width 13).
pub const MAX_INPUTS: usize = 12;

/// A linear combination over a template's locals.
type LocalLc = Vec<(u32, Fr)>;

/// The constraints of one arity over local indices: 0 is the constant 1, `1..=n` the
/// inputs, `n + 1 + k` the output of constraint `k` (whose C side is that local alone).
struct Template {
    params: PoseidonParameters<Fr>,
    n_inputs: usize,
    /// A and B of each constraint.
    rows: Vec<(LocalLc, LocalLc)>,
    /// For each non-folded S-box in order, its position in the sequence of all S-boxes.
    sboxes: Vec<usize>,
    /// The hash.
    output: LocalLc,
}

fn sparse(v: &[Fr]) -> LocalLc {
    v.iter()
        .enumerate()
        .filter(|(_, c)| !c.is_zero())
        .map(|(i, c)| (i as u32, *c))
        .collect()
}

fn unit(len: usize, i: usize) -> Vec<Fr> {
    let mut v = vec![Fr::zero(); len];
    v[i] = Fr::one();
    v
}

impl Template {
    fn build(n: usize) -> Template {
        let params = get_poseidon_parameters::<Fr>((n + 1) as u8)
            .unwrap_or_else(|e| unreachable!("light-poseidon has width {}: {e}", n + 1));
        let t = params.width;
        let rounds = params.full_rounds + params.partial_rounds;
        let half = params.full_rounds / 2;
        let len = 1 + n + 3 * (params.full_rounds * t + params.partial_rounds);
        let mut state: Vec<Vec<Fr>> = (0..t)
            .map(|i| {
                if i == 0 {
                    vec![Fr::zero(); len]
                } else {
                    unit(len, i)
                }
            })
            .collect();
        let mut rows = Vec::new();
        let mut sboxes = Vec::new();
        let mut sbox_seq = 0;
        for r in 0..rounds {
            for (i, s) in state.iter_mut().enumerate() {
                s[0] += params.ark[r * t + i];
            }
            let full = r < half || r >= half + params.partial_rounds;
            let width = if full { t } else { 1 };
            for s in state.iter_mut().take(width) {
                if s[1..].iter().all(Zero::is_zero) {
                    s[0] = s[0].pow([params.alpha]);
                } else {
                    let x = sparse(s);
                    let l = (1 + n + rows.len()) as u32;
                    rows.push((x.clone(), x.clone()));
                    rows.push((vec![(l, Fr::one())], vec![(l, Fr::one())]));
                    rows.push((vec![(l + 1, Fr::one())], x));
                    *s = unit(len, l as usize + 2);
                    sboxes.push(sbox_seq);
                }
                sbox_seq += 1;
            }
            state = (0..t)
                .map(|i| {
                    let mut out = vec![Fr::zero(); len];
                    for (j, s) in state.iter().enumerate() {
                        let m = params.mds[i][j];
                        for (o, x) in out.iter_mut().zip(s) {
                            if !x.is_zero() {
                                *o += m * x;
                            }
                        }
                    }
                    out
                })
                .collect();
        }
        let output = sparse(&state[0]);
        Template {
            params,
            n_inputs: n,
            rows,
            sboxes,
            output,
        }
    }

    /// The permutation run natively, returning every S-box's input (in order) and the hash.
    fn run(&self, inputs: &[Fr]) -> (Vec<Fr>, Fr) {
        let p = &self.params;
        let t = p.width;
        let half = p.full_rounds / 2;
        let mut state: Vec<Fr> = std::iter::once(Fr::zero())
            .chain(inputs.iter().copied())
            .collect();
        let mut sbox_inputs = Vec::with_capacity(p.full_rounds * t + p.partial_rounds);
        let mut next = vec![Fr::zero(); t];
        for r in 0..p.full_rounds + p.partial_rounds {
            for (i, s) in state.iter_mut().enumerate() {
                *s += p.ark[r * t + i];
            }
            let full = r < half || r >= half + p.partial_rounds;
            let width = if full { t } else { 1 };
            for s in state.iter_mut().take(width) {
                sbox_inputs.push(*s);
                let s2 = s.square();
                *s = s2.square() * *s;
            }
            for (i, o) in next.iter_mut().enumerate() {
                *o = state
                    .iter()
                    .zip(&p.mds[i])
                    .fold(Fr::zero(), |acc, (s, m)| acc + *s * m);
            }
            std::mem::swap(&mut state, &mut next);
        }
        (sbox_inputs, state[0])
    }
}

fn template(n: usize) -> &'static Template {
    static TEMPLATES: [OnceLock<Template>; MAX_INPUTS + 1] =
        [const { OnceLock::new() }; MAX_INPUTS + 1];
    TEMPLATES[n].get_or_init(|| Template::build(n))
}

/// Constraints one hash of `n` inputs costs (when not every input is a constant).
pub fn cost(n: usize) -> usize {
    template(n).rows.len()
}

/// `H(inputs)` for 1 to [`MAX_INPUTS`] inputs. All-constant inputs cost nothing.
pub fn hash(cs: &mut Cs, inputs: &[Num]) -> Num {
    let n = inputs.len();
    assert!(
        (1..=MAX_INPUTS).contains(&n),
        "Poseidon takes 1 to {MAX_INPUTS} inputs, not {n}"
    );
    let tpl = template(n);
    let vals: Vec<Fr> = inputs.iter().map(|x| x.val).collect();
    if let Some(consts) = inputs
        .iter()
        .map(Num::as_constant)
        .collect::<Option<Vec<Fr>>>()
    {
        return Num::constant(tpl.run(&consts).1);
    }
    let (sbox_inputs, out) = if cs.is_prove() {
        tpl.run(&vals)
    } else {
        (vec![Fr::zero(); sbox_count(tpl)], Fr::zero())
    };
    let base = cs.num_wires() as u32;
    let local = |l: u32| -> LocalRef<'_> {
        if l == 0 {
            LocalRef::One
        } else if (l as usize) <= tpl.n_inputs {
            LocalRef::Input(&inputs[l as usize - 1].lc)
        } else {
            LocalRef::Wire(base + l - 1 - tpl.n_inputs as u32)
        }
    };
    let expand = |lc: &LocalLc| -> Lc {
        let mut out = Lc::default();
        for &(l, c) in lc {
            match local(l) {
                LocalRef::One => out.0.push((0, c)),
                LocalRef::Input(x) => out.add_scaled(x, c),
                LocalRef::Wire(w) => out.0.push((w, c)),
            }
        }
        out
    };
    for (k, sbox) in tpl.sboxes.iter().enumerate() {
        let x = sbox_inputs[*sbox];
        let x2 = x.square();
        let x4 = x2.square();
        let row = 3 * k;
        for (j, v) in [x2, x4, x4 * x].into_iter().enumerate() {
            let w = cs.alloc(v);
            debug_assert_eq!(w.lc, Lc::wire(base + (row + j) as u32));
            let (a, b) = &tpl.rows[row + j];
            cs.enforce_with(|| (expand(a), expand(b), w.lc.clone()));
        }
    }
    let mut lc = expand(&tpl.output);
    lc.compact();
    Num { lc, val: out }
}

fn sbox_count(tpl: &Template) -> usize {
    tpl.params.full_rounds * tpl.params.width + tpl.params.partial_rounds
}

/// Where a template local lives.
enum LocalRef<'a> {
    One,
    Input(&'a Lc),
    Wire(u32),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn every_arity_equals_kiln_rollup_poseidon() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for n in 1..=MAX_INPUTS {
            let vals: Vec<Fr> = (0..n)
                .map(|_| Fr::from(rng.gen::<u128>()) * Fr::from(rng.gen::<u128>()))
                .collect();
            let want = kiln_rollup::poseidon::hash(&vals).unwrap();
            let mut cs = Cs::prove_paranoid();
            let ins: Vec<Num> = vals.iter().map(|v| cs.alloc(*v)).collect();
            let h = hash(&mut cs, &ins);
            assert_eq!(h.val, want, "arity {n}");
            assert!(cs.failure().is_none(), "arity {n}: {:?}", cs.failure());
            let p = &template(n).params;
            // One folded S-box (the capacity element's in the first round).
            assert_eq!(
                cost(n),
                3 * (p.full_rounds * p.width + p.partial_rounds - 1)
            );
            assert_eq!(cs.num_constraints(), cost(n));
            // Constant inputs fold to the native hash; mixed inputs still work.
            let consts: Vec<Num> = vals.iter().map(|v| Num::constant(*v)).collect();
            assert_eq!(hash(&mut cs, &consts).val, want);
            let mut mixed = consts.clone();
            mixed[0] = ins[0].clone();
            assert_eq!(hash(&mut cs, &mixed).val, want);
            assert!(cs.failure().is_none());
        }
        assert_eq!(cost(4), 297);
    }

    #[test]
    fn a_wrong_output_wire_is_caught() {
        let mut cs = Cs::prove_paranoid();
        let a = cs.alloc(Fr::from(1u64));
        let b = cs.alloc(Fr::from(2u64));
        let h = hash(&mut cs, &[a, b]);
        let claimed = cs.alloc(h.val + Fr::one());
        cs.enforce_equal(&h, &claimed);
        assert!(cs.failure().is_some());
    }
}
