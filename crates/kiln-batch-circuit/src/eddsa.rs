//! EdDSA-Poseidon verification as circomlibjs's `eddsa.verifyPoseidon` decides it: the key
//! `A` and `R8` are on the curve, `S` is below the subgroup order `l`, and
//! `S·Base8 = R8 + (8·hm)·A` with `hm = H(R8x, R8y, Ax, Ay, m)` taken as an integer below
//! the field modulus (its canonical bits).
//!
//! About 5,100 constraints: the two curve checks (6), `S`'s 251 bits and `S ≤ l − 1`
//! (~500), `hm` (Poseidon of 5, 321) and its canonical 254 bits (~500), `8·A` (15), the
//! fixed-base `S·Base8` (~830), the variable-base `hm·(8A)` (~2,900) and the final
//! addition and comparison.

use kiln_rollup::babyjub::{sub_order, Point as NativePoint};

use crate::babyjub::{mul_fixed, mul_var, Point};
use crate::bits::{enforce_le_const, enforce_zero_if, to_bits, to_bits_strict, Bit};
use crate::cs::{Cs, Num};
use crate::poseidon;

/// Bits of a scalar below the subgroup order.
pub const SCALAR_BITS: usize = 251;

/// A signature's wires: `R8` and `S`.
#[derive(Clone, Debug)]
pub struct SignatureVar {
    /// `R8`.
    pub r8: Point,
    /// `S` (a field element; values of 2^251 or more are refused).
    pub s: Num,
}

/// Enforces, when `enabled`, that `sig` is a valid signature of `msg` under `key`. The curve
/// and range checks hold whether or not it is enabled (a disabled slot's witness uses the
/// identity for both points and `S = 0`, which passes them).
pub fn verify(cs: &mut Cs, enabled: &Bit, msg: &Num, key: &Point, sig: &SignatureVar) {
    cs.ns("key on the curve", |cs| key.enforce_on_curve(cs));
    cs.ns("R8 on the curve", |cs| sig.r8.enforce_on_curve(cs));
    let s_bits = cs.ns("S below the subgroup order", |cs| {
        let bits = to_bits(cs, &sig.s, SCALAR_BITS);
        enforce_le_const(cs, &bits, &(sub_order() - 1u32));
        bits
    });
    let hm = cs.ns("hm", |cs| {
        let hm = poseidon::hash(
            cs,
            &[
                sig.r8.x.clone(),
                sig.r8.y.clone(),
                key.x.clone(),
                key.y.clone(),
                msg.clone(),
            ],
        );
        to_bits_strict(cs, &hm)
    });
    let left = cs.ns("S·Base8", |cs| {
        mul_fixed(cs, &NativePoint::base8(), &s_bits)
    });
    let right = cs.ns("R8 + hm·8A", |cs| {
        let a8 = key.double(cs).double(cs).double(cs);
        let h = mul_var(cs, &a8, &hm);
        sig.r8.add(cs, &h)
    });
    cs.ns("S·Base8 = R8 + hm·8A", |cs| {
        enforce_zero_if(cs, enabled, &left.x.sub(&right.x));
        enforce_zero_if(cs, enabled, &left.y.sub(&right.y));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cs::Fr;
    use kiln_rollup::eddsa::{PrivateKey, Signature};
    use num_bigint::BigUint;

    fn run(msg: Fr, sig: &Signature, key: &NativePoint, enabled: bool) -> (bool, usize) {
        let mut cs = Cs::prove();
        let en = Bit::alloc(&mut cs, enabled);
        let m = cs.alloc(msg);
        let k = Point::alloc(&mut cs, key);
        let s_val = sig.s_value();
        let s = cs.alloc(Fr::from(s_val.clone()));
        let sv = SignatureVar {
            r8: Point::alloc(&mut cs, &sig.r8),
            s,
        };
        verify(&mut cs, &en, &m, &k, &sv);
        (cs.failure().is_none(), cs.num_constraints())
    }

    #[test]
    fn accepts_kiln_signatures_and_nothing_else() {
        for seed in 1u8..4 {
            let prv = PrivateKey([seed; 32]);
            let key = prv.public();
            let msg = Fr::from(1000u64 + u64::from(seed));
            let sig = prv.sign(&msg);
            assert!(kiln_rollup::eddsa::verify(&msg, &sig, &key));
            let (ok, n) = run(msg, &sig, &key, true);
            assert!(ok, "seed {seed}");
            assert!(n < 5200, "{n} constraints");
            // Another message, another key, another S.
            assert!(!run(msg + Fr::from(1u64), &sig, &key, true).0);
            assert!(!run(msg, &sig, &PrivateKey([9; 32]).public(), true).0);
            let bumped = Signature::new(sig.r8, &(sig.s_value() + 1u32)).unwrap();
            assert!(!run(msg, &bumped, &key, true).0);
            // S + l is the same point but refused, as circomlibjs refuses it.
            let big = Signature::new(sig.r8, &(sig.s_value() + sub_order())).unwrap();
            assert!(!run(msg, &big, &key, true).0);
            // A signature by another key for the same message.
            let other = PrivateKey([seed + 100; 32]).sign(&msg);
            assert!(!run(msg, &other, &key, true).0);
            // Disabled, the equation is not checked (but the points must be on the curve).
            assert!(run(msg + Fr::from(1u64), &sig, &key, false).0);
        }
        // The identity key, R8 and S = 0 pass disabled and enabled alike (a no-op's witness).
        let id = Signature::new(NativePoint::IDENTITY, &BigUint::from(0u32)).unwrap();
        assert!(run(Fr::from(5u64), &id, &NativePoint::IDENTITY, false).0);
    }
}
