// C-simulation test bench of the Montgomery multiplier (HLS top kiln_mont_mul_top).
// Input: u32 field (0 = Fq, 1 = Fr), u32 n, then n elements a, then n elements b (32 bytes,
// Montgomery form, below p). Output: n products, then stats (4 x u64).
// Usage: tb_mont_mul <in> <out>
#include "tb_common.h"

int main(int argc, char **argv) {
    if (argc != 3) tb::fail("usage: tb_mont_mul <in> <out>");
    tb::Reader r(argv[1]);
    uint32_t field = r.u32("header");
    uint32_t n = r.u32("header");
    if (field > 1) tb::fail("field must be 0 (Fq) or 1 (Fr)");
    if (n == 0 || n > (1u << 20)) tb::fail("n must be in 1..2^20");
    std::vector<kiln_word_t> a(n), b(n), out(n);
    if (field == 0) {
        tb::read_field_words<kiln_hw::FqParams>(r, a.data(), n, "a");
        tb::read_field_words<kiln_hw::FqParams>(r, b.data(), n, "b");
    } else {
        tb::read_field_words<kiln_hw::FrParams>(r, a.data(), n, "a");
        tb::read_field_words<kiln_hw::FrParams>(r, b.data(), n, "b");
    }
    r.end();
    ap_uint<64> stats[4];
    if (kiln_mont_mul_top(field, a.data(), b.data(), out.data(), n, stats) != 0) return 3;
    tb::Writer w(argv[2]);
    w.words(out.data(), n);
    w.stats(stats);
    return 0;
}
