//! The whole batch circuit: the header, the L1 slots, the transaction slots, the fee
//! credits, the exit root, then the batch data assembled from the circuit's own wires and
//! its SHA-256, which reduced mod r must equal the one public input.
//!
//! The order of the constraints (and of the wires) is fixed by the batch size alone:
//! wire 1 is the public input, then the header's wires, the fee slots' indices and tokens
//! (the transactions pay into them), each slot's wires in slot order, the fee credits, the
//! exit tree, the new and exit roots' bits and the hash.

use ark_ff::{AdditiveGroup, One};

use crate::bits::{be, be_bytes, to_bits_strict, Bit};
use crate::cs::{Cs, Fr, Num};
use crate::input::BatchIn;
use crate::merkle;
use crate::sha256::sha256;
use crate::slots::{self, field, field_strict, FeeSlotVar};

/// Constraints by part of the circuit, in synthesis order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Transaction slots.
    pub batch_size: usize,
    /// Every constraint.
    pub constraints: usize,
    /// Every wire (the constant and the public input included).
    pub wires: usize,
    /// Header fields and fee slot heads.
    pub header: usize,
    /// Each L1 slot.
    pub l1_slots: Vec<usize>,
    /// Each transaction slot.
    pub tx_slots: Vec<usize>,
    /// The fee credits together.
    pub fee_credits: usize,
    /// The exit tree.
    pub exit_tree: usize,
    /// The roots' bits, the SHA-256 of the data and the public input.
    pub data_hash: usize,
    /// Bytes of the batch data.
    pub data_bytes: usize,
}

/// Synthesizes the circuit for `input` into `cs`.
pub fn synthesize(cs: &mut Cs, input: &BatchIn) -> Shape {
    let mut shape = Shape {
        batch_size: input.txs.len(),
        ..Shape::default()
    };
    let mut mark = 0;
    let mut part = |cs: &Cs| {
        let n = cs.num_constraints() - mark;
        mark = cs.num_constraints();
        n
    };
    let public_input = cs.public_input(input.public_input);
    let (chain_id, chain_bits) = cs.ns("header: chain id", |cs| {
        field(cs, Fr::from(input.chain_id), 64)
    });
    let (_, number_bits) = cs.ns("header: batch number", |cs| {
        field(cs, Fr::from(input.number), 64)
    });
    let (old_root, old_root_bits) = cs.ns("header: old state root", |cs| {
        field_strict(cs, input.old_root)
    });
    let mut fee_slots: Vec<FeeSlotVar> = input
        .fees
        .iter()
        .enumerate()
        .map(|(j, f)| {
            cs.ns(format!("fee slot {j}: index"), |cs| {
                slots::fee_slot_head(cs, f)
            })
        })
        .collect();
    shape.header = part(cs);

    let mut root = old_root;
    let mut exit_leaves = Vec::with_capacity(input.l1.len() + input.txs.len());
    let mut l1_data = Vec::new();
    for (k, s) in input.l1.iter().enumerate() {
        let out = cs.ns(format!("L1 slot {k}"), |cs| slots::l1_slot(cs, &root, s));
        root = out.root;
        exit_leaves.push(out.exit_leaf);
        l1_data.extend(out.data);
        shape.l1_slots.push(part(cs));
    }
    let mut tx_data = Vec::new();
    for (i, s) in input.txs.iter().enumerate() {
        let out = cs.ns(format!("tx slot {i}"), |cs| {
            slots::tx_slot(cs, &root, &chain_id, &mut fee_slots, s)
        });
        root = out.root;
        exit_leaves.push(out.exit_leaf);
        tx_data.extend(out.data);
        shape.tx_slots.push(part(cs));
    }
    for (j, (f, s)) in fee_slots.iter().zip(&input.fees).enumerate() {
        root = cs.ns(format!("fee slot {j}: credit"), |cs| {
            slots::fee_slot_credit(cs, &root, f, s)
        });
    }
    shape.fee_credits = part(cs);
    let exit_root = cs.ns("exit root", |cs| merkle::exit_root(cs, &exit_leaves));
    shape.exit_tree = part(cs);

    let new_root_bits = cs.ns("header: new state root", |cs| to_bits_strict(cs, &root));
    let exit_root_bits = cs.ns("header: exit root", |cs| to_bits_strict(cs, &exit_root));
    let mut data: Vec<Bit> = be(&chain_bits);
    data.extend(be(&number_bits));
    for bits in [&old_root_bits, &new_root_bits, &exit_root_bits] {
        data.extend(be_bytes(bits, 32));
    }
    data.extend(l1_data);
    for f in &fee_slots {
        data.extend(be(&f.index_bits));
    }
    data.extend(tx_data);
    shape.data_bytes = data.len() / 8;
    let digest = cs.ns("batch data: sha256", |cs| sha256(cs, &data));
    cs.ns("public input = sha256(batch data) mod r", |cs| {
        let mut value = Num::zero();
        let mut k = Fr::one();
        for b in digest.iter().rev() {
            value.add_scaled_assign(&b.num, k);
            k.double_in_place();
        }
        cs.enforce_equal(&value.compacted(), &public_input);
    });
    shape.data_hash = part(cs);
    shape.constraints = cs.num_constraints();
    shape.wires = cs.num_wires();
    shape
}
