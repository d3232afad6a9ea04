//! Checking many decoded points against their curve equation, for the zkey's tables.
//!
//! [`first_off_curve`] finds the first point of a slice that is not on its curve (points at
//! infinity pass). For BN254's G1 and G2 on a CPU with AVX-512 IFMA it checks eight points
//! at a time in 52-bit limbs (`crate::simd52`); otherwise, and for other curves, it uses
//! arkworks' `is_on_curve` one point at a time. The scalar path is the reference: the
//! tests compare the two on random, corrupted and infinite points.
//!
//! Domains (see `simd52::field`): a stored coordinate `S(v) = v·2^256 mod p` multiplies as
//! `mul(S(a), S(b)) = S(a·b/16)`, so the vectors compare `mul(S(y), S(y)) = S(y²/16)` with
//! `mul(mul(S(x), S(x)), 16·S(x)) + S(b/16) = S(x³/16 + b/16)`: the curve equation
//! `y² = x³ + b` scaled by 1/16 on both sides. (`16·S(x)` is a shift of the limbs, cheaper
//! than the multiplication it saves.)

use ark_ec::short_weierstrass::{Affine, SWCurveConfig};

/// The index of the first point of `points` that is not on its curve, if any.
pub fn first_off_curve<P: SWCurveConfig>(points: &[Affine<P>]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(found) = vector::first_off_curve(points) {
        return found;
    }
    scalar(points)
}

/// The reference: arkworks' curve equation, point by point.
fn scalar<P: SWCurveConfig>(points: &[Affine<P>]) -> Option<usize> {
    points.iter().position(|p| !p.infinity && !p.is_on_curve())
}

#[cfg(target_arch = "x86_64")]
mod vector {
    use std::any::TypeId;
    use std::arch::x86_64::*;
    use std::sync::OnceLock;

    use ark_bn254::Fq;
    use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
    use ark_ff::Field;

    use crate::simd52::field::MASK52;
    use crate::simd52::{bn254_fq_layout_ok, cpu_supported, layout, Bn254Fq, V8};

    type W = V8<Bn254Fq>;
    type G1 = ark_bn254::g1::Config;
    type G2 = ark_bn254::g2::Config;

    /// Eight Fq2 elements as real and imaginary parts.
    #[derive(Clone, Copy)]
    struct W2 {
        c0: W,
        c1: W,
    }

    /// `Some(answer)` when `P` is BN254's G1 or G2 and this CPU has the instructions;
    /// `None` leaves the check to the scalar code.
    pub(super) fn first_off_curve<P: SWCurveConfig>(points: &[Affine<P>]) -> Option<Option<usize>> {
        if !cpu_supported() || !bn254_fq_layout_ok() {
            return None;
        }
        let id = TypeId::of::<P>();
        // SAFETY (both arms): `P` is the named type (equal TypeIds), so each cast
        // reinterprets the slice as itself; the CPU features were checked above.
        unsafe {
            if id == TypeId::of::<G1>() {
                let pts =
                    std::slice::from_raw_parts(points.as_ptr().cast::<Affine<G1>>(), points.len());
                Some(scan(pts, g1_lanes))
            } else if id == TypeId::of::<G2>() {
                let pts =
                    std::slice::from_raw_parts(points.as_ptr().cast::<Affine<G2>>(), points.len());
                Some(scan(pts, g2_lanes))
            } else {
                None
            }
        }
    }

    /// Checks groups of eight points with `lanes` (which returns a bit per lane, set where
    /// the equation fails), then the remainder in scalar code.
    ///
    /// # Safety
    /// The CPU has AVX-512 IFMA.
    unsafe fn scan<P: SWCurveConfig>(
        points: &[Affine<P>],
        lanes: unsafe fn(&[Affine<P>; 8], &Consts) -> u8,
    ) -> Option<usize> {
        let k = consts();
        let mut groups = points.chunks_exact(8);
        for (g, group) in groups.by_ref().enumerate() {
            let group: &[Affine<P>; 8] = group.try_into().ok()?;
            // SAFETY: the caller guarantees the CPU features.
            let bad = unsafe { lanes(group, k) };
            let bad = bad & !infinity_mask(group);
            if bad != 0 {
                return Some(8 * g + bad.trailing_zeros() as usize);
            }
        }
        let done = points.len() - groups.remainder().len();
        super::scalar(groups.remainder()).map(|i| done + i)
    }

    /// Bit i set where point i is the point at infinity.
    fn infinity_mask<P: SWCurveConfig>(group: &[Affine<P>; 8]) -> u8 {
        group
            .iter()
            .enumerate()
            .fold(0, |m, (i, p)| m | (u8::from(p.infinity) << i))
    }

    /// `c/16` for a constant `c`: the constant added to `S(x³/16)`.
    fn over_16<F: Field>(c: F) -> F {
        c * F::from(16u64).inverse().unwrap_or(F::ZERO)
    }

    /// The kernels' constants, in 52-bit limbs.
    struct Consts {
        /// G1's `b/16`.
        b1: [u64; 5],
        /// G2's `b/16`, real and imaginary parts.
        b2: [[u64; 5]; 2],
    }

    /// The constants, computed once.
    fn consts() -> &'static Consts {
        static C: OnceLock<Consts> = OnceLock::new();
        C.get_or_init(|| {
            let b2 = over_16(G2::COEFF_B);
            Consts {
                b1: limbs(over_16(G1::COEFF_B)),
                b2: [limbs(b2.c0), limbs(b2.c1)],
            }
        })
    }

    // The helpers below are `#[inline(always)]` rather than `#[target_feature]`: a
    // target-feature function is inlined only at LLVM's discretion, and a call that passes
    // five-vector values spills them to the stack. Inlined into the `#[target_feature]`
    // kernels, they and the `V8` operations in them compile with the kernels' features.

    /// Eight values < 2p compared lane by lane as field elements: bit i set where they
    /// differ.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[inline(always)]
    unsafe fn differ(a: W, b: W) -> u8 {
        // SAFETY: the caller guarantees the CPU features.
        unsafe {
            let (a, b) = (a.reduce_p(), b.reduce_p());
            let mut same = 0xffu8;
            for k in 0..5 {
                same &= _mm512_cmpeq_epi64_mask(a.0[k], b.0[k]);
            }
            !same
        }
    }

    /// Normalizes limbs (carries up; every limb non-negative).
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[inline(always)]
    unsafe fn carry(mut t: [__m512i; 5]) -> W {
        // SAFETY: the caller guarantees the CPU features.
        unsafe {
            let m = _mm512_set1_epi64(MASK52 as i64);
            for k in 0..4 {
                let c = _mm512_srli_epi64::<52>(t[k]);
                t[k] = _mm512_and_si512(t[k], m);
                t[k + 1] = _mm512_add_epi64(t[k + 1], c);
            }
            V8::new(t)
        }
    }

    /// 16·v, unreduced: for v < 2p it is < 32p < 2^259, fit only as a `mul` operand
    /// against one < 2p (32p·2p < 2^260·p because p < 2^254).
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[inline(always)]
    unsafe fn times_16(v: W) -> W {
        // SAFETY: the caller guarantees the CPU features.
        unsafe {
            let mut t = v.0;
            for x in t.iter_mut() {
                *x = _mm512_slli_epi64::<4>(*x);
            }
            carry(t)
        }
    }

    /// a + b, unreduced: for a, b < 16p it is < 32p, fit only as a `mul` operand against
    /// one < 2p.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[inline(always)]
    unsafe fn add_lazy(a: W, b: W) -> W {
        // SAFETY: the caller guarantees the CPU features.
        unsafe {
            let mut t = a.0;
            for (x, y) in t.iter_mut().zip(b.0) {
                *x = _mm512_add_epi64(*x, y);
            }
            carry(t)
        }
    }

    /// Eight Fq elements, one from each point of the group: lane i is `*field(&group[i])`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `field` returns a pointer to an Fq inside the point it gets.
    #[inline(always)]
    unsafe fn gather<P: SWCurveConfig>(
        group: &[Affine<P>; 8],
        field: impl Fn(&Affine<P>) -> *const Fq,
    ) -> W {
        let ptrs: [*const [u64; 4]; 8] = std::array::from_fn(|i| field(&group[i]).cast());
        // SAFETY: the caller guarantees the CPU and the pointers; an Fq is laid out as its
        // [u64; 4] limbs (`simd52::bn254_fq_layout_ok`).
        unsafe { layout::gather::<Bn254Fq>(ptrs) }
    }

    /// Lanes of eight G1 points where `y² ≠ x³ + b` (as `y²/256` against `x³/256 + b/256`).
    ///
    /// # Safety
    /// The CPU has AVX-512 IFMA (and `simd52::bn254_fq_layout_ok` holds).
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn g1_lanes(group: &[Affine<G1>; 8], k: &Consts) -> u8 {
        // SAFETY: the caller guarantees the CPU; the pointers are to the points' fields.
        unsafe {
            let x = gather(group, |p| std::ptr::addr_of!(p.x));
            let y = gather(group, |p| std::ptr::addr_of!(p.y));
            let lhs = y.mul(y);
            let rhs = x.mul(x).mul(times_16(x)).add(W::splat(k.b1));
            differ(lhs, rhs)
        }
    }

    /// Lanes of eight G2 points where `y² ≠ x³ + b'` (over Fq2 = Fq[u]/(u² + 1)).
    ///
    /// # Safety
    /// The CPU has AVX-512 IFMA (and `simd52::bn254_fq_layout_ok` holds).
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn g2_lanes(group: &[Affine<G2>; 8], k: &Consts) -> u8 {
        // SAFETY: the caller guarantees the CPU; the pointers are to the points' fields.
        unsafe {
            let x = W2 {
                c0: gather(group, |p| std::ptr::addr_of!(p.x.c0)),
                c1: gather(group, |p| std::ptr::addr_of!(p.x.c1)),
            };
            let y = W2 {
                c0: gather(group, |p| std::ptr::addr_of!(p.y.c0)),
                c1: gather(group, |p| std::ptr::addr_of!(p.y.c1)),
            };
            let lhs = square2(y);
            let x16 = W2 {
                c0: times_16(x.c0),
                c1: times_16(x.c1),
            };
            let x3 = mul2_by_16x(square2(x), x16);
            let rhs0 = x3.c0.add(W::splat(k.b2[0]));
            let rhs1 = x3.c1.add(W::splat(k.b2[1]));
            differ(lhs.c0, rhs0) | differ(lhs.c1, rhs1)
        }
    }

    /// Fq2 square: (a0 + a1 u)² = (a0 + a1)(a0 − a1) + 2·a0·a1 u. Inputs < 2p, outputs < 2p.
    ///
    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline(always)]
    unsafe fn square2(a: W2) -> W2 {
        // SAFETY: the caller guarantees the CPU features. Bounds: a0 − a1 + 2p < 4p and
        // a0 + a1 < 2p, within `mul`'s.
        unsafe {
            let t = a.c0.mul(a.c1);
            W2 {
                c0: a.c0.sub_lazy(a.c1).mul(a.c0.add(a.c1)),
                c1: t.add(t),
            }
        }
    }

    /// Fq2 product by Karatsuba: (a0 + a1 u)(b0 + b1 u) = a0 b0 − a1 b1 + ((a0 + a1)(b0 + b1)
    /// − a0 b0 − a1 b1) u, for a < 2p and b = `times_16` of values < p (b < 16p); outputs
    /// < 2p.
    ///
    /// # Safety
    /// The CPU has AVX-512 IFMA.
    #[inline(always)]
    unsafe fn mul2_by_16x(a: W2, b: W2) -> W2 {
        // SAFETY: the caller guarantees the CPU features. Bounds: a0 + a1 < 2p against
        // b0 + b1 < 32p, within `mul`'s (see `times_16`).
        unsafe {
            let a0b0 = a.c0.mul(b.c0);
            let a1b1 = a.c1.mul(b.c1);
            let cross = a.c0.add(a.c1).mul(add_lazy(b.c0, b.c1));
            W2 {
                c0: a0b0.sub(a1b1),
                c1: cross.sub(a0b0).sub(a1b1),
            }
        }
    }

    /// A field element's stored (Montgomery) limbs in 52-bit limbs.
    fn limbs(c: Fq) -> [u64; 5] {
        crate::simd52::field::to_52(c.0 .0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::{AdditiveGroup, UniformRand};
    use rand::SeedableRng;

    /// Random points, some at infinity and some moved off the curve, with the index of
    /// each bad one.
    fn mixed<P: SWCurveConfig>(n: usize, seed: u64) -> (Vec<Affine<P>>, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut pts: Vec<Affine<P>> = (0..n)
            .map(|_| ark_ec::short_weierstrass::Projective::<P>::rand(&mut rng).into_affine())
            .collect();
        let mut bad = Vec::new();
        for (i, p) in pts.iter_mut().enumerate() {
            match (i * 7 + seed as usize) % 11 {
                0 => *p = Affine::<P>::zero(),
                3 => {
                    p.y += P::BaseField::from(1u64);
                    bad.push(i);
                }
                5 => {
                    p.x.double_in_place();
                    bad.push(i);
                }
                _ => {}
            }
        }
        (pts, bad)
    }

    fn agrees_with_the_reference<P: SWCurveConfig>() {
        for (n, seed) in [(0, 1), (1, 2), (7, 3), (8, 4), (9, 5), (64, 6), (203, 7)] {
            let (mut pts, bad) = mixed::<P>(n, seed);
            assert_eq!(scalar(&pts), bad.first().copied(), "n={n}");
            assert_eq!(first_off_curve(&pts), bad.first().copied(), "n={n}");
            // Each bad point alone is found where it is.
            for &b in &bad {
                let mut one = pts.clone();
                for &o in &bad {
                    if o != b {
                        one[o] = Affine::<P>::zero();
                    }
                }
                assert_eq!(first_off_curve(&one), Some(b), "n={n} bad={b}");
            }
            for &b in &bad {
                pts[b] = Affine::<P>::generator();
            }
            assert_eq!(first_off_curve(&pts), None, "n={n}");
        }
    }

    #[test]
    fn g1_checks_agree_with_arkworks() {
        agrees_with_the_reference::<ark_bn254::g1::Config>();
    }

    #[test]
    fn g2_checks_agree_with_arkworks() {
        agrees_with_the_reference::<ark_bn254::g2::Config>();
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_path_is_taken_where_the_cpu_has_it() {
        let (pts, bad) = mixed::<ark_bn254::g1::Config>(64, 9);
        let got = vector::first_off_curve(&pts);
        if crate::simd52::cpu_supported() {
            assert_eq!(got, Some(bad.first().copied()));
        } else {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            assert_eq!(got, None);
        }
    }
}
