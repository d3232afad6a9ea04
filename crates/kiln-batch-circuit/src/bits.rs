//! Booleans and integers: bits as linear combinations known to be 0 or 1, their logic,
//! decompositions of field elements into bits (range checks), the strict decomposition of
//! a field element into its canonical 254 bits, comparisons with constants, and
//! zero tests and selections.
//!
//! An `n`-bit decomposition costs `n` constraints: `n − 1` booleanity constraints and one
//! that makes the top bit, defined as what is left of the value, a boolean too.

use ark_ff::{AdditiveGroup, BigInteger, Field, One, PrimeField, Zero};
use num_bigint::BigUint;

use crate::cs::{Cs, Fr, Lc, Num};

/// A boolean of the circuit: a linear combination whose value is 0 or 1 by construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bit {
    /// The combination (0 or 1).
    pub num: Num,
}

impl Bit {
    /// The constant `b`.
    pub fn constant(b: bool) -> Bit {
        Bit {
            num: Num::constant(Fr::from(b as u64)),
        }
    }

    /// A new wire with value `b` and the constraint `x·(x − 1) = 0`.
    pub fn alloc(cs: &mut Cs, b: bool) -> Bit {
        let x = cs.alloc(if b { Fr::one() } else { Fr::zero() });
        enforce_boolean(cs, &x);
        Bit { num: x }
    }

    /// Trusts that `num` is 0 or 1 (the caller's constraints make it so).
    pub fn from_num_unchecked(num: Num) -> Bit {
        Bit { num }
    }

    /// The value.
    pub fn val(&self) -> bool {
        !self.num.val.is_zero()
    }

    /// The value if this is a constant.
    pub fn as_constant(&self) -> Option<bool> {
        self.num.as_constant().map(|c| !c.is_zero())
    }

    /// `¬self` (free).
    pub fn not(&self) -> Bit {
        Bit {
            num: Num::one().sub(&self.num),
        }
    }

    /// `self ∧ other` (one constraint unless either is a constant).
    pub fn and(&self, cs: &mut Cs, other: &Bit) -> Bit {
        Bit {
            num: cs.mul(&self.num, &other.num),
        }
    }

    /// `self ∨ other` (one constraint unless either is a constant).
    pub fn or(&self, cs: &mut Cs, other: &Bit) -> Bit {
        self.not().and(cs, &other.not()).not()
    }

    /// `self ⊕ other` as one new wire (one constraint unless either is a constant).
    pub fn xor(&self, cs: &mut Cs, other: &Bit) -> Bit {
        match (self.as_constant(), other.as_constant()) {
            (Some(a), _) => {
                if a {
                    other.not()
                } else {
                    other.clone()
                }
            }
            (_, Some(b)) => {
                if b {
                    self.not()
                } else {
                    self.clone()
                }
            }
            _ => {
                // 2a·b = a + b − r.
                let r = cs.alloc(Fr::from((self.val() ^ other.val()) as u64));
                let c = self.num.add(&other.num).sub(&r);
                cs.enforce(&self.num.scale(Fr::from(2u64)).lc, &other.num.lc, &c.lc);
                Bit { num: r }
            }
        }
    }

    /// `a ⊕ b ⊕ c` as one new wire (two constraints when all three vary).
    pub fn xor3(cs: &mut Cs, a: &Bit, b: &Bit, c: &Bit) -> Bit {
        let consts = [a, b, c]
            .iter()
            .filter(|x| x.as_constant().is_some())
            .count();
        if consts > 0 {
            let ab = a.xor(cs, b);
            return ab.xor(cs, c);
        }
        // r boolean and (s − r)(s − r − 2) = 0 with s = a + b + c.
        let r = Bit::alloc(cs, a.val() ^ b.val() ^ c.val());
        let d = a.num.add(&b.num).add(&c.num).sub(&r.num);
        cs.enforce(&d.lc, &d.add_const(-Fr::from(2u64)).lc, &Lc::default());
        r
    }

    /// `cond ? a : b` for bits.
    pub fn select(cs: &mut Cs, cond: &Bit, a: &Bit, b: &Bit) -> Bit {
        Bit {
            num: select(cs, cond, &a.num, &b.num),
        }
    }
}

/// Enforces `x·(x − 1) = 0`.
pub fn enforce_boolean(cs: &mut Cs, x: &Num) {
    cs.enforce(&x.lc, &x.add_const(-Fr::one()).lc, &Lc::default());
}

/// `cond ? a : b` as one new wire (`cond·(a − b) = out − b`; free when `cond` is constant).
pub fn select(cs: &mut Cs, cond: &Bit, a: &Num, b: &Num) -> Num {
    if let Some(c) = cond.as_constant() {
        return if c { a.clone() } else { b.clone() };
    }
    let out = cs.alloc(if cond.val() { a.val } else { b.val });
    cs.enforce(&cond.num.lc, &a.sub(b).lc, &out.sub(b).lc);
    out
}

/// Whether `x = 0`, as a new bit (two constraints: `x·inv = 1 − out`, `x·out = 0`).
pub fn is_zero(cs: &mut Cs, x: &Num) -> Bit {
    if let Some(c) = x.as_constant() {
        return Bit::constant(c.is_zero());
    }
    let inv = if cs.is_prove() {
        x.val.inverse().unwrap_or_default()
    } else {
        Fr::zero()
    };
    let inv = cs.alloc(inv);
    let out = cs.alloc(Fr::from(x.val.is_zero() as u64));
    cs.enforce(&x.lc, &inv.lc, &Num::one().sub(&out).lc);
    cs.enforce(&x.lc, &out.lc, &Lc::default());
    Bit { num: out }
}

/// Whether `a = b`, as a new bit (two constraints).
pub fn is_equal(cs: &mut Cs, a: &Num, b: &Num) -> Bit {
    is_zero(cs, &a.sub(b))
}

/// Enforces `cond → x = 0` (`cond·x = 0`).
pub fn enforce_zero_if(cs: &mut Cs, cond: &Bit, x: &Num) {
    cs.enforce(&cond.num.lc, &x.lc, &Lc::default());
}

/// Bit `i` of the canonical integer value of `x`.
pub fn bit_of(x: &Fr, i: usize) -> bool {
    let limbs = Cs::limbs(x);
    i < 256 && (limbs[i / 64] >> (i % 64)) & 1 == 1
}

/// `Σ 2^i·bits[i]`.
pub fn pack(bits: &[Bit]) -> Num {
    let mut out = Num::zero();
    let mut k = Fr::one();
    for b in bits {
        out.add_scaled_assign(&b.num, k);
        k.double_in_place();
    }
    out
}

/// The `n` little-endian bits of `x`, enforcing `x = Σ 2^i·bᵢ` with every bit boolean, so
/// `x < 2^n` (`n` constraints; `n` at most 253, where the sum cannot wrap around the
/// modulus). A value that does not fit leaves the top bit's constraint unsatisfied.
pub fn to_bits(cs: &mut Cs, x: &Num, n: usize) -> Vec<Bit> {
    assert!(
        (1..=253).contains(&n),
        "to_bits takes 1 to 253 bits, not {n}"
    );
    if let Some(c) = x.as_constant() {
        if BigUint::from(c.into_bigint()).bits() as usize <= n {
            return (0..n).map(|i| Bit::constant(bit_of(&c, i))).collect();
        }
    }
    let mut bits: Vec<Bit> = (0..n - 1)
        .map(|i| Bit::alloc(cs, bit_of(&x.val, i)))
        .collect();
    let top = top_bit(x, &bits, n);
    enforce_boolean(cs, &top.num);
    bits.push(top);
    bits
}

/// The top bit of an `n`-bit decomposition as what is left of `x` once the lower bits are
/// taken away: `(x − Σ_{i<n−1} 2^i·bᵢ)·2^{−(n−1)}` (not yet constrained to be a bit).
fn top_bit(x: &Num, low: &[Bit], n: usize) -> Bit {
    let rest = x.sub(&pack(low));
    Bit {
        num: rest.scale(inv_pow2(n - 1)).compacted(),
    }
}

/// `2^{−k}` for `k < 256`.
pub fn inv_pow2(k: usize) -> Fr {
    static TABLE: std::sync::OnceLock<Vec<Fr>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let half = Fr::from(2u64).inverse().unwrap_or_default();
        let mut t = vec![Fr::one()];
        for i in 1..256 {
            t.push(t[i - 1] * half);
        }
        t
    })[k]
}

/// Enforces `Σ 2^i·bits[i] ≤ c` for a constant `c` below `2^bits.len()`: one constraint
/// per bit from the top down to the lowest 0 bit of `c`.
pub fn enforce_le_const(cs: &mut Cs, bits: &[Bit], c: &BigUint) {
    let n = bits.len();
    assert!(
        c.bits() as usize <= n,
        "the constant has more bits than the value"
    );
    let lowest_zero = (0..n).find(|&i| !c.bit(i as u64));
    let Some(lowest_zero) = lowest_zero else {
        return; // c = 2^n − 1: every n-bit value is at most c
    };
    // eq: every bit above i equals c's.
    let mut eq = Bit::constant(true);
    for i in (lowest_zero..n).rev() {
        if c.bit(i as u64) {
            eq = eq.and(cs, &bits[i]);
        } else {
            enforce_zero_if(cs, &eq, &bits[i].num);
        }
    }
}

/// The BN254 scalar field's modulus as an integer.
pub fn modulus() -> BigUint {
    BigUint::from(Fr::MODULUS)
}

/// The canonical 254 little-endian bits of `x` (`x = Σ 2^i·bᵢ` as integers, below the
/// modulus): 254 constraints for the bits and about 250 for the comparison.
pub fn to_bits_strict(cs: &mut Cs, x: &Num) -> Vec<Bit> {
    let n = Fr::MODULUS_BIT_SIZE as usize;
    if let Some(c) = x.as_constant() {
        return (0..n).map(|i| Bit::constant(bit_of(&c, i))).collect();
    }
    let mut bits: Vec<Bit> = (0..n - 1)
        .map(|i| Bit::alloc(cs, bit_of(&x.val, i)))
        .collect();
    let top = top_bit(x, &bits, n);
    enforce_boolean(cs, &top.num);
    bits.push(top);
    enforce_le_const(cs, &bits, &(modulus() - 1u32));
    bits
}

/// The `n` bits of `x` most significant first (`bits` little-endian), for byte strings.
pub fn be(bits: &[Bit]) -> Vec<Bit> {
    bits.iter().rev().cloned().collect()
}

/// Big-endian bits of the canonical value of `x` in `n_bytes` bytes, the leading ones
/// constant 0 (`bits` little-endian, fewer than `8·n_bytes`).
pub fn be_bytes(bits: &[Bit], n_bytes: usize) -> Vec<Bit> {
    let total = 8 * n_bytes;
    assert!(bits.len() <= total);
    let mut out = vec![Bit::constant(false); total - bits.len()];
    out.extend(be(bits));
    out
}

/// The value of a field element as a `u128`, if it fits.
pub fn fr_to_u128(x: &Fr) -> Option<u128> {
    let b = x.into_bigint();
    if b.num_bits() > 128 {
        return None;
    }
    Some(u128::from(b.0[0]) | (u128::from(b.0[1]) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(cs: &mut Cs, v: Fr) -> Num {
        cs.alloc(v)
    }

    #[test]
    fn decompositions_accept_exactly_the_values_that_fit() {
        for (v, n, ok) in [
            (0u64, 1, true),
            (1, 1, true),
            (2, 1, false),
            (255, 8, true),
            (256, 8, false),
            (1 << 40, 41, true),
            (1 << 40, 40, false),
        ] {
            let mut cs = Cs::prove();
            let x = num(&mut cs, Fr::from(v));
            let bits = to_bits(&mut cs, &x, n);
            assert_eq!(cs.failure().is_none(), ok, "{v} in {n} bits");
            assert_eq!(cs.num_constraints(), n);
            if ok {
                assert_eq!(pack(&bits).val, Fr::from(v));
            }
        }
        // A negative value (p − 1) never fits.
        let mut cs = Cs::prove();
        let x = num(&mut cs, -Fr::one());
        to_bits(&mut cs, &x, 128);
        assert!(cs.failure().is_some());
    }

    #[test]
    fn strict_decomposition_and_comparisons() {
        for v in [
            Fr::zero(),
            Fr::one(),
            -Fr::one(),
            Fr::from(12345u64).inverse().unwrap(),
        ] {
            let mut cs = Cs::prove();
            let x = num(&mut cs, v);
            let bits = to_bits_strict(&mut cs, &x);
            assert!(cs.failure().is_none());
            assert_eq!(pack(&bits).val, v);
            assert!(cs.num_constraints() < 520, "{}", cs.num_constraints());
        }
        // The non-canonical decomposition x + p (which fits in 254 bits for small x) is
        // refused: feed the bits of 5 + p by hand.
        let p = modulus();
        let alias = &p + 5u32;
        let mut cs = Cs::prove();
        let bits: Vec<Bit> = (0..254)
            .map(|i| Bit::alloc(&mut cs, alias.bit(i)))
            .collect();
        assert_eq!(pack(&bits).val, Fr::from(5u64));
        enforce_le_const(&mut cs, &bits, &(p - 1u32));
        assert!(cs.failure().is_some());
        for (v, c, ok) in [
            (5u64, 5u64, true),
            (6, 5, false),
            (4, 5, true),
            (7, 7, true),
            (8, 7, false),
        ] {
            let mut cs = Cs::prove();
            let x = num(&mut cs, Fr::from(v));
            let bits = to_bits(&mut cs, &x, 4);
            enforce_le_const(&mut cs, &bits, &BigUint::from(c));
            assert_eq!(cs.failure().is_none(), ok, "{v} ≤ {c}");
        }
    }

    #[test]
    fn logic_zero_tests_and_selects() {
        let mut cs = Cs::prove();
        for a in [false, true] {
            for b in [false, true] {
                for c in [false, true] {
                    let (x, y, z) = (
                        Bit::alloc(&mut cs, a),
                        Bit::alloc(&mut cs, b),
                        Bit::alloc(&mut cs, c),
                    );
                    assert_eq!(x.xor(&mut cs, &y).val(), a ^ b);
                    assert_eq!(Bit::xor3(&mut cs, &x, &y, &z).val(), a ^ b ^ c);
                    assert_eq!(x.and(&mut cs, &y).val(), a && b);
                    assert_eq!(x.or(&mut cs, &y).val(), a || b);
                    assert_eq!(
                        Bit::xor3(&mut cs, &x, &Bit::constant(c), &z).val(),
                        a ^ c ^ c
                    );
                    let s = select(&mut cs, &x, &Num::from_u64(7), &Num::from_u64(9));
                    assert_eq!(s.val, Fr::from(if a { 7u64 } else { 9 }));
                }
            }
        }
        let z = num(&mut cs, Fr::zero());
        let nz = num(&mut cs, Fr::from(3u64));
        assert!(is_zero(&mut cs, &z).val());
        assert!(!is_zero(&mut cs, &nz).val());
        assert!(is_equal(&mut cs, &nz, &Num::from_u64(3)).val());
        assert!(cs.failure().is_none());
        // A xor3 output that lies is caught.
        let mut cs = Cs::prove();
        let (x, y, z) = (
            Bit::alloc(&mut cs, true),
            Bit::alloc(&mut cs, true),
            Bit::alloc(&mut cs, false),
        );
        let r = Bit::xor3(&mut cs, &x, &y, &z);
        let mut bad = Cs::prove();
        let (x2, y2, z2) = (
            Bit::alloc(&mut bad, true),
            Bit::alloc(&mut bad, true),
            Bit::alloc(&mut bad, false),
        );
        let r2 = bad.alloc(Fr::one());
        enforce_boolean(&mut bad, &r2);
        let d = x2.num.add(&y2.num).add(&z2.num).sub(&r2);
        bad.enforce(&d.lc, &d.add_const(-Fr::from(2u64)).lc, &Lc::default());
        assert!(!r.val() && bad.failure().is_some());
    }
}
