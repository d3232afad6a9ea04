//! The resident table directory: which point tables the host has made resident, by slot.
//! A table is a run of affine points the host DMA'd into card memory; registering it
//! lets MSM descriptors name it by id, the firmware keeping its address, length and group.

use crate::abi::{Group, MAX_TABLES};

/// A resident point table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// Card address of point 0 (64-byte aligned).
    pub addr: u64,
    /// Number of points (≥ 1).
    pub count: u64,
    /// The points' group, which decides their size.
    pub group: Group,
}

/// The [`MAX_TABLES`] table slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    slots: [Option<Table>; MAX_TABLES as usize],
}

impl Default for Tables {
    fn default() -> Self {
        Self::new()
    }
}

impl Tables {
    /// All slots free.
    pub const fn new() -> Self {
        Tables {
            slots: [None; MAX_TABLES as usize],
        }
    }

    /// The table in slot `id`, if `id < MAX_TABLES` and the slot is in use.
    pub fn get(&self, id: u64) -> Option<&Table> {
        self.slots.get(usize::try_from(id).ok()?)?.as_ref()
    }

    /// Whether `id` names a slot (`id < MAX_TABLES`).
    pub fn is_slot(id: u64) -> bool {
        id < u64::from(MAX_TABLES)
    }

    /// Puts `table` into slot `id` (a valid, free slot: the caller checked).
    pub fn insert(&mut self, id: u32, table: Table) {
        self.slots[id as usize] = Some(table);
    }

    /// Frees slot `id`, returning what it held.
    pub fn remove(&mut self, id: u32) -> Option<Table> {
        self.slots.get_mut(id as usize)?.take()
    }

    /// Number of slots in use.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Whether every slot is free.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
