//! The host's side of the card's command interface (`firmware/src/abi.rs`): it sets up the
//! descriptor and completion rings, submits one descriptor at a time and waits for its
//! completion with a deadline, turns every refusal into an error naming the firmware's
//! code, and resets the card when it stops answering (a hung engine, a lost completion).
//! It also owns the card-memory heap.

use std::time::{Duration, Instant};

use kiln_firmware::abi::{
    reg, Completion, Counter, Descriptor, Error as FwError, Opcode, ABI_VERSION, COMPLETION_BYTES,
    COUNTERS, DESCRIPTOR_BYTES, MAGIC,
};

use super::heap::CardHeap;
use super::transport::CardTransport;

/// Entries of each ring.
const RING_ENTRIES: u32 = 256;
/// Card address of the descriptor ring.
const DESC_BASE: u64 = 0;
/// Card address of the completion ring.
const COMPL_BASE: u64 = DESC_BASE + RING_ENTRIES as u64 * DESCRIPTOR_BYTES as u64;
/// Where the heap starts (past the rings).
const HEAP_START: u64 = 1 << 16;
/// How long the firmware has to come up or to answer a reset.
const BOOT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a command did not complete.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The transport failed.
    #[error("card transport: {0}")]
    Transport(String),
    /// The card is not running kiln's firmware, or another version of it.
    #[error("the card does not run kiln's firmware interface {ABI_VERSION}: {0}")]
    Firmware(String),
    /// The firmware refused or failed the command.
    #[error("the card refused {}: {} (status {status}, detail {detail})", name(*.opcode), describe(*.status))]
    Refused {
        /// The command (`None`: an opcode the card does not know).
        opcode: Option<Opcode>,
        /// The firmware's status code.
        status: u32,
        /// Its detail (the refused argument's index, or an engine's fault code).
        detail: u64,
    },
    /// No completion came within the deadline; the card was reset.
    #[error("the card did not complete {} within {timeout:?}; it was reset", name(*.opcode))]
    Timeout {
        /// The command.
        opcode: Option<Opcode>,
        /// The deadline.
        timeout: Duration,
    },
    /// Card memory is full.
    #[error("card memory exhausted: {0} bytes wanted")]
    OutOfMemory(u64),
}

fn name(opcode: Option<Opcode>) -> String {
    opcode.map_or_else(|| "an unknown opcode".into(), |o| format!("{o:?}"))
}

fn describe(status: u32) -> &'static str {
    FwError::from_code(status).map_or("unknown status", FwError::describe)
}

/// A completed command.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// Engine cycles the card spent.
    pub cycles: u64,
}

/// A command in flight, to [`CardDriver::wait`] for.
#[derive(Debug)]
#[must_use = "every posted command must be waited for"]
pub struct Posted {
    tag: u32,
    opcode: Option<Opcode>,
    epoch: u64,
}

/// Ring state and the heap of one card.
pub struct CardDriver {
    transport: Box<dyn CardTransport>,
    head: u32,
    compl_tail: u32,
    next_tag: u32,
    timeout: Duration,
    heap: CardHeap,
    mem_size: u64,
    clock_mhz: u32,
    msm_engines: u32,
    /// Resets so far: commands posted before the last one were dropped by it.
    epoch: u64,
    /// Set when a reset failed: engines may still be writing card memory, so no command
    /// goes to the card again (reopen the device).
    broken: bool,
}

impl CardDriver {
    /// Checks the firmware, brings the rings up, and makes the heap of card memory.
    pub fn open(transport: Box<dyn CardTransport>, timeout: Duration) -> Result<Self, DriverError> {
        let t = |r: Result<u32, String>| r.map_err(DriverError::Transport);
        let deadline = Instant::now() + BOOT_TIMEOUT;
        while t(transport.read_reg(reg::STATUS))? & reg::STATUS_READY == 0 {
            if Instant::now() > deadline {
                return Err(DriverError::Firmware("it never reported ready".into()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let (magic, version) = (
            t(transport.read_reg(reg::MAGIC))?,
            t(transport.read_reg(reg::VERSION))?,
        );
        if magic != MAGIC || version != ABI_VERSION {
            return Err(DriverError::Firmware(format!(
                "magic {magic:#x}, version {version}"
            )));
        }
        let mem_size = u64::from(t(transport.read_reg(reg::MEM_SIZE_LO))?)
            | u64::from(t(transport.read_reg(reg::MEM_SIZE_HI))?) << 32;
        let clock_mhz = t(transport.read_reg(reg::CLOCK_MHZ))?;
        let msm_engines = t(transport.read_reg(reg::MSM_ENGINES))?;
        let mut d = CardDriver {
            transport,
            head: 0,
            compl_tail: 0,
            next_tag: 1,
            timeout,
            heap: CardHeap::new(HEAP_START, mem_size),
            mem_size,
            clock_mhz,
            msm_engines,
            epoch: 0,
            broken: false,
        };
        d.rings_up()?;
        Ok(d)
    }

    /// Card memory in bytes.
    pub fn mem_size(&self) -> u64 {
        self.mem_size
    }

    /// The engines' clock in MHz.
    pub fn clock_mhz(&self) -> u32 {
        self.clock_mhz
    }

    /// MSM engines on the card.
    pub fn msm_engines(&self) -> u32 {
        self.msm_engines
    }

    /// Sets the rings' registers and enables them.
    fn rings_up(&mut self) -> Result<(), DriverError> {
        let w = |off, v| {
            self.transport
                .write_reg(off, v)
                .map_err(DriverError::Transport)
        };
        w(reg::DESC_BASE_LO, DESC_BASE as u32)?;
        w(reg::DESC_BASE_HI, (DESC_BASE >> 32) as u32)?;
        w(reg::DESC_ENTRIES, RING_ENTRIES)?;
        w(reg::COMPL_BASE_LO, COMPL_BASE as u32)?;
        w(reg::COMPL_BASE_HI, (COMPL_BASE >> 32) as u32)?;
        w(reg::COMPL_ENTRIES, RING_ENTRIES)?;
        // Enabling the rings zeroes all four indices, whatever the outcome.
        self.head = 0;
        self.compl_tail = 0;
        w(reg::RING_ENABLE, 1)?;
        // The firmware acts on the enable, then writes it back to 0; only then do STATUS
        // and RING_ERROR describe these rings.
        let deadline = Instant::now() + BOOT_TIMEOUT;
        while self.reg(reg::RING_ENABLE)? != 0 {
            if Instant::now() > deadline {
                return Err(DriverError::Firmware("it never took the rings".into()));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        if self.reg(reg::STATUS)? & reg::STATUS_RINGS_UP == 0 {
            return Err(DriverError::Firmware(format!(
                "it refused the rings: {}",
                describe(self.reg(reg::RING_ERROR)?)
            )));
        }
        Ok(())
    }

    fn reg(&self, offset: u32) -> Result<u32, DriverError> {
        self.transport
            .read_reg(offset)
            .map_err(DriverError::Transport)
    }

    /// DMA to card memory.
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), DriverError> {
        self.transport
            .write_mem(addr, data)
            .map_err(DriverError::Transport)
    }

    /// DMA from card memory.
    pub fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, DriverError> {
        self.transport
            .read_mem(addr, len)
            .map_err(DriverError::Transport)
    }

    /// `len` bytes of card memory.
    pub fn alloc(&mut self, len: u64) -> Result<u64, DriverError> {
        self.heap.alloc(len).ok_or(DriverError::OutOfMemory(len))
    }

    /// Frees an allocation.
    pub fn free(&mut self, addr: u64, len: u64) {
        self.heap.free(addr, len);
    }

    /// Telemetry counter `c` of the firmware.
    pub fn counter(&self, c: Counter) -> Result<u64, DriverError> {
        debug_assert!((c as u32) < COUNTERS);
        let off = reg::TELEMETRY + 8 * c as u32;
        Ok(u64::from(self.reg(off)?) | u64::from(self.reg(off + 4)?) << 32)
    }

    /// Runs one command: writes its descriptor, rings the doorbell, waits for its
    /// completion (resetting the card if none comes in time).
    pub fn submit(&mut self, opcode: Opcode, args: [u64; 7]) -> Result<Done, DriverError> {
        self.submit_code(opcode as u32, args)
    }

    /// [`CardDriver::submit`] with a raw opcode (the card refuses unknown ones).
    pub fn submit_code(&mut self, opcode: u32, args: [u64; 7]) -> Result<Done, DriverError> {
        let posted = self.post(opcode, args)?;
        self.wait(posted)
    }

    /// Writes a descriptor and rings the doorbell without waiting: the host can then
    /// prepare the next command's data while the card works (double buffering). Commands
    /// complete in order; [`CardDriver::wait`] for each, oldest first.
    pub fn post(&mut self, opcode: u32, args: [u64; 7]) -> Result<Posted, DriverError> {
        if self.broken {
            return Err(DriverError::Firmware(
                "the card failed a reset and takes no more commands; reopen it".into(),
            ));
        }
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1).max(1);
        let desc = Descriptor { opcode, tag, args };
        let slot = u64::from(self.head % RING_ENTRIES) * DESCRIPTOR_BYTES as u64;
        self.write(DESC_BASE + slot, &desc.to_bytes())?;
        self.head = self.head.wrapping_add(1);
        self.transport
            .write_reg(reg::DESC_HEAD, self.head)
            .map_err(DriverError::Transport)?;
        Ok(Posted {
            tag,
            opcode: Opcode::from_code(opcode),
            epoch: self.epoch,
        })
    }

    /// Waits for the completion of `posted` (the oldest command still in flight).
    pub fn wait(&mut self, posted: Posted) -> Result<Done, DriverError> {
        let Posted { tag, opcode, epoch } = posted;
        if epoch != self.epoch {
            return Err(DriverError::Refused {
                opcode,
                status: FwError::Aborted as u32,
                detail: 0,
            });
        }
        let c = self.wait_completion(opcode)?;
        if c.tag != tag {
            self.reset()?;
            return Err(DriverError::Firmware(format!(
                "completion for tag {} came back for tag {tag}; the card was reset",
                c.tag
            )));
        }
        if c.status != 0 {
            return Err(DriverError::Refused {
                opcode,
                status: c.status,
                detail: c.detail,
            });
        }
        Ok(Done { cycles: c.cycles })
    }

    fn wait_completion(&mut self, opcode: Option<Opcode>) -> Result<Completion, DriverError> {
        let deadline = Instant::now() + self.timeout;
        let mut nap = Duration::from_micros(20);
        loop {
            let head = self.reg(reg::COMPL_HEAD)?;
            if head != self.compl_tail {
                let slot = u64::from(self.compl_tail % RING_ENTRIES) * COMPLETION_BYTES as u64;
                let bytes = self.read(COMPL_BASE + slot, COMPLETION_BYTES)?;
                let mut b = [0u8; COMPLETION_BYTES];
                b.copy_from_slice(&bytes);
                self.compl_tail = self.compl_tail.wrapping_add(1);
                self.transport
                    .write_reg(reg::COMPL_TAIL, self.compl_tail)
                    .map_err(DriverError::Transport)?;
                return Ok(Completion::from_bytes(&b));
            }
            if Instant::now() > deadline {
                tracing::warn!(target: crate::TARGET, ?opcode, timeout = ?self.timeout, "FPGA card did not answer; resetting it");
                self.reset()?;
                return Err(DriverError::Timeout {
                    opcode,
                    timeout: self.timeout,
                });
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(2));
        }
    }

    /// Rings the doorbell at producer index `head` without writing descriptors (for tests
    /// of the firmware's overrun handling).
    #[cfg(test)]
    pub(crate) fn doorbell(&mut self, head: u32) -> Result<(), DriverError> {
        self.head = head;
        self.transport
            .write_reg(reg::DESC_HEAD, head)
            .map_err(DriverError::Transport)
    }

    /// Resets the card's command state (the firmware aborts what it is doing, resets the
    /// engines and takes the rings down; resident tables stay) and brings the rings up.
    pub fn reset(&mut self) -> Result<(), DriverError> {
        let r = self.try_reset();
        self.broken |= r.is_err();
        r
    }

    fn try_reset(&mut self) -> Result<(), DriverError> {
        self.epoch += 1;
        self.transport
            .write_reg(reg::CONTROL, reg::CONTROL_RESET)
            .map_err(DriverError::Transport)?;
        let deadline = Instant::now() + BOOT_TIMEOUT;
        while self.reg(reg::CONTROL)? != 0 || self.reg(reg::STATUS)? & reg::STATUS_RINGS_UP != 0 {
            if Instant::now() > deadline {
                return Err(DriverError::Firmware("it did not answer a reset".into()));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        self.rings_up()
    }
}
