//! Sequencing an NTT descriptor over the NTT engines: each of its `count` vectors is one
//! [`NttPass`] (a transform with the `ω` read from the parameter address, or a scale by
//! `factor·shift^i`), given to an idle engine; the vectors spread over all engines. The
//! command's cycles are the makespan (each engine's passes add up, the busiest engine
//! decides); [`Counter::NttCycles`] counts every pass's cycles.

use crate::abi::{Counter, Error, NttKind};
use crate::card::{Card, NttPass};
use crate::sched::{Lanes, Progress};
use crate::telemetry::Telemetry;
use crate::validate::NttArgs;

/// The parameters read from card memory when the job starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Params {
    Transform { omega: [u8; 32] },
    Scale { factor: [u8; 32], shift: [u8; 32] },
}

/// An NTT descriptor in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NttJob {
    args: NttArgs,
    params: Params,
    next_vector: u32,
    vectors_done: u32,
    lanes: Lanes,
}

impl NttJob {
    /// A job for `args` on `engines` engines (≥ 1), reading its parameters from card
    /// memory now; nothing started yet.
    pub fn new(args: NttArgs, engines: u32, card: &mut impl Card) -> Self {
        let mut first = [0u8; 32];
        card.mem_read(args.params, &mut first);
        let params = match args.kind {
            NttKind::Transform => Params::Transform { omega: first },
            NttKind::Scale => {
                let mut shift = [0u8; 32];
                card.mem_read(args.params + 32, &mut shift);
                Params::Scale {
                    factor: first,
                    shift,
                }
            }
        };
        NttJob {
            args,
            params,
            next_vector: 0,
            vectors_done: 0,
            lanes: Lanes::new(engines),
        }
    }

    /// The checked arguments.
    pub fn args(&self) -> &NttArgs {
        &self.args
    }

    /// The pass for vector `v`.
    pub fn pass(&self, v: u32) -> NttPass {
        let data = self.args.data + u64::from(v) * self.args.vector_bytes();
        let log_n = self.args.log_n;
        match self.params {
            Params::Transform { omega } => NttPass::Transform { data, log_n, omega },
            Params::Scale { factor, shift } => NttPass::Scale {
                data,
                log_n,
                factor,
                shift,
            },
        }
    }

    /// Advances the job: collects finished passes, starts the next vectors, checks the
    /// watchdog. On a fault or timeout the engines are reset and the job is over.
    pub fn step(
        &mut self,
        card: &mut impl Card,
        watchdog: u64,
        telemetry: &mut Telemetry,
    ) -> Progress {
        let mut progress = false;
        for e in 0..self.lanes.len() {
            if self.lanes.get(e).busy {
                if let Some(done) = card.ntt_poll(e) {
                    progress = true;
                    self.lanes.finish(e, done.cycles);
                    telemetry.add(Counter::NttCycles, done.cycles);
                    if done.fault != 0 {
                        card.reset_engines();
                        telemetry.add(Counter::Faults, 1);
                        return Progress::Failed(Error::EngineFault, u64::from(done.fault));
                    }
                    self.vectors_done += 1;
                } else if self.lanes.expired(e, card.now(), watchdog) {
                    card.reset_engines();
                    telemetry.add(Counter::Faults, 1);
                    return Progress::Failed(Error::EngineTimeout, u64::from(e));
                }
            }
            if !self.lanes.get(e).busy && self.next_vector < self.args.count {
                let pass = self.pass(self.next_vector);
                self.next_vector += 1;
                card.ntt_start(e, &pass);
                let now = card.now();
                self.lanes.start(e, now);
                progress = true;
            }
        }
        if self.vectors_done == self.args.count {
            Progress::Done(self.lanes.makespan())
        } else {
            Progress::Running(progress)
        }
    }
}
