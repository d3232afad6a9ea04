//! A closed batch as the batch circuit sees it: every slot with the leaf writes it made and
//! the state proofs those writes started from (the layout of `docs/rollup.md`). The
//! [`crate::batch`] executor makes it by replaying the batch on the state it started from;
//! the circuit turns it into a witness.

use crate::account::Account;
use crate::babyjub::Point;
use crate::intake::SignedTx;
use crate::ledger::Exit;
use crate::tree::StateProof;
use crate::Fr;

/// Fee slots per batch: the most fee accounts one batch credits.
pub const FEE_SLOTS: usize = 4;

/// L1 slots in the batch circuit of `batch_size` transaction slots: `ceil(batch_size / 16)`.
pub fn l1_slots(batch_size: usize) -> usize {
    batch_size.div_ceil(16)
}

/// An operation from L1's queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L1Op {
    /// Create the account at `index`, or credit it, or refund to `eth_address`.
    Deposit {
        /// The account (never 0).
        index: u32,
        /// The token.
        token: u32,
        /// The amount (in the token's smallest unit).
        amount: u128,
        /// The key of the account it creates.
        key: Point,
        /// The depositor on L1 (the new account's owner, the refund's recipient).
        eth_address: Fr,
    },
    /// Take the whole balance of the account at `index` out to its L1 owner.
    ForcedExit {
        /// The account.
        index: u32,
        /// Who asked on L1; it must be the account's owner.
        eth_address: Fr,
    },
}

/// One leaf write: the leaf at `index` goes from `before` to `after` (`None`: empty), and
/// `proof` is the state proof of `before` against the root just before the write. A
/// disabled write is index 0 from empty to empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touch {
    /// The account's index.
    pub index: u32,
    /// The account before.
    pub before: Option<Account>,
    /// The account after.
    pub after: Option<Account>,
    /// The state proof of `before` at `index` against the root before the write.
    pub proof: StateProof,
}

/// An L1 slot: its operation (if any), the one account it writes, its exit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Slot {
    /// The operation, `None` for an empty slot.
    pub op: Option<L1Op>,
    /// The write: for a refunded deposit or a forced exit that does nothing, a read (the
    /// account written unchanged); disabled for an empty slot or a deposit to index 0.
    pub touch: Touch,
    /// The exit it makes: a forced exit's, or a refunded deposit's.
    pub exit: Option<Exit>,
}

/// A transaction slot: the transaction (if any), the sender's write, then the receiver's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxSlot {
    /// The transaction, `None` for a no-op.
    pub tx: Option<SignedTx>,
    /// The sender's write (disabled for a no-op).
    pub sender: Touch,
    /// The receiver's write, after the sender's (disabled for a withdrawal or a no-op).
    pub receiver: Touch,
    /// A withdrawal's exit.
    pub exit: Option<Exit>,
}

/// A fee slot: the sum of the batch's fees in `token`, credited to the account at `index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeSlot {
    /// The fee account (0: an unused slot).
    pub index: u32,
    /// Its token (0 for an unused slot).
    pub token: u32,
    /// The fees collected.
    pub total: u128,
    /// The credit (disabled for an unused slot).
    pub touch: Touch,
}

/// A closed batch, slot by slot, with its data and public input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchTrace {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// The batch's number (the first is 1).
    pub number: u64,
    /// The state root before the batch.
    pub old_root: Fr,
    /// The state root after it.
    pub new_root: Fr,
    /// The root of its exit list.
    pub exit_root: Fr,
    /// `l1_slots(txs.len())` L1 slots.
    pub l1: Vec<L1Slot>,
    /// The transaction slots (the batch size).
    pub txs: Vec<TxSlot>,
    /// [`FEE_SLOTS`] fee slots.
    pub fees: Vec<FeeSlot>,
    /// The batch data `D` (`docs/rollup.md`).
    pub data: Vec<u8>,
    /// `sha256(D) mod r`, the circuit's public input.
    pub public_input: Fr,
}
