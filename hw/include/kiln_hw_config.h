// kiln's FPGA engines: the modelled clock and pipeline depths. The cycle models of the
// C-simulation (MSM issue loop, reduction, NTT) use these constants; hw/README.md derives
// them (a 250 MHz clock on an Alveo U250, create_clock -period 4 in hw/*/run_hls.tcl).
#ifndef KILN_HW_CONFIG_H
#define KILN_HW_CONFIG_H

#include <stdint.h>

namespace kiln_hw {

// Engine clock in MHz (kiln_hw_clock_mhz()).
constexpr uint32_t CLOCK_MHZ = 250;

// Pipeline depth of one Montgomery multiplier (Fq or Fr, 4x64-bit CIOS fully unrolled:
// 4 rows of a 64x64 product, its reduction row and the final conditional subtraction).
constexpr uint32_t MUL_LATENCY = 38;
// Pipeline depth of a modular add/sub (a 256-bit add and a conditional correction).
constexpr uint32_t ADDSUB_LATENCY = 1;
// Fq2 (Karatsuba) multiplier: the operand pre-adds and the result post-subtractions.
constexpr uint32_t FQ2_MUL_LATENCY = MUL_LATENCY + 2 * ADDSUB_LATENCY;

// Point adders (madd-2008-s / add-2008-s with doubling folded in by selects): four
// multiplier levels and six add/sub levels on the critical path.
constexpr uint32_t PADD_LATENCY_G1 = 4 * MUL_LATENCY + 6 * ADDSUB_LATENCY;
constexpr uint32_t PADD_LATENCY_G2 = 4 * FQ2_MUL_LATENCY + 6 * ADDSUB_LATENCY;
constexpr uint32_t PADD_LATENCY_MAX =
    PADD_LATENCY_G1 > PADD_LATENCY_G2 ? PADD_LATENCY_G1 : PADD_LATENCY_G2;

// MSM engine: depth of the hazard scheduler's deferral FIFO.
constexpr uint32_t MSM_FIFO_DEPTH = 64;
// Widest MSM window: 2^(16-1) buckets in on-chip memory (URAM).
constexpr uint32_t MSM_MAX_C = 16;
constexpr uint32_t MSM_MAX_BUCKETS = 1u << (MSM_MAX_C - 1);
constexpr uint32_t MSM_MAX_SEGMENTS = 256;

// NTT engine: twiddle tables of 2^12 entries (omega^k = TOP[k>>24] * HI[(k>>12)&4095] *
// LO[k&4095]; TOP has 16 entries and is only used above 2^25 points).
constexpr uint32_t NTT_TABLE_BITS = 12;
constexpr uint32_t NTT_TABLE = 1u << NTT_TABLE_BITS;
constexpr uint32_t NTT_TOP_TABLE = 16;
constexpr uint32_t NTT_MAX_LOG = 28;
// A butterfly: the twiddle product HI*LO, the product with the odd input, then add/sub.
constexpr uint32_t NTT_BFLY_LATENCY = 2 * MUL_LATENCY + ADDSUB_LATENCY + 1;
// The read latency of card memory seen by a streaming pass (HBM/DDR burst start).
constexpr uint32_t MEM_LATENCY = 64;

}  // namespace kiln_hw

#endif
