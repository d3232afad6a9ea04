//! Telemetry: the [`Counter`]s, mirrored into the register file at
//! [`reg::TELEMETRY`]` + 8·i` (low word, then high word) whenever they change.

use crate::abi::{reg, Counter, COUNTERS};
use crate::card::Card;

/// The counters and which of them changed since the last [`Telemetry::flush`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Telemetry {
    values: [u64; COUNTERS as usize],
    dirty: u32,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// All counters zero, all to be written on the first flush.
    pub const fn new() -> Self {
        Telemetry {
            values: [0; COUNTERS as usize],
            dirty: (1 << COUNTERS) - 1,
        }
    }

    /// Adds `n` to `counter` (wrapping; a u64 of cycles does not wrap in practice).
    pub fn add(&mut self, counter: Counter, n: u64) {
        if n != 0 {
            let i = counter as usize;
            self.values[i] = self.values[i].wrapping_add(n);
            self.dirty |= 1 << i;
        }
    }

    /// The value of `counter`.
    pub fn get(&self, counter: Counter) -> u64 {
        self.values[counter as usize]
    }

    /// Writes the counters that changed into the register file; whether any did.
    pub fn flush(&mut self, card: &mut impl Card) -> bool {
        if self.dirty == 0 {
            return false;
        }
        for (i, v) in self.values.iter().enumerate() {
            if self.dirty & (1 << i) != 0 {
                let lo = reg::TELEMETRY + 8 * i as u32;
                card.reg_write(lo, *v as u32);
                card.reg_write(lo + 4, (*v >> 32) as u32);
            }
        }
        self.dirty = 0;
        true
    }
}
