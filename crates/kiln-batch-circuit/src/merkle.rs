//! Leaf writes in the quaternary Poseidon state tree (depth 12) and the exit tree.
//!
//! A write at an index (its 24 bits, two per level, least significant first) checks the
//! old leaf's path against the current root and computes the new root from the new leaf
//! with the same siblings. Per level the four children of the proof's group are wires; the
//! one at the index's digit must be the running hash (3 constraints: a 4-way selection with
//! the equality folded in), and the new group is the old one with that child replaced by
//! the new running hash (4 constraints); then one Poseidon of 4 for each path. 7,212
//! constraints per write, plus 2 for the roots.

use kiln_rollup::tree::{StateProof, DEPTH};

use crate::bits::{select, Bit};
use crate::cs::{Cs, Num};
use crate::poseidon;

/// Whether a write is checked.
#[derive(Clone, Debug)]
pub enum Check {
    /// The old leaf is checked and the new root taken only when the bit is 1 (a disabled
    /// write leaves the root as it was and proves nothing).
    IfEnabled(Bit),
    /// The old leaf is always checked (the slot's decision depends on it); the new root is
    /// taken only when the bit is 1.
    ReadAlways(Bit),
}

/// Writes `new_leaf` over `old_leaf` at the index whose little-endian bits are `index`
/// (24 of them), with the state proof `proof` (its values: the witness); returns the root
/// after the write.
pub fn write(
    cs: &mut Cs,
    root: &Num,
    index: &[Bit],
    old_leaf: &Num,
    new_leaf: &Num,
    proof: &StateProof,
    check: &Check,
) -> Num {
    assert_eq!(
        index.len(),
        2 * DEPTH,
        "a state index has {} bits",
        2 * DEPTH
    );
    let mut old = old_leaf.clone();
    let mut new = new_leaf.clone();
    for (k, group) in proof.iter().enumerate() {
        let (b0, b1) = (&index[2 * k], &index[2 * k + 1]);
        let digit = usize::from(b0.val()) | (usize::from(b1.val()) << 1);
        let (next_old, next_new) = cs.ns(format!("level {k}"), |cs| {
            // The proof's group with the running hash at the digit (so that a disabled
            // write's path is consistent whatever the proof says).
            let children: Vec<Num> = (0..4)
                .map(|j| cs.alloc(if j == digit { old.val } else { group[j] }))
                .collect();
            // children[digit] = old: m0 = c0|c1 by b0, m1 = c2|c3 by b0, b1·(m1 − m0) = old − m0.
            let m0 = select(cs, b0, &children[1], &children[0]);
            let m1 = select(cs, b0, &children[3], &children[2]);
            cs.enforce(&b1.num.lc, &m1.sub(&m0).lc, &old.sub(&m0).lc);
            // New children: cⱼ + selⱼ·(new − old).
            let both = b0.and(cs, b1);
            let delta = new.sub(&old);
            let q3 = cs.mul(&both.num, &delta);
            let q1 = cs.mul(&b0.num.sub(&both.num), &delta);
            let q2 = cs.mul(&b1.num.sub(&both.num), &delta);
            let q0 = delta.sub(&q1).sub(&q2).sub(&q3);
            let updated: Vec<Num> = children
                .iter()
                .zip([q0, q1, q2, q3])
                .map(|(c, q)| c.add(&q).compacted())
                .collect();
            let next_old = poseidon::hash(cs, &children);
            let next_new = poseidon::hash(cs, &updated);
            (next_old, next_new)
        });
        old = next_old;
        new = next_new;
    }
    cs.ns("roots", |cs| match check {
        Check::IfEnabled(en) => {
            cs.enforce(&en.num.lc, &old.sub(root).lc, &Default::default());
            select(cs, en, &new, root)
        }
        Check::ReadAlways(en) => {
            cs.enforce_equal(&old, root);
            select(cs, en, &new, root)
        }
    })
}

/// The root of the quaternary Poseidon tree over `leaves`, padded with 0 leaves to a power
/// of 4 (at least 4). Groups of constant leaves fold.
pub fn exit_root(cs: &mut Cs, leaves: &[Num]) -> Num {
    let mut width = 4;
    while width < leaves.len() {
        width *= 4;
    }
    let mut level: Vec<Num> = leaves.to_vec();
    level.resize(width, Num::zero());
    while level.len() > 1 {
        level = level.chunks(4).map(|c| poseidon::hash(cs, c)).collect();
    }
    level.remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::to_bits;
    use crate::cs::Fr;
    use kiln_rollup::batchdata::exit_root as native_exit_root;
    use kiln_rollup::tree::StateTree;

    fn index_bits(cs: &mut Cs, i: u32) -> Vec<Bit> {
        let x = cs.alloc(Fr::from(i));
        to_bits(cs, &x, 2 * DEPTH)
    }

    /// Writes `leaf` at `i` in both the tree and the circuit; whether the circuit held.
    fn step(t: &mut StateTree, cs: &mut Cs, root: &mut Num, i: u32, leaf: Fr, check: Check) {
        let before = t.leaf(i);
        let proof = t.proof(i);
        let bits = index_bits(cs, i);
        let old = cs.alloc(before);
        let new = cs.alloc(leaf);
        *root = write(cs, root, &bits, &old, &new, &proof, &check);
        t.set_leaf(i, leaf);
    }

    #[test]
    fn writes_follow_the_state_tree() {
        let mut t = StateTree::new();
        let mut cs = Cs::prove();
        let mut root = cs.alloc(t.root());
        let on = Check::IfEnabled(Bit::constant(true));
        for (i, v) in [
            (1u32, 11u64),
            (7, 22),
            (16_777_215, 33),
            (1, 44),
            (4096, 55),
            (7, 0),
        ] {
            step(&mut t, &mut cs, &mut root, i, Fr::from(v), on.clone());
            assert_eq!(root.val, t.root(), "after writing {i}");
        }
        assert!(cs.failure().is_none());
        // A disabled write leaves the root, whatever it is given.
        let before = root.val;
        let proof = t.proof(0);
        let bits = index_bits(&mut cs, 5);
        let (old, new) = (cs.alloc(Fr::from(9u64)), cs.alloc(Fr::from(10u64)));
        let off = Check::IfEnabled(Bit::constant(false));
        root = write(&mut cs, &root, &bits, &old, &new, &proof, &off);
        assert_eq!(root.val, before);
        assert!(cs.failure().is_none());
        // The cost of a write.
        let mut cs = Cs::setup();
        let r = cs.alloc(Fr::from(0u64));
        let bits = index_bits(&mut cs, 0);
        let (old, new) = (cs.alloc(Fr::from(0u64)), cs.alloc(Fr::from(0u64)));
        let start = cs.num_constraints();
        let en = Bit::alloc(&mut cs, true);
        write(
            &mut cs,
            &r,
            &bits,
            &old,
            &new,
            &proof,
            &Check::IfEnabled(en),
        );
        assert_eq!(cs.num_constraints() - start, 1 + 12 * (7 + 2 * 297) + 2);
    }

    #[test]
    fn a_wrong_old_leaf_or_proof_is_refused() {
        let mut t = StateTree::new();
        t.set_leaf(3, Fr::from(5u64));
        t.set_leaf(9, Fr::from(6u64));
        let root = t.root();
        let proof = t.proof(3);
        for (leaf, i, always) in [(6u64, 3u32, false), (5, 2, false), (5, 3, true)] {
            let mut cs = Cs::prove();
            let r = cs.alloc(root + Fr::from(u64::from(always)));
            let bits = index_bits(&mut cs, i);
            let old = cs.alloc(Fr::from(leaf));
            let new = cs.alloc(Fr::from(1u64));
            let check = if always {
                Check::ReadAlways(Bit::constant(false))
            } else {
                Check::IfEnabled(Bit::constant(true))
            };
            write(&mut cs, &r, &bits, &old, &new, &proof, &check);
            assert!(cs.failure().is_some(), "leaf {leaf} at {i}");
        }
    }

    #[test]
    fn exit_roots_match_kiln_rollup() {
        for n in [1usize, 3, 4, 5, 17] {
            let leaves: Vec<Fr> = (0..n)
                .map(|i| {
                    if i % 3 == 1 {
                        Fr::from(0u64)
                    } else {
                        Fr::from(i as u64 + 100)
                    }
                })
                .collect();
            let mut cs = Cs::prove();
            let nums: Vec<Num> = leaves.iter().map(|v| cs.alloc(*v)).collect();
            assert_eq!(
                exit_root(&mut cs, &nums).val,
                native_exit_root(&leaves),
                "{n} leaves"
            );
            assert!(cs.failure().is_none());
        }
    }
}
