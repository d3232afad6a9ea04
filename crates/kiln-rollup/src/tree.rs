//! The state tree: a quaternary Merkle tree of depth [`DEPTH`] over Poseidon. Level 0 holds
//! the leaves; index i's position among its siblings at level k is the k-th base-4 digit of
//! i, least significant first; a node is `H(c0, c1, c2, c3)`; an empty subtree of height k
//! is `E(k)` with `E(0) = 0`, `E(k+1) = H(E(k), E(k), E(k), E(k))`. The root is level 12.
//!
//! The tree is sparse (only non-empty nodes are kept) and lazy: setting a leaf costs no
//! hash; [`StateTree::root`] rehashes the paths of the leaves set since the last call, each
//! shared node once, so confirming a transaction never waits for the 12 hashes of its path.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use crate::poseidon::{hash_many, hash_n};
use crate::Fr;

/// Levels above the leaves.
pub const DEPTH: usize = 12;
/// Indices are below `4^DEPTH` (24 bits).
pub const CAPACITY: u32 = 1 << (2 * DEPTH);

/// The 12 groups of four children along an index's path, level 0 first.
pub type StateProof = [[Fr; 4]; DEPTH];

/// An index the tree cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("account index {0} is out of range: indices are 1 to 4^12 - 1 = 16777215")]
pub struct IndexError(pub u64);

/// Checks that `index` names an account (1 ≤ index < 4^12).
pub fn check_index(index: u64) -> Result<u32, IndexError> {
    if index == 0 || index >= u64::from(CAPACITY) {
        return Err(IndexError(index));
    }
    Ok(index as u32)
}

/// `E(k)` for k = 0..=12.
pub fn empty_hashes() -> &'static [Fr; DEPTH + 1] {
    static EMPTY: OnceLock<[Fr; DEPTH + 1]> = OnceLock::new();
    EMPTY.get_or_init(|| {
        let mut e = [Fr::from(0u64); DEPTH + 1];
        for k in 0..DEPTH {
            e[k + 1] = hash_n([e[k]; 4]);
        }
        e
    })
}

/// The sparse, lazily hashed state tree.
#[derive(Clone, Debug, Default)]
pub struct StateTree {
    /// `levels[k]`: the non-empty nodes of level k by position (level 0: the leaves).
    levels: Vec<HashMap<u32, Fr>>,
    /// Leaves set since the root was last computed.
    dirty: BTreeSet<u32>,
}

impl StateTree {
    /// An empty tree.
    pub fn new() -> Self {
        StateTree {
            levels: vec![HashMap::new(); DEPTH + 1],
            dirty: BTreeSet::new(),
        }
    }

    /// The leaf at `index` (0 where empty).
    pub fn leaf(&self, index: u32) -> Fr {
        self.node(0, index)
    }

    /// Sets the leaf at `index` (0 empties it). No hashing happens until [`Self::root`].
    pub fn set_leaf(&mut self, index: u32, leaf: Fr) {
        debug_assert!(index < CAPACITY);
        if leaf == Fr::from(0u64) {
            self.levels[0].remove(&index);
        } else {
            self.levels[0].insert(index, leaf);
        }
        self.dirty.insert(index);
    }

    fn node(&self, level: usize, pos: u32) -> Fr {
        self.levels[level]
            .get(&pos)
            .copied()
            .unwrap_or(empty_hashes()[level])
    }

    /// The root, after rehashing the paths of the leaves set since the last call.
    pub fn root(&mut self) -> Fr {
        let mut positions: BTreeSet<u32> = std::mem::take(&mut self.dirty);
        for level in 1..=DEPTH {
            let parents: BTreeSet<u32> = positions.iter().map(|p| p >> 2).collect();
            // One level's nodes are independent: hashed together.
            let children: Vec<[Fr; 4]> = parents
                .iter()
                .map(|parent| std::array::from_fn(|j| self.node(level - 1, parent * 4 + j as u32)))
                .collect();
            for (&parent, h) in parents.iter().zip(hash_many(&children)) {
                if h == empty_hashes()[level] {
                    self.levels[level].remove(&parent);
                } else {
                    self.levels[level].insert(parent, h);
                }
            }
            positions = parents;
        }
        self.node(DEPTH, 0)
    }

    /// The state proof of `index` against [`Self::root`] (which it computes first).
    pub fn proof(&mut self, index: u32) -> StateProof {
        self.root();
        std::array::from_fn(|k| {
            let first = (index >> (2 * k)) & !3;
            std::array::from_fn(|j| self.node(k, first + j as u32))
        })
    }

    /// Non-empty leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether every leaf is empty.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }
}

/// Whether `proof` shows `leaf` at `index` under `root`: at each level k the child at the
/// k-th base-4 digit of `index` equals the running hash (the leaf at level 0), which then
/// becomes `H(group k)`; the last one must be `root`.
pub fn verify_proof(root: &Fr, index: u32, leaf: &Fr, proof: &StateProof) -> bool {
    let mut running = *leaf;
    for (k, group) in proof.iter().enumerate() {
        let digit = ((index >> (2 * k)) & 3) as usize;
        if group[digit] != running {
            return false;
        }
        running = hash_n(*group);
    }
    running == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_proofs_follow_the_definition() {
        let mut t = StateTree::new();
        assert_eq!(t.root(), empty_hashes()[DEPTH]);
        let leaves = [
            (1u32, 11u64),
            (2, 22),
            (5, 55),
            (CAPACITY - 1, 99),
            (4096, 7),
        ];
        for (i, v) in leaves {
            t.set_leaf(i, Fr::from(v));
        }
        let root = t.root();
        for (i, v) in leaves {
            let p = t.proof(i);
            assert!(verify_proof(&root, i, &Fr::from(v), &p));
            assert!(!verify_proof(&root, i, &Fr::from(v + 1), &p));
            assert!(!verify_proof(&root, i ^ 1, &Fr::from(v), &p));
        }
        // Rebuilding from scratch gives the same root; emptying every leaf gives E(12).
        let mut again = StateTree::new();
        for (i, v) in leaves.iter().rev() {
            again.set_leaf(*i, Fr::from(*v));
        }
        assert_eq!(again.root(), root);
        for (i, _) in leaves {
            again.set_leaf(i, Fr::from(0u64));
        }
        assert_eq!(again.root(), empty_hashes()[DEPTH]);
        assert!(again.is_empty() && again.levels.iter().all(HashMap::is_empty));
        // An empty index has a proof of the leaf 0.
        let p = t.proof(3);
        assert!(verify_proof(&root, 3, &Fr::from(0u64), &p));
        assert_eq!(check_index(0), Err(IndexError(0)));
        assert_eq!(
            check_index(u64::from(CAPACITY)),
            Err(IndexError(16_777_216))
        );
        assert_eq!(check_index(16_777_215), Ok(16_777_215));
    }
}
