//! circomlib's Poseidon eight hashes at a time, one per lane of kiln-algebra's
//! [`FrLanes`] (AVX-512 IFMA), behind [`crate::poseidon::hash_many`].
//!
//! It runs the same rewritten schedule as the scalar hash ([`Schedule`]: full rounds with
//! the dense MDS matrix, partial rounds with one scalar constant and a sparse matrix each,
//! the `end` matrix, then the last full rounds), with every constant prepared once per
//! width as an [`FrConst`]. The lanes compute exactly in the field, so each lane's result
//! equals the scalar hash of its inputs.

use std::sync::OnceLock;

use ark_ff::Zero;
use kiln_algebra::fr_lanes::{FrConst, FrLanes, Ifma};

use crate::poseidon::{Schedule, MAX_WIDTH};
use crate::Fr;

/// A [`Schedule`]'s constants prepared for the lanes.
struct LaneSchedule {
    /// The state's width `t`.
    t: usize,
    /// The MDS matrix, row-major.
    mds: Vec<FrConst>,
    /// The constants of the first half of the full rounds, `t` per round.
    first_full: Vec<FrConst>,
    /// Each partial round's scalar constant.
    partial_constants: Vec<FrConst>,
    /// Each partial round's sparse matrix's first row, `t` per round.
    partial_rows: Vec<FrConst>,
    /// Each partial round's sparse matrix's first column below `a00`, `t - 1` per round.
    partial_cols: Vec<FrConst>,
    /// The matrix that ends the partial rounds, row-major `(t-1)²`.
    end: Vec<FrConst>,
    /// The constants of the second half of the full rounds, `t` per round.
    last_full: Vec<FrConst>,
}

/// Prepares every constant of `c`.
fn prepare(c: &[Fr]) -> Vec<FrConst> {
    c.iter().map(|x| FrConst::new(*x)).collect()
}

impl LaneSchedule {
    /// The lanes' schedule of width `t` (2 to 13), prepared once.
    fn of(t: usize) -> &'static LaneSchedule {
        static SCHEDULES: [OnceLock<LaneSchedule>; MAX_WIDTH + 1] =
            [const { OnceLock::new() }; MAX_WIDTH + 1];
        SCHEDULES[t].get_or_init(|| {
            let s = Schedule::of(t);
            LaneSchedule {
                t,
                mds: prepare(&s.mds),
                first_full: prepare(&s.first_full),
                partial_constants: prepare(&s.partial_constants),
                partial_rows: s
                    .partial_matrices
                    .iter()
                    .flat_map(|m| prepare(&m.row))
                    .collect(),
                partial_cols: s
                    .partial_matrices
                    .iter()
                    .flat_map(|m| prepare(&m.col))
                    .collect(),
                end: prepare(&s.end),
                last_full: prepare(&s.last_full),
            }
        })
    }

    /// A full round: constants, `x⁵` on every element, `M` (only its first row when the
    /// caller needs only element 0).
    #[inline(always)]
    fn full_round(&self, ifma: Ifma, s: &mut [FrLanes], constants: &[FrConst], only_first: bool) {
        let t = self.t;
        for (x, c) in s.iter_mut().zip(constants) {
            *x = x.add_const(c).pow5();
        }
        let rows = if only_first { 1 } else { t };
        let mut out = [s[0]; MAX_WIDTH];
        for (i, o) in out[..rows].iter_mut().enumerate() {
            *o = FrLanes::dot_const(ifma, s, &self.mds[i * t..(i + 1) * t]);
        }
        s[..rows].copy_from_slice(&out[..rows]);
    }

    /// The permutation's element 0 of eight states `s` (width `t`), as [`Schedule`]'s
    /// scalar `hash` computes it.
    #[inline(always)]
    fn permute(&self, ifma: Ifma, s: &mut [FrLanes]) -> FrLanes {
        let t = self.t;
        for c in self.first_full.chunks_exact(t) {
            self.full_round(ifma, s, c, false);
        }
        let rounds = self
            .partial_constants
            .iter()
            .zip(self.partial_rows.chunks_exact(t))
            .zip(self.partial_cols.chunks_exact(t - 1));
        for ((k, row), col) in rounds {
            let x0 = s[0].add_const(k).pow5();
            s[0] = x0;
            let first = FrLanes::dot_const(ifma, s, row);
            for (x, c) in s[1..].iter_mut().zip(col) {
                *x = *x + x0.mul_const(c);
            }
            s[0] = first;
        }
        let mut rest = [s[0]; MAX_WIDTH];
        for (i, r) in rest[..t - 1].iter_mut().enumerate() {
            *r = FrLanes::dot_const(ifma, &s[1..], &self.end[i * (t - 1)..(i + 1) * (t - 1)]);
        }
        s[1..].copy_from_slice(&rest[..t - 1]);
        let rounds = self.last_full.len() / t;
        for (r, c) in self.last_full.chunks_exact(t).enumerate() {
            self.full_round(ifma, s, c, r + 1 == rounds);
        }
        s[0]
    }
}

/// `H(x)` for each `x` in `inputs`, eight at a time (the last group padded with zeros,
/// whose hashes are dropped).
pub(crate) fn hash_many<const N: usize>(ifma: Ifma, inputs: &[[Fr; N]]) -> Vec<Fr> {
    let schedule = LaneSchedule::of(N + 1);
    let mut out = Vec::with_capacity(inputs.len());
    ifma.run(|| {
        let zero = FrLanes::splat(ifma, Fr::zero());
        for group in inputs.chunks(8) {
            let mut state = [zero; MAX_WIDTH];
            for (j, x) in state[1..=N].iter_mut().enumerate() {
                *x = FrLanes::load(
                    ifma,
                    std::array::from_fn(|i| group.get(i).map_or(Fr::zero(), |h| h[j])),
                );
            }
            let h = schedule.permute(ifma, &mut state[..=N]).store();
            out.extend_from_slice(&h[..group.len()]);
        }
    });
    out
}
