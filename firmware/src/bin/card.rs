//! The card binary: the firmware's poll loop on the card's RISC-V soft core
//! (`riscv32imac-unknown-none-elf`), with [`Card`] implemented over MMIO.
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
//! | `0x1000_0000..0x1000_0200`  | the BAR0 register file ([`abi::reg`]), dual-ported: the host writes it over PCIe |
//! | `0x1000_1000..0x1000_1100`  | card block: identity, memory window, engine reset, fault record (below) |
//! | `0x2000_0000 + 0x1_0000·i`  | MSM engine `i`'s `s_axilite` control block (`i < 16`) |
//! | `0x3000_0000 + 0x1_0000·i`  | NTT engine `i`'s `s_axilite` control block (`i < 16`) |
//! | `0x4000_0000..0x8000_0000`  | card memory window: 1 GiB of DDR/HBM from `WINDOW_BASE` |
//!
//! Card block (32-bit registers, offsets from `0x1000_1000`): `0x00`/`0x04` card memory
//! size (lo/hi, RO), `0x08` MSM engines (RO), `0x0c` NTT engines (RO), `0x10` engine clock
//! MHz (RO), `0x20`/`0x24` `WINDOW_BASE` (lo/hi, RW, 1 GiB aligned), `0x30` engine reset
//! (write 1 pulses every engine's `ap_rst_n`; reads 1 until the pulse is over), `0x40`
//! fault code, `0x44` fault word 1, `0x48` fault word 2 (RW; written by the panic and
//! trap handlers).
//!
//! Engine control blocks follow Vitis HLS's `s_axilite` layout for `ap_ctrl_hs`: `0x00`
//! control (bit 0 `ap_start`, bit 1 `ap_done` — clear on read, bit 2 `ap_idle`, bit 3
//! `ap_ready`), `0x04` GIE, `0x08` IER, `0x0c` ISR, then the arguments from `0x10`, each
//! taking its 32-bit words plus one word (reserved for inputs, `ap_vld` control for
//! outputs):
//!
//! - MSM engine: `0x10` op (0 accumulate, 1 reduce), `0x18` group, `0x20` points (64),
//!   `0x2c` scalars (64), `0x38` count, `0x40` c, `0x48` window, `0x50` clear, `0x58`
//!   segments, `0x60` out (64); outputs `0x6c` cycles (64), `0x78` deferred (64), `0x84`
//!   fault.
//! - NTT engine: `0x10` op (0 transform, 1 scale), `0x18` data (64), `0x24` log_n,
//!   `0x2c` ω or factor (256 bits, 8 words), `0x50` shift (256 bits); outputs `0x74`
//!   cycles (64), `0x80` fault.
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

#[cfg(target_os = "none")]
mod soft_core {
    use core::ptr::{read_volatile, write_volatile};

    use kiln_firmware::abi::{reg, Group};
    use kiln_firmware::card::{Card, EngineDone, MsmPass, NttPass};
    use kiln_firmware::{Config, Firmware};

    /// The BAR0 register file.
    const REGFILE: usize = 0x1000_0000;
    /// The card block.
    const CARD: usize = 0x1000_1000;
    const CARD_MEM_SIZE_LO: usize = 0x00;
    const CARD_MEM_SIZE_HI: usize = 0x04;
    const CARD_MSM_ENGINES: usize = 0x08;
    const CARD_NTT_ENGINES: usize = 0x0c;
    const CARD_CLOCK_MHZ: usize = 0x10;
    const CARD_WINDOW_LO: usize = 0x20;
    const CARD_WINDOW_HI: usize = 0x24;
    const CARD_ENGINE_RESET: usize = 0x30;
    const CARD_FAULT_CODE: usize = 0x40;
    const CARD_FAULT_1: usize = 0x44;
    const CARD_FAULT_2: usize = 0x48;
    /// Fault codes in `CARD_FAULT_CODE`.
    const FAULT_PANIC: u32 = 0xdead_0001;
    const FAULT_TRAP: u32 = 0xdead_0002;

    /// MSM engine control blocks.
    const MSM_BASE: usize = 0x2000_0000;
    /// NTT engine control blocks.
    const NTT_BASE: usize = 0x3000_0000;
    /// Stride between engine control blocks.
    const ENGINE_STRIDE: usize = 0x1_0000;
    /// The card memory window.
    const WINDOW: usize = 0x4000_0000;
    /// Its size (and the alignment of `WINDOW_BASE`).
    const WINDOW_SIZE: u64 = 1 << 30;

    // ap_ctrl_hs.
    const AP_CTRL: usize = 0x00;
    const AP_START: u32 = 1 << 0;
    const AP_DONE: u32 = 1 << 1;

    // MSM engine arguments.
    const MSM_OP: usize = 0x10;
    const MSM_GROUP: usize = 0x18;
    const MSM_POINTS: usize = 0x20;
    const MSM_SCALARS: usize = 0x2c;
    const MSM_COUNT: usize = 0x38;
    const MSM_C: usize = 0x40;
    const MSM_WINDOW: usize = 0x48;
    const MSM_CLEAR: usize = 0x50;
    const MSM_SEGMENTS: usize = 0x58;
    const MSM_OUT: usize = 0x60;
    const MSM_CYCLES: usize = 0x6c;
    const MSM_DEFERRED: usize = 0x78;
    const MSM_FAULT: usize = 0x84;

    // NTT engine arguments.
    const NTT_OP: usize = 0x10;
    const NTT_DATA: usize = 0x18;
    const NTT_LOG_N: usize = 0x24;
    const NTT_K0: usize = 0x2c;
    const NTT_K1: usize = 0x50;
    const NTT_CYCLES: usize = 0x74;
    const NTT_FAULT: usize = 0x80;

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

    fn rd64(addr: usize) -> u64 {
        u64::from(rd(addr)) | (u64::from(rd(addr + 4)) << 32)
    }

    fn wr64(addr: usize, value: u64) {
        wr(addr, value as u32);
        wr(addr + 4, (value >> 32) as u32);
    }

    fn wr256(addr: usize, bytes: &[u8; 32]) {
        for (i, w) in bytes.chunks_exact(4).enumerate() {
            wr(addr + 4 * i, u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        }
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

    fn group_code(group: Group) -> u32 {
        group as u32
    }

    /// The card over MMIO.
    struct Mmio {
        mem_size: u64,
        msm_engines: u32,
        ntt_engines: u32,
        window: u64,
    }

    impl Mmio {
        fn new() -> Self {
            Mmio {
                mem_size: u64::from(rd(CARD + CARD_MEM_SIZE_LO))
                    | (u64::from(rd(CARD + CARD_MEM_SIZE_HI)) << 32),
                msm_engines: rd(CARD + CARD_MSM_ENGINES),
                ntt_engines: rd(CARD + CARD_NTT_ENGINES),
                // No base written yet: the first access sets it.
                window: u64::MAX,
            }
        }

        /// Points the window at the 1 GiB containing `addr`; the soft core address of
        /// `addr` and the bytes left in the window from it.
        fn map(&mut self, addr: u64) -> (usize, u64) {
            let base = addr & !(WINDOW_SIZE - 1);
            if base != self.window {
                fence();
                wr(CARD + CARD_WINDOW_LO, base as u32);
                wr(CARD + CARD_WINDOW_HI, (base >> 32) as u32);
                fence();
                self.window = base;
            }
            let off = addr - base;
            (WINDOW + off as usize, WINDOW_SIZE - off)
        }

        fn msm(e: u32) -> usize {
            MSM_BASE + ENGINE_STRIDE * e as usize
        }

        fn ntt(e: u32) -> usize {
            NTT_BASE + ENGINE_STRIDE * e as usize
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
            let b = Self::msm(engine);
            match *pass {
                MsmPass::Accumulate {
                    group,
                    points,
                    scalars,
                    count,
                    c,
                    window,
                    clear,
                } => {
                    wr(b + MSM_OP, 0);
                    wr(b + MSM_GROUP, group_code(group));
                    wr64(b + MSM_POINTS, points);
                    wr64(b + MSM_SCALARS, scalars);
                    wr(b + MSM_COUNT, count);
                    wr(b + MSM_C, c);
                    wr(b + MSM_WINDOW, window);
                    wr(b + MSM_CLEAR, u32::from(clear));
                }
                MsmPass::Reduce {
                    group,
                    c,
                    segments,
                    out,
                } => {
                    wr(b + MSM_OP, 1);
                    wr(b + MSM_GROUP, group_code(group));
                    wr(b + MSM_C, c);
                    wr(b + MSM_SEGMENTS, segments);
                    wr64(b + MSM_OUT, out);
                }
            }
            fence();
            wr(b + AP_CTRL, AP_START);
        }

        fn msm_poll(&mut self, engine: u32) -> Option<EngineDone> {
            let b = Self::msm(engine);
            if rd(b + AP_CTRL) & AP_DONE == 0 {
                return None;
            }
            Some(EngineDone {
                cycles: rd64(b + MSM_CYCLES),
                deferred: rd64(b + MSM_DEFERRED),
                fault: rd(b + MSM_FAULT),
            })
        }

        fn ntt_start(&mut self, engine: u32, pass: &NttPass) {
            let b = Self::ntt(engine);
            match pass {
                NttPass::Transform { data, log_n, omega } => {
                    wr(b + NTT_OP, 0);
                    wr64(b + NTT_DATA, *data);
                    wr(b + NTT_LOG_N, *log_n);
                    wr256(b + NTT_K0, omega);
                }
                NttPass::Scale {
                    data,
                    log_n,
                    factor,
                    shift,
                } => {
                    wr(b + NTT_OP, 1);
                    wr64(b + NTT_DATA, *data);
                    wr(b + NTT_LOG_N, *log_n);
                    wr256(b + NTT_K0, factor);
                    wr256(b + NTT_K1, shift);
                }
            }
            fence();
            wr(b + AP_CTRL, AP_START);
        }

        fn ntt_poll(&mut self, engine: u32) -> Option<EngineDone> {
            let b = Self::ntt(engine);
            if rd(b + AP_CTRL) & AP_DONE == 0 {
                return None;
            }
            Some(EngineDone {
                cycles: rd64(b + NTT_CYCLES),
                deferred: 0,
                fault: rd(b + NTT_FAULT),
            })
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
