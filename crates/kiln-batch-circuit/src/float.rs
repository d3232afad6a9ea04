//! Amounts and fees as the batch data carries them (`kiln_rollup::amount`): a code
//! `mantissa << exponent_bits | exponent` decodes to `mantissa·10^exponent`. The code's bits
//! are its range check and its bytes in the data; `10^e` is a product of one factor per
//! exponent bit (`1 + eᵢ·(10^{2^i} − 1)`, 4 constraints for 5 bits) and the value one more.
//!
//! A decoded value may exceed 128 bits (a 31-bit mantissa times 10^31); every use of an
//! amount or a fee in the circuit subtracts it from a balance that is range-checked to 128
//! bits, which refuses such a value as it refuses any amount above the balance.

use ark_ff::{Field, One};
use kiln_rollup::amount::FloatFormat;

use crate::bits::{pack, to_bits, Bit};
use crate::cs::{Cs, Fr, Num};

/// A decoded float: its code's bits (little-endian) and its value.
#[derive(Clone, Debug)]
pub struct Float {
    /// The code's bits, little-endian (`format.bits()` of them).
    pub bits: Vec<Bit>,
    /// `mantissa·10^exponent`.
    pub value: Num,
}

/// Decodes the code `code` (a wire) in `format`: range-checks it to the format's bits and
/// computes its value.
pub fn decode(cs: &mut Cs, format: &FloatFormat, code: &Num) -> Float {
    let bits = to_bits(cs, code, format.bits() as usize);
    let (exp_bits, mantissa_bits) = bits.split_at(format.exponent_bits as usize);
    let mut power = Num::one();
    let mut ten = Fr::from(10u64);
    for e in exp_bits {
        let factor = Num::one().add_scaled(&e.num, ten - Fr::one());
        power = cs.mul(&power, &factor);
        ten = ten.square();
    }
    let value = cs.mul(&pack(mantissa_bits), &power);
    Float { bits, value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_rollup::amount::{AMOUNT, FEE};

    #[test]
    fn decodes_as_kiln_rollup() {
        for (f, values) in [
            (
                AMOUNT,
                vec![
                    0u128,
                    1,
                    9,
                    10,
                    2_147_483_647,
                    1_234_567_891_000_000_000,
                    10u128.pow(30),
                ],
            ),
            (FEE, vec![0u128, 1, 127, 1270, 100_000_000_000_000_000]),
        ] {
            for v in values {
                let code = f.encode(v).unwrap();
                let mut cs = Cs::prove();
                let c = cs.alloc(Fr::from(code));
                let d = decode(&mut cs, &f, &c);
                assert_eq!(d.value.val, Fr::from(v), "{} {v}", f.name);
                assert_eq!(pack(&d.bits).val, Fr::from(code));
                assert!(cs.failure().is_none());
                assert_eq!(cs.num_constraints(), f.bits() as usize + 5);
            }
        }
        // The largest code decodes past 128 bits (what the balances then refuse).
        let mut cs = Cs::prove();
        let c = cs.alloc(Fr::from((1u64 << 36) - 1));
        let d = decode(&mut cs, &AMOUNT, &c);
        let want = Fr::from((1u64 << 31) - 1) * Fr::from(10u64).pow([31u64]);
        assert_eq!(d.value.val, want);
        // A code with bits beyond the format is refused.
        let mut cs = Cs::prove();
        let c = cs.alloc(Fr::from(1u64 << 12));
        decode(&mut cs, &FEE, &c);
        assert!(cs.failure().is_some());
    }
}
