//! SHA-256 (FIPS 180-4) of a bit string of fixed length, as constraints on bits.
//!
//! Words are 32 bits, little-endian in the gadget (rotations are free re-indexings). Per
//! bit: a three-way XOR (`Σ₀`, `Σ₁`, `σ₀`, `σ₁`) is one new wire and two constraints, `Ch`
//! one, `Maj` two; each addition mod 2³² decomposes the sum of its words into its 32 low
//! bits and the carry (`32 + ⌈log₂ terms⌉` constraints). Constants fold: the initial state
//! and the padding cost nothing. About 26,000 constraints per 64-byte block.

use ark_ff::One;

use crate::bits::{enforce_boolean, Bit};
use crate::cs::{Cs, Fr, Num};

/// A 32-bit word, bit 0 the least significant.
type Word = Vec<Bit>;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

fn const_word(x: u32) -> Word {
    (0..32).map(|i| Bit::constant((x >> i) & 1 == 1)).collect()
}

fn word_val(w: &[Bit]) -> u64 {
    w.iter()
        .enumerate()
        .fold(0u64, |acc, (i, b)| acc | (u64::from(b.val()) << i))
}

/// `x >>> n`.
fn rotr(x: &[Bit], n: usize) -> Word {
    (0..32).map(|i| x[(i + n) % 32].clone()).collect()
}

/// `x >> n`.
fn shr(x: &[Bit], n: usize) -> Word {
    (0..32)
        .map(|i| {
            if i + n < 32 {
                x[i + n].clone()
            } else {
                Bit::constant(false)
            }
        })
        .collect()
}

fn xor3_word(cs: &mut Cs, a: &[Bit], b: &[Bit], c: &[Bit]) -> Word {
    (0..32)
        .map(|i| Bit::xor3(cs, &a[i], &b[i], &c[i]))
        .collect()
}

/// `Ch(e, f, g) = g + e·(f − g)` per bit, one constraint each.
fn ch(cs: &mut Cs, e: &[Bit], f: &[Bit], g: &[Bit]) -> Word {
    (0..32)
        .map(|i| {
            let (e, f, g) = (&e[i], &f[i], &g[i]);
            if e.as_constant().is_some() {
                return Bit::select(cs, e, f, g);
            }
            if let (Some(fc), Some(gc)) = (f.as_constant(), g.as_constant()) {
                return match (fc, gc) {
                    (true, true) => Bit::constant(true),
                    (false, false) => Bit::constant(false),
                    (true, false) => e.clone(),
                    (false, true) => e.not(),
                };
            }
            Bit::select(cs, e, f, g)
        })
        .collect()
}

/// `Maj(a, b, c) = b·c + a·(b + c − 2·b·c)` per bit, two constraints each.
fn maj(cs: &mut Cs, a: &[Bit], b: &[Bit], c: &[Bit]) -> Word {
    (0..32)
        .map(|i| {
            let (a, b, c) = (&a[i], &b[i], &c[i]);
            let bc = b.and(cs, c);
            let b_xor_c = b.num.add(&c.num).sub(&bc.num.scale(Fr::from(2u64)));
            let t = cs.mul(&a.num, &b_xor_c);
            Bit::from_num_unchecked(bc.num.add(&t))
        })
        .collect()
}

/// `(Σ words + constant) mod 2³²`: the sum's low 32 bits as new wires and its carry.
fn add(cs: &mut Cs, words: &[&[Bit]], constant: u32) -> Word {
    let mut sum = Num::constant(Fr::from(constant));
    let mut val = u64::from(constant);
    let mut max = u64::from(constant);
    for w in words {
        let mut k = Fr::one();
        for b in w.iter() {
            sum.add_scaled_assign(&b.num, k);
            k += k;
        }
        val += word_val(w);
        max += u64::from(u32::MAX);
    }
    let n = 64 - max.leading_zeros() as usize;
    if let Some(c) = sum.as_constant() {
        let v = crate::bits::fr_to_u128(&c).unwrap_or_default() as u32;
        return const_word(v);
    }
    // n − 1 allocated bits, the top one what is left of the sum.
    let mut bits: Vec<Bit> = (0..n - 1)
        .map(|i| Bit::alloc(cs, (val >> i) & 1 == 1))
        .collect();
    let mut rest = sum;
    let mut k = Fr::one();
    for b in &bits {
        rest.add_scaled_assign(&b.num, -k);
        k += k;
    }
    let top = rest.scale(crate::bits::inv_pow2(n - 1)).compacted();
    enforce_boolean(cs, &top);
    bits.push(Bit::from_num_unchecked(top));
    bits.truncate(32);
    bits
}

/// One compression of `state` by the 16 words of `block`.
fn compress(cs: &mut Cs, state: &[Word], block: &[Word]) -> Vec<Word> {
    let mut w: Vec<Word> = block.to_vec();
    for t in 16..64 {
        let s0 = {
            let x = &w[t - 15];
            xor3_word(cs, &rotr(x, 7), &rotr(x, 18), &shr(x, 3))
        };
        let s1 = {
            let x = &w[t - 2];
            xor3_word(cs, &rotr(x, 17), &rotr(x, 19), &shr(x, 10))
        };
        let next = add(cs, &[&s1, &w[t - 7], &s0, &w[t - 16]], 0);
        w.push(next);
    }
    let mut v: Vec<Word> = state.to_vec();
    for t in 0..64 {
        let (a, b, c, d) = (&v[0], &v[1], &v[2], &v[3]);
        let (e, f, g, h) = (&v[4], &v[5], &v[6], &v[7]);
        let big_s1 = xor3_word(cs, &rotr(e, 6), &rotr(e, 11), &rotr(e, 25));
        let ch = ch(cs, e, f, g);
        let big_s0 = xor3_word(cs, &rotr(a, 2), &rotr(a, 13), &rotr(a, 22));
        let maj = maj(cs, a, b, c);
        let new_e = add(cs, &[d, h, &big_s1, &ch, &w[t]], K[t]);
        let new_a = add(cs, &[h, &big_s1, &ch, &w[t], &big_s0, &maj], K[t]);
        v = vec![
            new_a,
            a.clone(),
            b.clone(),
            c.clone(),
            new_e,
            e.clone(),
            f.clone(),
            g.clone(),
        ];
    }
    (0..8).map(|i| add(cs, &[&state[i], &v[i]], 0)).collect()
}

/// Blocks a message of `n_bits` bits pads to.
pub fn blocks(n_bits: usize) -> usize {
    (n_bits + 1 + 64).div_ceil(512)
}

/// SHA-256 of `msg` (bits most significant first within each byte, bytes in order; any
/// length): the 256 digest bits, most significant first.
pub fn sha256(cs: &mut Cs, msg: &[Bit]) -> Vec<Bit> {
    let n = msg.len();
    let mut padded: Vec<Bit> = msg.to_vec();
    padded.push(Bit::constant(true));
    while padded.len() % 512 != 448 {
        padded.push(Bit::constant(false));
    }
    for i in (0..64).rev() {
        padded.push(Bit::constant((n as u64 >> i) & 1 == 1));
    }
    let mut state: Vec<Word> = IV.iter().map(|&x| const_word(x)).collect();
    for (k, chunk) in padded.chunks(512).enumerate() {
        let block: Vec<Word> = chunk
            .chunks(32)
            .map(|be| be.iter().rev().cloned().collect())
            .collect();
        state = cs.ns(format!("block {k}"), |cs| compress(cs, &state, &block));
    }
    state
        .iter()
        .flat_map(|w| w.iter().rev().cloned().collect::<Vec<_>>())
        .collect()
}

/// The bits of `bytes`, most significant first, as constants.
pub fn const_bits(bytes: &[u8]) -> Vec<Bit> {
    bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| Bit::constant((b >> i) & 1 == 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn bits_to_bytes(bits: &[Bit]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |acc, b| (acc << 1) | b.val() as u8))
            .collect()
    }

    #[test]
    fn equals_sha2_on_several_lengths() {
        for len in [0usize, 1, 3, 55, 56, 63, 64, 100, 128, 244] {
            let msg: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let mut cs = Cs::prove();
            let bits: Vec<Bit> = const_bits(&msg)
                .iter()
                .map(|b| Bit::alloc(&mut cs, b.val()))
                .collect();
            let before = cs.num_constraints();
            let digest = sha256(&mut cs, &bits);
            assert_eq!(
                bits_to_bytes(&digest),
                Sha256::digest(&msg).to_vec(),
                "length {len}"
            );
            assert!(cs.failure().is_none(), "length {len}: {:?}", cs.failure());
            let per_block = (cs.num_constraints() - before) / blocks(8 * len);
            assert!(per_block < 27_000, "{per_block} constraints per block");
            // Constants fold entirely.
            let mut cs = Cs::prove();
            let digest = sha256(&mut cs, &const_bits(&msg));
            assert_eq!(bits_to_bytes(&digest), Sha256::digest(&msg).to_vec());
            assert_eq!(cs.num_constraints(), 0);
        }
    }

    #[test]
    fn additions_wrap_mod_2_32() {
        let mut cs = Cs::prove();
        let a: Word = const_word(0xffff_ffff)
            .iter()
            .map(|b| Bit::alloc(&mut cs, b.val()))
            .collect();
        let before = cs.num_constraints();
        let s = add(&mut cs, &[&a, &a], 1);
        assert_eq!(word_val(&s), 0xffff_ffff);
        // 2·(2³² − 1) + 1 < 2³³: 33 bits.
        assert_eq!(cs.num_constraints() - before, 33);
        assert!(cs.failure().is_none());
    }
}
