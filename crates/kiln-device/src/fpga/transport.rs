//! How the host reaches a card: its register file (BAR0) and DMA to and from card memory.
//! Two transports implement it: the emulated card ([`super::emulator`]) and Alveo cards
//! through XRT ([`super::xrt`]).

/// A transport failure, as text for the device error.
pub type TransportResult<T> = Result<T, String>;

/// Registers and DMA of one card.
pub trait CardTransport: Send + Sync {
    /// Reads the 32-bit register at byte offset `offset` of BAR0.
    fn read_reg(&self, offset: u32) -> TransportResult<u32>;
    /// Writes the 32-bit register at `offset`.
    fn write_reg(&self, offset: u32, value: u32) -> TransportResult<()>;
    /// DMA from the host to card memory at `addr`.
    fn write_mem(&self, addr: u64, data: &[u8]) -> TransportResult<()>;
    /// DMA of `len` bytes of card memory at `addr` to the host.
    fn read_mem(&self, addr: u64, len: usize) -> TransportResult<Vec<u8>>;
}
