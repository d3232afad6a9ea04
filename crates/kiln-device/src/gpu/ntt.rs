//! The host side of the batched device NTT (`kernels/ntt.h`): twiddle and scaling tables
//! (built on the host once per domain and shift, then resident), and the launch sequence
//! of each [`NttOp`].

use std::collections::HashMap;

use ark_ff::{FftField, Field};

use super::{Arg, GpuResult, GpuRuntime};
use crate::words::push_fr;
use crate::{NttOp, NttStep};
use kiln_algebra::curve::Curve;

/// Which table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TableKey {
    /// ω^i (or ω^−i), i < n/2.
    Twiddles { n: usize, inverse: bool },
    /// factor · shift^i for i < n, keyed by the words of shift and factor.
    Powers {
        n: usize,
        shift: Vec<u32>,
        factor: Vec<u32>,
    },
    /// One constant.
    Constant(Vec<u32>),
}

/// Resident tables, built on first use.
pub(super) struct Tables<B> {
    map: HashMap<TableKey, B>,
}

impl<B> Default for Tables<B> {
    fn default() -> Self {
        Tables {
            map: HashMap::new(),
        }
    }
}

/// The words of one Fr element.
fn fr_words<C: Curve>(x: &C::Fr) -> Vec<u32> {
    let mut w = Vec::with_capacity(8);
    push_fr::<C>(x, &mut w);
    w
}

impl<B> Tables<B> {
    fn get<C: Curve, R: GpuRuntime<Buffer = B>>(
        &mut self,
        rt: &R,
        key: TableKey,
        build: impl FnOnce() -> Vec<C::Fr>,
    ) -> GpuResult<&B> {
        if !self.map.contains_key(&key) {
            let mut words = Vec::new();
            for x in build() {
                push_fr::<C>(&x, &mut words);
            }
            let buf = rt.upload(&words)?;
            self.map.insert(key.clone(), buf);
        }
        Ok(&self.map[&key])
    }
}

/// `count` powers `factor · base^i`.
fn powers<F: Field>(base: F, factor: F, count: usize) -> Vec<F> {
    let mut out = Vec::with_capacity(count);
    let mut x = factor;
    for _ in 0..count {
        out.push(x);
        x *= base;
    }
    out
}

/// Runs `op` in place on `batch` vectors of length `n` held back to back in `data`.
pub(super) fn run<C: Curve, R: GpuRuntime>(
    rt: &R,
    tables: &mut Tables<R::Buffer>,
    data: &R::Buffer,
    n: usize,
    batch: usize,
    op: NttOp<C::Fr>,
) -> GpuResult<()> {
    let log_n = n.trailing_zeros();
    let Some(steps) = crate::ntt_steps(op, n) else {
        return Err(format!("no inverse of the coset shift or of n = {n}"));
    };
    let root = C::Fr::get_root_of_unity(n as u64)
        .ok_or_else(|| format!("the scalar field has no root of unity of order {n}"))?;
    let n32 = n as u32;
    use Arg::{Buf, U32};
    for step in steps {
        match step {
            NttStep::Transform { inverse } => {
                let w = if inverse {
                    root.inverse().unwrap_or(root)
                } else {
                    root
                };
                let tw = tables.get::<C, R>(rt, TableKey::Twiddles { n, inverse }, || {
                    powers(w, C::Fr::ONE, n / 2)
                })?;
                rt.launch("ntt_bitrev", &[Buf(data), U32(n32), U32(log_n)], [n, batch])?;
                let mut half = 1usize;
                while half < n {
                    rt.launch(
                        "ntt_dit_stage",
                        &[Buf(data), Buf(tw), U32(n32), U32(half as u32)],
                        [n / 2, batch],
                    )?;
                    half *= 2;
                }
            }
            NttStep::Scale { factor: c, shift } if shift == C::Fr::ONE => {
                let table =
                    tables.get::<C, R>(rt, TableKey::Constant(fr_words::<C>(&c)), || vec![c])?;
                rt.launch(
                    "ntt_scale_const",
                    &[Buf(data), Buf(table), U32(n32)],
                    [n, batch],
                )?;
            }
            NttStep::Scale { factor, shift } => {
                let key = TableKey::Powers {
                    n,
                    shift: fr_words::<C>(&shift),
                    factor: fr_words::<C>(&factor),
                };
                let table = tables.get::<C, R>(rt, key, || powers(shift, factor, n))?;
                rt.launch(
                    "ntt_scale_table",
                    &[Buf(data), Buf(table), U32(n32)],
                    [n, batch],
                )?;
            }
        }
    }
    Ok(())
}
