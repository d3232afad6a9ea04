//! Descriptor checks. [`validate`] turns a [`Descriptor`] into a [`Command`] whose every
//! address range lies in card memory, or refuses it with an [`Error`] and the index of the
//! offending argument ([`Refusal`]). It reads nothing but its arguments and changes
//! nothing, so a refused descriptor leaves the card as it was.
//!
//! The checks, in order (`detail` in brackets):
//!
//! - unknown opcode: [`Error::UnknownOpcode`] (0).
//! - `LoadTable`: id `≥ MAX_TABLES` [`Error::UnknownTable`] (0); slot in use
//!   [`Error::TableInUse`] (0); group code [`Error::Unsupported`] (3); count 0 or
//!   `> u32::MAX` [`Error::BadLength`] (2); address not 64-byte aligned
//!   [`Error::Misaligned`] (1); points past the card memory [`Error::OutOfRange`] (1).
//! - `FreeTable`: id not a resident table [`Error::UnknownTable`] (0).
//! - `Msm`: table [`Error::UnknownTable`] (0); count 0 or `> u32::MAX`
//!   [`Error::BadLength`] (2); start past the table [`Error::OutOfRange`] (1), start +
//!   count past it (2); `c` outside `MIN_WINDOW_BITS..=MAX_WINDOW_BITS`
//!   [`Error::Unsupported`] (4); segments not a power of two, `> 2^(c−1)` or
//!   `> MAX_SEGMENTS` [`Error::Unsupported`] (5); scalars not 32-byte aligned
//!   [`Error::Misaligned`] (3) or past the memory [`Error::OutOfRange`] (3); result not
//!   64-byte aligned (6) or past the memory or over a ring (6); no MSM engine
//!   [`Error::Unsupported`] (0).
//! - `Ntt`: data not 32-byte aligned [`Error::Misaligned`] (0); `log_n` outside
//!   `1..=MAX_LOG_NTT` [`Error::BadLength`] (1); count 0 or `> u32::MAX` (2); kind
//!   [`Error::Unsupported`] (3); data past the memory or over a ring
//!   [`Error::OutOfRange`] (0); parameters not 32-byte aligned [`Error::Misaligned`] (4)
//!   or past the memory [`Error::OutOfRange`] (4); no NTT engine [`Error::Unsupported`]
//!   (0).
//!
//! "Over a ring": the regions the engines write (MSM results, NTT data) must not overlap
//! the descriptor or completion ring, so no command can corrupt the rings.

use crate::abi::{
    msm_windows, Descriptor, Error, Group, NttKind, Opcode, MAX_LOG_NTT, MAX_SEGMENTS,
    MAX_WINDOW_BITS, MIN_WINDOW_BITS,
};
use crate::rings::Rings;
use crate::tables::{Table, Tables};

/// Bytes of a scalar or an Fr element.
pub const SCALAR_BYTES: u64 = 32;
/// Bytes of a transform's parameters (`ω`).
pub const TRANSFORM_PARAM_BYTES: u64 = 32;
/// Bytes of a scale's parameters (`factor`, `shift`).
pub const SCALE_PARAM_BYTES: u64 = 64;

/// Why a descriptor was refused: the completion's status and `detail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub error: Error,
    /// The index of the offending argument.
    pub detail: u64,
}

fn refuse<T>(error: Error, arg: u64) -> Result<T, Refusal> {
    Err(Refusal { error, detail: arg })
}

/// A checked MSM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsmArgs {
    /// The table's points.
    pub table: Table,
    /// Index of the first point used.
    pub start: u64,
    /// Number of points and scalars.
    pub count: u32,
    /// Card address of the scalars.
    pub scalars: u64,
    /// Window width.
    pub c: u32,
    /// Segments per window.
    pub segments: u32,
    /// Card address of the result block.
    pub result: u64,
}

impl MsmArgs {
    /// Bytes of the result block of `c`-bit windows in `segments` segments.
    pub fn result_bytes(group: Group, c: u32, segments: u32) -> u64 {
        u64::from(msm_windows(c)) * u64::from(segments) * 2 * group.xyzz_bytes() as u64
    }

    /// Bytes of one window's part of the result block.
    pub fn window_bytes(&self) -> u64 {
        u64::from(self.segments) * 2 * self.table.group.xyzz_bytes() as u64
    }
}

/// A checked NTT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NttArgs {
    /// Card address of the first vector.
    pub data: u64,
    /// log2 of a vector's length.
    pub log_n: u32,
    /// Number of vectors.
    pub count: u32,
    /// Transform or scale.
    pub kind: NttKind,
    /// Card address of the parameters.
    pub params: u64,
}

impl NttArgs {
    /// Bytes of one vector.
    pub fn vector_bytes(&self) -> u64 {
        SCALAR_BYTES << self.log_n
    }
}

/// A descriptor that passed the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// A fence.
    Nop,
    /// Register `table` in slot `id`.
    LoadTable {
        /// The slot.
        id: u32,
        /// The table.
        table: Table,
    },
    /// Free slot `id`.
    FreeTable {
        /// The slot.
        id: u32,
    },
    /// An MSM.
    Msm(MsmArgs),
    /// An NTT step.
    Ntt(NttArgs),
}

/// What the checks need to know about the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Card memory size in bytes.
    pub mem_size: u64,
    /// MSM engines the firmware drives.
    pub msm_engines: u32,
    /// NTT engines the firmware drives.
    pub ntt_engines: u32,
}

/// Checks that `[addr, addr + len)` lies inside the card memory (overflow-safe).
fn in_memory(addr: u64, len: Option<u64>, limits: &Limits, arg: u64) -> Result<(), Refusal> {
    match len.and_then(|l| addr.checked_add(l)) {
        Some(end) if end <= limits.mem_size => Ok(()),
        _ => refuse(Error::OutOfRange, arg),
    }
}

/// Checks that `addr` is a multiple of `align`.
fn aligned(addr: u64, align: u64, arg: u64) -> Result<(), Refusal> {
    if addr.is_multiple_of(align) {
        Ok(())
    } else {
        refuse(Error::Misaligned, arg)
    }
}

/// A count argument: 1..=u32::MAX.
fn count(value: u64, arg: u64) -> Result<u32, Refusal> {
    match u32::try_from(value) {
        Ok(n) if n != 0 => Ok(n),
        _ => refuse(Error::BadLength, arg),
    }
}

/// Checks that a region the engines write is in memory and clear of the rings.
fn writable(
    addr: u64,
    len: Option<u64>,
    limits: &Limits,
    rings: Option<&Rings>,
    arg: u64,
) -> Result<(), Refusal> {
    in_memory(addr, len, limits, arg)?;
    match (rings, len) {
        (Some(r), Some(len)) if r.overlaps(addr, len) => refuse(Error::OutOfRange, arg),
        _ => Ok(()),
    }
}

/// Checks `desc` against the resident tables and the card (see the module docs).
pub fn validate(
    desc: &Descriptor,
    tables: &Tables,
    limits: &Limits,
    rings: Option<&Rings>,
) -> Result<Command, Refusal> {
    let a = &desc.args;
    let Some(opcode) = Opcode::from_code(desc.opcode) else {
        return refuse(Error::UnknownOpcode, 0);
    };
    match opcode {
        Opcode::Nop => Ok(Command::Nop),
        Opcode::LoadTable => {
            if !Tables::is_slot(a[0]) {
                return refuse(Error::UnknownTable, 0);
            }
            if tables.get(a[0]).is_some() {
                return refuse(Error::TableInUse, 0);
            }
            let Some(group) = Group::from_code(a[3]) else {
                return refuse(Error::Unsupported, 3);
            };
            let n = count(a[2], 2)?;
            aligned(a[1], 64, 1)?;
            let bytes = u64::from(n).checked_mul(group.affine_bytes() as u64);
            in_memory(a[1], bytes, limits, 1)?;
            Ok(Command::LoadTable {
                id: a[0] as u32,
                table: Table {
                    addr: a[1],
                    count: u64::from(n),
                    group,
                },
            })
        }
        Opcode::FreeTable => match tables.get(a[0]) {
            Some(_) => Ok(Command::FreeTable { id: a[0] as u32 }),
            None => refuse(Error::UnknownTable, 0),
        },
        Opcode::Msm => {
            let Some(table) = tables.get(a[0]).copied() else {
                return refuse(Error::UnknownTable, 0);
            };
            let n = count(a[2], 2)?;
            let start = a[1];
            if start >= table.count {
                return refuse(Error::OutOfRange, 1);
            }
            match start.checked_add(u64::from(n)) {
                Some(end) if end <= table.count => {}
                _ => return refuse(Error::OutOfRange, 2),
            }
            let c = a[4];
            if !(u64::from(MIN_WINDOW_BITS)..=u64::from(MAX_WINDOW_BITS)).contains(&c) {
                return refuse(Error::Unsupported, 4);
            }
            let c = c as u32;
            let segments = a[5];
            if !segments.is_power_of_two()
                || segments > 1 << (c - 1)
                || segments > u64::from(MAX_SEGMENTS)
            {
                return refuse(Error::Unsupported, 5);
            }
            let segments = segments as u32;
            aligned(a[3], 32, 3)?;
            in_memory(a[3], Some(u64::from(n) * SCALAR_BYTES), limits, 3)?;
            aligned(a[6], 64, 6)?;
            let result_bytes = MsmArgs::result_bytes(table.group, c, segments);
            writable(a[6], Some(result_bytes), limits, rings, 6)?;
            if limits.msm_engines == 0 {
                return refuse(Error::Unsupported, 0);
            }
            Ok(Command::Msm(MsmArgs {
                table,
                start,
                count: n,
                scalars: a[3],
                c,
                segments,
                result: a[6],
            }))
        }
        Opcode::Ntt => {
            aligned(a[0], 32, 0)?;
            let log_n = a[1];
            if !(1..=u64::from(MAX_LOG_NTT)).contains(&log_n) {
                return refuse(Error::BadLength, 1);
            }
            let log_n = log_n as u32;
            let n = count(a[2], 2)?;
            let Some(kind) = NttKind::from_code(a[3]) else {
                return refuse(Error::Unsupported, 3);
            };
            let bytes = u64::from(n).checked_mul(SCALAR_BYTES << log_n);
            writable(a[0], bytes, limits, rings, 0)?;
            aligned(a[4], 32, 4)?;
            let param_bytes = match kind {
                NttKind::Transform => TRANSFORM_PARAM_BYTES,
                NttKind::Scale => SCALE_PARAM_BYTES,
            };
            in_memory(a[4], Some(param_bytes), limits, 4)?;
            if limits.ntt_engines == 0 {
                return refuse(Error::Unsupported, 0);
            }
            Ok(Command::Ntt(NttArgs {
                data: a[0],
                log_n,
                count: n,
                kind,
                params: a[4],
            }))
        }
    }
}
