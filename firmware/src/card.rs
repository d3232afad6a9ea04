//! What the firmware drives: the card as the soft core sees it. On a real card these are
//! the AXI-Lite control registers of the HLS engines, the DDR/HBM behind the AXI
//! interconnect, and the host-facing register file in BAR0; the host driver's emulator
//! (`kiln-device`'s `fpga` backend) implements the same trait over the engines' C++.

use crate::abi::Group;

/// One pass of an MSM engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsmPass {
    /// Accumulates `count` points (affine, from `points`) with the signed digit of window
    /// `window` (width `c`) of their scalars (from `scalars`) into the engine's on-chip
    /// buckets, cleared first when `clear`.
    Accumulate {
        /// G1 or G2.
        group: Group,
        /// Card address of the first point.
        points: u64,
        /// Card address of the first scalar.
        scalars: u64,
        /// Points in this pass (≤ [`crate::abi::MAX_CHUNK`]).
        count: u32,
        /// Window width.
        c: u32,
        /// Window index.
        window: u32,
        /// Zero the buckets first.
        clear: bool,
    },
    /// Reduces the buckets of window width `c` into `segments` pairs `(R_s, T_s)` of XYZZ
    /// points written at `out` (see [`crate::abi`]).
    Reduce {
        /// G1 or G2.
        group: Group,
        /// Window width.
        c: u32,
        /// Segments.
        segments: u32,
        /// Card address of the output.
        out: u64,
    },
}

/// One pass of an NTT engine over one vector of `2^log_n` Fr elements at `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NttPass {
    /// Bit reversal then radix-2 DIT stages with root `omega` (Montgomery form).
    Transform {
        /// Card address of the vector.
        data: u64,
        /// log2 of its length.
        log_n: u32,
        /// The root of unity of order `2^log_n`.
        omega: [u8; 32],
    },
    /// Element `i` times `factor·shift^i`.
    Scale {
        /// Card address of the vector.
        data: u64,
        /// log2 of its length.
        log_n: u32,
        /// The constant factor.
        factor: [u8; 32],
        /// The shift whose powers multiply the elements.
        shift: [u8; 32],
    },
}

/// How an engine pass ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineDone {
    /// Cycles the engine spent (from its pipeline model).
    pub cycles: u64,
    /// Points deferred by the hazard scheduler (MSM accumulate passes; 0 otherwise).
    pub deferred: u64,
    /// 0, or the engine's fault code.
    pub fault: u32,
}

/// The card's hardware as the firmware sees it.
pub trait Card {
    /// Card memory size in bytes.
    fn mem_size(&self) -> u64;
    /// Reads card memory at `addr` (the firmware checks ranges before calling).
    fn mem_read(&mut self, addr: u64, buf: &mut [u8]);
    /// Writes card memory at `addr` (the firmware checks ranges before calling).
    fn mem_write(&mut self, addr: u64, data: &[u8]);
    /// Reads a host-facing register (a [`crate::abi::reg`] offset).
    fn reg_read(&mut self, offset: u32) -> u32;
    /// Writes a host-facing register.
    fn reg_write(&mut self, offset: u32, value: u32);
    /// Number of MSM engines.
    fn msm_engines(&self) -> u32;
    /// Number of NTT engines.
    fn ntt_engines(&self) -> u32;
    /// The engines' clock in MHz.
    fn clock_mhz(&self) -> u32;
    /// Starts `pass` on MSM engine `engine` (idle).
    fn msm_start(&mut self, engine: u32, pass: &MsmPass);
    /// `Some` once MSM engine `engine`'s pass has finished (then it is idle again).
    fn msm_poll(&mut self, engine: u32) -> Option<EngineDone>;
    /// Starts `pass` on NTT engine `engine` (idle).
    fn ntt_start(&mut self, engine: u32, pass: &NttPass);
    /// `Some` once NTT engine `engine`'s pass has finished.
    fn ntt_poll(&mut self, engine: u32) -> Option<EngineDone>;
    /// Aborts whatever every engine is doing; they are idle afterwards.
    fn reset_engines(&mut self);
    /// The soft core's cycle counter (`mcycle`), for the watchdog.
    fn now(&mut self) -> u64;
}
