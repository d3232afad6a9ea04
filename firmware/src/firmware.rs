//! The top-level state machine: [`Firmware::poll`] is the soft core's whole main loop.
//!
//! # Behaviour where [`crate::abi`] leaves a choice
//!
//! - **Startup.** The first poll writes [`reg::MAGIC`], [`reg::VERSION`],
//!   [`reg::MEM_SIZE_LO`]/`HI`, [`reg::MSM_ENGINES`], [`reg::NTT_ENGINES`] (the engines the
//!   firmware drives, at most [`MAX_ENGINES`] of each), [`reg::CLOCK_MHZ`], zeroes
//!   [`reg::RING_ERROR`] and the telemetry, and sets [`reg::STATUS_READY`].
//! - **Ring enable.** The firmware reads [`reg::RING_ENABLE`] every poll; on a non-zero
//!   value it checks both rings ([`Rings::check`]), and writes `RING_ENABLE` back to 0
//!   once it has acted. On success it zeroes `DESC_HEAD`, `DESC_TAIL`, `COMPL_HEAD` and
//!   `COMPL_TAIL`, clears [`reg::RING_ERROR`] and sets [`reg::STATUS_RINGS_UP`]; on
//!   failure it clears `STATUS_RINGS_UP` and sets `RING_ERROR` to
//!   [`Error::BadRing`]. The host waits for `RING_ENABLE` to read 0 before ringing the
//!   doorbell. The ring geometry is latched at enable; later writes to the base and entry
//!   registers take effect at the next enable. Enabling while a command is in progress
//!   abandons it (engines reset, no completion), as a reset would.
//! - **Doorbell.** A descriptor is taken when `DESC_HEAD != DESC_TAIL` and the completion
//!   ring has room for its completion; `DESC_TAIL` advances as soon as it is read (the
//!   host may reuse the slot at once). If `DESC_HEAD − DESC_TAIL > DESC_ENTRIES` the
//!   firmware posts one [`Error::RingOverrun`] completion (tag 0, opcode 0, index = the
//!   old tail, `detail` = `DESC_HEAD − DESC_TAIL`), counts [`Counter::Overruns`], sets the
//!   tail to the head and keeps serving.
//! - **Completions.** Written at `COMPL_HEAD`, which then advances. When the completion
//!   ring is full (`COMPL_HEAD − COMPL_TAIL ≥ COMPL_ENTRIES`) nothing is overwritten and
//!   no further descriptor is taken until the host advances `COMPL_TAIL`; a completion
//!   that finds the ring full is held and posted first once there is room.
//! - **Reset.** On [`reg::CONTROL`] = [`reg::CONTROL_RESET`] the firmware resets the
//!   engines, drops the command in progress and any held completion (posting nothing:
//!   the rings are down), clears `STATUS_RINGS_UP` and `STATUS_BUSY`, counts
//!   [`Counter::Resets`] and writes `CONTROL` back to 0 (other non-zero values are
//!   cleared and ignored). Resident tables are kept. The host then re-enables the rings;
//!   a reset and an enable written together are both done, the reset first.
//! - **Busy.** [`reg::STATUS_BUSY`] is set from taking a descriptor that starts engine
//!   work until its completion is posted.
//! - **Watchdog.** A pass running more than [`Config::watchdog_cycles`] of
//!   [`Card::now`] fails the command with [`Error::EngineTimeout`] (`detail`: the engine's
//!   index), resets the engines and counts [`Counter::Faults`]. An engine fault fails it
//!   with [`Error::EngineFault`] (`detail`: the fault code), resets the engines (aborting
//!   the command's other passes) and counts [`Counter::Faults`].

use crate::abi::{reg, Completion, Counter, Descriptor, Error, Opcode, ABI_VERSION, MAGIC};
use crate::card::Card;
use crate::msm::MsmJob;
use crate::ntt::NttJob;
use crate::rings::{distance, write_u64, Rings};
use crate::sched::{Progress, MAX_ENGINES};
use crate::tables::Tables;
use crate::telemetry::Telemetry;
use crate::validate::{validate, Command, Limits};

/// The default watchdog: 2^40 cycles, effectively off.
pub const DEFAULT_WATCHDOG_CYCLES: u64 = 1 << 40;

/// Firmware settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long one engine pass may run, in cycles of [`Card::now`] (the soft core's
    /// `mcycle`), before the command fails with [`Error::EngineTimeout`]. Default
    /// [`DEFAULT_WATCHDOG_CYCLES`] (effectively off); set it from the longest pass the
    /// card's largest MSM chunk or NTT can take.
    pub watchdog_cycles: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            watchdog_cycles: DEFAULT_WATCHDOG_CYCLES,
        }
    }
}

/// Engine work in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Msm(MsmJob),
    Ntt(NttJob),
}

/// The command in progress: its descriptor, ring index and job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Current {
    desc: Descriptor,
    index: u32,
    job: Job,
}

/// The card's command processor.
#[derive(Clone, Debug)]
pub struct Firmware {
    config: Config,
    booted: bool,
    limits: Limits,
    tables: Tables,
    telemetry: Telemetry,
    rings: Option<Rings>,
    desc_tail: u32,
    compl_head: u32,
    current: Option<Current>,
    held: Option<Completion>,
    status: u32,
}

impl Firmware {
    /// Firmware with `config`, not yet started (the first [`Firmware::poll`] starts it).
    pub fn new(config: Config) -> Self {
        Firmware {
            config,
            booted: false,
            limits: Limits {
                mem_size: 0,
                msm_engines: 0,
                ntt_engines: 0,
            },
            tables: Tables::new(),
            telemetry: Telemetry::new(),
            rings: None,
            desc_tail: 0,
            compl_head: 0,
            current: None,
            held: None,
            status: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The resident tables.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The telemetry counters.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// The rings being served, if they are up.
    pub fn rings(&self) -> Option<&Rings> {
        self.rings.as_ref()
    }

    /// Whether a command is in progress or its completion is waiting for room.
    pub fn busy(&self) -> bool {
        self.current.is_some() || self.held.is_some()
    }

    /// Does a bounded amount of work and returns whether anything happened: starts the
    /// firmware (first call), acts on a reset or ring enable, posts a held completion,
    /// advances the command in progress, takes the next descriptor. Never blocks.
    pub fn poll(&mut self, card: &mut impl Card) -> bool {
        let mut progress = false;
        if !self.booted {
            self.boot(card);
            progress = true;
        }
        let control = card.reg_read(reg::CONTROL);
        if control != 0 {
            if control == reg::CONTROL_RESET {
                self.reset(card);
            }
            // STATUS (rings down) before the acknowledgement: the host reads it then.
            self.update_status(card);
            card.reg_write(reg::CONTROL, 0);
            progress = true;
        }
        if card.reg_read(reg::RING_ENABLE) != 0 {
            self.enable_rings(card);
            // STATUS and RING_ERROR describe these rings before the host sees the enable
            // acknowledged.
            self.update_status(card);
            card.reg_write(reg::RING_ENABLE, 0);
            progress = true;
        }
        if self.rings.is_some() {
            progress |= self.serve(card);
        }
        self.update_status(card);
        self.telemetry.flush(card);
        progress
    }

    fn boot(&mut self, card: &mut impl Card) {
        self.limits = Limits {
            mem_size: card.mem_size(),
            msm_engines: card.msm_engines().min(MAX_ENGINES as u32),
            ntt_engines: card.ntt_engines().min(MAX_ENGINES as u32),
        };
        card.reg_write(reg::MAGIC, MAGIC);
        card.reg_write(reg::VERSION, ABI_VERSION);
        write_u64(
            card,
            reg::MEM_SIZE_LO,
            reg::MEM_SIZE_HI,
            self.limits.mem_size,
        );
        card.reg_write(reg::MSM_ENGINES, self.limits.msm_engines);
        card.reg_write(reg::NTT_ENGINES, self.limits.ntt_engines);
        card.reg_write(reg::CLOCK_MHZ, card.clock_mhz());
        card.reg_write(reg::RING_ERROR, 0);
        self.booted = true;
        self.status = !0; // forces the first status write
    }

    /// Drops the command in progress (resetting the engines) and any held completion.
    fn abandon(&mut self, card: &mut impl Card) {
        card.reset_engines();
        self.current = None;
        self.held = None;
    }

    fn reset(&mut self, card: &mut impl Card) {
        self.abandon(card);
        self.rings = None;
        self.telemetry.add(Counter::Resets, 1);
    }

    fn enable_rings(&mut self, card: &mut impl Card) {
        if self.busy() {
            self.abandon(card);
        }
        match Rings::from_registers(card, self.limits.mem_size) {
            Ok(rings) => {
                self.rings = Some(rings);
                self.desc_tail = 0;
                self.compl_head = 0;
                for r in [
                    reg::DESC_HEAD,
                    reg::DESC_TAIL,
                    reg::COMPL_HEAD,
                    reg::COMPL_TAIL,
                ] {
                    card.reg_write(r, 0);
                }
                card.reg_write(reg::RING_ERROR, 0);
            }
            Err(e) => {
                self.rings = None;
                card.reg_write(reg::RING_ERROR, e as u32);
            }
        }
    }

    fn update_status(&mut self, card: &mut impl Card) {
        let mut status = reg::STATUS_READY;
        if self.rings.is_some() {
            status |= reg::STATUS_RINGS_UP;
        }
        if self.busy() {
            status |= reg::STATUS_BUSY;
        }
        if status != self.status {
            card.reg_write(reg::STATUS, status);
            self.status = status;
        }
    }

    /// Whether the completion ring has room for one more entry.
    fn completion_room(&self, card: &mut impl Card, rings: &Rings) -> bool {
        let tail = card.reg_read(reg::COMPL_TAIL);
        distance(self.compl_head, tail) < rings.compl.entries
    }

    /// Posts `completion` if the completion ring has room, else holds it.
    fn post(&mut self, card: &mut impl Card, completion: Completion) {
        let Some(rings) = self.rings else { return };
        if self.completion_room(card, &rings) {
            rings.write_completion(card, self.compl_head, &completion);
            self.compl_head = self.compl_head.wrapping_add(1);
            card.reg_write(reg::COMPL_HEAD, self.compl_head);
        } else {
            self.held = Some(completion);
        }
    }

    /// Completes the command `desc` at ring index `index` with `outcome` (cycles, or an
    /// error and its detail): counts it and posts its completion.
    fn complete(
        &mut self,
        card: &mut impl Card,
        desc: &Descriptor,
        index: u32,
        outcome: Result<u64, (Error, u64)>,
    ) {
        let (status, cycles, detail) = match outcome {
            Ok(cycles) => {
                self.telemetry.add(Counter::CommandsDone, 1);
                (0, cycles, 0)
            }
            Err((e, detail)) => {
                self.telemetry.add(Counter::CommandsFailed, 1);
                (e as u32, 0, detail)
            }
        };
        let completion = Completion {
            tag: desc.tag,
            status,
            cycles,
            detail,
            opcode: desc.opcode,
            index,
        };
        self.post(card, completion);
    }

    /// Serves the rings: one step of the command in progress, or the next descriptor.
    fn serve(&mut self, card: &mut impl Card) -> bool {
        let Some(rings) = self.rings else {
            return false;
        };
        if let Some(held) = self.held {
            if !self.completion_room(card, &rings) {
                return false;
            }
            self.held = None;
            self.post(card, held);
            return true;
        }
        let watchdog = self.config.watchdog_cycles;
        if let Some(current) = self.current.as_mut() {
            let progress = match &mut current.job {
                Job::Msm(job) => job.step(card, watchdog, &mut self.telemetry),
                Job::Ntt(job) => job.step(card, watchdog, &mut self.telemetry),
            };
            let (desc, index) = (current.desc, current.index);
            let outcome = match progress {
                Progress::Running(p) => return p,
                Progress::Done(cycles) => Ok(cycles),
                Progress::Failed(e, detail) => Err((e, detail)),
            };
            self.current = None;
            self.complete(card, &desc, index, outcome);
            return true;
        }
        self.take(card, &rings)
    }

    /// Takes the next descriptor, if there is one and room for its completion.
    fn take(&mut self, card: &mut impl Card, rings: &Rings) -> bool {
        let head = card.reg_read(reg::DESC_HEAD);
        if head == self.desc_tail || !self.completion_room(card, rings) {
            return false;
        }
        let index = self.desc_tail;
        let ahead = distance(head, index);
        if ahead > rings.desc.entries {
            self.desc_tail = head;
            card.reg_write(reg::DESC_TAIL, head);
            self.telemetry.add(Counter::Overruns, 1);
            let completion = Completion {
                tag: 0,
                status: Error::RingOverrun as u32,
                cycles: 0,
                detail: u64::from(ahead),
                opcode: 0,
                index,
            };
            self.post(card, completion);
            return true;
        }
        let desc = rings.read_descriptor(card, index);
        self.desc_tail = index.wrapping_add(1);
        card.reg_write(reg::DESC_TAIL, self.desc_tail);
        let command = match validate(&desc, &self.tables, &self.limits, Some(rings)) {
            Ok(command) => command,
            Err(refusal) => {
                self.complete(card, &desc, index, Err((refusal.error, refusal.detail)));
                return true;
            }
        };
        let job = match command {
            Command::Nop => None,
            Command::LoadTable { id, table } => {
                self.tables.insert(id, table);
                None
            }
            Command::FreeTable { id } => {
                self.tables.remove(id);
                None
            }
            Command::Msm(args) => Some(Job::Msm(MsmJob::new(args, self.limits.msm_engines))),
            Command::Ntt(args) => Some(Job::Ntt(NttJob::new(args, self.limits.ntt_engines, card))),
        };
        match job {
            None => self.complete(card, &desc, index, Ok(0)),
            Some(job) => {
                debug_assert!(Opcode::from_code(desc.opcode).is_some());
                self.current = Some(Current { desc, index, job });
                // Start the engines now rather than on the next poll.
                self.serve(card);
            }
        }
        true
    }
}
