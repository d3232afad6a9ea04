//! The rollup's state with the rules of ROLLUP.md: accounts in the [`StateTree`], the exits
//! (withdrawals) L1 can pay out, and the operator's fee accounts. [`Ledger::apply`] either
//! applies a whole transaction or refuses it with a [`TxError`] and changes nothing.
//!
//! A transaction `from → to` of `amount` with `fee`, in order: the sender pays
//! `amount + fee` and its nonce increases by one; the receiver (a transfer) gains `amount`,
//! or an exit of `amount` to the L1 address `to` is recorded (a withdrawal); the operator's
//! fee account for the token gains `fee` when the batch closes ([`Ledger::close_batch`]).
//! The operator names its fee accounts in the genesis (`fee_accounts`); a token without one
//! carries no fees (its transactions must have fee 0). Balances are 128-bit: a credit that
//! would overflow (counting fees still to be credited) is refused. L1 operations
//! ([`Ledger::apply_l1`]) never fail: what cannot be credited is refunded as an exit.
//!
//! Leaves are hashed lazily: a transaction stores accounts, and the tree is brought up to
//! date when a root or a proof is asked for. With tracing on ([`Ledger::start_trace`]) every
//! write records the state proof it started from, for the batch circuit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::account::Account;
use crate::amount::{UnencodableError, AMOUNT, FEE};
use crate::babyjub::Point;
use crate::babyjub::PointTable;
use crate::eddsa::{verify, verify_many, VerifyItem};
use crate::intake::SignedTx;
use crate::poseidon::hash_many;
use crate::trace::{L1Op, Touch, FEE_SLOTS};
use crate::tree::{check_index, IndexError, StateProof, StateTree};
use crate::tx::TxKind;
use crate::Fr;
use kiln_formats::codec::from_integer_text;

/// A withdrawal L1 can pay out once its batch is proven.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The account it left.
    pub from: u32,
    /// The L1 recipient (an address as a number).
    pub to: Fr,
    /// The token.
    pub token: u32,
    /// The amount.
    pub amount: u128,
}

/// Why a transaction was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// No account at the sender's index.
    #[error("from: no account at index {0}")]
    UnknownSender(u32),
    /// No account at the receiver's index.
    #[error("to: no account at index {0}")]
    UnknownReceiver(u32),
    /// The signature does not verify under the sender's key.
    #[error("signature: not a valid signature of this transaction by the key of account {0}")]
    BadSignature(u32),
    /// Not the sender's next nonce.
    #[error("nonce: account {from} expects nonce {expected}, not {got}")]
    Nonce {
        /// The sender.
        from: u32,
        /// Its nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The token is not the sender's (or the receiver's).
    #[error("token: account {account} holds token {held}, not {given}")]
    Token {
        /// The account.
        account: u32,
        /// Its token.
        held: u32,
        /// The transaction's.
        given: u32,
    },
    /// `amount + fee` exceeds the sender's balance.
    #[error("amount: account {from} has {balance}, and amount + fee is {needed}")]
    Insufficient {
        /// The sender.
        from: u32,
        /// Its balance.
        balance: u128,
        /// `amount + fee` (saturated at 2^128 - 1).
        needed: u128,
    },
    /// A credit that would take a balance past 2^128 - 1.
    #[error("{field}: account {account}'s balance would overflow 128 bits")]
    Overflow {
        /// `amount` or `fee`.
        field: &'static str,
        /// The account credited.
        account: u32,
    },
    /// An amount or fee the batch data cannot carry.
    #[error(transparent)]
    Unencodable(#[from] UnencodableError),
    /// A fee in a token the operator takes no fees in.
    #[error("fee: this rollup takes no fees in token {0}; the fee must be 0")]
    NoFeeAccount(u32),
    /// The open batch already collects fees in [`FEE_SLOTS`] other tokens: the sequencer
    /// closes it and applies the transaction to the next (never an answer to a user).
    #[error("the open batch already collects fees in {FEE_SLOTS} other tokens")]
    FeeSlotsFull,
}

/// A genesis file's contents (`--rollup-genesis`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// The initial accounts.
    pub accounts: Vec<GenesisAccount>,
    /// The operator's fee account per token (kiln's addition to ROLLUP.md's genesis).
    #[serde(default)]
    pub fee_accounts: Vec<FeeAccount>,
}

/// One initial account; numbers as decimal strings or JSON integers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Its index.
    pub index: serde_json::Value,
    /// Its token.
    pub token: serde_json::Value,
    /// Its balance.
    pub balance: serde_json::Value,
    /// Its key's x.
    pub ax: serde_json::Value,
    /// Its key's y.
    pub ay: serde_json::Value,
    /// Its L1 owner (0 or absent: none).
    #[serde(default)]
    pub eth_address: Option<serde_json::Value>,
}

/// The account that collects a token's fees.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeAccount {
    /// The token.
    pub token: u32,
    /// The account's index (it must hold that token).
    pub index: u64,
}

/// A genesis that cannot start a rollup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("genesis: {0}")]
pub struct GenesisError(pub String);

/// The rollup's state.
#[derive(Clone, Debug)]
pub struct Ledger {
    chain_id: u64,
    accounts: HashMap<u32, Account>,
    tree: StateTree,
    /// Accounts written since the tree was last brought up to date.
    dirty: BTreeSet<u32>,
    /// token → the operator's fee account for it.
    fee_accounts: BTreeMap<u32, u32>,
    /// token → fees of the open batch not yet credited.
    pending_fees: BTreeMap<u32, u128>,
    /// With tracing on, the writes made since it started.
    trace: Option<Vec<Touch>>,
}

/// What a transaction does, worked out by [`Ledger::check`] without changing anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxEffect {
    /// The sender after paying `amount + fee` and bumping its nonce.
    pub sender: Account,
    /// A transfer's receiver after the credit (read after the sender's write, so a transfer
    /// to oneself sees it).
    pub receiver: Option<(u32, Account)>,
    /// A withdrawal's exit.
    pub exit: Option<Exit>,
}

/// What an L1 operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L1Outcome {
    /// A deposit created the account.
    Created,
    /// A deposit credited the account.
    Credited,
    /// A deposit could not be credited (another token, or an overflow) and is refunded.
    Refunded(Exit),
    /// A forced exit took the balance out.
    Exited(Exit),
    /// A forced exit by someone who does not own the account (or of no account): nothing.
    Ignored,
}

impl L1Outcome {
    /// The exit it made, if any.
    pub fn exit(&self) -> Option<&Exit> {
        match self {
            L1Outcome::Refunded(e) | L1Outcome::Exited(e) => Some(e),
            _ => None,
        }
    }
}

fn number_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

impl Ledger {
    /// The state a genesis describes.
    pub fn from_genesis(g: &Genesis) -> Result<Self, GenesisError> {
        let mut ledger = Ledger {
            chain_id: g.chain_id,
            accounts: HashMap::new(),
            tree: StateTree::new(),
            dirty: BTreeSet::new(),
            fee_accounts: BTreeMap::new(),
            pending_fees: BTreeMap::new(),
            trace: None,
        };
        for (k, a) in g.accounts.iter().enumerate() {
            let at = |field: &str| format!("accounts[{k}].{field}");
            let int =
                |field: &str, v: &serde_json::Value, bits: u32| -> Result<u128, GenesisError> {
                    number_text(v)
                        .and_then(|t| t.parse::<u128>().ok())
                        .filter(|x| bits >= 128 || x >> bits == 0)
                        .ok_or_else(|| {
                            GenesisError(format!(
                                "{}: expected an integer below 2^{bits}, found {v}",
                                at(field)
                            ))
                        })
                };
            let elem = |field: &str, v: &serde_json::Value| -> Result<Fr, GenesisError> {
                number_text(v)
                    .and_then(|t| from_integer_text::<Fr>(&t))
                    .ok_or_else(|| {
                        GenesisError(format!(
                            "{}: expected a field element, found {v}",
                            at(field)
                        ))
                    })
            };
            let index = check_index(int("index", &a.index, 64)? as u64)
                .map_err(|e: IndexError| GenesisError(format!("{}: {e}", at("index"))))?;
            let key = Point {
                x: elem("ax", &a.ax)?,
                y: elem("ay", &a.ay)?,
            };
            if !key.in_subgroup() {
                return Err(GenesisError(format!(
                    "{}: (ax, ay) is not a BabyJubJub public key",
                    at("ax")
                )));
            }
            let account = Account {
                token: int("token", &a.token, 32)? as u32,
                nonce: 0,
                balance: int("balance", &a.balance, 128)?,
                key,
                eth_address: match &a.eth_address {
                    Some(v) => elem("eth_address", v)?,
                    None => Fr::from(0u64),
                },
            };
            if ledger.accounts.contains_key(&index) {
                return Err(GenesisError(format!(
                    "{}: index {index} is given twice",
                    at("index")
                )));
            }
            ledger.write(index, Some(account));
        }
        for f in &g.fee_accounts {
            let index =
                check_index(f.index).map_err(|e| GenesisError(format!("fee_accounts: {e}")))?;
            match ledger.accounts.get(&index) {
                Some(a) if a.token == f.token => {}
                Some(a) => {
                    return Err(GenesisError(format!(
                        "fee_accounts: account {index} holds token {}, not {}",
                        a.token, f.token
                    )))
                }
                None => {
                    return Err(GenesisError(format!(
                        "fee_accounts: no account at index {index}"
                    )))
                }
            }
            if ledger.fee_accounts.insert(f.token, index).is_some() {
                return Err(GenesisError(format!(
                    "fee_accounts: token {} is given twice",
                    f.token
                )));
            }
        }
        Ok(ledger)
    }

    /// Writes the account at `index` (`None` empties it), recording the write when tracing.
    fn write(&mut self, index: u32, account: Option<Account>) {
        if self.trace.is_some() {
            let proof = self.proof(index);
            let before = self.accounts.get(&index).cloned();
            if let Some(t) = self.trace.as_mut() {
                t.push(Touch {
                    index,
                    before,
                    after: account.clone(),
                    proof,
                });
            }
        }
        match account {
            Some(a) => self.accounts.insert(index, a),
            None => self.accounts.remove(&index),
        };
        self.dirty.insert(index);
    }

    /// Records a disabled write (index 0, empty to empty) in the trace.
    pub(crate) fn write_nothing(&mut self) {
        self.write(0, None);
    }

    /// Records a read of `index` (a write of what it holds) in the trace; index 0, or one
    /// beyond the tree, is a disabled write.
    pub(crate) fn write_unchanged(&mut self, index: u32) {
        if index == 0 || check_index(u64::from(index)).is_err() {
            return self.write_nothing();
        }
        let current = self.accounts.get(&index).cloned();
        self.write(index, current);
    }

    /// Starts recording every write with its state proof (for the batch circuit).
    pub fn start_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The writes recorded since [`Self::start_trace`] or the last call; tracing goes on.
    pub fn take_trace(&mut self) -> Vec<Touch> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Stops recording writes.
    pub fn stop_trace(&mut self) {
        self.trace = None;
    }

    /// Brings the tree's leaves up to date with the accounts.
    fn sync(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        // The changed accounts' leaves are hashed together; emptied ones are 0.
        let (live, empty): (Vec<u32>, Vec<u32>) = dirty
            .into_iter()
            .partition(|index| self.accounts.contains_key(index));
        let inputs: Vec<[Fr; 6]> = live
            .iter()
            .map(|index| self.accounts[index].leaf_inputs())
            .collect();
        for (index, leaf) in live.into_iter().zip(hash_many(&inputs)) {
            self.tree.set_leaf(index, leaf);
        }
        for index in empty {
            self.tree.set_leaf(index, Fr::from(0u64));
        }
    }

    /// The rollup's chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The account at `index`, if any.
    pub fn account(&self, index: u32) -> Option<&Account> {
        self.accounts.get(&index)
    }

    /// Every account with its index, in no particular order.
    pub fn accounts(&self) -> impl Iterator<Item = (u32, &Account)> {
        self.accounts.iter().map(|(i, a)| (*i, a))
    }

    /// How many accounts exist.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account exists.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The operator's fee account for `token`, if it takes fees in it.
    pub fn fee_account(&self, token: u32) -> Option<u32> {
        self.fee_accounts.get(&token).copied()
    }

    /// The fees of the open batch, per token, not yet credited.
    pub fn pending_fees(&self) -> &BTreeMap<u32, u128> {
        &self.pending_fees
    }

    /// The state root (hashing what changed since the last call).
    pub fn root(&mut self) -> Fr {
        self.sync();
        self.tree.root()
    }

    /// A state proof of `index` against [`Self::root`].
    pub fn proof(&mut self, index: u32) -> StateProof {
        self.sync();
        self.tree.proof(index)
    }

    /// The leaf at `index` as the tree holds it after [`Self::root`].
    pub fn leaf(&mut self, index: u32) -> Fr {
        self.sync();
        self.tree.leaf(index)
    }

    /// Fees still to be credited to the account at `index` when the batch closes.
    fn fees_owed_to(&self, index: u32, token: u32) -> u128 {
        match self.fee_accounts.get(&token) {
            Some(&i) if i == index => self.pending_fees.get(&token).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether the transaction's signature verifies under its sender's key. (A key never
    /// changes once its account exists, so a sequencer may verify outside its lock and then
    /// [`Self::apply_verified`].)
    pub fn check_signature(&self, s: &SignedTx) -> Result<(), TxError> {
        let sender = self
            .accounts
            .get(&s.tx.from)
            .ok_or(TxError::UnknownSender(s.tx.from))?;
        check_signature_with(&sender.key, s).map(|_| ())
    }

    /// What a transaction would do, or why it is refused; the ledger is not touched.
    pub fn check(&self, s: &SignedTx) -> Result<TxEffect, TxError> {
        self.check_signature(s)?;
        self.check_verified(s)
    }

    /// [`Self::check`] for a transaction whose signature was checked already.
    fn check_verified(&self, s: &SignedTx) -> Result<TxEffect, TxError> {
        let tx = &s.tx;
        let sender = self
            .accounts
            .get(&tx.from)
            .ok_or(TxError::UnknownSender(tx.from))?;
        if tx.nonce != sender.nonce {
            return Err(TxError::Nonce {
                from: tx.from,
                expected: sender.nonce,
                got: tx.nonce,
            });
        }
        if tx.token != sender.token {
            return Err(TxError::Token {
                account: tx.from,
                held: sender.token,
                given: tx.token,
            });
        }
        AMOUNT.encode(tx.amount)?;
        FEE.encode(tx.fee)?;
        let fee_account = match self.fee_accounts.get(&tx.token) {
            Some(&i) => Some(i),
            None if tx.fee == 0 => None,
            None => return Err(TxError::NoFeeAccount(tx.token)),
        };
        let needed = tx.amount.checked_add(tx.fee);
        if needed.is_none_or(|n| n > sender.balance) {
            return Err(TxError::Insufficient {
                from: tx.from,
                balance: sender.balance,
                needed: needed.unwrap_or(u128::MAX),
            });
        }
        let mut after = sender.clone();
        after.balance -= tx.amount + tx.fee;
        after.nonce += 1;
        let credit_fits = |index: u32, balance: u128, value: u128| {
            balance
                .checked_add(value)
                .and_then(|b| b.checked_add(self.fees_owed_to(index, tx.token)))
                .is_some()
        };
        let (receiver, exit) = match tx.kind {
            TxKind::Transfer => {
                let to = fr_to_index(&tx.to).ok_or(TxError::UnknownReceiver(0))?;
                let base = if to == tx.from {
                    after.clone()
                } else {
                    self.accounts
                        .get(&to)
                        .cloned()
                        .ok_or(TxError::UnknownReceiver(to))?
                };
                if base.token != tx.token {
                    return Err(TxError::Token {
                        account: to,
                        held: base.token,
                        given: tx.token,
                    });
                }
                if !credit_fits(to, base.balance, tx.amount) {
                    return Err(TxError::Overflow {
                        field: "amount",
                        account: to,
                    });
                }
                let mut r = base;
                r.balance += tx.amount;
                (Some((to, r)), None)
            }
            TxKind::Withdraw => (
                None,
                Some(Exit {
                    from: tx.from,
                    to: tx.to,
                    token: tx.token,
                    amount: tx.amount,
                }),
            ),
        };
        if let Some(f) = fee_account.filter(|_| tx.fee > 0) {
            if !self.pending_fees.contains_key(&tx.token) && self.pending_fees.len() >= FEE_SLOTS {
                return Err(TxError::FeeSlotsFull);
            }
            let balance = match &receiver {
                Some((i, r)) if *i == f => r.balance,
                _ if f == tx.from => after.balance,
                _ => self.accounts.get(&f).map_or(0, |a| a.balance),
            };
            if !credit_fits(f, balance, tx.fee) {
                return Err(TxError::Overflow {
                    field: "fee",
                    account: f,
                });
            }
        }
        Ok(TxEffect {
            sender: after,
            receiver,
            exit,
        })
    }

    /// Applies a transaction, or refuses it and changes nothing. The sender is written
    /// first, then the receiver; the fee is owed to the fee account until the batch closes.
    pub fn apply(&mut self, s: &SignedTx) -> Result<TxEffect, TxError> {
        self.check_signature(s)?;
        self.apply_verified(s)
    }

    /// [`Self::apply`] for a transaction whose signature was checked already (by
    /// [`check_signature_with`] with its sender's key, or when it was first confirmed).
    pub fn apply_verified(&mut self, s: &SignedTx) -> Result<TxEffect, TxError> {
        let effect = self.check_verified(s)?;
        self.write(s.tx.from, Some(effect.sender.clone()));
        if let Some((to, r)) = &effect.receiver {
            self.write(*to, Some(r.clone()));
        }
        if s.tx.fee > 0 {
            *self.pending_fees.entry(s.tx.token).or_insert(0) += s.tx.fee;
        }
        Ok(effect)
    }

    /// Applies an operation from L1. It never fails: a deposit that cannot be credited is
    /// refunded as an exit, a forced exit its requester does not own does nothing.
    pub fn apply_l1(&mut self, op: &L1Op) -> L1Outcome {
        match op {
            L1Op::Deposit {
                index,
                token,
                amount,
                key,
                eth_address,
            } => {
                let refund = || {
                    L1Outcome::Refunded(Exit {
                        from: *index,
                        to: *eth_address,
                        token: *token,
                        amount: *amount,
                    })
                };
                if *index == 0 || check_index(u64::from(*index)).is_err() {
                    return refund();
                }
                match self.accounts.get(index).cloned() {
                    None => {
                        let a = Account {
                            token: *token,
                            nonce: 0,
                            balance: *amount,
                            key: *key,
                            eth_address: *eth_address,
                        };
                        self.write(*index, Some(a));
                        L1Outcome::Created
                    }
                    Some(mut a) if a.token == *token => match a.balance.checked_add(*amount) {
                        Some(b) => {
                            a.balance = b;
                            self.write(*index, Some(a));
                            L1Outcome::Credited
                        }
                        None => refund(),
                    },
                    Some(_) => refund(),
                }
            }
            L1Op::ForcedExit { index, eth_address } => match self.accounts.get(index).cloned() {
                Some(mut a) if a.eth_address == *eth_address && *index != 0 => {
                    let exit = Exit {
                        from: *index,
                        to: *eth_address,
                        token: a.token,
                        amount: a.balance,
                    };
                    a.balance = 0;
                    self.write(*index, Some(a));
                    L1Outcome::Exited(exit)
                }
                _ => L1Outcome::Ignored,
            },
        }
    }

    /// Closes the open batch: credits each token's fees to its fee account, in token order,
    /// and returns `(token, fee account, total)` per credit.
    pub fn close_batch(&mut self) -> Vec<(u32, u32, u128)> {
        let fees = std::mem::take(&mut self.pending_fees);
        let mut credits = Vec::new();
        for (token, total) in fees {
            let index = self.fee_accounts[&token];
            let mut a = self.accounts[&index].clone();
            // check() kept every credit to a fee account within 128 bits with its fees.
            a.balance += total;
            self.write(index, Some(a));
            credits.push((token, index, total));
        }
        credits
    }
}

impl Ledger {
    /// Applies a transaction slot of batch data (no signature: the batch proof vouches for
    /// it), owing its fee to the fee slot of its token in `fees` (`(index, total)`).
    pub(crate) fn apply_record(
        &mut self,
        r: &crate::batchdata::TxRecord,
        fee_slots: &[u32],
        fees: &mut Vec<(u32, u128)>,
    ) -> Result<(), String> {
        if r.from == 0 {
            return if r.to == 0 && r.amount == 0 && r.fee == 0 {
                Ok(())
            } else {
                Err("a no-op (from 0) with other fields set".into())
            };
        }
        let mut sender = self
            .accounts
            .get(&r.from)
            .cloned()
            .ok_or_else(|| format!("no account at index {}", r.from))?;
        let needed = r
            .amount
            .checked_add(r.fee)
            .filter(|n| *n <= sender.balance)
            .ok_or_else(|| format!("account {} cannot pay amount + fee", r.from))?;
        sender.balance -= needed;
        sender.nonce += 1;
        let token = sender.token;
        self.write(r.from, Some(sender));
        if r.to != 0 {
            let mut receiver = self
                .accounts
                .get(&r.to)
                .cloned()
                .filter(|a| a.token == token)
                .ok_or_else(|| format!("no account of token {token} at index {}", r.to))?;
            receiver.balance = receiver
                .balance
                .checked_add(r.amount)
                .ok_or_else(|| format!("account {}'s balance overflows", r.to))?;
            self.write(r.to, Some(receiver));
        }
        if r.fee > 0 {
            let slots: Vec<u32> = fee_slots
                .iter()
                .copied()
                .filter(|&i| i != 0 && self.accounts.get(&i).is_some_and(|a| a.token == token))
                .collect();
            let [index] = slots[..] else {
                return Err(format!(
                    "{} fee slots take token {token}; exactly one must",
                    slots.len()
                ));
            };
            match fees.iter_mut().find(|(i, _)| *i == index) {
                Some((_, total)) => *total += r.fee,
                None => fees.push((index, r.fee)),
            }
        }
        Ok(())
    }

    /// Credits a batch's fees to the fee account at `index`.
    pub(crate) fn credit_fee(&mut self, index: u32, total: u128) -> Result<(), String> {
        let mut a = self
            .accounts
            .get(&index)
            .cloned()
            .ok_or_else(|| format!("no fee account at index {index}"))?;
        a.balance = a
            .balance
            .checked_add(total)
            .ok_or_else(|| format!("fee account {index}'s balance overflows"))?;
        self.write(index, Some(a));
        Ok(())
    }
}

/// Whether `s`'s signature verifies under `key` (its sender's); the signed message (the
/// transaction's hash) when it does.
pub fn check_signature_with(key: &Point, s: &SignedTx) -> Result<Fr, TxError> {
    let m = s.tx.message();
    let valid = verify(&m, &s.signature, key);
    if valid {
        Ok(m)
    } else {
        Err(TxError::BadSignature(s.tx.from))
    }
}

/// One transaction to check in [`check_signatures`]: its sender's key, the key's table if
/// there is one, and the transaction.
pub type SignatureCheck<'a> = (&'a Point, Option<&'a PointTable>, &'a SignedTx);

/// [`check_signature_with`] of many transactions (with each key's [`PointTable`] when given), their messages and challenges
/// hashed together ([`hash_many`]); one answer per transaction, in order.
pub fn check_signatures(items: &[SignatureCheck<'_>]) -> Vec<Result<Fr, TxError>> {
    let inputs: Vec<[Fr; 8]> = items
        .iter()
        .map(|(_, _, s)| s.tx.message_inputs())
        .collect();
    let messages = hash_many(&inputs);
    let checks: Vec<VerifyItem<'_>> = items
        .iter()
        .zip(&messages)
        .map(|((key, table, s), m)| (*m, &s.signature, *key, *table))
        .collect();
    verify_many(&checks)
        .into_iter()
        .zip(messages)
        .zip(items)
        .map(|((valid, m), (_, _, s))| {
            if valid {
                Ok(m)
            } else {
                Err(TxError::BadSignature(s.tx.from))
            }
        })
        .collect()
}

/// A transfer's `to` as an index (it was checked at intake to be one).
fn fr_to_index(x: &Fr) -> Option<u32> {
    let b = crate::babyjub::to_biguint(x);
    u32::try_from(b).ok()
}
