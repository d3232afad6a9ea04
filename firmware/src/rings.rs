//! The descriptor and completion rings: their configuration, checked when the host writes
//! [`reg::RING_ENABLE`], and access to their entries in card memory.

use crate::abi::{
    reg, Completion, Descriptor, Error, COMPLETION_BYTES, DESCRIPTOR_BYTES, MAX_RING_ENTRIES,
};
use crate::card::Card;

/// Alignment of the descriptor ring's base.
pub const DESC_ALIGN: u64 = 64;
/// Alignment of the completion ring's base.
pub const COMPL_ALIGN: u64 = 32;

/// One ring: `entries` (a power of two) entries of a fixed size from `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    /// Card address of entry 0.
    pub base: u64,
    /// Number of entries (a power of two, 1..=[`MAX_RING_ENTRIES`]).
    pub entries: u32,
    /// Bytes of one entry.
    pub entry_bytes: u32,
}

impl Ring {
    /// Checks a ring's configuration against the card memory: `entries` a power of two
    /// no larger than [`MAX_RING_ENTRIES`], `base` aligned to `align`, and every entry
    /// inside `mem_size` bytes.
    pub fn check(
        base: u64,
        entries: u32,
        entry_bytes: u32,
        align: u64,
        mem_size: u64,
    ) -> Result<Self, Error> {
        if !entries.is_power_of_two() || entries > MAX_RING_ENTRIES {
            return Err(Error::BadRing);
        }
        if !base.is_multiple_of(align) {
            return Err(Error::BadRing);
        }
        let ring = Ring {
            base,
            entries,
            entry_bytes,
        };
        match base.checked_add(ring.bytes()) {
            Some(end) if end <= mem_size => Ok(ring),
            _ => Err(Error::BadRing),
        }
    }

    /// Bytes the ring occupies.
    pub fn bytes(&self) -> u64 {
        u64::from(self.entries) * u64::from(self.entry_bytes)
    }

    /// Card address of the entry with free-running index `index`.
    pub fn addr(&self, index: u32) -> u64 {
        self.base + u64::from(index & (self.entries - 1)) * u64::from(self.entry_bytes)
    }

    /// Whether `[addr, addr + len)` shares a byte with the ring.
    pub fn overlaps(&self, addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        len != 0 && addr < self.base + self.bytes() && self.base < end
    }
}

/// Both rings, as the host configured them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rings {
    /// The descriptor ring (64-byte entries).
    pub desc: Ring,
    /// The completion ring (32-byte entries).
    pub compl: Ring,
}

impl Rings {
    /// Checks a configuration: each ring as [`Ring::check`] says, and the two rings
    /// disjoint. Any failure is [`Error::BadRing`].
    pub fn check(
        desc_base: u64,
        desc_entries: u32,
        compl_base: u64,
        compl_entries: u32,
        mem_size: u64,
    ) -> Result<Self, Error> {
        let desc = Ring::check(
            desc_base,
            desc_entries,
            DESCRIPTOR_BYTES as u32,
            DESC_ALIGN,
            mem_size,
        )?;
        let compl = Ring::check(
            compl_base,
            compl_entries,
            COMPLETION_BYTES as u32,
            COMPL_ALIGN,
            mem_size,
        )?;
        if desc.overlaps(compl.base, compl.bytes()) {
            return Err(Error::BadRing);
        }
        Ok(Rings { desc, compl })
    }

    /// Reads the configuration the host wrote into the register file and checks it.
    pub fn from_registers(card: &mut impl Card, mem_size: u64) -> Result<Self, Error> {
        let desc_base = read_u64(card, reg::DESC_BASE_LO, reg::DESC_BASE_HI);
        let desc_entries = card.reg_read(reg::DESC_ENTRIES);
        let compl_base = read_u64(card, reg::COMPL_BASE_LO, reg::COMPL_BASE_HI);
        let compl_entries = card.reg_read(reg::COMPL_ENTRIES);
        Self::check(desc_base, desc_entries, compl_base, compl_entries, mem_size)
    }

    /// Whether `[addr, addr + len)` shares a byte with either ring.
    pub fn overlaps(&self, addr: u64, len: u64) -> bool {
        self.desc.overlaps(addr, len) || self.compl.overlaps(addr, len)
    }

    /// Reads the descriptor with free-running index `index`.
    pub fn read_descriptor(&self, card: &mut impl Card, index: u32) -> Descriptor {
        let mut b = [0u8; DESCRIPTOR_BYTES];
        card.mem_read(self.desc.addr(index), &mut b);
        Descriptor::from_bytes(&b)
    }

    /// Writes `completion` into the entry with free-running index `index`.
    pub fn write_completion(&self, card: &mut impl Card, index: u32, completion: &Completion) {
        card.mem_write(self.compl.addr(index), &completion.to_bytes());
    }
}

/// Entries between a consumer index `tail` and a producer index `head` (free-running).
pub fn distance(head: u32, tail: u32) -> u32 {
    head.wrapping_sub(tail)
}

/// Reads a 64-bit `_LO`/`_HI` register pair.
pub fn read_u64(card: &mut impl Card, lo: u32, hi: u32) -> u64 {
    u64::from(card.reg_read(lo)) | (u64::from(card.reg_read(hi)) << 32)
}

/// Writes a 64-bit `_LO`/`_HI` register pair.
pub fn write_u64(card: &mut impl Card, lo: u32, hi: u32, value: u64) {
    card.reg_write(lo, value as u32);
    card.reg_write(hi, (value >> 32) as u32);
}
