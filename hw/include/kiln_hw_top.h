// kiln's FPGA engines: the HLS top functions (the synthesizable interfaces; Vitis HLS
// set_top names in hw/<engine>/run_hls.tcl). Card memory is m_axi of 256-bit words (one
// Fq/Fr element per word, Fq2 = two words; points are their coordinates' words back to
// back), scalars are control registers (s_axilite), and stats[4] = {cycles, issued,
// stalls, deferred} is written through m_axi. Each returns 0 or KILN_HW_EINVAL.
// The C ABI in kiln_hw.h calls the same cores with caller-owned memory instead.
#ifndef KILN_HW_TOP_H
#define KILN_HW_TOP_H

#include "ap_int.h"
#include "kiln_hw.h"

typedef ap_uint<256> kiln_word_t;

// hw/mont_mul: out[i] = a[i] b[i] / 2^256 mod p; field = KILN_HW_FIELD_FQ / _FR.
int kiln_mont_mul_top(ap_uint<1> field, const kiln_word_t *a, const kiln_word_t *b,
                      kiln_word_t *out, ap_uint<32> n, ap_uint<64> stats[4]);

// hw/point_add: mode 0 = XYZZ + affine (b is affine), mode 1 = XYZZ + XYZZ.
int kiln_padd_g1_top(ap_uint<1> mode, const kiln_word_t *a, const kiln_word_t *b,
                     kiln_word_t *out, ap_uint<32> n, ap_uint<64> stats[4]);
int kiln_padd_g2_top(ap_uint<1> mode, const kiln_word_t *a, const kiln_word_t *b,
                     kiln_word_t *out, ap_uint<32> n, ap_uint<64> stats[4]);

// hw/msm: op 0 = accumulate (points, scalars, n, c, window, clear) into the engine's
// on-chip buckets; op 1 = reduce the buckets (c, segments) into out.
int kiln_msm_g1_top(ap_uint<1> op, const kiln_word_t *points, const kiln_word_t *scalars,
                    kiln_word_t *out, ap_uint<32> n, ap_uint<5> c, ap_uint<8> window,
                    ap_uint<1> clear, ap_uint<9> segments, ap_uint<64> stats[4]);
int kiln_msm_g2_top(ap_uint<1> op, const kiln_word_t *points, const kiln_word_t *scalars,
                    kiln_word_t *out, ap_uint<32> n, ap_uint<5> c, ap_uint<8> window,
                    ap_uint<1> clear, ap_uint<9> segments, ap_uint<64> stats[4]);

// hw/ntt: op 0 = transform in place with root param[0]; op 1 = scale, param[0] = factor,
// param[1] = shift.
int kiln_ntt_top(ap_uint<1> op, kiln_word_t *data, ap_uint<5> log_n, const kiln_word_t param[2],
                 ap_uint<64> stats[4]);

#endif
