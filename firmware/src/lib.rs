//! The command processor of kiln's FPGA card.
//!
//! The card's RISC-V soft core runs this firmware. It serves the host through the
//! register file in BAR0 and two rings in card memory (see [`abi`]): the host writes
//! [`abi::Descriptor`]s and rings a doorbell, the firmware checks each one, sequences its
//! work over the card's MSM and NTT engines ([`card::Card`]) and posts one
//! [`abi::Completion`] per descriptor. The same code runs in the host driver's card
//! emulator (`kiln-device`'s `fpga` backend), which implements [`card::Card`] over the
//! engines' C++, and in this crate's host tests.
//!
//! The firmware never blocks: [`Firmware::poll`] does a bounded amount of work (act on
//! a reset or ring enable, post a held completion, advance the command in progress by
//! starting and polling engine passes, take the next descriptor) and returns. The card
//! binary (`src/bin/card.rs`, feature `card`, for `riscv32imac-unknown-none-elf`) and the
//! emulator call it in a loop.
//!
//! Modules, one job each: [`rings`] (ring configuration and entry access), [`validate`]
//! (descriptor checks), [`tables`] (the resident table directory), [`sched`] (engine
//! lanes: makespan and watchdog), [`msm`] and [`ntt`] (sequencing a command over the
//! engines), [`telemetry`] (counters mirrored into the register file) and [`firmware`]
//! (the top-level state machine).
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod abi;
pub mod card;
pub mod firmware;
pub mod msm;
pub mod ntt;
pub mod rings;
pub mod sched;
pub mod tables;
pub mod telemetry;
pub mod validate;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use firmware::{Config, Firmware};
