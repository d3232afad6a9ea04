// kiln's FPGA engines: the MSM engine (bucket accumulation with a hazard scheduler, and the
// interleaved bucket reduction), G1 and G2, its HLS tops and its C ABI.
//
// Accumulation, one loop iteration per clock cycle:
//   1. retire: the adder result issued AdderLatency cycles ago is written to its bucket,
//      which stops being busy;
//   2. pick: the head of the deferral FIFO if its bucket is free, else the next input
//      point: its Booth digit d (computed here from the scalar); d = 0 drops the point; a
//      busy bucket sends the point to the FIFO (deferred), or holds the input when the FIFO
//      is full;
//   3. issue: bucket |d|-1 is read and bucket + (+-P) enters the adder pipeline (C-sim
//      computes the sum now and holds it in the in-flight ring until retirement).
// The loop runs until every point is in and the pipeline has drained.
//
// Reduction: `segments` running sums, each over B/S buckets from its top bucket down
// (acc += B_k; R += acc), interleaved: each cycle issues one ready addition, round robin
// over the segments (a segment's R-add waits for its acc-add to retire, its next acc-add
// for its R-add to issue), so 2*segments >= AdderLatency keeps the adder full.
#include <memory>

#include "kiln_hw.h"
#include "kiln_hw_curve.h"
#include "kiln_hw_top.h"

using namespace kiln_hw;

namespace {

// c + 1 <= 17 bits of s from bit pos (bits past 255 are zero).
static inline uint32_t scalar_bits(const uint64_t s[4], uint32_t pos, uint32_t len) {
#pragma HLS INLINE
    if (pos >= 256) return 0;
    uint32_t word = pos >> 6, off = pos & 63;
    uint64_t v = s[word] >> off;
    if (off != 0 && word < 3) v |= s[word + 1] << (64 - off);
    return (uint32_t)(v & ((1ull << len) - 1));
}

// d = v - 2^c b_{wc+c-1} + b_{wc-1}, v = bits [wc, wc + c), b_{-1} = 0.
static inline int32_t booth_digit(const uint64_t s[4], uint32_t c, uint32_t w) {
#pragma HLS INLINE
    uint32_t lo = w * c;
    uint32_t v = scalar_bits(s, lo, c);
    uint32_t top = (v >> (c - 1)) & 1;
    uint32_t low = w ? scalar_bits(s, lo - 1, 1) : 0;
    return (int32_t)v - (int32_t)(top << c) + (int32_t)low;
}

template <class F>
struct AccWork {
    uint8_t busy[MSM_MAX_BUCKETS];
    struct Slot {
        bool valid;
        uint32_t k;
        Xyzz<F> v;
    } ring[PADD_LATENCY_MAX];
    struct Deferred {
        uint32_t k;
        Affine<F> p;
    } fifo[MSM_FIFO_DEPTH];
};

template <class F, class Mem>
void accumulate_core(Mem &mem, uint32_t n, uint32_t c, uint32_t window, bool clear,
                     AccWork<F> &w, kiln_hw_stats &st) {
    const uint32_t L = AdderLatency<F>::value;
    const uint32_t nb = 1u << (c - 1);
    uint64_t cycles = MEM_LATENCY;
    for (uint32_t k = 0; k < nb; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 2 max = 32768
        if (clear) mem.set_bucket(k, Xyzz<F>::infinity());
        w.busy[k] = 0;
    }
    if (clear) cycles += nb;
    for (uint32_t s = 0; s < L; s++) w.ring[s].valid = false;

    uint32_t i = 0, head = 0, count = 0, inflight = 0, slot = 0;
    uint64_t loop = 0, issued = 0, stalls = 0, deferred = 0;
    while (i < n || count > 0 || inflight > 0) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 70000
#pragma HLS DEPENDENCE variable = w.busy inter false
        // 1. retire
        if (w.ring[slot].valid) {
            mem.set_bucket(w.ring[slot].k, w.ring[slot].v);
            w.busy[w.ring[slot].k] = 0;
            w.ring[slot].valid = false;
            inflight--;
        }
        // 2. pick
        bool issue = false;
        uint32_t k = 0;
        Affine<F> p;
        if (count > 0 && !w.busy[w.fifo[head].k]) {
            k = w.fifo[head].k;
            p = w.fifo[head].p;
            head = head + 1 == MSM_FIFO_DEPTH ? 0 : head + 1;
            count--;
            issue = true;
        } else if (i < n) {
            uint64_t s[4];
            mem.scalar(i, s);
            int32_t d = booth_digit(s, c, window);
            if (d == 0) {
                i++;
            } else {
                k = (uint32_t)(d < 0 ? -d : d) - 1;
                if (!w.busy[k]) {
                    Affine<F> q;
                    mem.point(i, q);
                    p = neg_if(q, d < 0);
                    issue = true;
                    i++;
                } else if (count < MSM_FIFO_DEPTH) {
                    Affine<F> q;
                    mem.point(i, q);
                    uint32_t tail = head + count;
                    if (tail >= MSM_FIFO_DEPTH) tail -= MSM_FIFO_DEPTH;
                    w.fifo[tail].k = k;
                    w.fifo[tail].p = neg_if(q, d < 0);
                    count++;
                    deferred++;
                    i++;
                }  // else: FIFO full, the input waits
            }
        }
        // 3. issue
        if (issue) {
            Xyzz<F> b;
            mem.bucket(k, b);
            w.ring[slot].valid = true;
            w.ring[slot].k = k;
            w.ring[slot].v = padd_mixed(b, p);
            w.busy[k] = 1;
            inflight++;
            issued++;
        } else {
            stalls++;
        }
        slot = slot + 1 == L ? 0 : slot + 1;
        loop++;
    }
    st.cycles += cycles + loop;
    st.issued += issued;
    st.stalls += stalls + cycles;  // + memory latency and the bucket clear
    st.deferred += deferred;
}

template <class F>
struct RedWork {
    Xyzz<F> acc[MSM_MAX_SEGMENTS], r[MSM_MAX_SEGMENTS];
    uint32_t a_iss[MSM_MAX_SEGMENTS], a_ret[MSM_MAX_SEGMENTS];
    uint32_t r_iss[MSM_MAX_SEGMENTS], r_ret[MSM_MAX_SEGMENTS];
    struct Slot {
        bool valid, is_r;
        uint32_t seg;
        Xyzz<F> v;
    } ring[PADD_LATENCY_MAX];
};

template <class F, class Mem>
void reduce_core(Mem &mem, uint32_t c, uint32_t S, RedWork<F> &w, kiln_hw_stats &st) {
    const uint32_t L = AdderLatency<F>::value;
    const uint32_t nb = 1u << (c - 1);
    const uint32_t m = nb / S;
    for (uint32_t s = 0; s < S; s++) {
        w.acc[s] = Xyzz<F>::infinity();
        w.r[s] = Xyzz<F>::infinity();
        w.a_iss[s] = w.a_ret[s] = w.r_iss[s] = w.r_ret[s] = 0;
    }
    for (uint32_t s = 0; s < L; s++) w.ring[s].valid = false;
    const uint64_t total = 2ull * nb;
    uint64_t retired = 0, loop = 0, issued = 0, stalls = 0;
    uint32_t slot = 0, rr = 0;
    while (retired < total) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 4 max = 70000
        if (w.ring[slot].valid) {
            uint32_t s = w.ring[slot].seg;
            if (w.ring[slot].is_r) {
                w.r[s] = w.ring[slot].v;
                w.r_ret[s]++;
            } else {
                w.acc[s] = w.ring[slot].v;
                w.a_ret[s]++;
            }
            w.ring[slot].valid = false;
            retired++;
        }
        bool issue = false;
        for (uint32_t t = 0; t < S; t++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 256
            // (in hardware: a priority encoder over the segments' ready bits)
            uint32_t s = (rr + t) & (S - 1);
            if (w.r_iss[s] < w.a_ret[s] && w.r_iss[s] == w.r_ret[s]) {
                w.ring[slot].v = padd_xyzz(w.r[s], w.acc[s]);
                w.ring[slot].is_r = true;
                w.r_iss[s]++;
                issue = true;
            } else if (w.a_iss[s] < m && w.a_iss[s] == w.a_ret[s] && w.r_iss[s] == w.a_iss[s]) {
                Xyzz<F> b;
                mem.bucket(s * m + (m - 1 - w.a_iss[s]), b);
                w.ring[slot].v = padd_xyzz(w.acc[s], b);
                w.ring[slot].is_r = false;
                w.a_iss[s]++;
                issue = true;
            }
            if (issue) {
                w.ring[slot].valid = true;
                w.ring[slot].seg = s;
                rr = (s + 1) & (S - 1);
                break;
            }
        }
        if (issue)
            issued++;
        else
            stalls++;
        slot = slot + 1 == L ? 0 : slot + 1;
        loop++;
    }
    for (uint32_t s = 0; s < S; s++) {
#pragma HLS LOOP_TRIPCOUNT min = 1 max = 256
        mem.put(2 * s, w.r[s]);
        mem.put(2 * s + 1, w.acc[s]);
    }
    st.cycles += loop + 2 * S + MEM_LATENCY;
    st.issued += issued;
    st.stalls += stalls + 2 * S + MEM_LATENCY;
}

// ---- memories -----------------------------------------------------------------------

template <class F>
struct ByteMem {
    uint8_t *buckets;
    const uint8_t *points, *scalars;
    uint8_t *outp;
    void point(uint32_t i, Affine<F> &p) { load(p, points + (size_t)2 * F::BYTES * i); }
    void scalar(uint32_t i, uint64_t s[4]) {
        for (int j = 0; j < 4; j++) s[j] = le64(scalars + (size_t)32 * i + 8 * j);
    }
    void bucket(uint32_t k, Xyzz<F> &b) { load(b, buckets + (size_t)4 * F::BYTES * k); }
    void set_bucket(uint32_t k, const Xyzz<F> &b) { store(b, buckets + (size_t)4 * F::BYTES * k); }
    void put(uint32_t j, const Xyzz<F> &v) { store(v, outp + (size_t)4 * F::BYTES * j); }
};

template <class F>
struct TopMem {
    Xyzz<F> *buckets;  // on-chip
    const word_t *points, *scalars;
    word_t *outp;
    void point(uint32_t i, Affine<F> &p) { load_w(p, points + (size_t)2 * F::WORDS * i); }
    void scalar(uint32_t i, uint64_t s[4]) {
        word_t v = scalars[i];
        for (int j = 0; j < 4; j++) s[j] = (uint64_t)v.range(64 * j + 63, 64 * j);
    }
    void bucket(uint32_t k, Xyzz<F> &b) { b = buckets[k]; }
    void set_bucket(uint32_t k, const Xyzz<F> &b) { buckets[k] = b; }
    void put(uint32_t j, const Xyzz<F> &v) { store_w(v, outp + (size_t)4 * F::WORDS * j); }
};

uint32_t windows(uint32_t c) { return (255 + c - 1) / c; }

bool valid_segments(uint32_t c, uint32_t segments) {
    uint32_t nb = 1u << (c - 1);
    return segments >= 1 && (segments & (segments - 1)) == 0 && segments <= nb &&
           segments <= MSM_MAX_SEGMENTS;
}

template <class F>
int msm_top(ap_uint<1> op, const kiln_word_t *points, const kiln_word_t *scalars,
            kiln_word_t *out, ap_uint<32> n, ap_uint<5> c5, ap_uint<8> window, ap_uint<1> clear,
            ap_uint<9> segments, ap_uint<64> stats[4]) {
#pragma HLS INLINE
    // The engine's bucket memory (URAM) and scheduler state live across calls.
    static Xyzz<F> buckets[MSM_MAX_BUCKETS];
#pragma HLS BIND_STORAGE variable = buckets type = ram_2p impl = uram
    static AccWork<F> acc_work;
    static RedWork<F> red_work;
    uint32_t c = (uint32_t)c5;
    if (c < 2 || c > MSM_MAX_C) return KILN_HW_EINVAL;
    kiln_hw_stats st = {0, 0, 0, 0};
    TopMem<F> m = {buckets, points, scalars, out};
    if (op == 0) {
        if ((uint32_t)window >= windows(c)) return KILN_HW_EINVAL;
        accumulate_core<F>(m, (uint32_t)n, c, (uint32_t)window, clear != 0, acc_work, st);
    } else {
        if (!valid_segments(c, (uint32_t)segments)) return KILN_HW_EINVAL;
        reduce_core<F>(m, c, (uint32_t)segments, red_work, st);
    }
    stats[0] = st.cycles;
    stats[1] = st.issued;
    stats[2] = st.stalls;
    stats[3] = st.deferred;
    return 0;
}

void add_stats(kiln_hw_stats *stats, const kiln_hw_stats &st) {
    if (!stats) return;
    stats->cycles += st.cycles;
    stats->issued += st.issued;
    stats->stalls += st.stalls;
    stats->deferred += st.deferred;
}

template <class F>
int accumulate_abi(uint8_t *buckets, const uint8_t *points, const uint8_t *scalars, uint32_t n,
                   uint32_t c, uint32_t window, int clear, kiln_hw_stats *stats) {
    if (c < 2 || c > MSM_MAX_C || window >= windows(c) || !buckets) return KILN_HW_EINVAL;
    if (n > 0 && (!points || !scalars)) return KILN_HW_EINVAL;
    std::unique_ptr<AccWork<F>> w(new AccWork<F>);
    kiln_hw_stats st = {0, 0, 0, 0};
    ByteMem<F> m = {buckets, points, scalars, nullptr};
    accumulate_core<F>(m, n, c, window, clear != 0, *w, st);
    add_stats(stats, st);
    return 0;
}

template <class F>
int reduce_abi(const uint8_t *buckets, uint32_t c, uint32_t segments, uint8_t *out,
               kiln_hw_stats *stats) {
    if (c < 2 || c > MSM_MAX_C || !valid_segments(c, segments) || !buckets || !out)
        return KILN_HW_EINVAL;
    std::unique_ptr<RedWork<F>> w(new RedWork<F>);
    kiln_hw_stats st = {0, 0, 0, 0};
    ByteMem<F> m = {const_cast<uint8_t *>(buckets), nullptr, nullptr, out};
    reduce_core<F>(m, c, segments, *w, st);
    add_stats(stats, st);
    return 0;
}

}  // namespace

int kiln_msm_g1_top(ap_uint<1> op, const kiln_word_t *points, const kiln_word_t *scalars,
                    kiln_word_t *out, ap_uint<32> n, ap_uint<5> c, ap_uint<8> window,
                    ap_uint<1> clear, ap_uint<9> segments, ap_uint<64> stats[4]) {
#pragma HLS INTERFACE m_axi port = points offset = slave bundle = gmem0 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = scalars offset = slave bundle = gmem1 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = out offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = stats offset = slave bundle = gmem3
#pragma HLS INTERFACE s_axilite port = op
#pragma HLS INTERFACE s_axilite port = n
#pragma HLS INTERFACE s_axilite port = c
#pragma HLS INTERFACE s_axilite port = window
#pragma HLS INTERFACE s_axilite port = clear
#pragma HLS INTERFACE s_axilite port = segments
#pragma HLS INTERFACE s_axilite port = return
    return msm_top<Fq>(op, points, scalars, out, n, c, window, clear, segments, stats);
}

int kiln_msm_g2_top(ap_uint<1> op, const kiln_word_t *points, const kiln_word_t *scalars,
                    kiln_word_t *out, ap_uint<32> n, ap_uint<5> c, ap_uint<8> window,
                    ap_uint<1> clear, ap_uint<9> segments, ap_uint<64> stats[4]) {
#pragma HLS INTERFACE m_axi port = points offset = slave bundle = gmem0 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = scalars offset = slave bundle = gmem1 max_read_burst_length = 64
#pragma HLS INTERFACE m_axi port = out offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = stats offset = slave bundle = gmem3
#pragma HLS INTERFACE s_axilite port = op
#pragma HLS INTERFACE s_axilite port = n
#pragma HLS INTERFACE s_axilite port = c
#pragma HLS INTERFACE s_axilite port = window
#pragma HLS INTERFACE s_axilite port = clear
#pragma HLS INTERFACE s_axilite port = segments
#pragma HLS INTERFACE s_axilite port = return
    return msm_top<Fq2>(op, points, scalars, out, n, c, window, clear, segments, stats);
}

extern "C" uint64_t kiln_hw_msm_bucket_bytes(uint32_t group, uint32_t c) {
    if (c < 2 || c > MSM_MAX_C) return 0;
    uint64_t nb = 1ull << (c - 1);
    if (group == KILN_HW_G1) return nb * 128;
    if (group == KILN_HW_G2) return nb * 256;
    return 0;
}

extern "C" int kiln_hw_msm_accumulate(uint32_t group, uint8_t *buckets, const uint8_t *points,
                                      const uint8_t *scalars, uint32_t n, uint32_t c,
                                      uint32_t window, int clear, kiln_hw_stats *stats) {
    if (group == KILN_HW_G1)
        return accumulate_abi<Fq>(buckets, points, scalars, n, c, window, clear, stats);
    if (group == KILN_HW_G2)
        return accumulate_abi<Fq2>(buckets, points, scalars, n, c, window, clear, stats);
    return KILN_HW_EINVAL;
}

extern "C" int kiln_hw_msm_reduce(uint32_t group, const uint8_t *buckets, uint32_t c,
                                  uint32_t segments, uint8_t *out, kiln_hw_stats *stats) {
    if (group == KILN_HW_G1) return reduce_abi<Fq>(buckets, c, segments, out, stats);
    if (group == KILN_HW_G2) return reduce_abi<Fq2>(buckets, c, segments, out, stats);
    return KILN_HW_EINVAL;
}
