//! BabyJubJub point arithmetic as constraints, in circomlib's coordinates: the twisted
//! Edwards curve `a·x² + y² = 1 + d·x²·y²`, a = 168700, d = 168696 (the form of
//! `kiln_rollup::babyjub`, so no coordinate map is needed).
//!
//! The addition law is complete on this curve (a is a square, d is not), so no input ever
//! hits a zero denominator: addition is six constraints (three when one point is a
//! constant), doubling five, a curve-membership check three. Scalar multiplication by a
//! constant base uses 3-bit windows over precomputed multiples (4 constraints to look up,
//! 6 to add, per window); by a variable base, 2-bit windows (two doublings, a 7-constraint
//! lookup among 0, P, 2P, 3P, and an addition).

use ark_ff::{One, Zero};
use kiln_rollup::babyjub::{Point as NativePoint, A as CURVE_A, D as CURVE_D};

use crate::bits::Bit;
use crate::cs::{Cs, Fr, Num};

/// A point of the circuit, `(x, y)` in circomlib's coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// x.
    pub x: Num,
    /// y.
    pub y: Num,
}

fn a() -> Fr {
    Fr::from(CURVE_A)
}

fn d() -> Fr {
    Fr::from(CURVE_D)
}

impl Point {
    /// A constant point.
    pub fn constant(p: &NativePoint) -> Point {
        Point {
            x: Num::constant(p.x),
            y: Num::constant(p.y),
        }
    }

    /// Two new wires holding `p` (not checked to be on the curve).
    pub fn alloc(cs: &mut Cs, p: &NativePoint) -> Point {
        Point {
            x: cs.alloc(p.x),
            y: cs.alloc(p.y),
        }
    }

    /// The value.
    pub fn val(&self) -> NativePoint {
        NativePoint {
            x: self.x.val,
            y: self.y.val,
        }
    }

    /// `self + q` (complete; 6 constraints, 3 when either is a constant).
    pub fn add(&self, cs: &mut Cs, q: &Point) -> Point {
        if let (Some(x1), Some(y1), Some(x2), Some(y2)) = (
            self.x.as_constant(),
            self.y.as_constant(),
            q.x.as_constant(),
            q.y.as_constant(),
        ) {
            return Point::constant(
                &NativePoint { x: x1, y: y1 }.add(&NativePoint { x: x2, y: y2 }),
            );
        }
        let beta = cs.mul(&self.x, &q.y);
        let gamma = cs.mul(&self.y, &q.x);
        let delta = cs.mul(&self.x.scale(-a()).add(&self.y), &q.x.add(&q.y));
        let tau = cs.mul(&beta, &gamma);
        let dtau = tau.scale(d());
        let (x, y) = cs.div2(
            &beta.add(&gamma),
            &Num::one().add(&dtau),
            &delta.add_scaled(&beta, a()).sub(&gamma),
            &Num::one().sub(&dtau),
        );
        Point { x, y }
    }

    /// `2·self` (5 constraints; valid for points on the curve).
    pub fn double(&self, cs: &mut Cs) -> Point {
        let xx = cs.mul(&self.x, &self.x);
        let yy = cs.mul(&self.y, &self.y);
        let xy = cs.mul(&self.x, &self.y);
        let axx = xx.scale(a());
        let (x, y) = cs.div2(
            &xy.scale(Fr::from(2u64)),
            &axx.add(&yy),
            &yy.sub(&axx),
            &Num::constant(Fr::from(2u64)).sub(&axx).sub(&yy),
        );
        Point { x, y }
    }

    /// Enforces `a·x² + y² = 1 + d·x²·y²` (3 constraints).
    pub fn enforce_on_curve(&self, cs: &mut Cs) {
        let xx = cs.mul(&self.x, &self.x);
        let yy = cs.mul(&self.y, &self.y);
        let rhs = xx.scale(a()).add(&yy).add_const(-Fr::one());
        cs.enforce_product(&xx.scale(d()), &yy, &rhs);
    }

    /// `cond ? self : other` (two constraints).
    pub fn select(cs: &mut Cs, cond: &Bit, a: &Point, b: &Point) -> Point {
        Point {
            x: crate::bits::select(cs, cond, &a.x, &b.x),
            y: crate::bits::select(cs, cond, &a.y, &b.y),
        }
    }
}

/// The multilinear polynomial in `bits` that takes `values[k]` at the bits of `k`:
/// coefficients by subset (Möbius inversion).
fn multilinear(values: &[Fr]) -> Vec<Fr> {
    let mut c = values.to_vec();
    let n = c.len().trailing_zeros();
    for j in 0..n {
        for s in 0..c.len() {
            if s & (1 << j) != 0 {
                let lower = c[s ^ (1 << j)];
                c[s] -= lower;
            }
        }
    }
    c
}

/// `Σ_S coeffs[S]·Π_{j∈S} bits[j]` given the products of every subset of `bits`.
fn evaluate(monomials: &[Num], coeffs: &[Fr]) -> Num {
    Num::sum_scaled(monomials.iter().zip(coeffs.iter().copied())).compacted()
}

/// The products `Π_{j∈S} bits[j]` for every subset `S` (index: the subset's bit mask).
fn monomials(cs: &mut Cs, bits: &[Bit]) -> Vec<Num> {
    let mut m = vec![Num::one()];
    for b in bits {
        let more: Vec<Num> = m.iter().map(|x| cs.mul(x, &b.num)).collect();
        m.extend(more);
    }
    m
}

/// The lookup polynomials of [`mul_fixed`]'s windows: per 3-bit window (the last may be
/// shorter), the multilinear coefficients of the x and y of `0..2^len` times the window's
/// base.
type WindowTables = Vec<(Vec<Fr>, Vec<Fr>)>;

/// [`WindowTables`] of `base` for `n_bits` scalar bits, made once per base and length (each
/// batch slot multiplies the same base: remaking them cost about 900 native point
/// additions per slot).
fn window_tables(base: &NativePoint, n_bits: usize) -> std::sync::Arc<WindowTables> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<HashMap<(NativePoint, usize), Arc<WindowTables>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(t) = cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&(*base, n_bits))
    {
        return t.clone();
    }
    let mut tables = Vec::with_capacity(n_bits.div_ceil(3));
    let mut window_base = *base;
    let mut left = n_bits;
    while left > 0 {
        let len = left.min(3);
        left -= len;
        let mut table = Vec::with_capacity(1 << len);
        let mut p = NativePoint::IDENTITY;
        for _ in 0..1usize << len {
            table.push(p);
            p = p.add(&window_base);
        }
        tables.push((
            multilinear(&table.iter().map(|p| p.x).collect::<Vec<_>>()),
            multilinear(&table.iter().map(|p| p.y).collect::<Vec<_>>()),
        ));
        // The next window's base: 2^len · this one.
        for _ in 0..len {
            window_base = window_base.add(&window_base);
        }
    }
    let tables = Arc::new(tables);
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((*base, n_bits), tables.clone());
    tables
}

/// `k·base` for a constant `base` and the little-endian bits of `k`.
pub fn mul_fixed(cs: &mut Cs, base: &NativePoint, bits: &[Bit]) -> Point {
    let tables = window_tables(base, bits.len());
    let mut acc: Option<Point> = None;
    for (window, (xs, ys)) in bits.chunks(3).zip(tables.iter()) {
        let m = monomials(cs, window);
        let looked_up = Point {
            x: evaluate(&m, xs),
            y: evaluate(&m, ys),
        };
        acc = Some(match acc {
            None => looked_up,
            Some(acc) => acc.add(cs, &looked_up),
        });
    }
    acc.unwrap_or_else(|| Point::constant(&NativePoint::IDENTITY))
}

/// `k·p` for a variable point `p` (on the curve) and the little-endian bits of `k`.
pub fn mul_var(cs: &mut Cs, p: &Point, bits: &[Bit]) -> Point {
    let p2 = p.double(cs);
    let p3 = p2.add(cs, p);
    let table = [p.clone(), p2, p3];
    let lookup = |cs: &mut Cs, w: &[Bit]| -> Point {
        let zero = Bit::constant(false);
        let (b0, b1) = (&w[0], w.get(1).unwrap_or(&zero));
        let both = b0.and(cs, b1);
        let [t1, t2, t3] = &table;
        let pick = |cs: &mut Cs, v1: &Num, v2: &Num, v3: &Num, v0: Fr| -> Num {
            // v0 + b0·(v1 − v0) + b1·(v2 − v0) + b0b1·(v3 − v2 − v1 + v0)
            let a = cs.mul(&b0.num, &v1.add_const(-v0));
            let b = cs.mul(&b1.num, &v2.add_const(-v0));
            let c = cs.mul(&both.num, &v3.sub(v2).sub(v1).add_const(v0));
            a.add(&b).add(&c).add_const(v0)
        };
        Point {
            x: pick(cs, &t1.x, &t2.x, &t3.x, Fr::zero()),
            y: pick(cs, &t1.y, &t2.y, &t3.y, Fr::one()),
        }
    };
    let windows: Vec<&[Bit]> = bits.chunks(2).collect();
    let mut acc: Option<Point> = None;
    for w in windows.iter().rev() {
        acc = Some(match acc {
            None => lookup(cs, w),
            Some(acc) => {
                let mut acc = acc.double(cs);
                if w.len() == 2 {
                    acc = acc.double(cs);
                }
                let t = lookup(cs, w);
                acc.add(cs, &t)
            }
        });
    }
    acc.unwrap_or_else(|| Point::constant(&NativePoint::IDENTITY))
}

/// A native scalar as bits, for tests.
#[cfg(test)]
pub(crate) fn scalar_bits(cs: &mut Cs, k: &num_bigint::BigUint, n: usize) -> Vec<Bit> {
    (0..n).map(|i| Bit::alloc(cs, k.bit(i as u64))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use rand::{Rng, SeedableRng};

    #[test]
    fn arithmetic_matches_kiln_rollup() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let b8 = NativePoint::base8();
        for _ in 0..3 {
            let k1 = BigUint::from(rng.gen::<u128>()) << 100u32;
            let k2 = BigUint::from(rng.gen::<u64>());
            let (p, q) = (b8.mul(&k1), b8.mul(&k2));
            let mut cs = Cs::prove();
            let (pv, qv) = (Point::alloc(&mut cs, &p), Point::alloc(&mut cs, &q));
            assert_eq!(pv.add(&mut cs, &qv).val(), p.add(&q));
            assert_eq!(pv.double(&mut cs).val(), p.add(&p));
            assert_eq!(pv.add(&mut cs, &Point::constant(&q)).val(), p.add(&q));
            pv.enforce_on_curve(&mut cs);
            assert!(cs.failure().is_none());
            // Fixed and variable bases, against native multiplication.
            let bits = scalar_bits(&mut cs, &k1, 251);
            assert_eq!(mul_fixed(&mut cs, &b8, &bits).val(), b8.mul(&k1));
            let bits = scalar_bits(&mut cs, &k2, 254);
            assert_eq!(mul_var(&mut cs, &pv, &bits).val(), p.mul(&k2));
            let odd = scalar_bits(&mut cs, &k2, 65);
            assert_eq!(mul_var(&mut cs, &pv, &odd).val(), p.mul(&k2));
            assert!(cs.failure().is_none(), "{:?}", cs.failure());
        }
        // The identity and an off-curve point.
        let mut cs = Cs::prove();
        let id = Point::alloc(&mut cs, &NativePoint::IDENTITY);
        id.enforce_on_curve(&mut cs);
        assert_eq!(id.double(&mut cs).val(), NativePoint::IDENTITY);
        assert!(cs.failure().is_none());
        let off = Point::alloc(
            &mut cs,
            &NativePoint {
                x: b8.x + Fr::one(),
                y: b8.y,
            },
        );
        off.enforce_on_curve(&mut cs);
        assert!(cs.failure().is_some());
    }

    #[test]
    fn costs() {
        let mut cs = Cs::setup();
        let p = Point::alloc(&mut cs, &NativePoint::IDENTITY);
        let c0 = cs.num_constraints();
        let bits: Vec<Bit> = (0..251).map(|_| Bit::alloc(&mut cs, false)).collect();
        let c1 = cs.num_constraints();
        mul_fixed(&mut cs, &NativePoint::base8(), &bits);
        let fixed = cs.num_constraints() - c1;
        let c2 = cs.num_constraints();
        let bits: Vec<Bit> = (0..254).map(|_| Bit::alloc(&mut cs, false)).collect();
        let c3 = cs.num_constraints();
        mul_var(&mut cs, &p, &bits);
        let var = cs.num_constraints() - c3;
        assert_eq!((c1 - c0, c3 - c2), (251, 254));
        assert!(fixed < 850 && var < 3000, "fixed {fixed}, variable {var}");
    }
}
