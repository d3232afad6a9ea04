//! Engine lanes: what the firmware tracks per engine while a command runs — whether a
//! pass is in flight, when it started (for the watchdog) and the cycles the engine has
//! spent on the command (for the makespan).

/// Most engines of one kind the firmware drives; a card with more leaves the rest idle.
pub const MAX_ENGINES: usize = 16;

/// One engine's state within a command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lane {
    /// A pass is in flight.
    pub busy: bool,
    /// [`crate::card::Card::now`] when the pass started.
    pub started: u64,
    /// Engine cycles spent on this command.
    pub cycles: u64,
}

/// The lanes of the engines a command uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lanes {
    lanes: [Lane; MAX_ENGINES],
    n: u32,
}

impl Lanes {
    /// `n` idle lanes (at most [`MAX_ENGINES`]).
    pub fn new(n: u32) -> Self {
        Lanes {
            lanes: [Lane::default(); MAX_ENGINES],
            n: n.min(MAX_ENGINES as u32),
        }
    }

    /// Number of lanes.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Whether there are no lanes.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Lane `e`.
    pub fn get(&self, e: u32) -> &Lane {
        &self.lanes[e as usize]
    }

    /// Marks a pass started on lane `e` at `now`.
    pub fn start(&mut self, e: u32, now: u64) {
        let lane = &mut self.lanes[e as usize];
        lane.busy = true;
        lane.started = now;
    }

    /// Marks lane `e`'s pass finished after `cycles` engine cycles.
    pub fn finish(&mut self, e: u32, cycles: u64) {
        let lane = &mut self.lanes[e as usize];
        lane.busy = false;
        lane.cycles = lane.cycles.saturating_add(cycles);
    }

    /// Whether lane `e`'s pass has run more than `budget` cycles of `now`.
    pub fn expired(&self, e: u32, now: u64, budget: u64) -> bool {
        let lane = &self.lanes[e as usize];
        lane.busy && now.wrapping_sub(lane.started) > budget
    }

    /// Whether any lane has a pass in flight.
    pub fn any_busy(&self) -> bool {
        self.lanes[..self.n as usize].iter().any(|l| l.busy)
    }

    /// The command's time on engines running in parallel: the largest lane total.
    pub fn makespan(&self) -> u64 {
        self.lanes[..self.n as usize]
            .iter()
            .map(|l| l.cycles)
            .max()
            .unwrap_or(0)
    }
}

/// Where a command stands after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Still running; whether this step started or finished any pass.
    Running(bool),
    /// Finished; the makespan in engine cycles.
    Done(u64),
    /// Failed (the engines were reset): the error and its detail.
    Failed(crate::abi::Error, u64),
}
