//! EdDSA-Poseidon on BabyJubJub, exactly as circomlibjs makes and checks it:
//!
//! - a private key is 32 bytes; `h = BLAKE-512(prv)`, `s` = the first 32 bytes of `h`
//!   pruned (low 3 bits cleared, bit 255 cleared, bit 254 set) read little-endian; the
//!   public key is `A = (s >> 3)·Base8` (`eddsa.prv2pub`);
//! - signing `m`: `r = BLAKE-512(h[32..64] ‖ m as 32 bytes LE) mod l`, `R8 = r·Base8`,
//!   `S = (r + H(R8x, R8y, Ax, Ay, m)·s) mod l` (`eddsa.signPoseidon`; l = `subOrder`);
//! - a signature `(R8, S)` is valid for `m` under `A` iff both points are on the curve,
//!   `S < l` and `S·Base8 = R8 + (8·H(R8x, R8y, Ax, Ay, m))·A` (`eddsa.verifyPoseidon`).

use ark_ff::{BigInteger, PrimeField};
use blake_hash::digest::Digest;
use blake_hash::Blake512;
use num_bigint::BigUint;

use kiln_algebra::fr_lanes::{FrLanes, Ifma};

use crate::babyjub::{
    eddsa_equation_holds, eddsa_equation_holds_with, to_biguint, Point, PointTable,
};
use crate::babyjub_lanes::{equations_hold, Equation};
use crate::poseidon::hash_n;
use crate::Fr;

/// BabyJubJub's subgroup scalar field (integers mod `subOrder`).
pub type Scalar = ark_ed_on_bn254::Fr;

/// A 32-byte private key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(pub [u8; 32]);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

/// A signature `(R8, S)` (circomlibjs `{R8: [x, y], S}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `R8 = r·Base8`.
    pub r8: Point,
    /// `S`, below `subOrder` for a valid signature (kept as an integer so that a larger one
    /// can be refused, as circomlibjs refuses it).
    pub s: [u64; 4],
}

/// The pruned scalar `s` of a private key and the second half of its hash.
fn expand(prv: &PrivateKey) -> (BigUint, [u8; 32]) {
    let h = Blake512::digest(&prv.0);
    let mut s = [0u8; 32];
    s.copy_from_slice(&h[..32]);
    s[0] &= 0xF8;
    s[31] &= 0x7F;
    s[31] |= 0x40;
    let mut prefix = [0u8; 32];
    prefix.copy_from_slice(&h[32..64]);
    (BigUint::from_bytes_le(&s), prefix)
}

impl PrivateKey {
    /// The public key `A` (circomlibjs `eddsa.prv2pub`).
    pub fn public(&self) -> Point {
        let (s, _) = expand(self);
        Point::base8().mul(&(s >> 3u32))
    }

    /// Signs the field element `msg` (circomlibjs `eddsa.signPoseidon`; deterministic).
    pub fn sign(&self, msg: &Fr) -> Signature {
        let (s, prefix) = expand(self);
        let a = Point::base8().mul(&(&s >> 3u32));
        let mut compose = prefix.to_vec();
        compose.extend_from_slice(&to_le_32(msg));
        let r = Scalar::from_le_bytes_mod_order(&Blake512::digest(&compose));
        let r8 = Point::base8().mul_scalar(&r);
        let hm = hash_n([r8.x, r8.y, a.x, a.y, *msg]);
        let big_s = r + scalar_of(&to_biguint(&hm)) * scalar_of(&s);
        Signature {
            r8,
            s: big_s.into_bigint().0,
        }
    }
}

/// A field element as 32 little-endian bytes of its canonical value.
fn to_le_32(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    let b = x.into_bigint().to_bytes_le();
    out[..b.len()].copy_from_slice(&b);
    out
}

/// `k mod subOrder`.
fn scalar_of(k: &BigUint) -> Scalar {
    Scalar::from_le_bytes_mod_order(&k.to_bytes_le())
}

impl Signature {
    /// `S` as an integer.
    pub fn s_value(&self) -> BigUint {
        BigUint::from_slice(
            &self
                .s
                .iter()
                .flat_map(|l| [*l as u32, (*l >> 32) as u32])
                .collect::<Vec<_>>(),
        )
    }

    /// A signature from `R8` and the integer `S`; `None` if `S` does not fit in 256 bits.
    pub fn new(r8: Point, s: &BigUint) -> Option<Signature> {
        let digits = s.to_u64_digits();
        if digits.len() > 4 {
            return None;
        }
        let mut limbs = [0u64; 4];
        limbs[..digits.len()].copy_from_slice(&digits);
        Some(Signature { r8, s: limbs })
    }
}

/// Whether `sig` is a valid signature of `msg` under the public key `a` (circomlibjs
/// `eddsa.verifyPoseidon`).
pub fn verify(msg: &Fr, sig: &Signature, a: &Point) -> bool {
    verify_challenge(&hash_n(challenge_inputs(msg, sig, a)), sig, a, None)
}

/// What the challenge `H(R8x, R8y, Ax, Ay, m)` hashes.
pub fn challenge_inputs(msg: &Fr, sig: &Signature, a: &Point) -> [Fr; 5] {
    [sig.r8.x, sig.r8.y, a.x, a.y, *msg]
}

/// `S` and the points pass the checks that come before the equation: both points on the
/// curve and `S` below the subgroup order.
fn prechecks_pass(sig: &Signature, a: &Point) -> bool {
    sig.r8.is_on_curve() && a.is_on_curve() && ark_ff::BigInt(sig.s) < Scalar::MODULUS
}

/// `8·h` as five little-endian limbs.
fn eight_times(h: &Fr) -> [u64; 5] {
    let h = h.into_bigint().0;
    let mut k = [0u64; 5];
    for i in 0..4 {
        k[i] |= h[i] << 3;
        k[i + 1] = h[i] >> 61;
    }
    k
}

/// The rest of [`verify`] once the challenge `h` = `H(challenge_inputs(m, sig, a))` is
/// known: both points on the curve, `S` below the subgroup order, and the equation
/// `S·Base8 = R8 + 8h·A` (with `a`'s table when given, which must be `a`'s: the same
/// answer with about a third of the curve arithmetic).
pub fn verify_challenge(h: &Fr, sig: &Signature, a: &Point, table: Option<&PointTable>) -> bool {
    if !prechecks_pass(sig, a) {
        return false;
    }
    match table {
        Some(t) => eddsa_equation_holds_with(&sig.s, &sig.r8, &eight_times(h), t),
        None => eddsa_equation_holds(&sig.s, &sig.r8, &(to_biguint(h) * 8u32), a),
    }
}

/// One signature to check in [`verify_many`]: the message, the signature, the public key
/// and, optionally, the key's table.
pub type VerifyItem<'a> = (Fr, &'a Signature, &'a Point, Option<&'a PointTable>);

/// [`verify`] of many signatures, their challenges hashed together
/// ([`crate::poseidon::hash_many`]) and, where the CPU has AVX-512 IFMA, their equations
/// checked eight at a time; one answer per item, in order, the same on either path.
pub fn verify_many(items: &[VerifyItem<'_>]) -> Vec<bool> {
    verify_many_with(FrLanes::available(), items)
}

/// [`verify_many`] with the equations on the vector path if given a token, else on the
/// scalar one.
fn verify_many_with(lanes: Option<Ifma>, items: &[VerifyItem<'_>]) -> Vec<bool> {
    let inputs: Vec<[Fr; 5]> = items
        .iter()
        .map(|(m, sig, a, _)| challenge_inputs(m, sig, a))
        .collect();
    let challenges = crate::poseidon::hash_many(&inputs);
    let Some(ifma) = lanes else {
        return items
            .iter()
            .zip(&challenges)
            .map(|((_, sig, a, table), h)| verify_challenge(h, sig, a, *table))
            .collect();
    };
    let mut out = vec![false; items.len()];
    let (passing, equations): (Vec<usize>, Vec<Equation<'_>>) = items
        .iter()
        .zip(&challenges)
        .enumerate()
        .filter(|(_, ((_, sig, a, _), _))| prechecks_pass(sig, a))
        .map(|(i, ((_, sig, a, table), h))| {
            let equation = Equation {
                s: &sig.s,
                r8: &sig.r8,
                k: eight_times(h),
                a,
                table: *table,
            };
            (i, equation)
        })
        .unzip();
    for (i, held) in passing.into_iter().zip(equations_hold(ifma, &equations)) {
        out[i] = held;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::babyjub::sub_order;

    #[test]
    fn matches_circomlibjs_for_a_fixed_key_and_message() {
        // circomlibjs 0.1.7: prv = 32 bytes of 0x01, eddsa.prv2pub(prv) and
        // eddsa.signPoseidon(prv, F.e(1234)).
        let prv = PrivateKey([1u8; 32]);
        let a = prv.public();
        let dec = |s: &str| -> Fr { s.parse().unwrap() };
        assert_eq!(
            a,
            Point {
                x: dec(
                    "15944627324083773346390189001500210680939402028015651549526524193195473201952"
                ),
                y: dec(
                    "17251889856797524237981285661279357764562574766148660962999867467495459148286"
                ),
            }
        );
        let msg = Fr::from(1234u64);
        let sig = prv.sign(&msg);
        assert_eq!(
            sig.r8.x,
            dec("6279660472226543957521072462243604560433897433275269231026710940882131498422")
        );
        assert_eq!(
            sig.s_value().to_string(),
            "589468313739800354983240579520307909220903114259129957741696248293188994662"
        );
        assert!(verify(&msg, &sig, &a));
        assert!(!verify(&Fr::from(1235u64), &sig, &a));
        assert!(!verify(&msg, &sig, &PrivateKey([2u8; 32]).public()));
        // S + subOrder is the same point but refused, as circomlibjs refuses it.
        let big = Signature::new(sig.r8, &(sig.s_value() + sub_order())).unwrap();
        assert!(!verify(&msg, &big, &a));
    }

    #[test]
    fn the_table_equation_agrees_with_plain_point_arithmetic() {
        // The verification equation by affine double-and-add, as circomlibjs computes it.
        let plain = |msg: &Fr, sig: &Signature, a: &Point| {
            let hm = hash_n([sig.r8.x, sig.r8.y, a.x, a.y, *msg]);
            Point::base8().mul(&sig.s_value()) == sig.r8.add(&a.mul(&(to_biguint(&hm) * 8u32)))
        };
        for seed in 0..24u8 {
            let prv = PrivateKey([seed.wrapping_mul(37) ^ 0x5a; 32]);
            let a = prv.public();
            let msg = Fr::from(u64::from(seed) * 1_000_003);
            let sig = prv.sign(&msg);
            let mut bad_s = sig;
            bad_s.s[(seed % 4) as usize] ^= 1 << (seed % 61);
            let other = PrivateKey([seed ^ 0xff; 32]).public();
            for (m, sg, key, want) in [
                (msg, sig, a, true),
                (msg + Fr::from(1u64), sig, a, false),
                (msg, bad_s, a, false),
                (msg, sig, other, false),
            ] {
                assert_eq!(plain(&m, &sg, &key), want);
                if sg.s_value() < sub_order() {
                    assert_eq!(verify(&m, &sg, &key), want, "seed {seed}");
                    let table = PointTable::new(&key);
                    assert_eq!(
                        verify_challenge(
                            &hash_n(challenge_inputs(&m, &sg, &key)),
                            &sg,
                            &key,
                            Some(&table)
                        ),
                        want,
                        "seed {seed}"
                    );
                    assert_eq!(
                        verify_many(&[(m, &sg, &key, Some(&table)), (m, &sg, &key, None)]),
                        [want, want],
                        "seed {seed}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_vector_path_agrees_with_the_scalar_path() {
        let Some(ifma) = FrLanes::available() else {
            eprintln!("no AVX-512 IFMA on this CPU: the vector equations are not exercised");
            return;
        };
        // (0, −1) has order 2: adding it leaves a point on the curve, outside the subgroup.
        let order2 = Point {
            x: Fr::from(0u64),
            y: -Fr::from(1u64),
        };
        let mut cases: Vec<(Fr, Signature, Point, bool)> = Vec::new();
        for seed in 0..21u8 {
            let prv = PrivateKey([seed.wrapping_mul(91) ^ 0x33; 32]);
            let a = prv.public();
            let msg = Fr::from(u64::from(seed) * 7_777_777 + 5);
            let sig = prv.sign(&msg);
            let mut bad_s = sig;
            bad_s.s[(seed % 4) as usize] ^= 1 << (seed % 59);
            let mut torsion_r = sig;
            torsion_r.r8 = sig.r8.add(&order2);
            let mut off_curve = sig;
            off_curve.r8.x += Fr::from(1u64);
            let other = PrivateKey([seed ^ 0x77; 32]).public();
            cases.extend([
                (msg, sig, a, true),
                (msg + Fr::from(1u64), sig, a, false),
                (msg, bad_s, a, false),
                (msg, sig, other, false),
                (msg, torsion_r, a, false),
                (msg, off_curve, a, false),
                (msg, sig, a.add(&order2), false),
            ]);
        }
        // The identity as key and R8 with S = 0 holds: 0·Base8 = O + 8h·O.
        cases.push((
            Fr::from(9u64),
            Signature {
                r8: Point::IDENTITY,
                s: [0; 4],
            },
            Point::IDENTITY,
            true,
        ));
        let tables: Vec<PointTable> = cases.iter().map(|c| PointTable::new(&c.2)).collect();
        for pattern in 0..3 {
            let items: Vec<VerifyItem<'_>> = cases
                .iter()
                .zip(&tables)
                .enumerate()
                .map(|(i, (c, t))| {
                    let table = match pattern {
                        0 => None,
                        1 => Some(t),
                        _ => (i % 3 == 0).then_some(t),
                    };
                    (c.0, &c.1, &c.2, table)
                })
                .collect();
            let want: Vec<bool> = cases.iter().map(|c| c.3).collect();
            assert_eq!(
                verify_many_with(None, &items),
                want,
                "scalar, pattern {pattern}"
            );
            assert_eq!(
                verify_many_with(Some(ifma), &items),
                want,
                "vector, pattern {pattern}"
            );
            for n in [1, 7, 9] {
                assert_eq!(
                    verify_many_with(Some(ifma), &items[..n]),
                    want[..n],
                    "vector, {n} items, pattern {pattern}"
                );
            }
        }
    }
}
