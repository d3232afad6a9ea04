//! circomlib's Poseidon hash `H(x1, …, xn)` over BN254's scalar field, with circom's
//! parameters (the round constants and MDS matrices light-poseidon ships): `H(1, 2)` is
//! circomlibjs's `poseidon([1, 2])`. The protocol hashes 4 (tree nodes), 5 (signatures),
//! 6 (leaves) and 8 (messages) inputs; 1 to 12 are supported.
//!
//! The permutation is the reference one (state `[0, x1, …, xn]`; each round adds its
//! constants, applies `x⁵` to every element in full rounds or to the first in partial
//! rounds, and multiplies by the MDS matrix `M`), evaluated with the standard equivalent
//! rewriting of the partial rounds, derived here from the reference constants once per
//! width:
//!
//! - constants: a partial round's S-box touches only element 0, so the constants it adds to
//!   elements `1..t` can be carried through `M` into the next round's; every partial round
//!   then adds one scalar, and the first full round after them adds the carried rest;
//! - matrices: writing the state as `diag(1, X)·z`, which commutes with a partial round's
//!   S-box and scalar constant, `M·diag(1, X)` factors as `diag(1, Â)·N` with `N` sparse
//!   (its first row, its first column, the identity elsewhere): each partial round costs
//!   `2t - 1` multiplications instead of `t²`, and one `diag(1, X)` product ends them.
//!
//! A hash of 8 inputs drops from about 6,500 field multiplications to about 2,100.

use std::sync::OnceLock;

use ark_ff::{Field, One, Zero};
use kiln_algebra::fr_lanes::{FrLanes, Ifma};
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;

use crate::Fr;

/// Most inputs one hash takes (circom's parameters go to width 13).
pub const MAX_INPUTS: usize = 12;

/// The widest state.
pub(crate) const MAX_WIDTH: usize = MAX_INPUTS + 1;

/// A hash of a number of inputs the parameters do not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Poseidon takes 1 to {MAX_INPUTS} inputs, not {0}")]
pub struct ArityError(pub usize);

/// A partial round's sparse matrix `[[a00, v], [w, I]]`.
pub(crate) struct Sparse {
    /// The first row, `a00` then `v` (t entries).
    pub(crate) row: Vec<Fr>,
    /// The first column below `a00` (t - 1 entries).
    pub(crate) col: Vec<Fr>,
}

/// The rewritten round schedule of one width.
pub(crate) struct Schedule {
    /// The state's width `t`.
    pub(crate) t: usize,
    /// The MDS matrix, row-major.
    pub(crate) mds: Vec<Fr>,
    /// The constants of the first half of the full rounds, `t` per round.
    pub(crate) first_full: Vec<Fr>,
    /// Each partial round's scalar constant (added to element 0).
    pub(crate) partial_constants: Vec<Fr>,
    /// Each partial round's sparse matrix.
    pub(crate) partial_matrices: Vec<Sparse>,
    /// `X` of the `diag(1, X)` that ends the partial rounds, row-major `(t-1)²`.
    pub(crate) end: Vec<Fr>,
    /// The constants of the second half of the full rounds (the first with the carried
    /// rest of the partial rounds' constants).
    pub(crate) last_full: Vec<Fr>,
}

type Matrix = Vec<Vec<Fr>>;

fn mul_mat_vec(m: &Matrix, v: &[Fr]) -> Vec<Fr> {
    m.iter()
        .map(|row| row.iter().zip(v).map(|(a, b)| *a * b).sum())
        .collect()
}

fn mul_mat(a: &Matrix, b: &Matrix) -> Matrix {
    let n = b[0].len();
    a.iter()
        .map(|row| {
            (0..n)
                .map(|j| row.iter().zip(b).map(|(x, brow)| *x * brow[j]).sum())
                .collect()
        })
        .collect()
}

/// `m⁻¹` by Gauss–Jordan elimination; `None` if `m` is singular.
fn invert(m: &Matrix) -> Option<Matrix> {
    let n = m.len();
    let mut a: Matrix = m
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| if i == j { Fr::one() } else { Fr::zero() }));
            r
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !a[r][col].is_zero())?;
        a.swap(col, pivot);
        let inv = a[col][col].inverse()?;
        for x in a[col].iter_mut() {
            *x *= inv;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col && !row[col].is_zero() {
                let f = row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row) {
                    *x -= f * p;
                }
            }
        }
    }
    Some(a.into_iter().map(|r| r[n..].to_vec()).collect())
}

impl Schedule {
    /// Derives the schedule of width `t` from the reference constants.
    fn derive(t: usize) -> Schedule {
        let params = get_poseidon_parameters::<Fr>(t as u8)
            .unwrap_or_else(|e| unreachable!("circom's Poseidon has width {t}: {e}"));
        let (half, partial) = (params.full_rounds / 2, params.partial_rounds);
        let round = |r: usize| params.ark[r * t..(r + 1) * t].to_vec();
        let m: Matrix = params.mds.clone();

        // Constants: carry each partial round's rest through M into the next round.
        let mut partial_constants = Vec::with_capacity(partial);
        let mut carried = vec![Fr::zero(); t];
        for r in half..half + partial {
            let c: Vec<Fr> = round(r).iter().zip(&carried).map(|(a, b)| *a + b).collect();
            partial_constants.push(c[0]);
            let mut rest = c;
            rest[0] = Fr::zero();
            carried = mul_mat_vec(&m, &rest);
        }
        let mut last_full: Vec<Fr> = (half + partial..2 * half + partial)
            .flat_map(round)
            .collect();
        for (x, c) in last_full.iter_mut().zip(&carried) {
            *x += c;
        }

        // Matrices: M·diag(1, X) = diag(1, Â)·N, with N = [[a00, v], [Â⁻¹·w, I]].
        let mut x: Matrix = (0..t - 1)
            .map(|i| (0..t - 1).map(|j| Fr::from(u64::from(i == j))).collect())
            .collect();
        let mut partial_matrices = Vec::with_capacity(partial);
        for _ in 0..partial {
            let mut p: Matrix = vec![vec![Fr::zero(); t]; t];
            p[0][0] = Fr::one();
            for i in 1..t {
                p[i][1..].copy_from_slice(&x[i - 1]);
            }
            let a = mul_mat(&m, &p);
            let hat: Matrix = a[1..].iter().map(|row| row[1..].to_vec()).collect();
            let w: Vec<Fr> = a[1..].iter().map(|row| row[0]).collect();
            let hat_inv = invert(&hat)
                .unwrap_or_else(|| unreachable!("an MDS matrix's minors are invertible"));
            partial_matrices.push(Sparse {
                row: a[0].clone(),
                col: mul_mat_vec(&hat_inv, &w),
            });
            x = hat;
        }
        Schedule {
            t,
            mds: m.into_iter().flatten().collect(),
            first_full: (0..half).flat_map(round).collect(),
            partial_constants,
            partial_matrices,
            end: x.into_iter().flatten().collect(),
            last_full,
        }
    }

    /// The schedule of width `t` (2 to 13), derived once.
    pub(crate) fn of(t: usize) -> &'static Schedule {
        static SCHEDULES: [OnceLock<Schedule>; MAX_WIDTH + 1] =
            [const { OnceLock::new() }; MAX_WIDTH + 1];
        SCHEDULES[t].get_or_init(|| Schedule::derive(t))
    }

    /// A full round: constants, `x⁵` on every element, `M` (only its first row when the
    /// caller needs only element 0).
    fn full_round(&self, s: &mut [Fr], constants: &[Fr], only_first: bool) {
        let t = self.t;
        for (x, c) in s.iter_mut().zip(constants) {
            *x += c;
            *x = pow5(*x);
        }
        let rows = if only_first { 1 } else { t };
        let mut out = [Fr::zero(); MAX_WIDTH];
        for (i, o) in out[..rows].iter_mut().enumerate() {
            *o = dot(&self.mds[i * t..(i + 1) * t], s);
        }
        s[..rows].copy_from_slice(&out[..rows]);
    }

    /// The permutation's element 0 for the state `[0, inputs…]`.
    fn hash(&self, inputs: &[Fr]) -> Fr {
        let t = self.t;
        let mut state = [Fr::zero(); MAX_WIDTH];
        state[1..t].copy_from_slice(inputs);
        let s = &mut state[..t];
        for c in self.first_full.chunks_exact(t) {
            self.full_round(s, c, false);
        }
        for (k, n) in self.partial_constants.iter().zip(&self.partial_matrices) {
            let x0 = pow5(s[0] + k);
            s[0] = x0;
            let first = dot(&n.row, s);
            for (x, c) in s[1..].iter_mut().zip(&n.col) {
                *x += *c * x0;
            }
            s[0] = first;
        }
        let mut rest = [Fr::zero(); MAX_WIDTH];
        for (i, r) in rest[..t - 1].iter_mut().enumerate() {
            *r = dot(&self.end[i * (t - 1)..(i + 1) * (t - 1)], &s[1..]);
        }
        s[1..].copy_from_slice(&rest[..t - 1]);
        let rounds = self.last_full.len() / t;
        for (r, c) in self.last_full.chunks_exact(t).enumerate() {
            self.full_round(s, c, r + 1 == rounds);
        }
        s[0]
    }
}

/// `Σ a[i]·b[i]` for slices of equal length up to [`MAX_WIDTH`], with arkworks' interleaved
/// sum of products (one Montgomery reduction per few products instead of one per product).
#[inline(always)]
fn dot(a: &[Fr], b: &[Fr]) -> Fr {
    macro_rules! by_len {
        ($($n:literal)*) => {
            match a.len() {
                $($n => Fr::sum_of_products::<$n>(
                    a.try_into().expect("length checked"),
                    b.try_into().expect("equal lengths"),
                ),)*
                _ => a.iter().zip(b).map(|(x, y)| *x * y).sum(),
            }
        };
    }
    by_len!(1 2 3 4 5 6 7 8 9 10 11 12 13)
}

/// `x⁵`.
#[inline(always)]
fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// `H(inputs)`: circomlib's Poseidon of 1 to [`MAX_INPUTS`] field elements.
pub fn hash(inputs: &[Fr]) -> Result<Fr, ArityError> {
    let n = inputs.len();
    if n == 0 || n > MAX_INPUTS {
        return Err(ArityError(n));
    }
    Ok(Schedule::of(n + 1).hash(inputs))
}

/// `H(inputs)` for a fixed number of inputs the protocol uses (4, 5, 6 or 8), which cannot
/// fail.
pub fn hash_n<const N: usize>(inputs: [Fr; N]) -> Fr {
    const { assert!(N >= 1 && N <= MAX_INPUTS) };
    Schedule::of(N + 1).hash(&inputs)
}

/// `H(x)` for each `x` in `inputs` (many hashes of the same arity, such as one level of the
/// state tree or a batch's leaves), in order.
///
/// Eight hashes at a time with AVX-512 IFMA where the CPU has it (`poseidon_lanes`), one at
/// a time otherwise; the results are the same.
pub fn hash_many<const N: usize>(inputs: &[[Fr; N]]) -> Vec<Fr> {
    hash_many_with(FrLanes::available(), inputs)
}

/// [`hash_many`] on the vector path if given a token, else on the scalar one.
fn hash_many_with<const N: usize>(lanes: Option<Ifma>, inputs: &[[Fr; N]]) -> Vec<Fr> {
    const { assert!(N >= 1 && N <= MAX_INPUTS) };
    match lanes {
        Some(ifma) => crate::poseidon_lanes::hash_many(ifma, inputs),
        None => inputs.iter().map(|x| hash_n(*x)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rand::SeedableRng;
    use std::str::FromStr;

    #[test]
    fn known_values_of_circomlibjs() {
        // circomlibjs 0.1.7: poseidon([1, 2]).
        let want = Fr::from_str(
            "7853200120776062878684798364095072458815029376092732009249414926327459813530",
        )
        .unwrap();
        assert_eq!(hash_n([Fr::from(1u64), Fr::from(2u64)]), want);
        assert_eq!(hash(&[]), Err(ArityError(0)));
        assert_eq!(hash(&[Fr::from(0u64); 13]), Err(ArityError(13)));
    }

    #[test]
    fn the_rewritten_rounds_agree_with_the_reference_permutation() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for n in 1..=MAX_INPUTS {
            let mut reference = Poseidon::<Fr>::new_circom(n).unwrap();
            for trial in 0..8 {
                let inputs: Vec<Fr> = match trial {
                    0 => vec![Fr::zero(); n],
                    1 => vec![-Fr::one(); n],
                    _ => (0..n).map(|_| Fr::rand(&mut rng)).collect(),
                };
                assert_eq!(
                    hash(&inputs).unwrap(),
                    reference.hash(&inputs).unwrap(),
                    "{n} inputs, trial {trial}"
                );
            }
        }
    }

    /// `count` random inputs of arity `N` (the first all zero, the second all −1 if any).
    fn random_inputs<const N: usize>(rng: &mut impl rand::Rng, count: usize) -> Vec<[Fr; N]> {
        (0..count)
            .map(|i| match i {
                0 => [Fr::zero(); N],
                1 => [-Fr::one(); N],
                _ => std::array::from_fn(|_| Fr::rand(rng)),
            })
            .collect()
    }

    /// `hash_many` (whichever path this CPU takes) and the scalar path against `hash_n`.
    fn check_many<const N: usize>(rng: &mut impl rand::Rng) {
        for count in [0, 1, 7, 8, 9, 17, 64] {
            let inputs = random_inputs::<N>(rng, count);
            let want: Vec<Fr> = inputs.iter().map(|x| hash_n(*x)).collect();
            assert_eq!(hash_many(&inputs), want, "{N} inputs, {count} hashes");
            assert_eq!(
                hash_many_with(None, &inputs),
                want,
                "scalar path, {N} inputs, {count} hashes"
            );
            if let Some(ifma) = FrLanes::available() {
                assert_eq!(
                    hash_many_with(Some(ifma), &inputs),
                    want,
                    "vector path, {N} inputs, {count} hashes"
                );
            }
        }
    }

    #[test]
    fn hash_many_agrees_with_hash_n_for_every_arity() {
        if FrLanes::available().is_none() {
            eprintln!("no AVX-512 IFMA on this CPU: only the scalar path is checked");
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        check_many::<1>(&mut rng);
        check_many::<2>(&mut rng);
        check_many::<3>(&mut rng);
        check_many::<4>(&mut rng);
        check_many::<5>(&mut rng);
        check_many::<6>(&mut rng);
        check_many::<7>(&mut rng);
        check_many::<8>(&mut rng);
        check_many::<9>(&mut rng);
        check_many::<10>(&mut rng);
        check_many::<11>(&mut rng);
        check_many::<12>(&mut rng);
    }

    #[test]
    fn hash_many_known_value_of_circomlibjs() {
        // circomlibjs 0.1.7: poseidon([1, 2]), in every lane position of a group and on
        // both paths.
        let want = Fr::from_str(
            "7853200120776062878684798364095072458815029376092732009249414926327459813530",
        )
        .unwrap();
        let inputs = vec![[Fr::from(1u64), Fr::from(2u64)]; 9];
        assert_eq!(hash_many(&inputs), vec![want; 9]);
        assert_eq!(hash_many_with(None, &inputs), vec![want; 9]);
        if let Some(ifma) = FrLanes::available() {
            assert_eq!(hash_many_with(Some(ifma), &inputs), vec![want; 9]);
        }
    }

    #[test]
    fn hash_many_scalar_fallback_agrees_with_hash_n() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let inputs = random_inputs::<4>(&mut rng, 13);
        let want: Vec<Fr> = inputs.iter().map(|x| hash_n(*x)).collect();
        assert_eq!(hash_many_with(None, &inputs), want);
        assert!(hash_many_with::<4>(None, &[]).is_empty());
    }

    /// Time per hash of scalar `hash_n` and of `hash_many` for `N` inputs.
    fn time_hashes<const N: usize>() {
        use std::time::Instant;
        const COUNT: usize = 1024;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let inputs = random_inputs::<N>(&mut rng, COUNT);
        let scalar_us = |f: &dyn Fn() -> Vec<Fr>| {
            let _ = f(); // warm up (schedules, caches)
            let start = Instant::now();
            let mut out = Vec::new();
            for _ in 0..3 {
                out = std::hint::black_box(f());
            }
            (
                start.elapsed().as_secs_f64() * 1e6 / (3 * COUNT) as f64,
                out,
            )
        };
        let (scalar, a) = scalar_us(&|| inputs.iter().map(|x| hash_n(*x)).collect());
        let (many, b) = scalar_us(&|| hash_many(&inputs));
        assert_eq!(a, b);
        let path = if FrLanes::available().is_some() {
            "lanes"
        } else {
            "scalar fallback"
        };
        println!(
            "{N} inputs: hash_n {scalar:.2} µs/hash, hash_many ({path}) {many:.2} µs/hash, \
             {:.2}x",
            scalar / many
        );
    }

    #[test]
    #[ignore = "timing; run with --release -- --ignored --nocapture"]
    fn hash_many_speed() {
        time_hashes::<4>();
        time_hashes::<6>();
        time_hashes::<8>();
    }
}
