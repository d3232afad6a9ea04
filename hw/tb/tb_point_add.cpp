// C-simulation test bench of the point adder (HLS tops kiln_padd_g1_top / _g2_top).
// Input: u32 group (1 = G1, 2 = G2), u32 mode (0 = XYZZ + affine, 1 = XYZZ + XYZZ), u32 n,
// then n XYZZ points a, then n points b (affine for mode 0, XYZZ for mode 1); coordinates
// in Montgomery form below q. Output: n XYZZ sums (infinity as zeros), then stats.
// Usage: tb_point_add <in> <out>
#include "tb_common.h"

int main(int argc, char **argv) {
    if (argc != 3) tb::fail("usage: tb_point_add <in> <out>");
    tb::Reader r(argv[1]);
    uint32_t group = r.u32("header");
    uint32_t mode = r.u32("header");
    uint32_t n = r.u32("header");
    if (group != 1 && group != 2) tb::fail("group must be 1 or 2");
    if (mode > 1) tb::fail("mode must be 0 or 1");
    if (n == 0 || n > (1u << 20)) tb::fail("n must be in 1..2^20");
    const size_t fw = group == 1 ? 1 : 2;  // words per coordinate
    const size_t aw = 4 * fw, bw = (mode == 0 ? 2 : 4) * fw;
    std::vector<kiln_word_t> a(n * aw), b(n * bw), out(n * aw);
    tb::read_field_words<kiln_hw::FqParams>(r, a.data(), a.size(), "a points");
    tb::read_field_words<kiln_hw::FqParams>(r, b.data(), b.size(), "b points");
    r.end();
    ap_uint<64> stats[4];
    int rc = group == 1 ? kiln_padd_g1_top(mode, a.data(), b.data(), out.data(), n, stats)
                        : kiln_padd_g2_top(mode, a.data(), b.data(), out.data(), n, stats);
    if (rc != 0) return 3;
    tb::Writer w(argv[2]);
    w.words(out.data(), out.size());
    w.stats(stats);
    return 0;
}
