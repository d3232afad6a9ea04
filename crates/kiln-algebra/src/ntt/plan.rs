//! How a transform of a given size is split up: the cache block size, how the stages
//! above the block are grouped into passes, and when to go parallel.

/// Below this many elements everything runs on the calling thread.
pub(crate) const PAR_MIN_LEN: usize = 1 << 11;

/// log2 of the largest block transformed entirely in cache (data + twiddles ≈ 2× this
/// many elements of 32 bytes, sized for a 1–2 MiB L2).
pub(crate) const MAX_BLOCK_LOG: u32 = 13;

/// log2 of the smallest block (the vector kernels need two 8-lane vectors per block).
const MIN_BLOCK_LOG: u32 = 4;

/// Blocks per thread the block phase aims for when a transform is parallel.
const BLOCKS_PER_THREAD_LOG: u32 = 2;

/// At most this many stages are fused into one pass over memory above the block level.
pub(crate) const MAX_PASS_STAGES: u32 = 7;

/// Columns per task in a fused pass (consecutive positions within each row).
pub(crate) const PASS_COLUMNS: usize = 32;

/// The split of a 2^log_n transform.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// log2 of the length of the blocks transformed in cache.
    pub(crate) block_log: u32,
    /// Whether the passes and blocks run on the rayon pool.
    pub(crate) parallel: bool,
}

impl Plan {
    /// The plan for a transform of 2^log_n elements with blocks of at most
    /// 2^max_block_log elements (normally [`MAX_BLOCK_LOG`]; tests use smaller ones to
    /// exercise several passes at small sizes).
    pub(crate) fn new(log_n: u32, max_block_log: u32) -> Self {
        let parallel = (1usize << log_n) >= PAR_MIN_LEN;
        let mut block_log = log_n.min(max_block_log);
        if parallel {
            let threads = rayon::current_num_threads().max(1);
            let want = usize::BITS - (threads - 1).leading_zeros() + BLOCKS_PER_THREAD_LOG;
            block_log = block_log.min(log_n.saturating_sub(want));
        }
        let block_log = block_log.max(MIN_BLOCK_LOG.min(log_n));
        Self {
            block_log,
            parallel,
        }
    }
}

/// The `bits`-bit reversal of `i` (`i < 2^bits`).
#[inline]
pub(crate) fn bitrev_index(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

/// Splits `stages` stages into passes of at most [`MAX_PASS_STAGES`], as even as possible.
pub(crate) fn pass_sizes(stages: u32) -> impl Iterator<Item = u32> {
    let passes = stages.div_ceil(MAX_PASS_STAGES);
    (0..passes).map(move |i| {
        let base = stages / passes;
        base + u32::from(i < stages % passes)
    })
}
