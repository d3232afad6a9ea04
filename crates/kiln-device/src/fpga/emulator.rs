//! The emulated card: kiln's own firmware (`firmware/`, the `no_std` crate that runs on the
//! card's RISC-V soft core) on a thread of its own, driving the HLS engines (`hw/`, their
//! C++ compiled into kiln) through the same [`Card`] interface the real card's MMIO
//! implements. The host reaches it only through [`CardTransport`]: a register file and DMA
//! into card memory, as over PCIe.
//!
//! Each engine pass runs on a thread of its own (the card's engines run concurrently with
//! each other and with the firmware) over copies of its inputs, and reports the cycles its
//! pipeline model spent, so the card's modelled time comes with every command.
//!
//! Faults can be injected ([`FaultPlan`], or `KILN_FPGA_EMU_FAULT`): a flipped bit in an
//! engine's result, an engine that hangs, a completion the card never posts.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kiln_firmware::abi::{reg, Completion, Opcode, COMPLETION_BYTES};
use kiln_firmware::card::{Card, EngineDone, MsmPass, NttPass};
use kiln_firmware::{Config as FirmwareConfig, Firmware};

use super::engines::{self, Stats};
use super::transport::{CardTransport, TransportResult};

/// What an emulated card has.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Card memory in bytes (allocated lazily by the host OS).
    pub mem_bytes: u64,
    /// MSM engines (each with its own bucket memory).
    pub msm_engines: u32,
    /// NTT engines.
    pub ntt_engines: u32,
    /// Faults to inject.
    pub faults: FaultPlan,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            mem_bytes: 4 << 30,
            msm_engines: 2,
            ntt_engines: 1,
            faults: FaultPlan::default(),
        }
    }
}

/// A fault the emulated card can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// One bit of an engine's result is flipped (a reduction's output or an NTT pass).
    FlipBit,
    /// An engine pass never finishes.
    Hang,
    /// The completion of an MSM or NTT command is never posted to the host.
    DropCompletion,
}

/// Which occurrences of a fault to inject: `kind@N` (the N-th, counting from 1) or
/// `kind@*` (every one), with kinds `flip-bit`, `hang`, `drop-completion`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// The fault, if any.
    pub kind: Option<FaultKind>,
    /// Which occurrence (1-based); 0 means every one.
    pub at: u64,
}

impl FromStr for FaultPlan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("bad fault plan {s:?}: expected flip-bit|hang|drop-completion, then @N or @*")
        };
        let (kind, at) = s.split_once('@').unwrap_or((s, "1"));
        let kind = match kind {
            "flip-bit" => FaultKind::FlipBit,
            "hang" => FaultKind::Hang,
            "drop-completion" => FaultKind::DropCompletion,
            _ => return Err(bad()),
        };
        let at = match at {
            "*" => 0,
            n => n.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(bad)?,
        };
        Ok(FaultPlan {
            kind: Some(kind),
            at,
        })
    }
}

/// What the firmware thread and the host share: the register file, card memory, and the
/// wake-up signal (the card's interrupt lines, both ways).
struct Shared {
    regs: Vec<AtomicU32>,
    mem: Mutex<Vec<u8>>,
    wake: Mutex<u64>,
    cv: Condvar,
    stop: AtomicBool,
    faults: FaultPlan,
    /// Occurrences of the planned fault's trigger seen so far.
    seen: AtomicU64,
    /// Faults injected so far.
    injected: AtomicU64,
}

impl Shared {
    fn mem(&self) -> MutexGuard<'_, Vec<u8>> {
        self.mem.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        *self.wake.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.cv.notify_all();
    }

    /// Waits up to `timeout` for a notification after generation `seen`.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let g = self.wake.lock().unwrap_or_else(PoisonError::into_inner);
        let (g, _) = self
            .cv
            .wait_timeout_while(g, timeout, |gen| *gen == seen)
            .unwrap_or_else(PoisonError::into_inner);
        *g
    }

    fn generation(&self) -> u64 {
        *self.wake.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this occurrence of `kind`'s trigger gets the fault.
    fn fault_now(&self, kind: FaultKind) -> bool {
        if self.faults.kind != Some(kind) {
            return false;
        }
        let n = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        let hit = self.faults.at == 0 || self.faults.at == n;
        if hit {
            self.injected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target: crate::TARGET, fault = ?kind, occurrence = n, "emulated card: injecting a fault");
        }
        hit
    }

    fn range(&self, addr: u64, len: usize) -> TransportResult<std::ops::Range<usize>> {
        let size = self.mem().len() as u64;
        match addr.checked_add(len as u64) {
            Some(end) if end <= size => Ok(addr as usize..end as usize),
            _ => Err(format!(
                "DMA of {len} bytes at card address {addr:#x} runs past the card's {size} bytes"
            )),
        }
    }
}

/// An emulated card: the firmware's thread and the host's side of it.
pub struct EmulatedCard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    config: EmulatorConfig,
}

impl EmulatedCard {
    /// Powers the card on: memory, register file, and the firmware running.
    pub fn start(config: EmulatorConfig) -> Result<Self, String> {
        let mem_bytes = usize::try_from(config.mem_bytes)
            .map_err(|_| "card memory larger than the host's address space".to_string())?;
        let shared = Arc::new(Shared {
            regs: (0..reg::SIZE / 4).map(|_| AtomicU32::new(0)).collect(),
            mem: Mutex::new(vec![0u8; mem_bytes]),
            wake: Mutex::new(0),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            faults: config.faults,
            seen: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        });
        let card = EmuCard::new(shared.clone(), &config);
        let thread = std::thread::Builder::new()
            .name("kiln-fpga-emu".into())
            .spawn(move || run_firmware(card))
            .map_err(|e| format!("cannot start the emulated card's firmware thread: {e}"))?;
        Ok(EmulatedCard {
            shared,
            thread: Some(thread),
            config,
        })
    }

    /// What the card was built with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.shared.injected.load(Ordering::Relaxed)
    }
}

impl Drop for EmulatedCard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl CardTransport for EmulatedCard {
    fn read_reg(&self, offset: u32) -> TransportResult<u32> {
        reg_index(offset).map(|i| self.shared.regs[i].load(Ordering::Acquire))
    }

    fn write_reg(&self, offset: u32, value: u32) -> TransportResult<()> {
        let i = reg_index(offset)?;
        self.shared.regs[i].store(value, Ordering::Release);
        self.shared.notify();
        Ok(())
    }

    fn write_mem(&self, addr: u64, data: &[u8]) -> TransportResult<()> {
        let r = self.shared.range(addr, data.len())?;
        self.shared.mem()[r].copy_from_slice(data);
        Ok(())
    }

    fn read_mem(&self, addr: u64, len: usize) -> TransportResult<Vec<u8>> {
        let r = self.shared.range(addr, len)?;
        Ok(self.shared.mem()[r].to_vec())
    }
}

fn reg_index(offset: u32) -> TransportResult<usize> {
    if !offset.is_multiple_of(4) || offset >= reg::SIZE {
        return Err(format!("no register at BAR0 offset {offset:#x}"));
    }
    Ok((offset / 4) as usize)
}

/// The firmware's main loop, as the soft core runs it: poll, and sleep until an interrupt
/// (a host register write or an engine finishing) when there is nothing to do.
fn run_firmware(mut card: EmuCard) {
    let mut fw = Firmware::new(FirmwareConfig::default());
    let shared = card.shared.clone();
    let mut gen = shared.generation();
    while !shared.stop.load(Ordering::Relaxed) {
        if !fw.poll(&mut card) {
            gen = shared.wait(gen, Duration::from_millis(5));
        }
    }
    card.reset_engines();
}

/// What an engine pass hands back when its thread finishes.
enum PassOutput {
    /// Buckets after an accumulation.
    Accumulated { buckets: Vec<u8> },
    /// A reduction's points, to write at `out`.
    Reduced {
        buckets: Vec<u8>,
        out: u64,
        points: Vec<u8>,
    },
    /// An NTT pass's vector, to write back at `data`.
    Transformed { data: u64, values: Vec<u8> },
}

type PassResult = (Result<PassOutput, i32>, Stats);

/// One engine's state.
#[derive(Default)]
struct Engine {
    /// The on-chip bucket memory (MSM engines), out while a pass runs.
    buckets: Vec<u8>,
    running: Option<JoinHandle<PassResult>>,
    /// A hung pass: never finishes until the engines are reset.
    hung: bool,
}

/// The card as the firmware sees it (the emulator's implementation of [`Card`]).
struct EmuCard {
    shared: Arc<Shared>,
    msm: Vec<Engine>,
    ntt: Vec<Engine>,
    booted: Instant,
}

/// The soft core's clock, for its cycle counter.
const CORE_MHZ: u64 = 100;

impl EmuCard {
    fn new(shared: Arc<Shared>, config: &EmulatorConfig) -> Self {
        EmuCard {
            shared,
            msm: (0..config.msm_engines).map(|_| Engine::default()).collect(),
            ntt: (0..config.ntt_engines).map(|_| Engine::default()).collect(),
            booted: Instant::now(),
        }
    }

    fn copy_out(&self, addr: u64, len: usize) -> Vec<u8> {
        let mem = self.shared.mem();
        let start = addr as usize;
        mem.get(start..start.saturating_add(len))
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    /// Starts `work` on an engine's own thread; it wakes the firmware when done.
    fn spawn(&self, engine: &mut Engine, work: impl FnOnce() -> PassResult + Send + 'static) {
        if self.shared.fault_now(FaultKind::Hang) {
            engine.hung = true;
            return;
        }
        let shared = self.shared.clone();
        engine.running = Some(std::thread::spawn(move || {
            let r = work();
            shared.notify();
            r
        }));
    }

    /// The finished pass of `engine`, its output written to card memory.
    fn finish(&mut self, msm: bool, index: u32) -> Option<EngineDone> {
        let shared = self.shared.clone();
        let engine = if msm {
            self.msm.get_mut(index as usize)?
        } else {
            self.ntt.get_mut(index as usize)?
        };
        if engine.hung || !engine.running.as_ref()?.is_finished() {
            return None;
        }
        let (result, stats) = engine
            .running
            .take()?
            .join()
            .unwrap_or((Err(-99), Stats::default()));
        let mut fault = 0;
        match result {
            Ok(PassOutput::Accumulated { buckets }) => engine.buckets = buckets,
            Ok(PassOutput::Reduced {
                buckets,
                out,
                mut points,
            }) => {
                engine.buckets = buckets;
                flip_maybe(&shared, &mut points);
                write(&shared, out, &points);
            }
            Ok(PassOutput::Transformed { data, mut values }) => {
                flip_maybe(&shared, &mut values);
                write(&shared, data, &values);
            }
            Err(code) => fault = code.unsigned_abs(),
        }
        Some(EngineDone {
            cycles: stats.cycles,
            deferred: stats.deferred,
            fault,
        })
    }
}

fn flip_maybe(shared: &Shared, bytes: &mut [u8]) {
    if !bytes.is_empty() && shared.fault_now(FaultKind::FlipBit) {
        // Flip bit 1 of the byte in the middle of the result.
        let i = bytes.len() / 2;
        bytes[i] ^= 0x02;
    }
}

fn write(shared: &Shared, addr: u64, data: &[u8]) {
    let mut mem = shared.mem();
    let start = addr as usize;
    if let Some(dst) = mem.get_mut(start..start.saturating_add(data.len())) {
        dst.copy_from_slice(data);
    }
}

impl EmuCard {
    /// Whether writing `head` to COMPL_HEAD posts the completion of an engine command (an
    /// MSM or an NTT): the entries the drop-completion fault loses. (The firmware also
    /// writes COMPL_HEAD when it zeroes the indices at ring enable.)
    fn posts_engine_completion(&mut self, head: u32) -> bool {
        let reg = |r: u32| self.shared.regs[(r / 4) as usize].load(Ordering::Acquire);
        let (current, entries) = (reg(reg::COMPL_HEAD), reg(reg::COMPL_ENTRIES));
        // A post advances the index by one while the rings are up (not an enable's reset).
        if head != current.wrapping_add(1) || entries == 0 || reg(reg::RING_ENABLE) != 0 {
            return false;
        }
        let base = u64::from(reg(reg::COMPL_BASE_LO)) | u64::from(reg(reg::COMPL_BASE_HI)) << 32;
        let slot = u64::from(head.wrapping_sub(1) % entries) * COMPLETION_BYTES as u64;
        let mut entry = [0u8; COMPLETION_BYTES];
        self.mem_read(base + slot, &mut entry);
        let opcode = Completion::from_bytes(&entry).opcode;
        opcode == Opcode::Msm as u32 || opcode == Opcode::Ntt as u32
    }
}

impl Card for EmuCard {
    fn mem_size(&self) -> u64 {
        self.shared.mem().len() as u64
    }

    fn mem_read(&mut self, addr: u64, buf: &mut [u8]) {
        let mem = self.shared.mem();
        let start = addr as usize;
        if let Some(src) = mem.get(start..start.saturating_add(buf.len())) {
            buf.copy_from_slice(src);
        }
    }

    fn mem_write(&mut self, addr: u64, data: &[u8]) {
        write(&self.shared, addr, data);
    }

    fn reg_read(&mut self, offset: u32) -> u32 {
        reg_index(offset)
            .map(|i| self.shared.regs[i].load(Ordering::Acquire))
            .unwrap_or(0)
    }

    fn reg_write(&mut self, offset: u32, value: u32) {
        if offset == reg::COMPL_HEAD
            && self.posts_engine_completion(value)
            && self.shared.fault_now(FaultKind::DropCompletion)
        {
            return;
        }
        if let Ok(i) = reg_index(offset) {
            self.shared.regs[i].store(value, Ordering::Release);
        }
    }

    fn msm_engines(&self) -> u32 {
        self.msm.len() as u32
    }

    fn ntt_engines(&self) -> u32 {
        self.ntt.len() as u32
    }

    fn clock_mhz(&self) -> u32 {
        engines::clock_mhz()
    }

    fn msm_start(&mut self, engine: u32, pass: &MsmPass) {
        let Some(mut e) = self.msm.get_mut(engine as usize).map(std::mem::take) else {
            return;
        };
        let mut buckets = std::mem::take(&mut e.buckets);
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
                let points = self.copy_out(points, count as usize * group.affine_bytes());
                let scalars = self.copy_out(scalars, count as usize * 32);
                let size = engines::bucket_bytes(group, c);
                if buckets.len() != size {
                    buckets = vec![0u8; size];
                }
                self.spawn(&mut e, move || {
                    match engines::msm_accumulate(
                        group,
                        &mut buckets,
                        &points,
                        &scalars,
                        c,
                        window,
                        clear,
                    ) {
                        Ok(s) => (Ok(PassOutput::Accumulated { buckets }), s),
                        Err(r) => (Err(r.0), Stats::default()),
                    }
                });
            }
            MsmPass::Reduce {
                group,
                c,
                segments,
                out,
            } => {
                self.spawn(&mut e, move || {
                    match engines::msm_reduce(group, &buckets, c, segments) {
                        Ok((points, s)) => (
                            Ok(PassOutput::Reduced {
                                buckets,
                                out,
                                points,
                            }),
                            s,
                        ),
                        Err(r) => (Err(r.0), Stats::default()),
                    }
                });
            }
        }
        self.msm[engine as usize] = e;
    }

    fn msm_poll(&mut self, engine: u32) -> Option<EngineDone> {
        self.finish(true, engine)
    }

    fn ntt_start(&mut self, engine: u32, pass: &NttPass) {
        let Some(mut e) = self.ntt.get_mut(engine as usize).map(std::mem::take) else {
            return;
        };
        match *pass {
            NttPass::Transform { data, log_n, omega } => {
                let mut values = self.copy_out(data, 32usize << log_n.min(31));
                self.spawn(&mut e, move || {
                    match engines::ntt(&mut values, log_n, &omega) {
                        Ok(s) => (Ok(PassOutput::Transformed { data, values }), s),
                        Err(r) => (Err(r.0), Stats::default()),
                    }
                });
            }
            NttPass::Scale {
                data,
                log_n,
                factor,
                shift,
            } => {
                let mut values = self.copy_out(data, 32usize << log_n.min(31));
                self.spawn(&mut e, move || {
                    match engines::ntt_scale(&mut values, log_n, &factor, &shift) {
                        Ok(s) => (Ok(PassOutput::Transformed { data, values }), s),
                        Err(r) => (Err(r.0), Stats::default()),
                    }
                });
            }
        }
        self.ntt[engine as usize] = e;
    }

    fn ntt_poll(&mut self, engine: u32) -> Option<EngineDone> {
        self.finish(false, engine)
    }

    fn reset_engines(&mut self) {
        // A pass in flight is abandoned: its thread finishes on its own and its result is
        // dropped, as a reset engine's would be.
        for e in self.msm.iter_mut().chain(self.ntt.iter_mut()) {
            e.running = None;
            e.hung = false;
        }
    }

    fn now(&mut self) -> u64 {
        self.booted.elapsed().as_nanos() as u64 * CORE_MHZ / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_plans_parse() {
        assert_eq!(
            "hang@2".parse::<FaultPlan>().unwrap(),
            FaultPlan {
                kind: Some(FaultKind::Hang),
                at: 2
            }
        );
        assert_eq!(
            "flip-bit@*".parse::<FaultPlan>().unwrap().at,
            0,
            "every occurrence"
        );
        assert_eq!("drop-completion".parse::<FaultPlan>().unwrap().at, 1);
        for bad in ["", "melt", "hang@0", "hang@x"] {
            assert!(bad.parse::<FaultPlan>().is_err(), "{bad:?}");
        }
    }
}
