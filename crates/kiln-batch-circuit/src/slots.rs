//! The batch's slots as constraints (`docs/rollup.md`, "Batches" and "The batch
//! circuit"): an L1 slot (deposit: create, credit or refund; forced exit: exit the whole
//! balance to its owner, or nothing), a transaction slot (signature, nonce, token,
//! balances range-checked to 128 bits, the sender's then the receiver's write, the fee into
//! the one fee slot of its token, a withdrawal's exit) and a fee slot's credit. Each slot
//! returns its state root after it, its exit leaf and the bits it contributes to the batch
//! data.

use ark_ff::One;
use kiln_rollup::amount::{AMOUNT, FEE};
use kiln_rollup::tree::DEPTH;

use crate::babyjub::Point;
use crate::bits::{
    be, be_bytes, enforce_zero_if, is_equal, is_zero, select, to_bits, to_bits_strict, Bit,
};
use crate::cs::{Cs, Fr, Num};
use crate::eddsa::{self, SignatureVar};
use crate::float;
use crate::input::{AccountIn, FeeIn, L1In, TxIn};
use crate::merkle::{self, Check};
use crate::poseidon;

/// Bits of a balance (and of a deposit's amount).
pub const BALANCE_BITS: usize = 128;
/// Bits of an index in the data.
pub const INDEX_BITS: usize = 2 * DEPTH;

/// An account's fields as wires.
#[derive(Clone, Debug)]
pub struct AccountVar {
    /// Token.
    pub token: Num,
    /// Nonce.
    pub nonce: Num,
    /// Balance.
    pub balance: Num,
    /// Key x.
    pub ax: Num,
    /// Key y.
    pub ay: Num,
    /// L1 owner.
    pub eth: Num,
}

impl AccountVar {
    /// Six new wires.
    pub fn alloc(cs: &mut Cs, a: &AccountIn) -> AccountVar {
        AccountVar {
            token: cs.alloc(a.token),
            nonce: cs.alloc(a.nonce),
            balance: cs.alloc(a.balance),
            ax: cs.alloc(a.key.x),
            ay: cs.alloc(a.key.y),
            eth: cs.alloc(a.eth),
        }
    }

    /// `H(token, nonce, balance, Ax, Ay, ethAddr)`.
    pub fn leaf(&self, cs: &mut Cs) -> Num {
        poseidon::hash(
            cs,
            &[
                self.token.clone(),
                self.nonce.clone(),
                self.balance.clone(),
                self.ax.clone(),
                self.ay.clone(),
                self.eth.clone(),
            ],
        )
    }

    /// The same account with another nonce and balance.
    fn with(&self, nonce: Num, balance: Num) -> AccountVar {
        AccountVar {
            nonce,
            balance,
            ..self.clone()
        }
    }
}

/// What a slot leaves behind.
pub struct SlotOut {
    /// The state root after the slot.
    pub root: Num,
    /// Its exit leaf (0 for none).
    pub exit_leaf: Num,
    /// Its record in the batch data, most significant bit first.
    pub data: Vec<Bit>,
}

/// A new wire holding `v` and its `n` bits (little-endian).
pub(crate) fn field(cs: &mut Cs, v: Fr, n: usize) -> (Num, Vec<Bit>) {
    let x = cs.alloc(v);
    let bits = to_bits(cs, &x, n);
    (x, bits)
}

/// A new wire holding `v` and its canonical 254 bits.
pub(crate) fn field_strict(cs: &mut Cs, v: Fr) -> (Num, Vec<Bit>) {
    let x = cs.alloc(v);
    let bits = to_bits_strict(cs, &x);
    (x, bits)
}

/// The fee slots as the transactions see them: index bits, whether used, token.
pub struct FeeSlotVar {
    /// The fee account's index.
    pub index: Num,
    /// Its bits.
    pub index_bits: Vec<Bit>,
    /// Whether the slot is used (index ≠ 0).
    pub used: Bit,
    /// The token it collects.
    pub token: Num,
    /// The fees collected so far.
    pub total: Num,
}

/// Allocates a fee slot's index and token (before the transactions that pay into it).
pub fn fee_slot_head(cs: &mut Cs, f: &FeeIn) -> FeeSlotVar {
    let (index, index_bits) = field(cs, Fr::from(f.index), INDEX_BITS);
    let used = is_zero(cs, &index).not();
    let token = cs.alloc(f.token);
    FeeSlotVar {
        index,
        index_bits,
        used,
        token,
        total: Num::zero(),
    }
}

/// An L1 slot.
pub fn l1_slot(cs: &mut Cs, root: &Num, s: &L1In) -> SlotOut {
    // The record: kind, index, token, amount, eth_address, ax, ay.
    let (d, e, index, index_bits, token, token_bits, amount, amount_bits, eth, eth_bits) =
        cs.ns("record", |cs| {
            let d = Bit::alloc(cs, s.deposit);
            let e = Bit::alloc(cs, s.exit);
            cs.enforce_product(&d.num, &e.num, &Num::zero());
            let (index, index_bits) = field(cs, Fr::from(s.index), INDEX_BITS);
            let (token, token_bits) = field(cs, Fr::from(s.token), 32);
            let (amount, amount_bits) = field(cs, Fr::from(s.amount), BALANCE_BITS);
            let (eth, eth_bits) = field(cs, s.eth, 160);
            (
                d,
                e,
                index,
                index_bits,
                token,
                token_bits,
                amount,
                amount_bits,
                eth,
                eth_bits,
            )
        });
    let (ax, ax_bits) = cs.ns("record: ax", |cs| field_strict(cs, s.key.x));
    let (ay, ay_bits) = cs.ns("record: ay", |cs| field_strict(cs, s.key.y));
    cs.ns("record: fields a kind does not have are 0", |cs| {
        let not_d = d.not();
        for x in [&token, &amount, &ax, &ay] {
            enforce_zero_if(cs, &not_d, x);
        }
        let empty = Bit::from_num_unchecked(Num::one().sub(&d.num).sub(&e.num));
        enforce_zero_if(cs, &empty, &index);
        enforce_zero_if(cs, &empty, &eth);
    });
    let ex = Bit::alloc(cs, s.exists);
    let acc = AccountVar::alloc(cs, &s.account);
    let old_leaf = cs.ns("account leaf", |cs| {
        let leaf = acc.leaf(cs);
        cs.mul(&ex.num, &leaf)
    });
    let (create, credit, refund, fx, sum) = cs.ns("outcome", |cs| {
        let nonzero = is_zero(cs, &index).not();
        let nz_ex = nonzero.and(cs, &ex);
        let same_token = is_equal(cs, &acc.token, &token);
        let sum = acc.balance.add(&amount);
        let sum_bits = cs.ns("balance + amount", |cs| to_bits(cs, &sum, BALANCE_BITS + 1));
        let fits = sum_bits[BALANCE_BITS].not();
        let nz_new = nonzero.and(cs, &ex.not());
        let create = d.and(cs, &nz_new);
        let a1 = nz_ex.and(cs, &same_token);
        let a2 = a1.and(cs, &fits);
        let credit = d.and(cs, &a2);
        let refund = Bit::from_num_unchecked(d.num.sub(&create.num).sub(&credit.num));
        let owner = is_equal(cs, &acc.eth, &eth);
        let owned = nz_ex.and(cs, &owner);
        let fx = e.and(cs, &owned);
        (create, credit, refund, fx, sum)
    });
    let write = Bit::from_num_unchecked(create.num.add(&credit.num).add(&fx.num));
    let new_leaf = cs.ns("new leaf", |cs| {
        let new = AccountVar {
            token: select(cs, &ex, &acc.token, &token),
            nonce: cs.mul(&ex.num, &acc.nonce),
            balance: {
                let a = cs.mul(&create.num, &amount);
                let b = cs.mul(&credit.num, &sum);
                a.add(&b)
            },
            ax: select(cs, &ex, &acc.ax, &ax),
            ay: select(cs, &ex, &acc.ay, &ay),
            eth: select(cs, &ex, &acc.eth, &eth),
        };
        new.leaf(cs)
    });
    let root = cs.ns("state proof", |cs| {
        merkle::write(
            cs,
            root,
            &index_bits,
            &old_leaf,
            &new_leaf,
            &s.proof,
            &Check::ReadAlways(write),
        )
    });
    let exit_leaf = cs.ns("exit leaf", |cs| {
        let token = token.add(&cs.mul(&fx.num, &acc.token));
        let amount = amount.add(&cs.mul(&fx.num, &acc.balance));
        let leaf = poseidon::hash(cs, &[eth.clone(), token, amount]);
        let flag = refund.num.add(&fx.num);
        cs.mul(&flag, &leaf)
    });
    let mut data = vec![Bit::constant(false); 5];
    data.extend([e.clone(), d.clone(), d.clone()]);
    data.extend(be(&index_bits));
    data.extend(be(&token_bits));
    data.extend(be(&amount_bits));
    data.extend(be(&eth_bits));
    data.extend(be_bytes(&ax_bits, 32));
    data.extend(be_bytes(&ay_bits, 32));
    SlotOut {
        root,
        exit_leaf,
        data,
    }
}

/// A transaction slot; its fee is added to `fee_slots`.
pub fn tx_slot(
    cs: &mut Cs,
    root: &Num,
    chain_id: &Num,
    fee_slots: &mut [FeeSlotVar],
    s: &TxIn,
) -> SlotOut {
    let (from, from_bits, to, to_bits_, amount, fee) = cs.ns("record", |cs| {
        let (from, from_bits) = field(cs, Fr::from(s.from), INDEX_BITS);
        let (to, to_bits_) = field(cs, Fr::from(s.to), INDEX_BITS);
        let amount_code = cs.alloc(Fr::from(s.amount_code));
        let amount = float::decode(cs, &AMOUNT, &amount_code);
        let fee_code = cs.alloc(Fr::from(s.fee_code));
        let fee = float::decode(cs, &FEE, &fee_code);
        (from, from_bits, to, to_bits_, amount, fee)
    });
    let (enabled, withdraw, transfer) = cs.ns("kind", |cs| {
        let enabled = is_zero(cs, &from).not();
        let to_zero = is_zero(cs, &to);
        let withdraw = enabled.and(cs, &to_zero);
        let transfer = enabled.and(cs, &to_zero.not());
        (enabled, withdraw, transfer)
    });
    cs.ns("a no-op's record is 0", |cs| {
        let noop = enabled.not();
        enforce_zero_if(cs, &noop, &to);
        enforce_zero_if(cs, &noop, &crate::bits::pack(&amount.bits));
        enforce_zero_if(cs, &noop, &crate::bits::pack(&fee.bits));
    });
    let recipient = cs.alloc(s.recipient);
    let sender = AccountVar::alloc(cs, &s.sender);
    let msg = cs.ns("message", |cs| {
        let to_signed = to.add(&cs.mul(&withdraw.num, &recipient));
        let kind = Num::one().add(&withdraw.num);
        poseidon::hash(
            cs,
            &[
                chain_id.clone(),
                kind,
                from.clone(),
                to_signed,
                sender.token.clone(),
                amount.value.clone(),
                fee.value.clone(),
                sender.nonce.clone(),
            ],
        )
    });
    let sig = SignatureVar {
        r8: Point::alloc(cs, &s.r8),
        s: cs.alloc(s.s),
    };
    let key = Point {
        x: sender.ax.clone(),
        y: sender.ay.clone(),
    };
    cs.ns("signature", |cs| {
        eddsa::verify(cs, &enabled, &msg, &key, &sig)
    });
    let root = cs.ns("sender", |cs| {
        let old_leaf = cs.ns("leaf", |cs| sender.leaf(cs));
        let balance = sender.balance.sub(&amount.value).sub(&fee.value);
        cs.ns("new balance range check (amount + fee ≤ balance)", |cs| {
            to_bits(cs, &balance, BALANCE_BITS)
        });
        let new_leaf = cs.ns("new leaf", |cs| {
            sender
                .with(sender.nonce.add_const(Fr::one()), balance)
                .leaf(cs)
        });
        cs.ns("state proof", |cs| {
            merkle::write(
                cs,
                root,
                &from_bits,
                &old_leaf,
                &new_leaf,
                &s.sender_proof,
                &Check::IfEnabled(enabled.clone()),
            )
        })
    });
    let receiver = AccountVar::alloc(cs, &s.receiver);
    let root = cs.ns("receiver", |cs| {
        cs.ns("same token as the sender", |cs| {
            enforce_zero_if(cs, &transfer, &receiver.token.sub(&sender.token));
        });
        let old_leaf = cs.ns("leaf", |cs| receiver.leaf(cs));
        let balance = receiver.balance.add(&amount.value);
        cs.ns("new balance range check (no overflow)", |cs| {
            to_bits(cs, &balance, BALANCE_BITS)
        });
        let new_leaf = cs.ns("new leaf", |cs| {
            receiver.with(receiver.nonce.clone(), balance).leaf(cs)
        });
        cs.ns("state proof", |cs| {
            merkle::write(
                cs,
                &root,
                &to_bits_,
                &old_leaf,
                &new_leaf,
                &s.receiver_proof,
                &Check::IfEnabled(transfer.clone()),
            )
        })
    });
    cs.ns("fee", |cs| {
        let mut matches = Num::zero();
        let mut paid = Vec::with_capacity(fee_slots.len());
        for (j, f) in fee_slots.iter().enumerate() {
            let m = cs.ns(format!("fee slot {j}"), |cs| {
                let same = is_equal(cs, &f.token, &sender.token);
                same.and(cs, &f.used)
            });
            matches = matches.add(&m.num);
            paid.push(m);
        }
        cs.ns(
            "exactly one fee slot of its token when the fee is not 0",
            |cs| {
                cs.enforce_product(&fee.value, &Num::one().sub(&matches), &Num::zero());
            },
        );
        for (f, m) in fee_slots.iter_mut().zip(&paid) {
            let share = cs.mul(&m.num, &fee.value);
            f.total = f.total.add(&share);
        }
    });
    let exit_leaf = cs.ns("exit leaf", |cs| {
        let leaf = poseidon::hash(
            cs,
            &[
                recipient.clone(),
                sender.token.clone(),
                amount.value.clone(),
            ],
        );
        cs.mul(&withdraw.num, &leaf)
    });
    let mut data = be(&from_bits);
    data.extend(be(&to_bits_));
    data.extend(be(&amount.bits));
    data.extend(be(&fee.bits));
    SlotOut {
        root,
        exit_leaf,
        data,
    }
}

/// A fee slot's credit of its total to its account, after the last transaction.
pub fn fee_slot_credit(cs: &mut Cs, root: &Num, f: &FeeSlotVar, s: &FeeIn) -> Num {
    let acc = AccountVar::alloc(cs, &s.account);
    cs.ns("account holds the slot's token", |cs| {
        enforce_zero_if(cs, &f.used, &acc.token.sub(&f.token));
    });
    let old_leaf = cs.ns("leaf", |cs| acc.leaf(cs));
    let balance = acc.balance.add(&f.total);
    cs.ns("new balance range check (no overflow)", |cs| {
        to_bits(cs, &balance, BALANCE_BITS)
    });
    let new_leaf = cs.ns("new leaf", |cs| {
        acc.with(acc.nonce.clone(), balance).leaf(cs)
    });
    cs.ns("state proof", |cs| {
        merkle::write(
            cs,
            root,
            &f.index_bits,
            &old_leaf,
            &new_leaf,
            &s.proof,
            &Check::IfEnabled(f.used.clone()),
        )
    })
}
