//! The EdDSA verification equation `S·Base8 = R8 + k·A` for eight signatures at once, one
//! per lane of kiln-algebra's [`FrLanes`] (AVX-512 IFMA), behind
//! [`crate::eddsa::verify_many`].
//!
//! BabyJubJub's base field is BN254's scalar field, so the lanes compute the curve
//! arithmetic directly, in circomlib's coordinates (a = 168700, d = 168696) and extended
//! twisted Edwards coordinates `(X : Y : Z : T)`, `x = X/Z`, `y = Y/Z`, `T = XY/Z`, with the
//! unified formulas of Hisil, Wong, Carter and Dawson (2008): `add-2008-hwcd` and
//! `dbl-2008-hwcd`. Both are complete on this curve (a is a square and d is not in the
//! field), so the identity, points outside the prime-order subgroup and equal operands
//! need no special case, and every lane runs the same instructions.
//!
//! Each lane computes `P = S·Base8 − k·A`: `−k·A` by signed radix-16 double-and-add over
//! the lane's own multiples `A, 2A, …, 8A` (or, when the key has a [`PointTable`], over the
//! table's affine multiples of four bases 2^68 apart, with a quarter of the doublings);
//! `S·Base8` by adding one affine multiple per radix-16 window from a fixed table. The
//! equation holds iff `P = R8`, tested projectively (`X = x_R·Z`, `Y = y_R·Z`). The lanes
//! compute exactly in the field, so the answer is the scalar check's.

use std::sync::OnceLock;

use ark_ff::{One, Zero};
use kiln_algebra::fr_lanes::{FrConst, FrLanes, Ifma};

use crate::babyjub::{signed_radix16, Point, PointTable, A, D, TABLE_BASES, TABLE_DIGITS};
use crate::Fr;

/// An affine point prepared for a mixed addition: `x`, `y` and `d·x·y`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared([FrConst; 3]);

impl Prepared {
    /// `p` prepared.
    pub(crate) fn of(p: &Point) -> Prepared {
        Prepared([
            FrConst::new(p.x),
            FrConst::new(p.y),
            FrConst::new(Fr::from(D) * p.x * p.y),
        ])
    }

    /// The identity `(0, 1)` prepared.
    fn identity() -> &'static Prepared {
        static ID: OnceLock<Prepared> = OnceLock::new();
        ID.get_or_init(|| Prepared::of(&Point::IDENTITY))
    }
}

/// Radix-16 windows of the fixed `Base8` table: enough for any `S` < 2^252.
const BASE8_WINDOWS: usize = 64;

/// `m·16^w·Base8` for `m` in 1..=8 at index `8w + m − 1`, prepared.
fn base8_table() -> &'static [Prepared] {
    static TABLE: OnceLock<Vec<Prepared>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::with_capacity(8 * BASE8_WINDOWS);
        let mut window_base = Point::base8();
        for _ in 0..BASE8_WINDOWS {
            let mut multiple = window_base;
            for _ in 0..8 {
                rows.push(Prepared::of(&multiple));
                multiple = multiple.add(&window_base);
            }
            for _ in 0..4 {
                window_base = window_base.add(&window_base);
            }
        }
        rows
    })
}

/// The curve's constants, prepared once.
struct Constants {
    a: FrConst,
    d: FrConst,
}

fn constants() -> &'static Constants {
    static C: OnceLock<Constants> = OnceLock::new();
    C.get_or_init(|| Constants {
        a: FrConst::new(Fr::from(A)),
        d: FrConst::new(Fr::from(D)),
    })
}

/// Eight points in extended coordinates.
#[derive(Clone, Copy)]
struct Ext {
    x: FrLanes,
    y: FrLanes,
    z: FrLanes,
    t: FrLanes,
}

/// Eight points prepared for a full addition: `X`, `Y`, `Z` and `d·T`.
#[derive(Clone, Copy)]
struct Cached {
    x: FrLanes,
    y: FrLanes,
    z: FrLanes,
    dt: FrLanes,
}

impl Ext {
    /// The identity in every lane.
    fn identity(ifma: Ifma) -> Ext {
        let zero = FrLanes::splat(ifma, Fr::zero());
        let one = FrLanes::splat(ifma, Fr::one());
        Ext {
            x: zero,
            y: one,
            z: one,
            t: zero,
        }
    }

    /// `2·self` (`dbl-2008-hwcd`); `T` is computed only when `with_t` (the next operation
    /// is an addition).
    #[inline(always)]
    fn double(self, with_t: bool) -> Ext {
        let c = constants();
        let a = self.x.square();
        let b = self.y.square();
        let zz = self.z.square();
        let cc = zz + zz;
        let d = a.mul_const(&c.a);
        let e = (self.x + self.y).square() - a - b;
        let g = d + b;
        let f = g - cc;
        let h = d - b;
        Ext {
            x: e * f,
            y: g * h,
            z: f * g,
            t: if with_t { e * h } else { self.t },
        }
    }

    /// `self + q` (`add-2008-hwcd`).
    #[inline(always)]
    fn add(self, q: &Cached) -> Ext {
        let a = self.x * q.x;
        let b = self.y * q.y;
        let c = self.t * q.dt;
        let d = self.z * q.z;
        self.finish_add(a, b, c, d, q.x + q.y)
    }

    /// `self + (x2, y2)` for affine `(x2, y2)` with `dt2 = d·x2·y2` (`Z2 = 1`).
    #[inline(always)]
    fn add_affine(self, x2: FrLanes, y2: FrLanes, dt2: FrLanes) -> Ext {
        let a = self.x * x2;
        let b = self.y * y2;
        let c = self.t * dt2;
        self.finish_add(a, b, c, self.z, x2 + y2)
    }

    /// The common end of both additions: `E = (X1 + Y1)(X2 + Y2) − A − B`, then `F`, `G`,
    /// `H` and the products.
    #[inline(always)]
    fn finish_add(self, a: FrLanes, b: FrLanes, c: FrLanes, d: FrLanes, sum2: FrLanes) -> Ext {
        let e = (self.x + self.y) * sum2 - a - b;
        let f = d - c;
        let g = d + c;
        let h = b - a.mul_const(&constants().a);
        Ext {
            x: e * f,
            y: g * h,
            z: f * g,
            t: e * h,
        }
    }

    /// `self` prepared for additions.
    fn cached(self) -> Cached {
        Cached {
            x: self.x,
            y: self.y,
            z: self.z,
            dt: self.t.mul_const(&constants().d),
        }
    }

    /// Adds, in each lane, the affine point `rows(lane)` (negated where `negate` has the
    /// lane's bit).
    #[inline(always)]
    fn add_gathered(self, ifma: Ifma, rows: [&Prepared; 8], negate: u8) -> Ext {
        let x = FrLanes::gather(ifma, rows.map(|r| &r.0[0])).negate_where(negate);
        let y = FrLanes::gather(ifma, rows.map(|r| &r.0[1]));
        let dt = FrLanes::gather(ifma, rows.map(|r| &r.0[2])).negate_where(negate);
        self.add_affine(x, y, dt)
    }
}

/// One equation to check: `S` (< 2^252, as little-endian limbs), `R8`, `k` (< 2^264, as
/// little-endian limbs) and `A` with its table when there is one.
pub(crate) struct Equation<'a> {
    /// `S`.
    pub s: &'a [u64; 4],
    /// `R8`.
    pub r8: &'a Point,
    /// `k`.
    pub k: [u64; 5],
    /// `A`.
    pub a: &'a Point,
    /// `A`'s table, if it has one.
    pub table: Option<&'a PointTable>,
}

/// Whether `S·Base8 = R8 + k·A` holds, for each equation, in order. `S` must be below
/// 2^252 and `k` below 2^264 (the callers pass `S` < subOrder and `k = 8h`).
pub(crate) fn equations_hold(ifma: Ifma, items: &[Equation<'_>]) -> Vec<bool> {
    let mut out = vec![false; items.len()];
    // Keys with lane tables and keys without take different instruction sequences, so
    // they go in separate groups of eight.
    let (with, without): (Vec<usize>, Vec<usize>) =
        (0..items.len()).partition(|&i| items[i].table.and_then(PointTable::prepared).is_some());
    ifma.run(|| {
        for (indices, tabled) in [(&with, true), (&without, false)] {
            for group in indices.chunks(8) {
                let lanes: [&Equation<'_>; 8] =
                    std::array::from_fn(|l| &items[group[l.min(group.len() - 1)]]);
                let held = if tabled {
                    group_holds_tabled(ifma, &lanes)
                } else {
                    group_holds(ifma, &lanes)
                };
                for (l, &i) in group.iter().enumerate() {
                    out[i] = held[l];
                }
            }
        }
    });
    out
}

/// Digits of `−k` in signed radix 16 per lane (`k`'s digits negated), and the masks of
/// each digit position: which lanes add a negated row.
fn negated_digits<const N: usize>(lanes: &[&Equation<'_>; 8]) -> [[i8; N]; 8] {
    lanes.map(|e| signed_radix16::<N>(&e.k).map(|d| -d))
}

/// Each lane's row for its signed digit `digit(lane)` (the identity for 0, else
/// `row(lane, |digit|)`), and the mask of the lanes whose digit is negative.
#[inline(always)]
fn rows_for_digits<'a>(
    digit: impl Fn(usize) -> i8,
    row: impl Fn(usize, usize) -> &'a Prepared,
) -> ([&'a Prepared; 8], u8) {
    let mut negate = 0u8;
    let rows = std::array::from_fn(|l| {
        let d = digit(l);
        if d < 0 {
            negate |= 1 << l;
        }
        match d.unsigned_abs() {
            0 => Prepared::identity(),
            m => row(l, m as usize),
        }
    });
    (rows, negate)
}

/// `S·Base8` added to `acc`, one gathered affine multiple per window.
#[inline(always)]
fn add_s_base8(ifma: Ifma, mut acc: Ext, lanes: &[&Equation<'_>; 8]) -> Ext {
    let table = base8_table();
    let digits: [[i8; BASE8_WINDOWS]; 8] = lanes.map(|e| signed_radix16(e.s));
    for w in 0..BASE8_WINDOWS {
        let (rows, negate) = rows_for_digits(|l| digits[l][w], |_, m| &table[8 * w + m - 1]);
        acc = acc.add_gathered(ifma, rows, negate);
    }
    acc
}

/// Whether each lane's `acc` equals its `R8` (projectively).
#[inline(always)]
fn equals_r8(ifma: Ifma, acc: Ext, lanes: &[&Equation<'_>; 8]) -> [bool; 8] {
    let rx = FrLanes::load(ifma, lanes.map(|e| e.r8.x));
    let ry = FrLanes::load(ifma, lanes.map(|e| e.r8.y));
    let dx = (acc.x - rx * acc.z).store();
    let dy = (acc.y - ry * acc.z).store();
    std::array::from_fn(|l| dx[l].is_zero() && dy[l].is_zero())
}

/// Signed radix-16 digits of `k` < 2^264 (66 windows, the last one for the carry).
const KEY_DIGITS: usize = 67;

/// The equations of eight keys without tables: each lane builds `A, …, 8A` and runs
/// `KEY_DIGITS` windows of four doublings and one addition.
#[inline(always)]
fn group_holds(ifma: Ifma, lanes: &[&Equation<'_>; 8]) -> [bool; 8] {
    let ax = FrLanes::load(ifma, lanes.map(|e| e.a.x));
    let ay = FrLanes::load(ifma, lanes.map(|e| e.a.y));
    let one = FrLanes::splat(ifma, Fr::one());
    let a1 = Ext {
        x: ax,
        y: ay,
        z: one,
        t: ax * ay,
    };
    // multiples[m − 1] = m·A.
    let mut multiples = [a1.cached(); 8];
    let mut m = a1.double(true);
    multiples[1] = m.cached();
    let first = multiples[0];
    for slot in multiples.iter_mut().skip(2) {
        m = m.add(&first);
        *slot = m.cached();
    }
    let identity = Ext::identity(ifma).cached();
    let digits = negated_digits::<KEY_DIGITS>(lanes);
    let mut acc = Ext::identity(ifma);
    for i in (0..KEY_DIGITS).rev() {
        if i + 1 < KEY_DIGITS {
            for j in 0..4 {
                acc = acc.double(j == 3);
            }
        }
        let mut pick = identity;
        let mut negate = 0u8;
        for (m, row) in multiples.iter().enumerate() {
            let mut mask = 0u8;
            for (l, d) in digits.iter().enumerate() {
                if d[i].unsigned_abs() as usize == m + 1 {
                    mask |= 1 << l;
                }
            }
            if mask != 0 {
                pick = Cached {
                    x: FrLanes::select(mask, row.x, pick.x),
                    y: FrLanes::select(mask, row.y, pick.y),
                    z: FrLanes::select(mask, row.z, pick.z),
                    dt: FrLanes::select(mask, row.dt, pick.dt),
                };
            }
        }
        for (l, d) in digits.iter().enumerate() {
            if d[i] < 0 {
                negate |= 1 << l;
            }
        }
        pick.x = pick.x.negate_where(negate);
        pick.dt = pick.dt.negate_where(negate);
        acc = acc.add(&pick);
    }
    equals_r8(ifma, add_s_base8(ifma, acc, lanes), lanes)
}

/// The equations of eight keys with tables: `TABLE_DIGITS` windows of four doublings and
/// one gathered affine addition per table base.
#[inline(always)]
fn group_holds_tabled(ifma: Ifma, lanes: &[&Equation<'_>; 8]) -> [bool; 8] {
    let tables: [&[Prepared]; 8] = lanes.map(|e| {
        e.table
            .and_then(PointTable::prepared)
            .expect("grouped with the tabled keys")
    });
    let digits = negated_digits::<{ TABLE_BASES * TABLE_DIGITS }>(lanes);
    let mut acc = Ext::identity(ifma);
    for i in (0..TABLE_DIGITS).rev() {
        if i + 1 < TABLE_DIGITS {
            for j in 0..4 {
                acc = acc.double(j == 3);
            }
        }
        for base in 0..TABLE_BASES {
            let (rows, negate) = rows_for_digits(
                |l| digits[l][base * TABLE_DIGITS + i],
                |l, m| &tables[l][8 * base + m - 1],
            );
            acc = acc.add_gathered(ifma, rows, negate);
        }
    }
    equals_r8(ifma, add_s_base8(ifma, acc, lanes), lanes)
}
