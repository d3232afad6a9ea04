//! Signed window digits of scalars (Booth-style recoding), computed per window.
//!
//! A scalar `s` (an unsigned integer given as little-endian `u64` limbs) is cut into
//! windows of `c` bits. Window `w`'s digit is
//!
//! `d_w = raw_w + b(cw - 1) - 2^c * b(cw + c - 1)`
//!
//! where `raw_w` is bits `[cw, cw + c)` of `s`, `b(k)` is bit `k` (and `b(-1) = 0`).
//! Every digit lies in `[-2^(c-1), 2^(c-1)]`, `s = sum_w d_w * 2^(cw)`, and each digit depends
//! only on `c + 1` bits of `s`: the carry into a window is the top bit of the window below,
//! so windows can be recoded independently (and in parallel) without a carry chain.

/// Number of significant bits of `limbs` (0 for zero).
pub(crate) fn bit_len(limbs: &[u64]) -> u32 {
    for (i, &limb) in limbs.iter().enumerate().rev() {
        if limb != 0 {
            return 64 * i as u32 + (64 - limb.leading_zeros());
        }
    }
    0
}

/// How many windows of `c` bits a scalar of `bits` significant bits touches: its digits in
/// windows `0..windows_for_bits(bits, c)` may be non-zero, all higher ones are zero.
pub(crate) fn windows_for_bits(bits: u32, c: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (bits / c) as usize + 1
    }
}

/// Bits `[pos, pos + len)` of `limbs` (zero past the end); `len` is at most 32.
#[inline(always)]
fn bits_at(limbs: &[u64], pos: usize, len: u32) -> u64 {
    let limb = pos / 64;
    let shift = (pos % 64) as u32;
    let Some(&lo) = limbs.get(limb) else {
        return 0;
    };
    let mut v = lo >> shift;
    if shift + len > 64 {
        if let Some(&hi) = limbs.get(limb + 1) {
            v |= hi << (64 - shift);
        }
    }
    v & ((1u64 << len) - 1)
}

/// The signed digit of window `w` (width `c`, `1 <= c <= 30`) of the scalar `limbs`.
#[inline(always)]
pub(crate) fn digit(limbs: &[u64], w: usize, c: u32) -> i32 {
    let start = w * c as usize;
    let (raw, carry) = if start == 0 {
        (bits_at(limbs, 0, c), 0)
    } else {
        let v = bits_at(limbs, start - 1, c + 1);
        (v >> 1, v & 1)
    };
    let top = raw >> (c - 1);
    (raw + carry) as i32 - ((top as i32) << c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Recombines the digits of `limbs` as a signed 128-bit integer (for small inputs).
    fn recombine(limbs: &[u64], c: u32) -> i128 {
        let windows = windows_for_bits(bit_len(limbs), c);
        (0..windows)
            .map(|w| i128::from(digit(limbs, w, c)) << (w * c as usize))
            .sum()
    }

    #[test]
    fn digits_recombine_and_stay_in_range() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for c in 1..=20u32 {
            for _ in 0..200 {
                let v: u64 = rng.gen::<u64>() >> rng.gen_range(0..64);
                let limbs = [v, 0];
                assert_eq!(recombine(&limbs, c), i128::from(v), "c={c} v={v}");
                for w in 0..windows_for_bits(64, c) + 1 {
                    let d = digit(&limbs, w, c);
                    assert!(d.unsigned_abs() <= 1 << (c - 1));
                }
                // Past the last counted window every digit is zero.
                let n = windows_for_bits(bit_len(&limbs), c);
                assert_eq!(digit(&limbs, n, c), 0);
            }
        }
    }

    #[test]
    fn digits_cross_limb_boundaries() {
        let limbs = [u64::MAX, u64::MAX, 1];
        for c in [7u32, 13, 16, 20] {
            let windows = windows_for_bits(bit_len(&limbs), c);
            // Recombine modulo 2^128 with wrapping arithmetic, then compare the low limbs.
            let mut acc: i128 = 0;
            for w in 0..windows {
                let shift = w * c as usize;
                if shift < 128 {
                    acc = acc
                        .wrapping_add(i128::from(digit(&limbs, w, c)).wrapping_shl(shift as u32));
                }
            }
            assert_eq!(acc as u128, u128::MAX, "c={c}");
        }
    }

    #[test]
    fn bit_len_counts() {
        assert_eq!(bit_len(&[0, 0]), 0);
        assert_eq!(bit_len(&[1, 0]), 1);
        assert_eq!(bit_len(&[0, 1]), 65);
        assert_eq!(windows_for_bits(16, 16), 2);
        assert_eq!(windows_for_bits(15, 16), 1);
    }
}
