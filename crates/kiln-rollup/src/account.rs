//! An account: one token's balance at an index of the state tree, owned by a BabyJubJub key
//! and optionally by an L1 address. Its leaf is `H(token, nonce, balance, Ax, Ay, ethAddr)`;
//! an empty index holds the leaf 0.

use crate::babyjub::Point;
use crate::poseidon::hash_n;
use crate::Fr;

/// An account's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The one token it holds (0 is ETH).
    pub token: u32,
    /// Transactions it has sent.
    pub nonce: u64,
    /// Its balance, in the token's smallest unit.
    pub balance: u128,
    /// Its owner's public key.
    pub key: Point,
    /// The L1 address that owns it on Ethereum (as a number), 0 if none.
    pub eth_address: Fr,
}

impl Account {
    /// The account's leaf in the state tree.
    pub fn leaf(&self) -> Fr {
        hash_n(self.leaf_inputs())
    }

    /// What [`Self::leaf`] hashes: `(token, nonce, balance, Ax, Ay, ethAddress)`.
    pub fn leaf_inputs(&self) -> [Fr; 6] {
        [
            Fr::from(self.token),
            Fr::from(self.nonce),
            Fr::from(self.balance),
            self.key.x,
            self.key.y,
            self.eth_address,
        ]
    }
}
