//! The host's allocator of card memory: first fit over the free ranges, 64-byte aligned,
//! neighbours merged on free. Resident point tables and each command's buffers live here.

use std::collections::BTreeMap;

/// Alignment of every allocation (the strictest the firmware asks for).
pub const ALIGN: u64 = 64;

/// Free ranges of card memory, by start address.
#[derive(Debug)]
pub struct CardHeap {
    free: BTreeMap<u64, u64>,
}

impl CardHeap {
    /// A heap over `start..end` (aligned inwards).
    pub fn new(start: u64, end: u64) -> Self {
        let start = start.div_ceil(ALIGN) * ALIGN;
        let mut free = BTreeMap::new();
        if end > start {
            free.insert(start, end - start);
        }
        CardHeap { free }
    }

    /// The address of `len` free bytes (rounded up to [`ALIGN`]), or `None` if no free
    /// range is that large.
    pub fn alloc(&mut self, len: u64) -> Option<u64> {
        let len = len.max(1).checked_next_multiple_of(ALIGN)?;
        let (&start, &size) = self.free.iter().find(|(_, &size)| size >= len)?;
        self.free.remove(&start);
        if size > len {
            self.free.insert(start + len, size - len);
        }
        Some(start)
    }

    /// Returns `len` bytes at `addr` (as allocated) to the heap.
    pub fn free(&mut self, addr: u64, len: u64) {
        let mut start = addr;
        let mut end = addr + len.max(1).next_multiple_of(ALIGN);
        if let Some((&prev, &plen)) = self.free.range(..addr).next_back() {
            if prev + plen == addr {
                self.free.remove(&prev);
                start = prev;
            }
        }
        if let Some(next_len) = self.free.remove(&end) {
            end += next_len;
        }
        self.free.insert(start, end - start);
    }

    /// Bytes free in total.
    pub fn free_bytes(&self) -> u64 {
        self.free.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_disjoint_and_merge_back() {
        let mut h = CardHeap::new(100, 100 + 64 * 10 + 28);
        let total = h.free_bytes();
        assert_eq!(total, 640);
        let a = h.alloc(1).unwrap();
        let b = h.alloc(65).unwrap();
        let c = h.alloc(64).unwrap();
        assert_eq!(a % ALIGN, 0);
        assert_eq!((b - a, c - b), (64, 128));
        assert!(h.alloc(64 * 7).is_none(), "only six blocks are left");
        h.free(b, 65);
        assert_eq!(h.alloc(128), Some(b), "the freed range is reused");
        h.free(a, 1);
        h.free(b, 128);
        h.free(c, 64);
        assert_eq!(h.free_bytes(), total);
        assert_eq!(h.alloc(640), Some(a), "every range merged into one");
    }
}
