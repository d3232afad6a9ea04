// kiln's FPGA engines: shared helpers of the C-simulation test benches. A bench reads one
// binary input file (little-endian; formats in each bench), calls the engine's HLS top,
// and writes one binary output file. Malformed input (short or trailing bytes, values out
// of range, non-canonical field elements) exits with status 2; an engine refusing its
// arguments with status 3.
#ifndef KILN_TB_COMMON_H
#define KILN_TB_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <vector>

#include "kiln_hw_curve.h"
#include "kiln_hw_top.h"

namespace tb {

[[noreturn]] inline void fail(const char *what) {
    fprintf(stderr, "malformed input: %s\n", what);
    exit(2);
}

struct Reader {
    std::vector<uint8_t> buf;
    size_t pos = 0;

    explicit Reader(const char *path) {
        FILE *f = fopen(path, "rb");
        if (!f) fail("cannot open input file");
        uint8_t tmp[65536];
        size_t got;
        while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) buf.insert(buf.end(), tmp, tmp + got);
        fclose(f);
    }
    const uint8_t *take(size_t n, const char *what) {
        if (buf.size() - pos < n) fail(what);
        const uint8_t *p = buf.data() + pos;
        pos += n;
        return p;
    }
    uint32_t u32(const char *what) {
        const uint8_t *p = take(4, what);
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    void end() {
        if (pos != buf.size()) fail("trailing bytes after the last record");
    }
};

struct Writer {
    FILE *f;
    explicit Writer(const char *path) {
        f = fopen(path, "wb");
        if (!f) {
            fprintf(stderr, "cannot create output file\n");
            exit(2);
        }
    }
    ~Writer() { fclose(f); }
    void bytes(const uint8_t *p, size_t n) {
        if (fwrite(p, 1, n, f) != n) {
            fprintf(stderr, "write failed\n");
            exit(2);
        }
    }
    void u64(uint64_t v) {
        uint8_t b[8];
        kiln_hw::put_le64(b, v);
        bytes(b, 8);
    }
    void words(const kiln_word_t *w, size_t n);
    void stats(const ap_uint<64> s[4]) {
        for (int i = 0; i < 4; i++) u64((uint64_t)s[i]);
    }
};

inline kiln_word_t word_from(const uint8_t *b) {
    kiln_word_t w = 0;
    for (int i = 0; i < 4; i++) w.range(64 * i + 63, 64 * i) = (ap_uint<64>)kiln_hw::le64(b + 8 * i);
    return w;
}

inline void word_to(const kiln_word_t &w, uint8_t *b) {
    for (int i = 0; i < 4; i++) kiln_hw::put_le64(b + 8 * i, (uint64_t)w.range(64 * i + 63, 64 * i));
}

inline void Writer::words(const kiln_word_t *w, size_t n) {
    uint8_t b[32];
    for (size_t i = 0; i < n; i++) {
        word_to(w[i], b);
        bytes(b, 32);
    }
}

// Reads n 32-byte words; with a modulus check (p = Fq or Fr) each must be below p.
template <class P>
inline void read_field_words(Reader &r, kiln_word_t *out, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = r.take(32, what);
        kiln_hw::Fp<P> x;
        kiln_hw::load(x, p);
        if (!kiln_hw::is_canonical(x)) fail("field element not below the modulus");
        out[i] = word_from(p);
    }
}

inline void read_raw_words(Reader &r, kiln_word_t *out, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) out[i] = word_from(r.take(32, what));
}

}  // namespace tb

#endif
