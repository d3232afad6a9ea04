//! Sequencing an MSM over the MSM engines.
//!
//! An MSM of `c`-bit windows is [`msm_windows`]`(c)` independent windows. Each window is
//! given whole to an idle engine (all engines work concurrently, one window each; a
//! freed engine takes the next window). For its window an engine runs one
//! [`MsmPass::Accumulate`] per chunk of at most [`MAX_CHUNK`] points (the first one
//! clearing the buckets), then one [`MsmPass::Reduce`] writing the window's `2·segments`
//! XYZZ points at `result + w·segments·2·xyzz_bytes`.
//!
//! The command's cycles are the makespan: engines run in parallel, so each engine's
//! passes add up and the command takes as long as the busiest engine. Telemetry counts
//! every pass (accumulate and reduce): [`Counter::MsmCycles`] their cycles,
//! [`Counter::MsmPasses`] their number, [`Counter::MsmDeferred`] the points deferred.

use crate::abi::{msm_windows, Counter, Error, MAX_CHUNK};
use crate::card::{Card, MsmPass};
use crate::sched::{Lanes, Progress, MAX_ENGINES};
use crate::telemetry::Telemetry;
use crate::validate::{MsmArgs, SCALAR_BYTES};

/// What an engine is working on: a window and the step within it (`0..chunks` are the
/// accumulate passes, `chunks` the reduce pass).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Work {
    window: u32,
    step: u32,
}

/// An MSM in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsmJob {
    args: MsmArgs,
    windows: u32,
    chunks: u32,
    next_window: u32,
    windows_done: u32,
    lanes: Lanes,
    work: [Work; MAX_ENGINES],
}

impl MsmJob {
    /// A job for `args` on `engines` engines (≥ 1); nothing started yet.
    pub fn new(args: MsmArgs, engines: u32) -> Self {
        MsmJob {
            args,
            windows: msm_windows(args.c),
            chunks: args.count.div_ceil(MAX_CHUNK),
            next_window: 0,
            windows_done: 0,
            lanes: Lanes::new(engines),
            work: [Work::default(); MAX_ENGINES],
        }
    }

    /// The checked arguments.
    pub fn args(&self) -> &MsmArgs {
        &self.args
    }

    /// The pass for step `step` of window `window`.
    pub fn pass(&self, window: u32, step: u32) -> MsmPass {
        let a = &self.args;
        let group = a.table.group;
        if step < self.chunks {
            let offset = step * MAX_CHUNK;
            let count = (a.count - offset).min(MAX_CHUNK);
            let first = a.start + u64::from(offset);
            MsmPass::Accumulate {
                group,
                points: a.table.addr + first * group.affine_bytes() as u64,
                scalars: a.scalars + u64::from(offset) * SCALAR_BYTES,
                count,
                c: a.c,
                window,
                clear: step == 0,
            }
        } else {
            MsmPass::Reduce {
                group,
                c: a.c,
                segments: a.segments,
                out: a.result + u64::from(window) * a.window_bytes(),
            }
        }
    }

    fn start(&mut self, card: &mut impl Card, e: u32, work: Work) {
        self.work[e as usize] = work;
        let pass = self.pass(work.window, work.step);
        card.msm_start(e, &pass);
        let now = card.now();
        self.lanes.start(e, now);
    }

    /// Advances the MSM: collects finished passes, starts the next ones, checks the
    /// watchdog (`watchdog` cycles of [`Card::now`] per pass). On a fault or timeout the
    /// engines are reset and the job is over.
    pub fn step(
        &mut self,
        card: &mut impl Card,
        watchdog: u64,
        telemetry: &mut Telemetry,
    ) -> Progress {
        let mut progress = false;
        for e in 0..self.lanes.len() {
            if self.lanes.get(e).busy {
                if let Some(done) = card.msm_poll(e) {
                    progress = true;
                    self.lanes.finish(e, done.cycles);
                    telemetry.add(Counter::MsmCycles, done.cycles);
                    telemetry.add(Counter::MsmPasses, 1);
                    telemetry.add(Counter::MsmDeferred, done.deferred);
                    if done.fault != 0 {
                        card.reset_engines();
                        telemetry.add(Counter::Faults, 1);
                        return Progress::Failed(Error::EngineFault, u64::from(done.fault));
                    }
                    let w = self.work[e as usize];
                    if w.step < self.chunks {
                        let next = Work {
                            window: w.window,
                            step: w.step + 1,
                        };
                        self.start(card, e, next);
                    } else {
                        self.windows_done += 1;
                    }
                } else if self.lanes.expired(e, card.now(), watchdog) {
                    card.reset_engines();
                    telemetry.add(Counter::Faults, 1);
                    return Progress::Failed(Error::EngineTimeout, u64::from(e));
                }
            }
            if !self.lanes.get(e).busy && self.next_window < self.windows {
                let work = Work {
                    window: self.next_window,
                    step: 0,
                };
                self.next_window += 1;
                self.start(card, e, work);
                progress = true;
            }
        }
        if self.windows_done == self.windows {
            Progress::Done(self.lanes.makespan())
        } else {
            Progress::Running(progress)
        }
    }
}
