// kiln's FPGA engines: the C entry points of the HLS C++ engines, as the card emulator in
// kiln (crates/kiln-device, feature `fpga`) and the C-simulation test benches call them.
// The same sources are what Vitis HLS synthesizes (each engine's top function in
// hw/<engine>/, scripts in hw/<engine>/run_hls.tcl).
//
// Data layout (little-endian; see firmware/src/abi.rs for the card-memory formats):
// - Fq / Fr element: 32 bytes, Montgomery form (x * 2^256 mod p).
// - Fq2 element c0 + c1*u (u^2 = -1): 64 bytes, c0 then c1.
// - affine point (x, y): 64 bytes in G1, 128 in G2; all zeros = infinity.
// - XYZZ point (X, Y, ZZ, ZZZ), x = X/ZZ, y = Y/ZZZ: 128 bytes in G1, 256 in G2; ZZ = 0 =
//   infinity. Outputs are written with infinity as all zeros.
// - scalar: 32 bytes canonical (not Montgomery), below the BN254 group order r.
//
// Every function returns 0, or a negative KILN_HW_E* code for arguments outside the
// engine's range (nothing is written then), and adds the cycles its pipeline model spends
// to *stats (stats may be NULL).
#ifndef KILN_HW_H
#define KILN_HW_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_HW_FIELD_FQ 0
#define KILN_HW_FIELD_FR 1
#define KILN_HW_G1 1
#define KILN_HW_G2 2

#define KILN_HW_EINVAL (-1)

// What an engine spent: cycles of its pipeline model at the engine clock, operations
// issued into its adder or multiplier, cycles it issued nothing (hazard stalls and pipeline
// drain), and points the MSM hazard scheduler deferred.
typedef struct kiln_hw_stats {
    uint64_t cycles;
    uint64_t issued;
    uint64_t stalls;
    uint64_t deferred;
} kiln_hw_stats;

// The engines' modelled clock, in MHz.
uint32_t kiln_hw_clock_mhz(void);

// out[i] = a[i] * b[i] * 2^-256 mod p for i < n, p = Fq or Fr (field = KILN_HW_FIELD_*).
int kiln_hw_mont_mul(uint32_t field, const uint8_t *a, const uint8_t *b, uint8_t *out,
                     uint32_t n, kiln_hw_stats *stats);

// out[i] = acc[i] + p[i] (XYZZ + affine, every special case: either at infinity, equal,
// opposite) for i < n, in group G1 or G2.
int kiln_hw_add_mixed(uint32_t group, const uint8_t *acc, const uint8_t *p, uint8_t *out,
                      uint32_t n, kiln_hw_stats *stats);

// out[i] = a[i] + b[i] (XYZZ + XYZZ, every special case) for i < n.
int kiln_hw_add_xyzz(uint32_t group, const uint8_t *a, const uint8_t *b, uint8_t *out,
                     uint32_t n, kiln_hw_stats *stats);

// Bytes of the bucket memory of an MSM engine for window width c (2^(c-1) XYZZ points).
uint64_t kiln_hw_msm_bucket_bytes(uint32_t group, uint32_t c);

// The MSM engine's accumulation pass: for i < n, the signed (Booth) digit d of window
// `window` (width c, 2 <= c <= 16) of scalars[i]; if d != 0, points[i] (negated if d < 0)
// is added into bucket |d| - 1. The buckets (kiln_hw_msm_bucket_bytes(group, c) bytes of
// XYZZ points, the engine's on-chip memory, owned by the caller) are zeroed first when
// clear != 0. The hazard scheduler defers a point whose bucket is in the adder's pipeline.
int kiln_hw_msm_accumulate(uint32_t group, uint8_t *buckets, const uint8_t *points,
                           const uint8_t *scalars, uint32_t n, uint32_t c, uint32_t window,
                           int clear, kiln_hw_stats *stats);

// The MSM engine's reduction pass: the 2^(c-1) buckets in `segments` equal segments (a
// power of two, <= 2^(c-1), <= 256), interleaved so the adder stays busy; segment s of
// buckets [k0, k0 + B/S) writes R_s = sum (k - k0 + 1) * B_k to out[2s] and
// T_s = sum B_k to out[2s + 1] (XYZZ points).
int kiln_hw_msm_reduce(uint32_t group, const uint8_t *buckets, uint32_t c, uint32_t segments,
                       uint8_t *out, kiln_hw_stats *stats);

// The NTT engine: in place on 2^log_n Fr elements (1 <= log_n <= 28), bit reversal then
// radix-2 DIT stages with twiddles omega^k, omega of order 2^log_n (forward with omega,
// inverse unscaled with omega^-1). Twiddles come from two on-chip tables built from omega.
int kiln_hw_ntt(uint8_t *data, uint32_t log_n, const uint8_t omega[32], kiln_hw_stats *stats);

// The NTT engine's scaling pass: data[i] *= factor * shift^i for i < 2^log_n.
int kiln_hw_ntt_scale(uint8_t *data, uint32_t log_n, const uint8_t factor[32],
                      const uint8_t shift[32], kiln_hw_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
