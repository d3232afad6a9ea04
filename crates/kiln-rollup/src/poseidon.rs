//! circomlib's Poseidon hash `H(x1, …, xn)` over BN254's scalar field, with circom's
//! parameters (light-poseidon's `new_circom`): `H(1, 2)` is circomlibjs's
//! `poseidon([1, 2])`. The protocol hashes 4 (tree nodes), 5 (signatures), 6 (leaves) and
//! 8 (messages) inputs; 1 to 12 are supported.

use std::cell::RefCell;

use light_poseidon::{Poseidon, PoseidonHasher};

use crate::Fr;

/// Most inputs one hash takes (circom's parameters in light-poseidon go to width 13).
pub const MAX_INPUTS: usize = 12;

/// A hash of a number of inputs the parameters do not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Poseidon takes 1 to {MAX_INPUTS} inputs, not {0}")]
pub struct ArityError(pub usize);

thread_local! {
    /// One hasher per arity (building the round constants is the slow part), per thread.
    static HASHERS: RefCell<Vec<Option<Poseidon<Fr>>>> =
        RefCell::new((0..=MAX_INPUTS).map(|_| None).collect());
}

/// `H(inputs)`: circomlib's Poseidon of 1 to [`MAX_INPUTS`] field elements.
pub fn hash(inputs: &[Fr]) -> Result<Fr, ArityError> {
    let n = inputs.len();
    if n == 0 || n > MAX_INPUTS {
        return Err(ArityError(n));
    }
    HASHERS.with(|cell| {
        let mut hashers = cell.borrow_mut();
        let hasher = match &mut hashers[n] {
            Some(h) => h,
            slot => slot.insert(Poseidon::<Fr>::new_circom(n).map_err(|_| ArityError(n))?),
        };
        hasher.hash(inputs).map_err(|_| ArityError(n))
    })
}

/// `H(inputs)` for a fixed number of inputs the protocol uses (4, 5, 6 or 8), which cannot
/// fail.
pub fn hash_n<const N: usize>(inputs: [Fr; N]) -> Fr {
    const { assert!(N >= 1 && N <= MAX_INPUTS) };
    hash(&inputs).unwrap_or_else(|e| unreachable!("{e}: checked at compile time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn known_values_of_circomlibjs() {
        // circomlibjs 0.1.7: poseidon([1, 2]).
        let want = Fr::from_str(
            "7853200120776062878684798364095072458815029376092732009249414926327459813530",
        )
        .unwrap();
        assert_eq!(hash_n([Fr::from(1u64), Fr::from(2u64)]), want);
        assert_eq!(hash(&[]), Err(ArityError(0)));
        assert_eq!(hash(&[Fr::from(0u64); 13]), Err(ArityError(13)));
    }
}
