//! In-place bit-reversal permutation, tiled so that it stays cache friendly at sizes far
//! beyond the cache.
//!
//! Write an index of k bits as (a, b, c) with a and c of `TILE_LOG` bits each. Its reversal
//! is (rev c, rev b, rev a), so the 2^{2·TILE_LOG} elements sharing a middle field b (a
//! "tile": 2^TILE_LOG short contiguous runs) swap exactly with the tile of rev b. Tiles
//! are visited for b ≤ rev b only, so each swap is done once, and different b touch
//! disjoint elements, which is what makes the parallel version sound.

use rayon::prelude::*;

use super::plan::{bitrev_index, PAR_MIN_LEN};

/// log2 of a tile's side: runs of 16 elements (512 bytes for a 256-bit field).
const TILE_LOG: u32 = 4;

/// Permutes `data` (length a power of two) so that `data[i]` moves to `data[bitrev(i)]`.
pub(crate) fn bit_reverse<T: Copy + Send + Sync>(data: &mut [T]) {
    let n = data.len();
    if n <= 2 || !n.is_power_of_two() {
        return;
    }
    let k = n.trailing_zeros();
    if k < 2 * TILE_LOG + 2 {
        for i in 0..n {
            let r = bitrev_index(i, k);
            if i < r {
                data.swap(i, r);
            }
        }
        return;
    }
    let mid = k - 2 * TILE_LOG;
    let side = 1usize << TILE_LOG;
    let ptr = SharedMut(data.as_mut_ptr());
    let tile = move |b: usize| {
        let rb = bitrev_index(b, mid);
        if b > rb {
            return;
        }
        for a in 0..side {
            let ra = bitrev_index(a, TILE_LOG);
            for c in 0..side {
                let rc = bitrev_index(c, TILE_LOG);
                let i = (a << (k - TILE_LOG)) | (b << TILE_LOG) | c;
                let r = (rc << (k - TILE_LOG)) | (rb << TILE_LOG) | ra;
                if b < rb || i < r {
                    // SAFETY: i, r < n, and i ≠ r. The pair {i, r} is swapped only by the
                    // call for min(b, rev b) (and, inside it, only once: when b = rev b the
                    // pair is taken in its i < r orientation), and elements whose middle
                    // field is b or rev b are touched by no other call, so concurrent calls
                    // access disjoint elements of `data`, which outlives them all.
                    unsafe { std::ptr::swap(ptr.get().add(i), ptr.get().add(r)) };
                }
            }
        }
    };
    if n >= PAR_MIN_LEN {
        (0..1usize << mid).into_par_iter().for_each(tile);
    } else {
        (0..1usize << mid).for_each(tile);
    }
}

/// A raw pointer shared across the rayon tasks of one permutation (see the SAFETY note).
#[derive(Clone, Copy)]
struct SharedMut<T>(*mut T);

impl<T> SharedMut<T> {
    /// The pointer. (A method, so closures capture the whole `Send + Sync` wrapper.)
    #[inline(always)]
    fn get(self) -> *mut T {
        self.0
    }
}

// SAFETY: the wrapper only moves the pointer between threads; every dereference is
// covered by the disjointness argument at the use site, and `T: Send` lets elements
// be written from another thread.
unsafe impl<T: Send> Send for SharedMut<T> {}
// SAFETY: as above; shared references to the wrapper only copy the pointer out.
unsafe impl<T: Send> Sync for SharedMut<T> {}
