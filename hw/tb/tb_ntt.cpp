// C-simulation test bench of the NTT engine (HLS top kiln_ntt_top).
// Input: u32 ops; per op: u32 kind (0 = transform, 1 = scale), u32 log_n (1..24), two
// Fr elements (transform: omega, unused; scale: factor, shift), then 2^log_n Fr elements
// (Montgomery, below r). Output per op: the 2^log_n results, then stats (4 x u64).
// Usage: tb_ntt <in> <out>
#include "tb_common.h"

int main(int argc, char **argv) {
    if (argc != 3) tb::fail("usage: tb_ntt <in> <out>");
    tb::Reader r(argv[1]);
    uint32_t ops = r.u32("header");
    if (ops == 0 || ops > 4096) tb::fail("ops must be in 1..4096");
    tb::Writer w(argv[2]);
    for (uint32_t o = 0; o < ops; o++) {
        uint32_t kind = r.u32("op header"), log_n = r.u32("op header");
        if (kind > 1) tb::fail("kind must be 0 or 1");
        if (log_n < 1 || log_n > 24) tb::fail("log_n must be in 1..24");
        kiln_word_t param[2];
        tb::read_field_words<kiln_hw::FrParams>(r, param, 2, "parameters");
        std::vector<kiln_word_t> data((size_t)1 << log_n);
        tb::read_field_words<kiln_hw::FrParams>(r, data.data(), data.size(), "data");
        ap_uint<64> st[4];
        if (kiln_ntt_top(kind, data.data(), log_n, param, st) != 0) return 3;
        w.words(data.data(), data.size());
        w.stats(st);
    }
    r.end();
    return 0;
}
