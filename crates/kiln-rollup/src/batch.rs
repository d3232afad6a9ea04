//! Batches: [`Ledger::execute_batch`] replays a closed batch on the state it started from
//! and records it slot by slot as the batch circuit needs it ([`BatchTrace`]), with its data
//! and public input; [`Ledger::replay_data`] rebuilds the state from batch data alone (what
//! `kiln rollup reconstruct` does).

use crate::batchdata::{exit_leaf, exit_root, public_input, BatchData, DataError, TxRecord};
use crate::intake::SignedTx;
use crate::ledger::{Exit, Ledger, TxError};
use crate::trace::{l1_slots, BatchTrace, FeeSlot, L1Op, L1Slot, Touch, TxSlot, FEE_SLOTS};
use crate::tx::TxKind;
use crate::Fr;

/// A closed batch: its L1 operations (first, in queue order) and transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// The batch number (the first is 1).
    pub number: u64,
    /// Operations from L1's queue.
    pub l1_ops: Vec<L1Op>,
    /// Transactions in confirmation order.
    pub txs: Vec<SignedTx>,
}

/// Why a batch cannot be executed or replayed. The ledger it ran on must then be dropped:
/// it holds the batch's writes up to the failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// More transactions than slots.
    #[error("the batch has {got} transactions; the circuit has {max} slots")]
    TooManyTxs {
        /// Transactions.
        got: usize,
        /// Slots.
        max: usize,
    },
    /// More L1 operations than L1 slots.
    #[error("the batch has {got} L1 operations; the circuit has {max} L1 slots")]
    TooManyL1Ops {
        /// Operations.
        got: usize,
        /// Slots.
        max: usize,
    },
    /// A transaction the state refuses.
    #[error("transaction slot {slot}: {source}")]
    Tx {
        /// Its slot.
        slot: usize,
        /// Why.
        source: TxError,
    },
    /// More fee tokens than fee slots (the sequencer closes batches before that).
    #[error("the batch collects fees in more than {FEE_SLOTS} tokens")]
    FeeSlots,
    /// The data cannot be written or read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Batch data that does not follow from the state it claims to start from.
    #[error("batch {number}: {problem}")]
    Replay {
        /// The batch.
        number: u64,
        /// What does not match.
        problem: String,
    },
}

/// What a batch without a proof keeps: its roots, data and public input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    /// The state root before the batch.
    pub old_root: Fr,
    /// The state root after it.
    pub new_root: Fr,
    /// The root of its exit list.
    pub exit_root: Fr,
    /// The batch data `D` (`docs/rollup.md`).
    pub data: Vec<u8>,
    /// `sha256(D) mod r`.
    pub public_input: Fr,
    /// The batch's exits by their position in the exit list (L1 slots first).
    pub exits: Vec<(usize, Exit)>,
}

/// The number of L1 slots of a circuit of `batch_size`, if `batch` fits in it.
fn fits(batch: &Batch, batch_size: usize) -> Result<usize, BatchError> {
    let n_l1 = l1_slots(batch_size);
    if batch.txs.len() > batch_size {
        return Err(BatchError::TooManyTxs {
            got: batch.txs.len(),
            max: batch_size,
        });
    }
    if batch.l1_ops.len() > n_l1 {
        return Err(BatchError::TooManyL1Ops {
            got: batch.l1_ops.len(),
            max: n_l1,
        });
    }
    Ok(n_l1)
}

fn one(mut touches: Vec<Touch>) -> Touch {
    debug_assert_eq!(touches.len(), 1);
    touches.remove(0)
}

impl Ledger {
    /// Executes `batch` in a circuit of `batch_size` transaction slots and records it.
    pub fn execute_batch(
        &mut self,
        batch: &Batch,
        batch_size: usize,
    ) -> Result<BatchTrace, BatchError> {
        let n_l1 = fits(batch, batch_size)?;
        let old_root = self.root();
        self.start_trace();
        let mut l1 = Vec::with_capacity(n_l1);
        for k in 0..n_l1 {
            let op = batch.l1_ops.get(k).cloned();
            let exit = op.as_ref().and_then(|op| self.apply_l1(op).exit().cloned());
            let mut touches = self.take_trace();
            if touches.is_empty() {
                // A refunded deposit or an ignored forced exit still reads its account:
                // the circuit decides from that read that it changes nothing.
                let index = match &op {
                    Some(L1Op::Deposit { index, .. } | L1Op::ForcedExit { index, .. }) => *index,
                    None => 0,
                };
                self.write_unchanged(index);
                touches = self.take_trace();
            }
            l1.push(L1Slot {
                op,
                touch: one(touches),
                exit,
            });
        }
        let mut txs = Vec::with_capacity(batch_size);
        for slot in 0..batch_size {
            let tx = batch.txs.get(slot).cloned();
            let exit = match &tx {
                Some(s) => {
                    self.apply(s)
                        .map_err(|source| BatchError::Tx { slot, source })?
                        .exit
                }
                None => None,
            };
            let mut touches = self.take_trace();
            while touches.len() < 2 {
                self.write_nothing();
                touches.extend(self.take_trace());
            }
            let receiver = touches.pop().expect("two writes");
            let sender = touches.pop().expect("two writes");
            txs.push(TxSlot {
                tx,
                sender,
                receiver,
                exit,
            });
        }
        if self.pending_fees().len() > FEE_SLOTS {
            return Err(BatchError::FeeSlots);
        }
        let credits = self.close_batch();
        let mut touches = self.take_trace();
        let mut fees = Vec::with_capacity(FEE_SLOTS);
        for k in 0..FEE_SLOTS {
            fees.push(match credits.get(k) {
                Some(&(token, index, total)) => FeeSlot {
                    index,
                    token,
                    total,
                    touch: touches.remove(0),
                },
                None => {
                    self.write_nothing();
                    FeeSlot {
                        index: 0,
                        token: 0,
                        total: 0,
                        touch: one(self.take_trace()),
                    }
                }
            });
        }
        self.stop_trace();
        let record = self.finish_record(
            batch.number,
            old_root,
            l1.iter().map(|s| (s.op.clone(), s.exit.as_ref())),
            txs.iter().map(|s| (s.tx.as_ref(), s.exit.as_ref())),
            std::array::from_fn(|k| fees[k].index),
        )?;
        Ok(BatchTrace {
            chain_id: self.chain_id(),
            number: batch.number,
            old_root,
            new_root: record.new_root,
            exit_root: record.exit_root,
            l1,
            txs,
            fees,
            public_input: record.public_input,
            data: record.data,
        })
    }

    /// Executes `batch` like [`Self::execute_batch`] but records only what a batch without
    /// a proof needs (roots, data, public input): no state proofs per write, and no second
    /// signature check (the batch's transactions were checked when they were confirmed).
    /// The state ends where [`Self::execute_batch`] leaves it.
    pub fn record_batch(
        &mut self,
        batch: &Batch,
        batch_size: usize,
    ) -> Result<BatchRecord, BatchError> {
        let n_l1 = fits(batch, batch_size)?;
        let old_root = self.root();
        let l1_exits: Vec<_> = (0..n_l1)
            .map(|k| {
                let op = batch.l1_ops.get(k).cloned();
                let exit = op.as_ref().and_then(|op| self.apply_l1(op).exit().cloned());
                (op, exit)
            })
            .collect();
        let mut tx_exits = Vec::with_capacity(batch_size);
        for slot in 0..batch_size {
            let tx = batch.txs.get(slot);
            let exit = match tx {
                Some(s) => {
                    self.apply_verified(s)
                        .map_err(|source| BatchError::Tx { slot, source })?
                        .exit
                }
                None => None,
            };
            tx_exits.push((tx, exit));
        }
        if self.pending_fees().len() > FEE_SLOTS {
            return Err(BatchError::FeeSlots);
        }
        let credits = self.close_batch();
        self.finish_record(
            batch.number,
            old_root,
            l1_exits.iter().map(|(op, e)| (op.clone(), e.as_ref())),
            tx_exits.iter().map(|(tx, e)| (*tx, e.as_ref())),
            std::array::from_fn(|k| credits.get(k).map_or(0, |c| c.1)),
        )
    }

    /// The new root, the exit root, the data and the public input of a batch whose slots
    /// have been applied.
    fn finish_record<'a>(
        &mut self,
        number: u64,
        old_root: Fr,
        l1: impl Iterator<Item = (Option<L1Op>, Option<&'a Exit>)> + Clone,
        txs: impl Iterator<Item = (Option<&'a SignedTx>, Option<&'a Exit>)> + Clone,
        fee_accounts: [u32; FEE_SLOTS],
    ) -> Result<BatchRecord, BatchError> {
        let new_root = self.root();
        let leaves: Vec<Fr> = l1
            .clone()
            .map(|(_, e)| exit_leaf(e))
            .chain(txs.clone().map(|(_, e)| exit_leaf(e)))
            .collect();
        let exit_root = exit_root(&leaves);
        let exits = l1
            .clone()
            .map(|(_, e)| e)
            .chain(txs.clone().map(|(_, e)| e))
            .enumerate()
            .filter_map(|(k, e)| e.map(|e| (k, e.clone())))
            .collect();
        let data = BatchData {
            chain_id: self.chain_id(),
            number,
            old_root,
            new_root,
            exit_root,
            l1: l1.map(|(op, _)| op).collect(),
            fee_accounts,
            txs: txs.map(|(tx, _)| tx_record(tx)).collect(),
        }
        .encode()?;
        Ok(BatchRecord {
            old_root,
            new_root,
            exit_root,
            public_input: public_input(&data),
            data,
            exits,
        })
    }

    /// Applies a batch's data to this state (which must have the batch's old root): L1
    /// slots, transaction slots (without signatures: the batch proof vouches for them), then
    /// the fee credits. Checks the new root the data claims. (The exit root is not checked:
    /// a withdrawal's L1 recipient is in the exit list, not in the data; the batch proof
    /// vouches for it.)
    pub fn replay_data(&mut self, data: &BatchData) -> Result<(), BatchError> {
        let problem = |p: String| BatchError::Replay {
            number: data.number,
            problem: p,
        };
        if data.chain_id != self.chain_id() {
            return Err(problem(format!(
                "chain id {} is not this rollup's {}",
                data.chain_id,
                self.chain_id()
            )));
        }
        let root = self.root();
        if data.old_root != root {
            return Err(problem(format!(
                "its old state root {} is not the state's {}",
                crate::tx::hash_hex(&data.old_root),
                crate::tx::hash_hex(&root)
            )));
        }
        for op in data.l1.iter().flatten() {
            self.apply_l1(op);
        }
        let mut fees: Vec<(u32, u128)> = Vec::new();
        for (slot, r) in data.txs.iter().enumerate() {
            self.apply_record(r, &data.fee_accounts, &mut fees)
                .map_err(|p| problem(format!("transaction slot {slot}: {p}")))?;
        }
        for (index, total) in fees {
            self.credit_fee(index, total).map_err(problem)?;
        }
        let root = self.root();
        if root != data.new_root {
            return Err(problem(format!(
                "replaying it gives the state root {}, not the {} it claims",
                crate::tx::hash_hex(&root),
                crate::tx::hash_hex(&data.new_root)
            )));
        }
        Ok(())
    }
}

/// A transaction slot's record in the data.
fn tx_record(tx: Option<&SignedTx>) -> TxRecord {
    tx.map_or(TxRecord::default(), |s| TxRecord {
        from: s.tx.from,
        to: match s.tx.kind {
            TxKind::Transfer => u32::try_from(crate::babyjub::to_biguint(&s.tx.to)).unwrap_or(0),
            TxKind::Withdraw => 0,
        },
        amount: s.tx.amount,
        fee: s.tx.fee,
    })
}
