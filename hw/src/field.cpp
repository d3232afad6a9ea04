// kiln's FPGA engines: the Montgomery multiplier engine (Fq / Fr), its HLS top and its C ABI.
#include <string.h>

#include "kiln_hw.h"
#include "kiln_hw_field.h"
#include "kiln_hw_top.h"

using namespace kiln_hw;

namespace {

// Streams n products through the multiplier: one issue per cycle, MUL_LATENCY deep.
template <class P, class Mem>
void mont_mul_core(Mem &mem, uint32_t n, kiln_hw_stats &st) {
    for (uint32_t i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 65536
        Fp<P> a, b;
        mem.a(i, a);
        mem.b(i, b);
        mem.out(i, mul(a, b));
    }
    uint64_t cycles = (uint64_t)n + MUL_LATENCY + MEM_LATENCY;
    st.cycles += cycles;
    st.issued += n;
    st.stalls += cycles - n;
}

struct ByteMem {
    const uint8_t *pa, *pb;
    uint8_t *po;
    template <class T>
    void a(uint32_t i, T &x) { load(x, pa + 32 * (size_t)i); }
    template <class T>
    void b(uint32_t i, T &x) { load(x, pb + 32 * (size_t)i); }
    template <class T>
    void out(uint32_t i, const T &x) { store(x, po + 32 * (size_t)i); }
};

struct WordMem {
    const word_t *pa, *pb;
    word_t *po;
    template <class T>
    void a(uint32_t i, T &x) { load_w(x, pa + i); }
    template <class T>
    void b(uint32_t i, T &x) { load_w(x, pb + i); }
    template <class T>
    void out(uint32_t i, const T &x) { store_w(x, po + i); }
};

void put_stats(ap_uint<64> stats[4], const kiln_hw_stats &st) {
    stats[0] = st.cycles;
    stats[1] = st.issued;
    stats[2] = st.stalls;
    stats[3] = st.deferred;
}

}  // namespace

int kiln_mont_mul_top(ap_uint<1> field, const kiln_word_t *a, const kiln_word_t *b,
                      kiln_word_t *out, ap_uint<32> n, ap_uint<64> stats[4]) {
#pragma HLS INTERFACE m_axi port = a offset = slave bundle = gmem0 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = b offset = slave bundle = gmem1 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = out offset = slave bundle = gmem2 max_write_burst_length = 64
#pragma HLS INTERFACE m_axi port = stats offset = slave bundle = gmem3
#pragma HLS INTERFACE s_axilite port = field
#pragma HLS INTERFACE s_axilite port = n
#pragma HLS INTERFACE s_axilite port = return
    kiln_hw_stats st = {0, 0, 0, 0};
    WordMem m = {a, b, out};
    if (field == KILN_HW_FIELD_FQ)
        mont_mul_core<FqParams>(m, (uint32_t)n, st);
    else
        mont_mul_core<FrParams>(m, (uint32_t)n, st);
    put_stats(stats, st);
    return 0;
}

extern "C" uint32_t kiln_hw_clock_mhz(void) { return CLOCK_MHZ; }

extern "C" int kiln_hw_mont_mul(uint32_t field, const uint8_t *a, const uint8_t *b, uint8_t *out,
                                uint32_t n, kiln_hw_stats *stats) {
    if (field != KILN_HW_FIELD_FQ && field != KILN_HW_FIELD_FR) return KILN_HW_EINVAL;
    if (n > 0 && (!a || !b || !out)) return KILN_HW_EINVAL;
    kiln_hw_stats st = {0, 0, 0, 0};
    ByteMem m = {a, b, out};
    if (field == KILN_HW_FIELD_FQ)
        mont_mul_core<FqParams>(m, n, st);
    else
        mont_mul_core<FrParams>(m, n, st);
    if (stats) {
        stats->cycles += st.cycles;
        stats->issued += st.issued;
        stats->stalls += st.stalls;
        stats->deferred += st.deferred;
    }
    return 0;
}
