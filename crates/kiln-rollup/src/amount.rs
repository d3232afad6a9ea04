//! Amounts and fees as the batch data carries them: decimal floating point, `v = m·10^e`.
//!
//! - an amount is [`AMOUNT`]: a 31-bit mantissa and a 5-bit exponent (36 bits), so any
//!   value with at most 9 significant digits (10 when they start with 1 or 2) is exact;
//! - a fee is [`FEE`]: a 7-bit mantissa and a 5-bit exponent (12 bits), so 0 to 127 times
//!   a power of ten.
//!
//! With two 24-bit indices that makes a transfer 12 bytes of batch data. A value that has
//! no encoding is refused, naming the nearest values below and above that have one.

/// A decimal float format: `mantissa_bits` of mantissa, `exponent_bits` of exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatFormat {
    /// What it encodes ("amount", "fee"), for error messages.
    pub name: &'static str,
    /// Bits of the mantissa.
    pub mantissa_bits: u32,
    /// Bits of the exponent (of 10).
    pub exponent_bits: u32,
}

/// The format of transaction amounts.
pub const AMOUNT: FloatFormat = FloatFormat {
    name: "amount",
    mantissa_bits: 31,
    exponent_bits: 5,
};

/// The format of transaction fees.
pub const FEE: FloatFormat = FloatFormat {
    name: "fee",
    mantissa_bits: 7,
    exponent_bits: 5,
};

/// A value the format cannot carry, with the nearest values that it can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} {value} cannot be written in the batch data ({digits}); the nearest that can are {below} and {above}",
    digits = describe(self.format), name = self.format.name,
    above = self.above.map_or("none above".to_string(), |v| v.to_string()))]
pub struct UnencodableError {
    /// The format.
    pub format: FloatFormat,
    /// The value asked for.
    pub value: u128,
    /// The nearest encodable value below it.
    pub below: u128,
    /// The nearest encodable value above it, if any fits in 128 bits.
    pub above: Option<u128>,
}

fn describe(f: FloatFormat) -> String {
    format!(
        "a {}-bit mantissa times a power of ten up to 10^{}",
        f.mantissa_bits,
        (1u32 << f.exponent_bits) - 1
    )
}

impl FloatFormat {
    fn max_mantissa(&self) -> u128 {
        (1u128 << self.mantissa_bits) - 1
    }

    fn max_exponent(&self) -> u32 {
        (1u32 << self.exponent_bits) - 1
    }

    /// Total bits of an encoded value.
    pub fn bits(&self) -> u32 {
        self.mantissa_bits + self.exponent_bits
    }

    /// `m·10^e`, if it fits in 128 bits.
    pub fn value(&self, m: u128, e: u32) -> Option<u128> {
        10u128.checked_pow(e)?.checked_mul(m)
    }

    /// Decodes `(m << exponent_bits) | e`; `None` if the value overflows 128 bits or the
    /// code has bits beyond the format.
    pub fn decode(&self, code: u64) -> Option<u128> {
        if code >> self.bits() != 0 {
            return None;
        }
        let e = (code & u64::from(self.max_exponent())) as u32;
        let m = u128::from(code >> self.exponent_bits);
        self.value(m, e)
    }

    /// The code of `value`: `(m << exponent_bits) | e` with the smallest exponent that
    /// carries it exactly; an error naming the nearest encodable values otherwise.
    pub fn encode(&self, value: u128) -> Result<u64, UnencodableError> {
        let mut e = 0u32;
        let mut scale = 1u128;
        loop {
            if !value.is_multiple_of(scale) {
                break;
            }
            let m = value / scale;
            if m <= self.max_mantissa() {
                return Ok(((m as u64) << self.exponent_bits) | u64::from(e));
            }
            if e == self.max_exponent() {
                break;
            }
            match scale.checked_mul(10) {
                Some(s) => {
                    scale = s;
                    e += 1;
                }
                None => break,
            }
        }
        Err(UnencodableError {
            format: *self,
            value,
            below: self.nearest(value, false),
            above: Some(self.nearest(value, true)).filter(|&v| v > value),
        })
    }

    /// The encodable value nearest to `value` below it (`up` false) or above it (`up`
    /// true; `value` itself when nothing above fits in 128 bits).
    fn nearest(&self, value: u128, up: bool) -> u128 {
        // The smallest exponent whose mantissa range reaches `value`.
        let mut e = 0u32;
        let mut scale = 1u128;
        while e < self.max_exponent()
            && value / scale > self.max_mantissa()
            && scale.checked_mul(10).is_some()
        {
            scale *= 10;
            e += 1;
        }
        let m = (value / scale).min(self.max_mantissa());
        let below = m * scale;
        if !up {
            return below;
        }
        let next = if m < self.max_mantissa() {
            self.value(m + 1, e)
        } else if e < self.max_exponent() {
            // The next exponent's first value above the top of this one.
            scale
                .checked_mul(10)
                .and_then(|s| (self.max_mantissa() * scale / s + 1).checked_mul(s))
        } else {
            None
        };
        next.unwrap_or(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_round_trip_and_others_name_their_neighbours() {
        for f in [AMOUNT, FEE] {
            for v in [
                0u128,
                1,
                7,
                100,
                f.max_mantissa(),
                f.max_mantissa() * 10,
                10u128.pow(18),
            ] {
                let code = f.encode(v).unwrap();
                assert!(code >> f.bits() == 0);
                assert_eq!(f.decode(code), Some(v), "{} {v}", f.name);
            }
        }
        // 1.234567891 ETH in wei has 10 significant digits and a leading 1: exact.
        assert!(AMOUNT.encode(1_234_567_891_000_000_000).is_ok());
        // Eleven significant digits are not.
        let e = AMOUNT.encode(12_345_678_901).unwrap_err();
        assert_eq!((e.below, e.above), (12_345_678_900, Some(12_345_678_910)));
        assert!(AMOUNT.encode(e.below).is_ok() && AMOUNT.encode(e.above.unwrap()).is_ok());
        let msg = e.to_string();
        assert!(
            msg.contains("12345678901")
                && msg.contains("12345678900")
                && msg.contains("12345678910"),
            "{msg}"
        );
        // A fee of 128 needs an exponent: 120 and 130 are the neighbours.
        let e = FEE.encode(128).unwrap_err();
        assert_eq!((e.below, e.above), (120, Some(130)));
        // Codes beyond the format's bits are refused.
        assert_eq!(FEE.decode(1 << 12), None);
        assert_eq!(AMOUNT.decode(u64::MAX), None);
    }

    #[test]
    fn neighbours_bracket_every_value() {
        let mut x = 1u128;
        for _ in 0..200 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                >> 3;
            for f in [AMOUNT, FEE] {
                match f.encode(x) {
                    Ok(code) => assert_eq!(f.decode(code), Some(x)),
                    Err(e) => {
                        assert!(e.below < x, "{x}: {e}");
                        assert!(f.encode(e.below).is_ok(), "{x}: below {}", e.below);
                        if let Some(a) = e.above {
                            assert!(a > x && f.encode(a).is_ok(), "{x}: above {a}");
                        }
                    }
                }
            }
        }
    }
}
