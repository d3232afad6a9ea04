//! A test [`Card`]: memory in a `Vec`, a register file, and fake engines that finish a
//! pass after a set number of polls with a set number of cycles, record every pass they
//! start, and can be told to fault or hang. Plus a tiny host to drive the rings.

use crate::abi::{reg, Completion, Descriptor, COMPLETION_BYTES};
use crate::card::{Card, EngineDone, MsmPass, NttPass};
use crate::firmware::Firmware;

/// A pass in flight on a fake engine.
#[derive(Clone, Copy, Debug)]
pub struct Running {
    polls_left: u32,
    done: EngineDone,
    hang: bool,
}

/// A started pass, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    /// An MSM pass on an engine.
    Msm(u32, MsmPass),
    /// An NTT pass on an engine.
    Ntt(u32, NttPass),
}

/// The fake card.
pub struct TestCard {
    pub mem: Vec<u8>,
    pub regs: Vec<u32>,
    pub msm: Vec<Option<Running>>,
    pub ntt: Vec<Option<Running>>,
    /// Polls an engine pass takes to finish.
    pub latency: u32,
    /// Cycles an accumulate pass reports per point.
    pub cycles_per_point: u64,
    /// Cycles a reduce pass reports.
    pub reduce_cycles: u64,
    /// Cycles an NTT pass reports per element.
    pub ntt_cycles_per_element: u64,
    /// Deferred points an accumulate pass reports.
    pub deferred_per_pass: u64,
    /// The `n`th pass started (0-based, MSM and NTT together) faults with this code.
    pub fault_at: Option<(usize, u32)>,
    /// The `n`th pass started never finishes.
    pub hang_at: Option<usize>,
    /// Every pass started, in order.
    pub started: Vec<Started>,
    /// Most engines ever busy at once.
    pub max_concurrent: usize,
    /// Calls to `reset_engines`.
    pub resets: u32,
    /// The cycle counter (advances by one per `now`).
    pub time: u64,
    /// The host's descriptor producer index.
    pub host_head: u32,
    /// The host's completion consumer index.
    pub host_tail: u32,
    clock_mhz: u32,
}

impl TestCard {
    pub fn new(mem_size: usize, msm_engines: u32, ntt_engines: u32) -> Self {
        TestCard {
            mem: vec![0; mem_size],
            regs: vec![0; (reg::SIZE / 4) as usize],
            msm: vec![None; msm_engines as usize],
            ntt: vec![None; ntt_engines as usize],
            latency: 2,
            cycles_per_point: 10,
            reduce_cycles: 1000,
            ntt_cycles_per_element: 3,
            deferred_per_pass: 1,
            fault_at: None,
            hang_at: None,
            started: Vec::new(),
            max_concurrent: 0,
            resets: 0,
            time: 0,
            host_head: 0,
            host_tail: 0,
            clock_mhz: 300,
        }
    }

    pub fn reg(&self, offset: u32) -> u32 {
        self.regs[(offset / 4) as usize]
    }

    pub fn set_reg(&mut self, offset: u32, value: u32) {
        self.regs[(offset / 4) as usize] = value;
    }

    pub fn counter(&self, i: u32) -> u64 {
        let lo = self.reg(reg::TELEMETRY + 8 * i) as u64;
        let hi = self.reg(reg::TELEMETRY + 8 * i + 4) as u64;
        lo | (hi << 32)
    }

    pub fn msm_passes(&self) -> Vec<(u32, MsmPass)> {
        self.started
            .iter()
            .filter_map(|s| match s {
                Started::Msm(e, p) => Some((*e, *p)),
                _ => None,
            })
            .collect()
    }

    pub fn ntt_passes(&self) -> Vec<(u32, NttPass)> {
        self.started
            .iter()
            .filter_map(|s| match s {
                Started::Ntt(e, p) => Some((*e, *p)),
                _ => None,
            })
            .collect()
    }

    fn busy(&self) -> usize {
        self.msm.iter().chain(self.ntt.iter()).flatten().count()
    }

    fn launch(&mut self, cycles: u64, deferred: u64) -> Running {
        let n = self.started.len() - 1;
        let fault = match self.fault_at {
            Some((at, code)) if at == n => code,
            _ => 0,
        };
        Running {
            polls_left: self.latency,
            done: EngineDone {
                cycles,
                deferred,
                fault,
            },
            hang: self.hang_at == Some(n),
        }
    }

    fn tick(slot: &mut Option<Running>) -> Option<EngineDone> {
        let r = slot.as_mut()?;
        if r.hang {
            return None;
        }
        if r.polls_left > 0 {
            r.polls_left -= 1;
            return None;
        }
        slot.take().map(|r| r.done)
    }

    // The host side.

    /// Points the rings at the given places and writes RING_ENABLE.
    pub fn setup_rings(&mut self, desc: u64, desc_entries: u32, compl: u64, compl_entries: u32) {
        self.set_reg(reg::DESC_BASE_LO, desc as u32);
        self.set_reg(reg::DESC_BASE_HI, (desc >> 32) as u32);
        self.set_reg(reg::DESC_ENTRIES, desc_entries);
        self.set_reg(reg::COMPL_BASE_LO, compl as u32);
        self.set_reg(reg::COMPL_BASE_HI, (compl >> 32) as u32);
        self.set_reg(reg::COMPL_ENTRIES, compl_entries);
        self.set_reg(reg::RING_ENABLE, 1);
        self.host_head = 0;
        self.host_tail = 0;
    }

    /// Writes `desc` at the host's head without ringing the doorbell.
    pub fn write_desc(&mut self, desc: &Descriptor) {
        let base = self.reg(reg::DESC_BASE_LO) as u64;
        let entries = self.reg(reg::DESC_ENTRIES);
        let at = base as usize + 64 * (self.host_head % entries) as usize;
        self.mem[at..at + 64].copy_from_slice(&desc.to_bytes());
        self.host_head = self.host_head.wrapping_add(1);
    }

    /// Writes `desc` and rings the doorbell.
    pub fn push(&mut self, desc: &Descriptor) {
        self.write_desc(desc);
        self.set_reg(reg::DESC_HEAD, self.host_head);
    }

    /// Reads the new completions and acknowledges them.
    pub fn completions(&mut self) -> Vec<Completion> {
        let base = self.reg(reg::COMPL_BASE_LO) as usize;
        let entries = self.reg(reg::COMPL_ENTRIES);
        let head = self.reg(reg::COMPL_HEAD);
        let mut out = Vec::new();
        while self.host_tail != head {
            let at = base + COMPLETION_BYTES * (self.host_tail % entries) as usize;
            let mut b = [0u8; COMPLETION_BYTES];
            b.copy_from_slice(&self.mem[at..at + COMPLETION_BYTES]);
            out.push(Completion::from_bytes(&b));
            self.host_tail = self.host_tail.wrapping_add(1);
        }
        self.set_reg(reg::COMPL_TAIL, self.host_tail);
        out
    }
}

impl Card for TestCard {
    fn mem_size(&self) -> u64 {
        self.mem.len() as u64
    }

    fn mem_read(&mut self, addr: u64, buf: &mut [u8]) {
        let a = addr as usize;
        buf.copy_from_slice(&self.mem[a..a + buf.len()]);
    }

    fn mem_write(&mut self, addr: u64, data: &[u8]) {
        let a = addr as usize;
        self.mem[a..a + data.len()].copy_from_slice(data);
    }

    fn reg_read(&mut self, offset: u32) -> u32 {
        self.reg(offset)
    }

    fn reg_write(&mut self, offset: u32, value: u32) {
        self.set_reg(offset, value);
    }

    fn msm_engines(&self) -> u32 {
        self.msm.len() as u32
    }

    fn ntt_engines(&self) -> u32 {
        self.ntt.len() as u32
    }

    fn clock_mhz(&self) -> u32 {
        self.clock_mhz
    }

    fn msm_start(&mut self, engine: u32, pass: &MsmPass) {
        assert!(self.msm[engine as usize].is_none(), "engine {engine} busy");
        self.started.push(Started::Msm(engine, *pass));
        let (cycles, deferred) = match pass {
            MsmPass::Accumulate { count, .. } => (
                *count as u64 * self.cycles_per_point,
                self.deferred_per_pass,
            ),
            MsmPass::Reduce { .. } => (self.reduce_cycles, 0),
        };
        let r = self.launch(cycles, deferred);
        self.msm[engine as usize] = Some(r);
        self.max_concurrent = self.max_concurrent.max(self.busy());
    }

    fn msm_poll(&mut self, engine: u32) -> Option<EngineDone> {
        Self::tick(&mut self.msm[engine as usize])
    }

    fn ntt_start(&mut self, engine: u32, pass: &NttPass) {
        assert!(self.ntt[engine as usize].is_none(), "engine {engine} busy");
        self.started.push(Started::Ntt(engine, *pass));
        let log_n = match pass {
            NttPass::Transform { log_n, .. } | NttPass::Scale { log_n, .. } => *log_n,
        };
        let r = self.launch((1u64 << log_n) * self.ntt_cycles_per_element, 0);
        self.ntt[engine as usize] = Some(r);
        self.max_concurrent = self.max_concurrent.max(self.busy());
    }

    fn ntt_poll(&mut self, engine: u32) -> Option<EngineDone> {
        Self::tick(&mut self.ntt[engine as usize])
    }

    fn reset_engines(&mut self) {
        self.resets += 1;
        self.msm.iter_mut().for_each(|e| *e = None);
        self.ntt.iter_mut().for_each(|e| *e = None);
    }

    fn now(&mut self) -> u64 {
        self.time += 1;
        self.time
    }
}

/// Polls until the firmware has nothing left to do (or `limit` polls); returns the polls.
pub fn run(fw: &mut Firmware, card: &mut TestCard, limit: usize) -> usize {
    let mut idle = 0;
    for i in 0..limit {
        if fw.poll(card) || fw.busy() {
            idle = 0;
        } else {
            idle += 1;
            if idle >= 3 {
                return i;
            }
        }
    }
    limit
}
