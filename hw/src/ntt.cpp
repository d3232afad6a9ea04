// kiln's FPGA engines: the NTT engine over Fr (radix-2 DIT transform and the scaling
// pass), its HLS top and its C ABI.
//
// Twiddles never come from card memory: at the start of a pass the engine builds two
// on-chip tables of 2^12 entries, LO[j] = w^j and HI[j] = w^(4096 j), and forms
// w^k = HI[k >> 12] * LO[k & 4095] (a third 16-entry table TOP[j] = w^(2^24 j) extends this
// to the engine maximum of 2^28 points). A table is built by a dependent chain for its
// first MUL_LATENCY entries, then T[j] = T[j - MUL_LATENCY] * w^MUL_LATENCY at II=1.
#include <memory>

#include "kiln_hw.h"
#include "kiln_hw_field.h"
#include "kiln_hw_top.h"

using namespace kiln_hw;

namespace {

struct NttWork {
    Fr lo[NTT_TABLE];
    Fr hi[NTT_TABLE];
    Fr top[NTT_TOP_TABLE];
};

// T[j] = start * base^j for j < cnt. Returns the modelled cycles.
uint64_t build_table(Fr *T, const Fr &start, const Fr &base, uint32_t cnt) {
    const uint32_t L = MUL_LATENCY;
    T[0] = start;
    Fr pw = base;  // base^j after step j - 1: the second chain, interleaved with the first
    uint32_t chain = cnt < L ? cnt : L;
    for (uint32_t j = 1; j < chain; j++) {
#pragma HLS LOOP_TRIPCOUNT min = 0 max = 37
        T[j] = mul(T[j - 1], base);
        pw = mul(pw, base);
    }
    uint64_t cycles = (uint64_t)chain * MUL_LATENCY;
    if (cnt > L) {
        const Fr step = pw;  // base^L
        for (uint32_t j = L; j < cnt; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS DEPENDENCE variable = T inter distance = 38 true
#pragma HLS LOOP_TRIPCOUNT min = 0 max = 4096
            T[j] = mul(T[j - L], step);
        }
        cycles += MUL_LATENCY + (cnt - L) + MUL_LATENCY;
    }
    return cycles;
}

// base^(2^k) by k squarings.
Fr pow2k(Fr x, uint32_t k, uint64_t &cycles) {
    for (uint32_t i = 0; i < k; i++) x = sqr(x);
    cycles += (uint64_t)k * MUL_LATENCY;
    return x;
}

// Builds LO/HI/TOP for exponents below cnt: LO[j] = start * w^j, HI[j] = w^(4096 j),
// TOP[j] = w^(2^24 j).
uint64_t build_tables(NttWork &w, const Fr &start, const Fr &base, uint64_t cnt) {
    uint64_t cycles = 0;
    uint32_t nlo = cnt < NTT_TABLE ? (uint32_t)cnt : NTT_TABLE;
    cycles += build_table(w.lo, start, base, nlo);
    if (cnt > NTT_TABLE) {
        uint64_t nhi = (cnt + NTT_TABLE - 1) >> NTT_TABLE_BITS;
        Fr b12 = pow2k(base, NTT_TABLE_BITS, cycles);
        cycles += build_table(w.hi, Fr::one(), b12, nhi < NTT_TABLE ? (uint32_t)nhi : NTT_TABLE);
        if (nhi > NTT_TABLE) {
            uint32_t ntop = (uint32_t)((nhi + NTT_TABLE - 1) >> NTT_TABLE_BITS);
            Fr b24 = pow2k(b12, NTT_TABLE_BITS, cycles);
            cycles += build_table(w.top, Fr::one(), b24, ntop);
        }
    }
    return cycles;
}

// LO[k & 4095] * HI[(k >> 12) & 4095] * TOP[k >> 24]. The hardware always multiplies
// (HI[0] = TOP[0] = 1); C-sim skips a product with 1, which is bit-identical (a
// Montgomery product with R mod p returns its canonical input).
static inline Fr twiddle(const NttWork &w, uint32_t k) {
#pragma HLS INLINE
    Fr t = w.lo[k & (NTT_TABLE - 1)];
    uint32_t h = (k >> NTT_TABLE_BITS) & (NTT_TABLE - 1);
    if (h) t = mul(t, w.hi[h]);
    uint32_t g = k >> (2 * NTT_TABLE_BITS);
    if (g) t = mul(t, w.top[g]);
    return t;
}

static inline uint32_t bitrev(uint32_t x, uint32_t bits) {
    uint32_t r = 0;
    for (uint32_t i = 0; i < bits; i++) r |= ((x >> i) & 1) << (bits - 1 - i);
    return r;
}

template <class Mem>
void ntt_core(Mem &mem, uint32_t log_n, const Fr &omega, NttWork &w, kiln_hw_stats &st) {
    const uint32_t n = 1u << log_n;
    const uint32_t half_n = n >> 1;
    uint64_t cycles = build_tables(w, Fr::one(), omega, half_n) + MEM_LATENCY;
    // bit reversal
    for (uint32_t i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 2 max = 16777216
        uint32_t j = bitrev(i, log_n);
        if (i < j) {
            Fr a, b;
            mem.get(i, a);
            mem.get(j, b);
            mem.set(i, b);
            mem.set(j, a);
        }
    }
    cycles += n;
    // DIT stages, one butterfly per cycle
    for (uint32_t s = 1; s <= log_n; s++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 24
        const uint32_t half = 1u << (s - 1);
        for (uint32_t b = 0; b < half_n; b++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 8388608
            uint32_t j = b & (half - 1);
            uint32_t i0 = ((b >> (s - 1)) << s) | j;
            uint32_t i1 = i0 + half;
            Fr u, v;
            mem.get(i0, u);
            mem.get(i1, v);
            if (j) v = mul(v, twiddle(w, j << (log_n - s)));  // w^0 = 1: bit-identical skip
            mem.set(i0, add(u, v));
            mem.set(i1, sub(u, v));
        }
        cycles += half_n + NTT_BFLY_LATENCY;
    }
    st.cycles += cycles;
    st.issued += (uint64_t)log_n * half_n;
    st.stalls += cycles - (uint64_t)log_n * half_n;
}

template <class Mem>
void scale_core(Mem &mem, uint32_t log_n, const Fr &factor, const Fr &shift, NttWork &w,
                kiln_hw_stats &st) {
    const uint32_t n = 1u << log_n;
    uint64_t cycles = build_tables(w, factor, shift, n) + MEM_LATENCY;
    for (uint32_t i = 0; i < n; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 2 max = 16777216
        Fr x;
        mem.get(i, x);
        mem.set(i, mul(x, twiddle(w, i)));  // LO includes the factor
    }
    cycles += n + 3 * MUL_LATENCY;
    st.cycles += cycles;
    st.issued += n;
    st.stalls += cycles - n;
}

struct ByteMem {
    uint8_t *data;
    void get(uint32_t i, Fr &x) { load(x, data + (size_t)32 * i); }
    void set(uint32_t i, const Fr &x) { store(x, data + (size_t)32 * i); }
};

struct TopMem {
    word_t *data;
    void get(uint32_t i, Fr &x) { load_w(x, data + i); }
    void set(uint32_t i, const Fr &x) { store_w(x, data + i); }
};

void add_stats(kiln_hw_stats *stats, const kiln_hw_stats &st) {
    if (!stats) return;
    stats->cycles += st.cycles;
    stats->issued += st.issued;
    stats->stalls += st.stalls;
    stats->deferred += st.deferred;
}

}  // namespace

int kiln_ntt_top(ap_uint<1> op, kiln_word_t *data, ap_uint<5> log_n, const kiln_word_t param[2],
                 ap_uint<64> stats[4]) {
#pragma HLS INTERFACE m_axi port = data offset = slave bundle = gmem0 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = param offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = stats offset = slave bundle = gmem2
#pragma HLS INTERFACE s_axilite port = op
#pragma HLS INTERFACE s_axilite port = log_n
#pragma HLS INTERFACE s_axilite port = return
    static NttWork work;  // the twiddle tables (BRAM)
#pragma HLS BIND_STORAGE variable = work type = ram_2p impl = bram
    uint32_t ln = (uint32_t)log_n;
    if (ln < 1 || ln > NTT_MAX_LOG) return KILN_HW_EINVAL;
    kiln_hw_stats st = {0, 0, 0, 0};
    TopMem m = {data};
    Fr p0, p1;
    load_w(p0, param);
    if (op == 0) {
        ntt_core(m, ln, p0, work, st);
    } else {
        load_w(p1, param + 1);
        scale_core(m, ln, p0, p1, work, st);
    }
    stats[0] = st.cycles;
    stats[1] = st.issued;
    stats[2] = st.stalls;
    stats[3] = st.deferred;
    return 0;
}

extern "C" int kiln_hw_ntt(uint8_t *data, uint32_t log_n, const uint8_t omega[32],
                           kiln_hw_stats *stats) {
    if (log_n < 1 || log_n > NTT_MAX_LOG || !data || !omega) return KILN_HW_EINVAL;
    std::unique_ptr<NttWork> w(new NttWork);
    kiln_hw_stats st = {0, 0, 0, 0};
    ByteMem m = {data};
    Fr om;
    load(om, omega);
    ntt_core(m, log_n, om, *w, st);
    add_stats(stats, st);
    return 0;
}

extern "C" int kiln_hw_ntt_scale(uint8_t *data, uint32_t log_n, const uint8_t factor[32],
                                 const uint8_t shift[32], kiln_hw_stats *stats) {
    if (log_n < 1 || log_n > NTT_MAX_LOG || !data || !factor || !shift) return KILN_HW_EINVAL;
    std::unique_ptr<NttWork> w(new NttWork);
    kiln_hw_stats st = {0, 0, 0, 0};
    ByteMem m = {data};
    Fr f, s;
    load(f, factor);
    load(s, shift);
    scale_core(m, log_n, f, s, *w, st);
    add_stats(stats, st);
    return 0;
}
