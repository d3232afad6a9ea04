//! The card binary: the firmware's poll loop on the card's RISC-V soft core
//! (`riscv32imac-unknown-none-elf`), with [`Card`](kiln_firmware::card::Card) implemented over
//! MMIO.
//!
//! Build (from the workspace root):
//! `cargo build -p kiln-firmware --release --target riscv32imac-unknown-none-elf --features card --bin card`.
//! `build.rs` links it with `card.ld`. Built for any other target it is a stub that says so.
//!
//! # Memory map (soft core addresses)
//!
//! | address                     | what                                                  |
//! |-----------------------------|-------------------------------------------------------|
//! | `0x0000_0000..0x0002_0000`  | local BRAM: code, data, stack (`card.ld`)             |
//! | `0x1000_0000..0x1000_0200`  | the BAR0 register file ([`kiln_firmware::abi::reg`]), dual-ported: the host writes it over PCIe |
//! | `0x1000_1000..0x1000_1100`  | card block: identity, memory window, engine reset, fault record (below) |
//! | `0x2000_0000 + 0x1_0000·i`  | MSM engine `i`'s G1 core (`kiln_msm_g1_top`) `s_axilite` control block (`i < 16`) |
//! | `0x2000_8000 + 0x1_0000·i`  | MSM engine `i`'s G2 core (`kiln_msm_g2_top`) `s_axilite` control block (`i < 16`) |
//! | `0x3000_0000 + 0x1_0000·i`  | NTT engine `i`'s (`kiln_ntt_top`) `s_axilite` control block (`i < 16`) |
//! | `0x4000_0000..0x8000_0000`  | card memory window: 1 GiB of DDR/HBM from `WINDOW_BASE` |
//!
//! Card block (32-bit registers, offsets from `0x1000_1000`): `0x00`/`0x04` card memory
//! size (lo/hi, RO), `0x08` MSM engines (RO), `0x0c` NTT engines (RO), `0x10` engine clock
//! MHz (RO), `0x14` MSM cores (RO: bit 0 set when every MSM engine has a G1 core, bit 1 a
//! G2 core; a G2 core is ~3× a G1 core, so an image usually has one kind), `0x20`/`0x24`
//! `WINDOW_BASE` (lo/hi, RW, 1 GiB aligned, a physical address), `0x30` engine reset
//! (write 1 pulses every engine's `ap_rst_n`; reads 1 until the pulse is over), `0x40`
//! fault code, `0x44` fault word 1, `0x48` fault word 2 (RW; written by the panic and
//! trap handlers).
//!
//! # Card addresses and the memory base
//!
//! Addresses in descriptors and rings are *card addresses*: offsets into card memory as
//! the host sees it. Where the host's transport maps card memory as one buffer at a device
//! address (XRT), it writes that address to
//! [`kiln_firmware::abi::reg::MEM_BASE_LO`]/`_HI`; the firmware latches it at boot and
//! whenever the host enables the rings (the host writes it before
//! [`kiln_firmware::abi::reg::RING_ENABLE`], so it never changes under a command), and
//! adds it to every card address it maps through the memory window and every address it
//! programs into an engine. 0 (the reset value) means card addresses are physical.
//!
//! # Firmware scratch
//!
//! The firmware owns the top [`SCRATCH_BYTES`] (64 KiB) of card memory: with `S` = card
//! memory size (card block) − 64 KiB, rounded down to 64 KiB, the firmware reports `S` as
//! [`kiln_firmware::abi::reg::MEM_SIZE_LO`]/`_HI`, so the host's heap, rings and tables
//! stay below it and no descriptor can name the scratch (the firmware's range checks
//! refuse it). The host's buffer must therefore cover card addresses up to `S + 64 KiB`
//! (at most the card block's memory size). Card addresses from `S`:
//!
//! | card address           | what                                                      |
//! |------------------------|-----------------------------------------------------------|
//! | `S + 0x0000 + 0x40·i`  | MSM engine `i`'s G1 core `stats[4]` (32 bytes)             |
//! | `S + 0x0400 + 0x40·i`  | MSM engine `i`'s G2 core `stats[4]` (32 bytes)             |
//! | `S + 0x0800 + 0x40·i`  | NTT engine `i`'s `stats[4]` (32 bytes)                     |
//! | `S + 0x0c00 + 0x40·i`  | NTT engine `i`'s `param[2]` (64 bytes: two 256-bit words)  |
//! | `S + 0x1000..S + 0x1_0000` | unused (spare)                                        |
//!
//! `stats[4]` = `{cycles, issued, stalls, deferred}` (u64, little-endian), written by the
//! engine through its stats `m_axi` port before it raises `ap_done`; the firmware zeroes
//! it before each pass (an engine that refuses its arguments returns before writing it).
//!
//! # Engine control blocks
//!
//! The engines are the HLS tops of `hw/include/kiln_hw_top.h` (`hw/src/msm.cpp`,
//! `hw/src/ntt.cpp`), each with one `s_axilite` control interface (`ap_ctrl_hs`, `port =
//! return`, every `m_axi` pointer `offset = slave`, `config_interface -m_axi_addr64`) laid
//! out as Vitis HLS does: `0x00` control (bit 0 `ap_start`, bit 1 `ap_done` — clear on
//! read, bit 2 `ap_idle`, bit 3 `ap_ready`), `0x04` GIE, `0x08` IER, `0x0c` ISR, `0x10`
//! `ap_return` (the top's `int`: 0, or `KILN_HW_EINVAL` = −1 read as `0xffff_ffff`, the
//! fault code the firmware reports), `0x14` reserved; then the arguments in declaration
//! order, each at an 8-byte aligned offset: a scalar is one word (its value in the low
//! bits) then a reserved word; a 64-bit `m_axi` pointer offset is two words (low, high)
//! then a reserved word, and the next argument starts at the following 8-byte boundary.
//!
//! `kiln_msm_g1_top` / `kiln_msm_g2_top` (identical maps; `(op, points, scalars, out, n,
//! c, window, clear, segments, stats)`):
//!
//! | offset        | argument                | type / width          |
//! |---------------|-------------------------|-----------------------|
//! | `0x10`        | `ap_return` (fault)     | `int`, RO             |
//! | `0x18`        | `op` (0 accumulate, 1 reduce) | `ap_uint<1>`    |
//! | `0x20`/`0x24` | `points`                | `m_axi` pointer, 64   |
//! | `0x30`/`0x34` | `scalars`               | `m_axi` pointer, 64   |
//! | `0x40`/`0x44` | `out`                   | `m_axi` pointer, 64   |
//! | `0x50`        | `n`                     | `ap_uint<32>`         |
//! | `0x58`        | `c`                     | `ap_uint<5>`          |
//! | `0x60`        | `window`                | `ap_uint<8>`          |
//! | `0x68`        | `clear`                 | `ap_uint<1>`          |
//! | `0x70`        | `segments`              | `ap_uint<9>`          |
//! | `0x78`/`0x7c` | `stats`                 | `m_axi` pointer, 64   |
//!
//! `kiln_ntt_top` (`(op, data, log_n, param, stats)`):
//!
//! | offset        | argument                | type / width          |
//! |---------------|-------------------------|-----------------------|
//! | `0x10`        | `ap_return` (fault)     | `int`, RO             |
//! | `0x18`        | `op` (0 transform, 1 scale) | `ap_uint<1>`      |
//! | `0x20`/`0x24` | `data`                  | `m_axi` pointer, 64   |
//! | `0x30`        | `log_n`                 | `ap_uint<5>`          |
//! | `0x38`/`0x3c` | `param` (`param[0]` = ω or factor, `param[1]` = shift) | `m_axi` pointer, 64 |
//! | `0x48`/`0x4c` | `stats`                 | `m_axi` pointer, 64   |
//!
//! Every pass programs every argument (those the pass does not use as 0), all addresses
//! physical (card address + memory base). A pass for a group whose core the image lacks
//! (card block `0x14`) is not started; it completes with fault [`FAULT_NO_CORE`].
//!
//! The watchdog's clock is the `mcycle` CSR.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "the card binary runs on the card's soft core: build it with \
         --target riscv32imac-unknown-none-elf --features card"
    );
    std::process::exit(2);
}

/// Bytes at the top of card memory the firmware keeps for its engine scratch (see the
/// crate docs); the firmware reports card memory minus this as `MEM_SIZE`.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const SCRATCH_BYTES: u64 = 64 << 10;

/// The fault code of a pass for a group whose MSM core the card image lacks.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const FAULT_NO_CORE: u32 = 0xdead_0003;

#[cfg(target_os = "none")]
mod soft_core {
    use core::ptr::{read_volatile, write_volatile};

    use kiln_firmware::abi::{reg, Group};
    use kiln_firmware::card::{Card, EngineDone, MsmPass, NttPass};
    use kiln_firmware::{Config, Firmware};

    use super::{FAULT_NO_CORE, SCRATCH_BYTES};

    /// The BAR0 register file.
    const REGFILE: usize = 0x1000_0000;
    /// The card block.
    const CARD: usize = 0x1000_1000;
    const CARD_MEM_SIZE_LO: usize = 0x00;
    const CARD_MEM_SIZE_HI: usize = 0x04;
    const CARD_MSM_ENGINES: usize = 0x08;
    const CARD_NTT_ENGINES: usize = 0x0c;
    const CARD_CLOCK_MHZ: usize = 0x10;
    const CARD_MSM_CORES: usize = 0x14;
    const CARD_WINDOW_LO: usize = 0x20;
    const CARD_WINDOW_HI: usize = 0x24;
    const CARD_ENGINE_RESET: usize = 0x30;
    const CARD_FAULT_CODE: usize = 0x40;
    const CARD_FAULT_1: usize = 0x44;
    const CARD_FAULT_2: usize = 0x48;
    /// `CARD_MSM_CORES` bit: every MSM engine has a G1 core.
    const CORES_G1: u32 = 1 << 0;
    /// `CARD_MSM_CORES` bit: every MSM engine has a G2 core.
    const CORES_G2: u32 = 1 << 1;
    /// Fault codes in `CARD_FAULT_CODE`.
    const FAULT_PANIC: u32 = 0xdead_0001;
    const FAULT_TRAP: u32 = 0xdead_0002;

    /// Most engines of each kind in the memory map.
    const MAX_ENGINES: u32 = 16;
    /// MSM engine control blocks (G1 cores).
    const MSM_BASE: usize = 0x2000_0000;
    /// Offset of an MSM engine's G2 core from its G1 core.
    const MSM_G2: usize = 0x8000;
    /// NTT engine control blocks.
    const NTT_BASE: usize = 0x3000_0000;
    /// Stride between engine control blocks.
    const ENGINE_STRIDE: usize = 0x1_0000;
    /// The card memory window.
    const WINDOW: usize = 0x4000_0000;
    /// Its size (and the alignment of `WINDOW_BASE`).
    const WINDOW_SIZE: u64 = 1 << 30;

    // Scratch areas, offsets from the scratch base (the reported memory size).
    const SCRATCH_MSM_G1_STATS: u64 = 0x0000;
    const SCRATCH_MSM_G2_STATS: u64 = 0x0400;
    const SCRATCH_NTT_STATS: u64 = 0x0800;
    const SCRATCH_NTT_PARAMS: u64 = 0x0c00;
    /// Stride between engines in each scratch area.
    const SCRATCH_STRIDE: u64 = 0x40;
    /// Bytes of `stats[4]`.
    const STATS_BYTES: usize = 32;
    /// Bytes of one 256-bit engine word (an Fr element).
    const WORD_BYTES: usize = 32;

    // ap_ctrl_hs and ap_return.
    const AP_CTRL: usize = 0x00;
    const AP_START: u32 = 1 << 0;
    const AP_DONE: u32 = 1 << 1;
    const AP_RETURN: usize = 0x10;

    // kiln_msm_g1_top / kiln_msm_g2_top arguments.
    const MSM_OP: usize = 0x18;
    const MSM_POINTS: usize = 0x20;
    const MSM_SCALARS: usize = 0x30;
    const MSM_OUT: usize = 0x40;
    const MSM_N: usize = 0x50;
    const MSM_C: usize = 0x58;
    const MSM_WINDOW: usize = 0x60;
    const MSM_CLEAR: usize = 0x68;
    const MSM_SEGMENTS: usize = 0x70;
    const MSM_STATS: usize = 0x78;

    // kiln_ntt_top arguments.
    const NTT_OP: usize = 0x18;
    const NTT_DATA: usize = 0x20;
    const NTT_LOG_N: usize = 0x30;
    const NTT_PARAM: usize = 0x38;
    const NTT_STATS: usize = 0x48;

    /// The watchdog budget: 2^32 `mcycle`s (about 14 s at a 300 MHz soft core), well
    /// beyond the longest pass ([`kiln_firmware::abi::MAX_CHUNK`] G2 points or a 2^28
    /// NTT).
    const WATCHDOG_CYCLES: u64 = 1 << 32;

    fn rd(addr: usize) -> u32 {
        // SAFETY: `addr` is a 32-bit register of the memory map above.
        unsafe { read_volatile(addr as *const u32) }
    }

    fn wr(addr: usize, value: u32) {
        // SAFETY: as for `rd`.
        unsafe { write_volatile(addr as *mut u32, value) }
    }

    fn wr64(addr: usize, value: u64) {
        wr(addr, value as u32);
        wr(addr + 4, (value >> 32) as u32);
    }

    /// Orders every earlier memory and I/O access before every later one.
    fn fence() {
        // SAFETY: a fence has no operands and no effect but ordering.
        unsafe { core::arch::asm!("fence iorw, iorw", options(nostack, preserves_flags)) }
    }

    /// The 64-bit `mcycle` CSR (read high, low, high until the high half is stable).
    fn mcycle() -> u64 {
        loop {
            let (hi, lo, hi2): (u32, u32, u32);
            // SAFETY: reading the cycle counter CSRs has no side effects.
            unsafe {
                core::arch::asm!(
                    "csrr {0}, mcycleh",
                    "csrr {1}, mcycle",
                    "csrr {2}, mcycleh",
                    out(reg) hi,
                    out(reg) lo,
                    out(reg) hi2,
                    options(nomem, nostack, preserves_flags)
                );
            }
            if hi == hi2 {
                return (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }

    /// What an engine (one core of it) is doing.
    #[derive(Clone, Copy)]
    enum Pass {
        /// Nothing started.
        Idle,
        /// A pass is running on the core with control block `ctrl`, writing its stats at
        /// card address `stats`.
        Running { ctrl: usize, stats: u64 },
        /// The pass was refused without starting (its core is missing): completes with
        /// [`FAULT_NO_CORE`] at the next poll.
        Refused,
    }

    /// The card over MMIO.
    struct Mmio {
        /// Card memory as reported to the host (below the scratch).
        mem_size: u64,
        /// Card address of the scratch (`mem_size`).
        scratch: u64,
        msm_engines: u32,
        ntt_engines: u32,
        /// `CARD_MSM_CORES`.
        msm_cores: u32,
        /// The latched memory base ([`reg::MEM_BASE_LO`]): physical = card address + base.
        mem_base: u64,
        /// The physical address the window points at (`u64::MAX`: not set yet).
        window: u64,
        msm: [Pass; MAX_ENGINES as usize],
        ntt: [Pass; MAX_ENGINES as usize],
    }

    impl Mmio {
        fn new() -> Self {
            let total = u64::from(rd(CARD + CARD_MEM_SIZE_LO))
                | (u64::from(rd(CARD + CARD_MEM_SIZE_HI)) << 32);
            let scratch = total.saturating_sub(SCRATCH_BYTES) & !(SCRATCH_BYTES - 1);
            let mut card = Mmio {
                mem_size: scratch,
                scratch,
                msm_engines: rd(CARD + CARD_MSM_ENGINES).min(MAX_ENGINES),
                ntt_engines: rd(CARD + CARD_NTT_ENGINES).min(MAX_ENGINES),
                msm_cores: rd(CARD + CARD_MSM_CORES),
                mem_base: 0,
                // No base written yet: the first access sets it.
                window: u64::MAX,
                msm: [Pass::Idle; MAX_ENGINES as usize],
                ntt: [Pass::Idle; MAX_ENGINES as usize],
            };
            card.latch_mem_base();
            card
        }

        /// Reads the memory base the host wrote ([`reg::MEM_BASE_LO`]/`_HI`).
        fn latch_mem_base(&mut self) {
            self.mem_base = u64::from(rd(REGFILE + reg::MEM_BASE_LO as usize))
                | (u64::from(rd(REGFILE + reg::MEM_BASE_HI as usize)) << 32);
        }

        /// The physical (engine and window) address of card address `addr`.
        fn phys(&self, addr: u64) -> u64 {
            self.mem_base.wrapping_add(addr)
        }

        /// Points the window at the 1 GiB containing card address `addr`; the soft core
        /// address of `addr` and the bytes left in the window from it.
        fn map(&mut self, addr: u64) -> (usize, u64) {
            let phys = self.phys(addr);
            let base = phys & !(WINDOW_SIZE - 1);
            if base != self.window {
                fence();
                wr(CARD + CARD_WINDOW_LO, base as u32);
                wr(CARD + CARD_WINDOW_HI, (base >> 32) as u32);
                fence();
                self.window = base;
            }
            let off = phys - base;
            (WINDOW + off as usize, WINDOW_SIZE - off)
        }

        /// The control block of MSM engine `e`'s core for `group`, if the image has it.
        fn msm_core(&self, e: u32, group: Group) -> Option<(usize, u64)> {
            let g1 = MSM_BASE + ENGINE_STRIDE * e as usize;
            let stats = SCRATCH_STRIDE * u64::from(e);
            match group {
                Group::G1 if self.msm_cores & CORES_G1 != 0 => {
                    Some((g1, self.scratch + SCRATCH_MSM_G1_STATS + stats))
                }
                Group::G2 if self.msm_cores & CORES_G2 != 0 => {
                    Some((g1 + MSM_G2, self.scratch + SCRATCH_MSM_G2_STATS + stats))
                }
                _ => None,
            }
        }

        fn ntt(e: u32) -> usize {
            NTT_BASE + ENGINE_STRIDE * e as usize
        }

        /// Zeroes the stats scratch at card address `stats` (an engine that refuses its
        /// arguments returns without writing it).
        fn clear_stats(&mut self, stats: u64) {
            self.mem_write(stats, &[0; STATS_BYTES]);
        }

        /// Writes `stats`' physical address to the pointer at `reg` and starts the core
        /// at `ctrl` (its other arguments written): the scratch writes land first.
        fn start(&mut self, ctrl: usize, reg: usize, stats: u64) {
            wr64(ctrl + reg, self.phys(stats));
            fence();
            wr(ctrl + AP_CTRL, AP_START);
        }

        /// `Some` once the pass of `pass` has finished (`pass` is idle again then):
        /// `ap_return` as the fault code, cycles and deferred points from the stats the
        /// engine wrote.
        fn finish(&mut self, pass: Pass) -> (Pass, Option<EngineDone>) {
            match pass {
                Pass::Idle => (Pass::Idle, None),
                Pass::Refused => (
                    Pass::Idle,
                    Some(EngineDone {
                        cycles: 0,
                        deferred: 0,
                        fault: FAULT_NO_CORE,
                    }),
                ),
                Pass::Running { ctrl, stats } => {
                    // ap_done clears on read: this read is the one that sees it.
                    if rd(ctrl + AP_CTRL) & AP_DONE == 0 {
                        return (pass, None);
                    }
                    let fault = rd(ctrl + AP_RETURN);
                    // The engine's stats writes completed before ap_done.
                    fence();
                    let mut b = [0u8; STATS_BYTES];
                    self.mem_read(stats, &mut b);
                    let word = |i: usize| {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(&b[8 * i..8 * i + 8]);
                        u64::from_le_bytes(w)
                    };
                    (
                        Pass::Idle,
                        Some(EngineDone {
                            cycles: word(0),
                            deferred: word(3),
                            fault,
                        }),
                    )
                }
            }
        }
    }

    impl Card for Mmio {
        fn mem_size(&self) -> u64 {
            self.mem_size
        }

        fn mem_read(&mut self, mut addr: u64, buf: &mut [u8]) {
            let mut done = 0;
            while done < buf.len() {
                let (p, room) = self.map(addr);
                let n = (buf.len() - done).min(room as usize);
                for (i, b) in buf[done..done + n].iter_mut().enumerate() {
                    // SAFETY: inside the window, which maps card memory.
                    *b = unsafe { read_volatile((p + i) as *const u8) };
                }
                done += n;
                addr += n as u64;
            }
        }

        fn mem_write(&mut self, mut addr: u64, data: &[u8]) {
            let mut done = 0;
            while done < data.len() {
                let (p, room) = self.map(addr);
                let n = (data.len() - done).min(room as usize);
                for (i, b) in data[done..done + n].iter().enumerate() {
                    // SAFETY: inside the window, which maps card memory.
                    unsafe { write_volatile((p + i) as *mut u8, *b) };
                }
                done += n;
                addr += n as u64;
            }
        }

        fn reg_read(&mut self, offset: u32) -> u32 {
            rd(REGFILE + offset as usize)
        }

        fn reg_write(&mut self, offset: u32, value: u32) {
            // Card memory writes (a completion) land before the register (COMPL_HEAD).
            fence();
            wr(REGFILE + offset as usize, value);
        }

        fn msm_engines(&self) -> u32 {
            self.msm_engines
        }

        fn ntt_engines(&self) -> u32 {
            self.ntt_engines
        }

        fn clock_mhz(&self) -> u32 {
            rd(CARD + CARD_CLOCK_MHZ)
        }

        fn msm_start(&mut self, engine: u32, pass: &MsmPass) {
            let group = match *pass {
                MsmPass::Accumulate { group, .. } | MsmPass::Reduce { group, .. } => group,
            };
            let Some((b, stats)) = self.msm_core(engine, group) else {
                self.msm[engine as usize] = Pass::Refused;
                return;
            };
            self.clear_stats(stats);
            match *pass {
                MsmPass::Accumulate {
                    points,
                    scalars,
                    count,
                    c,
                    window,
                    clear,
                    ..
                } => {
                    wr(b + MSM_OP, 0);
                    wr64(b + MSM_POINTS, self.phys(points));
                    wr64(b + MSM_SCALARS, self.phys(scalars));
                    wr64(b + MSM_OUT, 0);
                    wr(b + MSM_N, count);
                    wr(b + MSM_C, c);
                    wr(b + MSM_WINDOW, window);
                    wr(b + MSM_CLEAR, u32::from(clear));
                    wr(b + MSM_SEGMENTS, 0);
                }
                MsmPass::Reduce {
                    c, segments, out, ..
                } => {
                    wr(b + MSM_OP, 1);
                    wr64(b + MSM_POINTS, 0);
                    wr64(b + MSM_SCALARS, 0);
                    wr64(b + MSM_OUT, self.phys(out));
                    wr(b + MSM_N, 0);
                    wr(b + MSM_C, c);
                    wr(b + MSM_WINDOW, 0);
                    wr(b + MSM_CLEAR, 0);
                    wr(b + MSM_SEGMENTS, segments);
                }
            }
            self.start(b, MSM_STATS, stats);
            self.msm[engine as usize] = Pass::Running { ctrl: b, stats };
        }

        fn msm_poll(&mut self, engine: u32) -> Option<EngineDone> {
            let (next, done) = self.finish(self.msm[engine as usize]);
            self.msm[engine as usize] = next;
            done
        }

        fn ntt_start(&mut self, engine: u32, pass: &NttPass) {
            let b = Self::ntt(engine);
            let slot = SCRATCH_STRIDE * u64::from(engine);
            let stats = self.scratch + SCRATCH_NTT_STATS + slot;
            let params = self.scratch + SCRATCH_NTT_PARAMS + slot;
            self.clear_stats(stats);
            let (op, data, log_n) = match pass {
                NttPass::Transform { data, log_n, omega } => {
                    // param[0] = ω (param[1] unused).
                    self.mem_write(params, omega);
                    (0, *data, *log_n)
                }
                NttPass::Scale {
                    data,
                    log_n,
                    factor,
                    shift,
                } => {
                    // param[0] = factor, param[1] = shift.
                    self.mem_write(params, factor);
                    self.mem_write(params + WORD_BYTES as u64, shift);
                    (1, *data, *log_n)
                }
            };
            wr(b + NTT_OP, op);
            wr64(b + NTT_DATA, self.phys(data));
            wr(b + NTT_LOG_N, log_n);
            wr64(b + NTT_PARAM, self.phys(params));
            self.start(b, NTT_STATS, stats);
            self.ntt[engine as usize] = Pass::Running { ctrl: b, stats };
        }

        fn ntt_poll(&mut self, engine: u32) -> Option<EngineDone> {
            let (next, done) = self.finish(self.ntt[engine as usize]);
            self.ntt[engine as usize] = next;
            // The NTT engine defers nothing.
            done.map(|d| EngineDone { deferred: 0, ..d })
        }

        fn reset_engines(&mut self) {
            fence();
            wr(CARD + CARD_ENGINE_RESET, 1);
            // The pulse lasts a few engine clocks; bounded so a broken reset line cannot
            // hang the firmware.
            for _ in 0..10_000 {
                if rd(CARD + CARD_ENGINE_RESET) == 0 {
                    break;
                }
            }
            self.msm = [Pass::Idle; MAX_ENGINES as usize];
            self.ntt = [Pass::Idle; MAX_ENGINES as usize];
        }

        fn now(&mut self) -> u64 {
            mcycle()
        }
    }

    /// The poll loop, entered from `_start` with a stack and a zeroed `.bss`.
    #[no_mangle]
    extern "C" fn card_main() -> ! {
        let mut card = Mmio::new();
        let mut firmware = Firmware::new(Config {
            watchdog_cycles: WATCHDOG_CYCLES,
        });
        loop {
            // The host writes MEM_BASE before enabling the rings: latch it as this poll
            // takes them up (a command in progress is abandoned by the enable first, so
            // the base never changes under a running pass).
            if rd(REGFILE + reg::RING_ENABLE as usize) != 0 {
                card.latch_mem_base();
            }
            if !firmware.poll(&mut card) {
                core::hint::spin_loop();
            }
        }
    }

    /// Records a fault for the host (the card block's fault words) and takes the
    /// firmware off line (`STATUS` = 0, so the host sees it is no longer ready).
    fn record_fault(code: u32, a: u32, b: u32) -> ! {
        wr(CARD + CARD_FAULT_1, a);
        wr(CARD + CARD_FAULT_2, b);
        wr(CARD + CARD_FAULT_CODE, code);
        wr(REGFILE + reg::STATUS as usize, 0);
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        let line = info.location().map_or(0, |l| l.line());
        let column = info.location().map_or(0, |l| l.column());
        record_fault(FAULT_PANIC, line, column)
    }

    /// Any trap (the firmware enables no interrupts, so an exception): records `mcause`
    /// and `mepc`.
    #[no_mangle]
    extern "C" fn card_trap() -> ! {
        let (cause, epc): (u32, u32);
        // SAFETY: reading CSRs has no side effects.
        unsafe {
            core::arch::asm!(
                "csrr {0}, mcause",
                "csrr {1}, mepc",
                out(reg) cause,
                out(reg) epc,
                options(nomem, nostack, preserves_flags)
            );
        }
        record_fault(FAULT_TRAP, cause, epc)
    }

    core::arch::global_asm!(
        r#"
        .section .text.start, "ax"
        .globl _start
    _start:
        .option push
        .option norelax
        la gp, __global_pointer$
        .option pop
        la sp, __stack_top
        andi sp, sp, -16
        la t0, _trap_entry
        csrw mtvec, t0
        csrw mie, zero
        la t0, __bss_start
        la t1, __bss_end
    1:
        bgeu t0, t1, 2f
        sw zero, 0(t0)
        addi t0, t0, 4
        j 1b
    2:
        call card_main
    3:
        j 3b

        .section .text.trap, "ax"
        .balign 4
    _trap_entry:
        la sp, __stack_top
        andi sp, sp, -16
        call card_trap
    4:
        j 4b
    "#
    );
}
