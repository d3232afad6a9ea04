//! The card's host interface, shared by the firmware and the host driver (`kiln-device`'s
//! `fpga` backend): the register file in BAR0, the descriptor and completion rings in card
//! memory, the opcodes with their arguments, the error codes, and the data layouts the
//! engines read and write. Everything is little-endian.
//!
//! # Rings
//!
//! The host points `DESC_BASE_*` at a ring of `DESC_ENTRIES` (a power of two) 64-byte
//! [`Descriptor`]s in card memory and `COMPL_BASE_*` at a ring of `COMPL_ENTRIES` 32-byte
//! [`Completion`]s, then writes [`reg::RING_ENABLE`] = 1. Indices are free-running `u32`s:
//! entry `i` lives at `base + (i mod entries) * size`. The host writes descriptors, then
//! rings the doorbell by writing its producer index to [`reg::DESC_HEAD`]; the firmware
//! consumes them in order, advancing [`reg::DESC_TAIL`], and posts one completion per
//! descriptor at [`reg::COMPL_HEAD`]; the host acknowledges by writing [`reg::COMPL_TAIL`].
//! A doorbell more than `DESC_ENTRIES` ahead of the tail is a ring overrun: the firmware
//! posts one [`Error::RingOverrun`] completion, skips to the head and keeps serving.
//!
//! # Data in card memory
//!
//! - A field element (BN254 Fq or Fr) is 32 bytes, little-endian, in Montgomery form
//!   (`x·2^256 mod p`), the form arkworks keeps internally.
//! - An Fq2 element `c0 + c1·u` (`u² = −1`) is 64 bytes: `c0` then `c1`.
//! - An affine point is `(x, y)`: 64 bytes in G1, 128 in G2; all zeros is the point at
//!   infinity (no curve point has `x = y = 0`).
//! - An XYZZ point is `(X, Y, ZZ, ZZZ)` with `x = X/ZZ`, `y = Y/ZZZ`: 128 bytes in G1,
//!   256 in G2; `ZZ = 0` is infinity.
//! - A scalar is 32 bytes, little-endian, canonical (not Montgomery), below the group order.
//!
//! # MSM results
//!
//! The MSM engine uses signed (Booth) window digits: for window `w` of width `c`,
//! `d_w = v − 2^c·b_{wc+c−1} + b_{wc−1}` where `v` is the value of scalar bits
//! `[wc, wc + c)` and `b_{−1} = 0`; `d_w ∈ [−2^(c−1), 2^(c−1)]`, `Σ d_w·2^(wc)` is the
//! scalar over [`msm_windows`]`(c)` windows, and a point with digit `d ≠ 0` goes (negated
//! when `d < 0`) into bucket `|d| − 1` of `2^(c−1)`. Each window's buckets are reduced in
//! `segments` equal, interleaved segments; segment `s` of `B/S` buckets starting at bucket
//! `k0` yields `R_s = Σ (k − k0 + 1)·B_k` and `T_s = Σ B_k`. An MSM's result block is, per
//! window `w` (low first) and segment `s`, the XYZZ points `R_s, T_s`; the host computes
//! `Σ_w 2^(wc) Σ_s (R_s + k0_s·T_s)`.

/// "KILN" read from [`reg::MAGIC`].
pub const MAGIC: u32 = 0x4b49_4c4e;
/// The version of this interface, read from [`reg::VERSION`].
pub const ABI_VERSION: u32 = 1;

/// Byte offsets of the 32-bit registers in BAR0. 64-bit values are `_LO`/`_HI` pairs.
pub mod reg {
    /// Reads [`super::MAGIC`].
    pub const MAGIC: u32 = 0x00;
    /// Reads [`super::ABI_VERSION`].
    pub const VERSION: u32 = 0x04;
    /// Firmware status bits: [`STATUS_READY`], [`STATUS_RINGS_UP`], [`STATUS_BUSY`].
    pub const STATUS: u32 = 0x08;
    /// Host writes [`CONTROL_RESET`] to abort the command in progress, reset the engines
    /// and take the rings down (resident tables are kept). No completion is posted for
    /// the aborted command. The firmware writes it back to 0 once done.
    pub const CONTROL: u32 = 0x0c;
    /// Descriptor ring base address in card memory (64-byte aligned).
    pub const DESC_BASE_LO: u32 = 0x10;
    /// High half of the descriptor ring base.
    pub const DESC_BASE_HI: u32 = 0x14;
    /// Descriptor ring entries (a power of two, 1..=[`super::MAX_RING_ENTRIES`]).
    pub const DESC_ENTRIES: u32 = 0x18;
    /// The doorbell: the host's producer index.
    pub const DESC_HEAD: u32 = 0x1c;
    /// The firmware's consumer index (read only).
    pub const DESC_TAIL: u32 = 0x20;
    /// Completion ring base address in card memory (32-byte aligned).
    pub const COMPL_BASE_LO: u32 = 0x28;
    /// High half of the completion ring base.
    pub const COMPL_BASE_HI: u32 = 0x2c;
    /// Completion ring entries (a power of two, 1..=[`super::MAX_RING_ENTRIES`]).
    pub const COMPL_ENTRIES: u32 = 0x30;
    /// The firmware's producer index of completions (read only).
    pub const COMPL_HEAD: u32 = 0x34;
    /// The host's consumer index of completions.
    pub const COMPL_TAIL: u32 = 0x38;
    /// Host writes 1 after setting both rings; the firmware checks them, then sets
    /// [`STATUS_RINGS_UP`] (zeroing `DESC_HEAD`, `DESC_TAIL`, `COMPL_HEAD` and
    /// `COMPL_TAIL`) or reports [`RING_ERROR`], and writes `RING_ENABLE` back to 0. The
    /// host waits for it to read 0 before ringing the doorbell.
    pub const RING_ENABLE: u32 = 0x3c;
    /// Card memory size in bytes, low half (set by the card).
    pub const MEM_SIZE_LO: u32 = 0x40;
    /// Card memory size, high half.
    pub const MEM_SIZE_HI: u32 = 0x44;
    /// Number of MSM engines on the card.
    pub const MSM_ENGINES: u32 = 0x48;
    /// Number of NTT engines on the card.
    pub const NTT_ENGINES: u32 = 0x4c;
    /// The engines' clock in MHz.
    pub const CLOCK_MHZ: u32 = 0x50;
    /// Why the last ring enable failed (an [`super::Error`] code, 0 if none).
    pub const RING_ERROR: u32 = 0x54;
    /// Device (physical) address of card memory, low half. Written by the host on cards
    /// where card memory is a buffer at a device address (XRT: one buffer object): card
    /// addresses (in descriptors, ring bases, table and result addresses) are then offsets
    /// into that buffer, and the firmware adds this base to every card address it hands
    /// to its memory window and to the engines. 0 (the reset value) means card addresses
    /// are physical. The host writes it (low half, then high) before [`RING_ENABLE`]; the
    /// card firmware latches it when it takes the rings up, so it never changes under a
    /// command. The host's buffer must cover every card address the firmware uses:
    /// [`MEM_SIZE_LO`] bytes, plus the card firmware's 64 KiB engine scratch right above
    /// them (the card reports its memory less that scratch as `MEM_SIZE`).
    pub const MEM_BASE_LO: u32 = 0x58;
    /// High half of [`MEM_BASE_LO`].
    pub const MEM_BASE_HI: u32 = 0x5c;
    /// Telemetry: [`super::Counter`] `i` is the u64 at `TELEMETRY + 8·i` (low word first).
    pub const TELEMETRY: u32 = 0x100;
    /// Size of the register file in bytes.
    pub const SIZE: u32 = 0x200;

    /// [`STATUS`] bit: the firmware is running.
    pub const STATUS_READY: u32 = 1 << 0;
    /// [`STATUS`] bit: the rings are configured and being served.
    pub const STATUS_RINGS_UP: u32 = 1 << 1;
    /// [`STATUS`] bit: a command is in progress.
    pub const STATUS_BUSY: u32 = 1 << 2;
    /// [`CONTROL`] value that resets the card's command state.
    pub const CONTROL_RESET: u32 = 1;
}

/// Largest ring the firmware accepts.
pub const MAX_RING_ENTRIES: u32 = 4096;
/// Number of point-table slots (table ids `0..MAX_TABLES`).
pub const MAX_TABLES: u32 = 64;
/// Narrowest MSM window.
pub const MIN_WINDOW_BITS: u32 = 2;
/// Widest MSM window (2^15 buckets per engine in on-chip memory).
pub const MAX_WINDOW_BITS: u32 = 16;
/// Most reduction segments per window.
pub const MAX_SEGMENTS: u32 = 256;
/// Largest NTT (log2 of the length).
pub const MAX_LOG_NTT: u32 = 28;
/// Largest number of points one engine pass streams (the firmware splits an MSM into
/// chunks of at most this many, accumulating into the same buckets).
pub const MAX_CHUNK: u32 = 1 << 16;

/// Number of signed windows of width `c` that cover a scalar below 2^254.
pub const fn msm_windows(c: u32) -> u32 {
    255_u32.div_ceil(c)
}

/// Bytes of one descriptor.
pub const DESCRIPTOR_BYTES: usize = 64;
/// Bytes of one completion.
pub const COMPLETION_BYTES: usize = 32;

/// The group of a point table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Group {
    /// G1 over Fq: 64-byte affine points.
    G1 = 1,
    /// G2 over Fq2: 128-byte affine points.
    G2 = 2,
}

impl Group {
    /// The group with wire code `code`.
    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            1 => Some(Group::G1),
            2 => Some(Group::G2),
            _ => None,
        }
    }

    /// Bytes of one affine point.
    pub const fn affine_bytes(self) -> usize {
        match self {
            Group::G1 => 64,
            Group::G2 => 128,
        }
    }

    /// Bytes of one XYZZ point.
    pub const fn xyzz_bytes(self) -> usize {
        2 * self.affine_bytes()
    }
}

/// Descriptor opcodes and their arguments (`args[i]` of [`Descriptor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Opcode {
    /// Does nothing; completes with [`STATUS_OK`] (a fence).
    Nop = 0,
    /// Makes a table resident. `args`: 0 table id, 1 card address of the affine points
    /// (64-byte aligned), 2 point count (≥ 1), 3 group code ([`Group`]).
    LoadTable = 1,
    /// Frees a table slot. `args`: 0 table id.
    FreeTable = 2,
    /// `Σ scalar[i]·point[start + i]` over a resident table, as per-window segment sums.
    /// `args`: 0 table id, 1 start, 2 count (≥ 1), 3 scalars address (32-byte aligned),
    /// 4 window bits `c`, 5 segments (a power of two, ≤ 2^(c−1) and ≤ [`MAX_SEGMENTS`]),
    /// 6 result address (64-byte aligned; `msm_windows(c)·segments·2` XYZZ points).
    Msm = 3,
    /// One NTT step on `count` vectors of `2^log_n` Fr elements stored back to back.
    /// `args`: 0 data address (32-byte aligned), 1 `log_n` (1..=[`MAX_LOG_NTT`]),
    /// 2 count (≥ 1), 3 kind ([`NttKind`]), 4 parameter address (32-byte aligned):
    /// for a transform the root `ω` (32 bytes), for a scale `factor` then `shift`
    /// (64 bytes: element `i` is multiplied by `factor·shift^i`).
    Ntt = 4,
}

impl Opcode {
    /// The opcode with wire code `code`.
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Opcode::Nop),
            1 => Some(Opcode::LoadTable),
            2 => Some(Opcode::FreeTable),
            3 => Some(Opcode::Msm),
            4 => Some(Opcode::Ntt),
            _ => None,
        }
    }
}

/// What an NTT descriptor does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum NttKind {
    /// Bit-reversal then radix-2 DIT stages with twiddles `ω^k` (forward with `ω`,
    /// inverse, unscaled, with `ω^−1`).
    Transform = 0,
    /// Element `i` times `factor·shift^i`.
    Scale = 1,
}

impl NttKind {
    /// The kind with wire code `code`.
    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(NttKind::Transform),
            1 => Some(NttKind::Scale),
            _ => None,
        }
    }
}

/// A 64-byte descriptor: opcode, a host tag echoed in the completion, and seven 64-bit
/// arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// An [`Opcode`] code.
    pub opcode: u32,
    /// The host's tag, echoed in the completion.
    pub tag: u32,
    /// The arguments.
    pub args: [u64; 7],
}

impl Descriptor {
    /// The wire bytes.
    pub fn to_bytes(&self) -> [u8; DESCRIPTOR_BYTES] {
        let mut b = [0u8; DESCRIPTOR_BYTES];
        b[0..4].copy_from_slice(&self.opcode.to_le_bytes());
        b[4..8].copy_from_slice(&self.tag.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[8 + 8 * i..16 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        b
    }

    /// Reads the wire bytes.
    pub fn from_bytes(b: &[u8; DESCRIPTOR_BYTES]) -> Self {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut args = [0u64; 7];
        for (i, a) in args.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[8 + 8 * i..16 + 8 * i]);
            *a = u64::from_le_bytes(w);
        }
        Descriptor {
            opcode: u32_at(0),
            tag: u32_at(4),
            args,
        }
    }
}

/// A 32-byte completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Completion {
    /// The descriptor's tag (0 for a ring-overrun report).
    pub tag: u32,
    /// [`STATUS_OK`] (0), or an [`Error`] code.
    pub status: u32,
    /// Engine cycles the command took (the modelled card time at [`reg::CLOCK_MHZ`]).
    pub cycles: u64,
    /// For an error: which argument was refused (its index), or the engine's fault code.
    pub detail: u64,
    /// The descriptor's opcode.
    pub opcode: u32,
    /// The descriptor's ring index.
    pub index: u32,
}

impl Completion {
    /// The wire bytes.
    pub fn to_bytes(&self) -> [u8; COMPLETION_BYTES] {
        let mut b = [0u8; COMPLETION_BYTES];
        b[0..4].copy_from_slice(&self.tag.to_le_bytes());
        b[4..8].copy_from_slice(&self.status.to_le_bytes());
        b[8..16].copy_from_slice(&self.cycles.to_le_bytes());
        b[16..24].copy_from_slice(&self.detail.to_le_bytes());
        b[24..28].copy_from_slice(&self.opcode.to_le_bytes());
        b[28..32].copy_from_slice(&self.index.to_le_bytes());
        b
    }

    /// Reads the wire bytes.
    pub fn from_bytes(b: &[u8; COMPLETION_BYTES]) -> Self {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        Completion {
            tag: u32_at(0),
            status: u32_at(4),
            cycles: u64_at(8),
            detail: u64_at(16),
            opcode: u32_at(24),
            index: u32_at(28),
        }
    }
}

/// Status 0: the command succeeded.
pub const STATUS_OK: u32 = 0;

/// Why the firmware refused or failed a command (the completion's status code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Error {
    /// The opcode is not one of [`Opcode`].
    UnknownOpcode = 1,
    /// A length or count is zero, too large, or not what the opcode allows (`detail`:
    /// the argument's index).
    BadLength = 2,
    /// The table id names no resident table, or is `≥ MAX_TABLES`.
    UnknownTable = 3,
    /// A table is loaded into a slot already in use.
    TableInUse = 4,
    /// An address is not aligned as the opcode requires (`detail`: the argument's index).
    Misaligned = 5,
    /// An address range runs past the card memory, or an MSM past its table (`detail`:
    /// the argument's index).
    OutOfRange = 6,
    /// The doorbell was more than a ring ahead of the consumer (`detail`: how far ahead;
    /// the completion's tag and opcode are 0, its index the skipped tail).
    RingOverrun = 7,
    /// A valid request the card cannot do (an unknown group or NTT kind, a window width
    /// or segment count outside the engine's range).
    Unsupported = 8,
    /// An engine reported a fault (`detail`: its code).
    EngineFault = 9,
    /// An engine did not finish within the firmware's watchdog (`detail`: the engine's
    /// index).
    EngineTimeout = 10,
    /// The ring configuration is invalid (unaligned, out of range, not a power of two).
    BadRing = 11,
    /// The command was aborted by a reset. The firmware never posts it (a reset takes the
    /// rings down); the host driver reports it for the commands a reset dropped.
    Aborted = 12,
}

impl Error {
    /// The error with status code `code` (0 is not an error).
    pub fn from_code(code: u32) -> Option<Self> {
        use Error::*;
        [
            UnknownOpcode,
            BadLength,
            UnknownTable,
            TableInUse,
            Misaligned,
            OutOfRange,
            RingOverrun,
            Unsupported,
            EngineFault,
            EngineTimeout,
            BadRing,
            Aborted,
        ]
        .into_iter()
        .find(|e| *e as u32 == code)
    }

    /// A short description, for host error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Error::UnknownOpcode => "unknown opcode",
            Error::BadLength => "bad length or count",
            Error::UnknownTable => "unknown table",
            Error::TableInUse => "table slot already in use",
            Error::Misaligned => "misaligned address",
            Error::OutOfRange => "address range outside card memory or table",
            Error::RingOverrun => "descriptor ring overrun",
            Error::Unsupported => "unsupported by the card's engines",
            Error::EngineFault => "engine fault",
            Error::EngineTimeout => "engine timed out",
            Error::BadRing => "invalid ring configuration",
            Error::Aborted => "aborted by a reset",
        }
    }
}

/// Telemetry counters, by index (see [`reg::TELEMETRY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Counter {
    /// Commands completed successfully.
    CommandsDone = 0,
    /// Commands refused or failed.
    CommandsFailed = 1,
    /// Cycles the MSM engines were busy.
    MsmCycles = 2,
    /// Cycles the NTT engines were busy.
    NttCycles = 3,
    /// Engine faults and timeouts.
    Faults = 4,
    /// Ring overruns.
    Overruns = 5,
    /// Resets by the host.
    Resets = 6,
    /// MSM engine passes (chunks of windows) run.
    MsmPasses = 7,
    /// Points deferred by the MSM engines' hazard schedulers.
    MsmDeferred = 8,
}

/// Number of telemetry counters.
pub const COUNTERS: u32 = 9;
