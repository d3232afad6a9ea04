//! Element-wise scaling passes: geometric sequences c·g^i, and the same sequence read in
//! bit-reversed order, which is what the coset shift and the 1/n factor need when they are
//! applied between a DIF and a DIT transform (where the data sits in bit-reversed order).

use ark_ff::Field;
use rayon::prelude::*;

use super::plan::{bitrev_index, PAR_MIN_LEN};

/// Elements per parallel chunk when generating powers.
const POWERS_CHUNK: usize = 1 << 12;

/// Returns `[c, c·g, c·g², …]` with `len` elements, in parallel for long outputs.
pub(crate) fn powers<F: Field>(g: F, c: F, len: usize) -> Vec<F> {
    let mut out = vec![F::zero(); len];
    let fill = |(i, chunk): (usize, &mut [F])| {
        let mut acc = c * g.pow([(i * POWERS_CHUNK) as u64]);
        for x in chunk.iter_mut() {
            *x = acc;
            acc *= g;
        }
    };
    if len >= PAR_MIN_LEN {
        out.par_chunks_mut(POWERS_CHUNK).enumerate().for_each(fill);
    } else {
        out.chunks_mut(POWERS_CHUNK).enumerate().for_each(fill);
    }
    out
}

/// The factors c·g^{bitrev_k(j)} for j < 2^k, split as `row[j >> l] · col[j & (2^l − 1)]`
/// so that a block of 2^l consecutive (bit-reversed) positions needs one row constant and
/// one short table shared by all blocks.
///
/// With j = a·2^l + b: bitrev_k(j) = bitrev_l(b)·2^{k−l} + bitrev_{k−l}(a), hence
/// `col[b] = g^{2^{k−l}·bitrev_l(b)}` and `row[a] = c·g^{bitrev_{k−l}(a)}`.
pub(crate) struct BitrevFactors<F> {
    /// c·g^{bitrev_{k−l}(a)} for each block a.
    pub(crate) row: Vec<F>,
    /// g^{2^{k−l}·bitrev_l(b)} for each position b within a block.
    pub(crate) col: Vec<F>,
}

impl<F: Field> BitrevFactors<F> {
    /// Factors for a vector of 2^k elements processed in blocks of 2^l (l ≤ k).
    pub(crate) fn new(g: F, c: F, k: u32, l: u32) -> Self {
        let col_nat = powers(g.pow([1u64 << (k - l)]), F::one(), 1 << l);
        let row_nat = powers(g, c, 1 << (k - l));
        let col = (0..col_nat.len())
            .map(|b| col_nat[bitrev_index(b, l)])
            .collect();
        let row = (0..row_nat.len())
            .map(|a| row_nat[bitrev_index(a, k - l)])
            .collect();
        Self { row, col }
    }

    /// Multiplies block number `a` (2^l consecutive elements) by its factors.
    pub(crate) fn apply(&self, a: usize, block: &mut [F]) {
        let r = self.row[a];
        for (x, c) in block.iter_mut().zip(&self.col) {
            *x *= r * c;
        }
    }
}

/// A scaling fused into the block phase of a transform.
pub(crate) enum Scale<'a, F> {
    /// No scaling.
    None,
    /// Every element times one constant.
    Const(F),
    /// Element j times c·g^{bitrev(j)}.
    Bitrev(&'a BitrevFactors<F>),
}

impl<F: Field> Scale<'_, F> {
    /// Scales block number `a` (its elements, in place).
    pub(crate) fn apply(&self, a: usize, block: &mut [F]) {
        match self {
            Scale::None => {}
            Scale::Const(c) => block.iter_mut().for_each(|x| *x *= c),
            Scale::Bitrev(f) => f.apply(a, block),
        }
    }
}
