// kiln's FPGA engines: the point-adder engine (G1 over Fq, G2 over Fq2), its HLS tops and
// its C ABI. One addition issues per cycle into a PADD_LATENCY-deep pipeline.
#include "kiln_hw.h"
#include "kiln_hw_curve.h"
#include "kiln_hw_top.h"

using namespace kiln_hw;

namespace {

template <class F, class Mem>
void padd_core(Mem &mem, bool mixed, uint32_t n, kiln_hw_stats &st) {
    for (uint32_t i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 65536
        Xyzz<F> a;
        mem.a(i, a);
        if (mixed) {
            Affine<F> p;
            mem.b(i, p);
            mem.out(i, padd_mixed(a, p));
        } else {
            Xyzz<F> b;
            mem.b(i, b);
            mem.out(i, padd_xyzz(a, b));
        }
    }
    uint64_t cycles = (uint64_t)n + AdderLatency<F>::value + MEM_LATENCY;
    st.cycles += cycles;
    st.issued += n;
    st.stalls += cycles - n;
}

template <class F>
struct ByteMem {
    const uint8_t *pa, *pb;
    uint8_t *po;
    bool mixed;
    void a(uint32_t i, Xyzz<F> &x) { load(x, pa + (size_t)4 * F::BYTES * i); }
    void b(uint32_t i, Affine<F> &x) { load(x, pb + (size_t)2 * F::BYTES * i); }
    void b(uint32_t i, Xyzz<F> &x) { load(x, pb + (size_t)4 * F::BYTES * i); }
    void out(uint32_t i, const Xyzz<F> &x) { store(x, po + (size_t)4 * F::BYTES * i); }
};

template <class F>
struct WordMem {
    const word_t *pa, *pb;
    word_t *po;
    void a(uint32_t i, Xyzz<F> &x) { load_w(x, pa + (size_t)4 * F::WORDS * i); }
    void b(uint32_t i, Affine<F> &x) { load_w(x, pb + (size_t)2 * F::WORDS * i); }
    void b(uint32_t i, Xyzz<F> &x) { load_w(x, pb + (size_t)4 * F::WORDS * i); }
    void out(uint32_t i, const Xyzz<F> &x) { store_w(x, po + (size_t)4 * F::WORDS * i); }
};

template <class F>
int padd_top(ap_uint<1> mode, const kiln_word_t *a, const kiln_word_t *b, kiln_word_t *out,
             ap_uint<32> n, ap_uint<64> stats[4]) {
#pragma HLS INLINE
    kiln_hw_stats st = {0, 0, 0, 0};
    WordMem<F> m = {a, b, out};
    padd_core<F>(m, mode == 0, (uint32_t)n, st);
    stats[0] = st.cycles;
    stats[1] = st.issued;
    stats[2] = st.stalls;
    stats[3] = st.deferred;
    return 0;
}

template <class F>
int padd_abi(bool mixed, const uint8_t *a, const uint8_t *b, uint8_t *out, uint32_t n,
             kiln_hw_stats *stats) {
    if (n > 0 && (!a || !b || !out)) return KILN_HW_EINVAL;
    kiln_hw_stats st = {0, 0, 0, 0};
    ByteMem<F> m = {a, b, out, mixed};
    padd_core<F>(m, mixed, n, st);
    if (stats) {
        stats->cycles += st.cycles;
        stats->issued += st.issued;
        stats->stalls += st.stalls;
    }
    return 0;
}

}  // namespace

int kiln_padd_g1_top(ap_uint<1> mode, const kiln_word_t *a, const kiln_word_t *b,
                     kiln_word_t *out, ap_uint<32> n, ap_uint<64> stats[4]) {
#pragma HLS INTERFACE m_axi port = a offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = b offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = out offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = stats offset = slave bundle = gmem3
#pragma HLS INTERFACE s_axilite port = mode
#pragma HLS INTERFACE s_axilite port = n
#pragma HLS INTERFACE s_axilite port = return
    return padd_top<Fq>(mode, a, b, out, n, stats);
}

int kiln_padd_g2_top(ap_uint<1> mode, const kiln_word_t *a, const kiln_word_t *b,
                     kiln_word_t *out, ap_uint<32> n, ap_uint<64> stats[4]) {
#pragma HLS INTERFACE m_axi port = a offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = b offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = out offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = stats offset = slave bundle = gmem3
#pragma HLS INTERFACE s_axilite port = mode
#pragma HLS INTERFACE s_axilite port = n
#pragma HLS INTERFACE s_axilite port = return
    return padd_top<Fq2>(mode, a, b, out, n, stats);
}

extern "C" int kiln_hw_add_mixed(uint32_t group, const uint8_t *acc, const uint8_t *p,
                                 uint8_t *out, uint32_t n, kiln_hw_stats *stats) {
    if (group == KILN_HW_G1) return padd_abi<Fq>(true, acc, p, out, n, stats);
    if (group == KILN_HW_G2) return padd_abi<Fq2>(true, acc, p, out, n, stats);
    return KILN_HW_EINVAL;
}

extern "C" int kiln_hw_add_xyzz(uint32_t group, const uint8_t *a, const uint8_t *b,
                                uint8_t *out, uint32_t n, kiln_hw_stats *stats) {
    if (group == KILN_HW_G1) return padd_abi<Fq>(false, a, b, out, n, stats);
    if (group == KILN_HW_G2) return padd_abi<Fq2>(false, a, b, out, n, stats);
    return KILN_HW_EINVAL;
}
