// C-simulation test bench of the MSM engine (HLS tops kiln_msm_g1_top / _g2_top).
// Input: u32 group, u32 cases; per case: u32 n, u32 c, u32 segments, u32 first window,
// u32 windows, u32 chunk, then n affine points (Montgomery, below q), then n scalars
// (32 bytes canonical, below r). For each window the bench streams the points through the
// accumulation in chunks of `chunk` points (clear on the first chunk only), then reduces.
// Output per case and window: the accumulation stats (4 x u64, summed over the chunks),
// the reduction stats, then 2 * segments XYZZ points (R_s, T_s).
// Usage: tb_msm <in> <out>
#include "tb_common.h"

static const uint8_t R_MODULUS[32] = {
    0x01, 0x00, 0x00, 0xf0, 0x93, 0xf5, 0xe1, 0x43, 0x91, 0x70, 0xb9, 0x79, 0x48, 0xe8, 0x33, 0x28,
    0x5d, 0x58, 0x81, 0x81, 0xb6, 0x45, 0x50, 0xb8, 0x29, 0xa0, 0x31, 0xe1, 0x72, 0x4e, 0x64, 0x30};

static bool below_r(const uint8_t *s) {
    for (int i = 31; i >= 0; i--) {
        if (s[i] != R_MODULUS[i]) return s[i] < R_MODULUS[i];
    }
    return false;
}

int main(int argc, char **argv) {
    if (argc != 3) tb::fail("usage: tb_msm <in> <out>");
    tb::Reader r(argv[1]);
    uint32_t group = r.u32("header");
    uint32_t cases = r.u32("header");
    if (group != 1 && group != 2) tb::fail("group must be 1 or 2");
    if (cases == 0 || cases > 1024) tb::fail("cases must be in 1..1024");
    tb::Writer w(argv[2]);
    const size_t fw = group == 1 ? 1 : 2;
    for (uint32_t cs = 0; cs < cases; cs++) {
        uint32_t n = r.u32("case header"), c = r.u32("case header");
        uint32_t segments = r.u32("case header"), w0 = r.u32("case header");
        uint32_t nw = r.u32("case header"), chunk = r.u32("case header");
        if (n == 0 || n > (1u << 20)) tb::fail("n must be in 1..2^20");
        if (c < 2 || c > 16) tb::fail("c must be in 2..16");
        if (nw == 0 || w0 + nw > (255 + c - 1) / c) tb::fail("windows out of range");
        if (segments == 0 || segments > 256 || (segments & (segments - 1)) != 0 ||
            segments > (1u << (c - 1)))
            tb::fail("segments must be a power of two <= min(256, 2^(c-1))");
        if (chunk == 0) tb::fail("chunk must be >= 1");
        std::vector<kiln_word_t> pts(n * 2 * fw), sc(n), out(2 * segments * 4 * fw);
        tb::read_field_words<kiln_hw::FqParams>(r, pts.data(), pts.size(), "points");
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *s = r.take(32, "scalars");
            if (!below_r(s)) tb::fail("scalar not below the group order");
            sc[i] = tb::word_from(s);
        }
        for (uint32_t win = w0; win < w0 + nw; win++) {
            ap_uint<64> acc[4] = {0, 0, 0, 0}, st[4];
            for (uint32_t start = 0; start < n; start += chunk) {
                uint32_t m = n - start < chunk ? n - start : chunk;
                const kiln_word_t *p = pts.data() + (size_t)start * 2 * fw;
                int rc = group == 1 ? kiln_msm_g1_top(0, p, sc.data() + start, out.data(), m, c,
                                                      win, start == 0, segments, st)
                                    : kiln_msm_g2_top(0, p, sc.data() + start, out.data(), m, c,
                                                      win, start == 0, segments, st);
                if (rc != 0) return 3;
                for (int k = 0; k < 4; k++) acc[k] += st[k];
            }
            int rc = group == 1 ? kiln_msm_g1_top(1, pts.data(), sc.data(), out.data(), 0, c, 0, 0,
                                                  segments, st)
                                : kiln_msm_g2_top(1, pts.data(), sc.data(), out.data(), 0, c, 0, 0,
                                                  segments, st);
            if (rc != 0) return 3;
            w.stats(acc);
            w.stats(st);
            w.words(out.data(), out.size());
        }
    }
    r.end();
    return 0;
}
