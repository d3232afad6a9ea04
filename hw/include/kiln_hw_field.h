// kiln's FPGA engines: BN254 Fq / Fr Montgomery arithmetic (R = 2^256) and Fq2 over Fq.
//
// An element is four 64-bit limbs (little-endian), always canonical (< p). The multiplier
// is CIOS Montgomery with the "no-carry" shortcut (the top limb of both moduli is below
// 2^63 - 1), fully unrolled: in HLS it is one pipelined datapath (II=1) of 32 full and 4
// low-half 64x64 products. The one C-simulation-specific piece is the 64x64->128
// multiply-accumulate and carry primitives (`mac`, `mul_lo`, `adc`, `sbb`): g++ runs them
// on unsigned __int128, synthesis on ap_uint<128> / ap_uint<65> (the same functions of
// their inputs).
#ifndef KILN_HW_FIELD_H
#define KILN_HW_FIELD_H

#include <stdint.h>

#include "ap_int.h"
#include "kiln_hw_config.h"

namespace kiln_hw {

// A 64-bit limb. Vitis HLS synthesizes uint64_t exactly as ap_uint<64>; the native type
// keeps the C-simulation fast (ap_uint<64> costs ~10x in g++).
typedef uint64_t limb_t;
typedef ap_uint<256> word_t;  // one 32-byte word of an m_axi bus

// (hi, lo) = a * b + c + d; never overflows 128 bits.
static inline void mac(limb_t a, limb_t b, limb_t c, limb_t d, limb_t &hi, limb_t &lo) {
#pragma HLS INLINE
#ifndef __SYNTHESIS__
    unsigned __int128 t = (unsigned __int128)(uint64_t)a * (uint64_t)b;
    t += (uint64_t)c;
    t += (uint64_t)d;
    lo = (uint64_t)t;
    hi = (uint64_t)(t >> 64);
#else
    ap_uint<128> t = (ap_uint<128>)a * b + c + d;
    lo = (uint64_t)t.range(63, 0);
    hi = (uint64_t)t.range(127, 64);
#endif
}

// Low 64 bits of a * b.
static inline limb_t mul_lo(limb_t a, limb_t b) {
#pragma HLS INLINE
#ifndef __SYNTHESIS__
    return (uint64_t)a * (uint64_t)b;
#else
    ap_uint<128> t = (ap_uint<128>)a * b;
    return (uint64_t)t.range(63, 0);
#endif
}

// s = a + b + cin, returns the carry (cin is 0 or 1).
static inline limb_t adc(limb_t a, limb_t b, limb_t cin, limb_t &s) {
#pragma HLS INLINE
#ifndef __SYNTHESIS__
    unsigned __int128 t = (unsigned __int128)(uint64_t)a + (uint64_t)b + (uint64_t)cin;
    s = (uint64_t)t;
    return (uint64_t)(t >> 64);
#else
    ap_uint<65> t = (ap_uint<65>)a + b + cin;
    s = (uint64_t)t.range(63, 0);
    return (uint64_t)t[64];
#endif
}

// d = a - b - bin, returns the borrow (bin is 0 or 1).
static inline limb_t sbb(limb_t a, limb_t b, limb_t bin, limb_t &d) {
#pragma HLS INLINE
#ifndef __SYNTHESIS__
    unsigned __int128 t = (unsigned __int128)(uint64_t)a - (uint64_t)b - (uint64_t)bin;
    d = (uint64_t)t;
    return (uint64_t)(t >> 127);
#else
    ap_uint<65> t = (ap_uint<65>)a - b - bin;
    d = (uint64_t)t.range(63, 0);
    return (uint64_t)t[64];
#endif
}

struct FqParams {
    static constexpr uint64_t P[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                      0xb85045b68181585dULL, 0x30644e72e131a029ULL};
    static constexpr uint64_t INV = 0x87d20782e4866389ULL;  // -p^-1 mod 2^64
    static constexpr uint64_t ONE[4] = {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL,
                                        0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL};
};

struct FrParams {
    static constexpr uint64_t P[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                      0xb85045b68181585dULL, 0x30644e72e131a029ULL};
    static constexpr uint64_t INV = 0xc2e1f593efffffffULL;
    static constexpr uint64_t ONE[4] = {0xac96341c4ffffffbULL, 0x36fc76959f60cd29ULL,
                                        0x666ea36f7879462eULL, 0x0e0a77c19a07df2fULL};
};

// An element of F_p in Montgomery form.
template <class Params>
struct Fp {
    static const int BYTES = 32;
    static const int WORDS = 1;  // 256-bit bus words
    limb_t l[4];

    static Fp zero() {
        Fp r;
        for (int i = 0; i < 4; i++) r.l[i] = 0;
        return r;
    }
    static Fp one() {
        Fp r;
        for (int i = 0; i < 4; i++) r.l[i] = Params::ONE[i];
        return r;
    }
};

typedef Fp<FqParams> Fq;
typedef Fp<FrParams> Fr;

template <class P>
static inline bool is_zero(const Fp<P> &a) {
#pragma HLS INLINE
    return (a.l[0] | a.l[1] | a.l[2] | a.l[3]) == 0;
}

template <class P>
static inline bool eq(const Fp<P> &a, const Fp<P> &b) {
#pragma HLS INLINE
    return ((a.l[0] ^ b.l[0]) | (a.l[1] ^ b.l[1]) | (a.l[2] ^ b.l[2]) | (a.l[3] ^ b.l[3])) == 0;
}

// t - p if t >= p (t < 2p).
template <class P>
static inline Fp<P> reduce_once(const Fp<P> &t) {
#pragma HLS INLINE
    Fp<P> d;
    limb_t b = 0;
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        b = sbb(t.l[i], P::P[i], b, d.l[i]);
    }
    return b ? t : d;
}

template <class P>
static inline Fp<P> add(const Fp<P> &a, const Fp<P> &b) {
#pragma HLS INLINE
    Fp<P> s;
    limb_t c = 0;
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        c = adc(a.l[i], b.l[i], c, s.l[i]);
    }
    return reduce_once(s);  // a + b < 2p < 2^256
}

template <class P>
static inline Fp<P> sub(const Fp<P> &a, const Fp<P> &b) {
#pragma HLS INLINE
    Fp<P> d, e;
    limb_t bo = 0, c = 0;
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        bo = sbb(a.l[i], b.l[i], bo, d.l[i]);
    }
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        c = adc(d.l[i], P::P[i], c, e.l[i]);
    }
    return bo ? e : d;
}

template <class P>
static inline Fp<P> neg(const Fp<P> &a) {
#pragma HLS INLINE
    return sub(Fp<P>::zero(), a);
}

template <class P>
static inline Fp<P> dbl(const Fp<P> &a) {
#pragma HLS INLINE
    return add(a, a);
}

// a * b * 2^-256 mod p (CIOS, no-carry variant).
template <class P>
static inline Fp<P> mul(const Fp<P> &a, const Fp<P> &b) {
#pragma HLS INLINE
    limb_t t[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
#pragma HLS UNROLL
        limb_t A, C, t0, junk;
        mac(a.l[0], b.l[i], t[0], 0, A, t0);
        limb_t m = mul_lo(t0, P::INV);
        mac(m, P::P[0], t0, 0, C, junk);
        for (int j = 1; j < 4; j++) {
#pragma HLS UNROLL
            mac(a.l[j], b.l[i], t[j], A, A, t[j]);
            mac(m, P::P[j], t[j], C, C, t[j - 1]);
        }
        t[3] = C + A;
    }
    Fp<P> r;
    for (int i = 0; i < 4; i++) r.l[i] = t[i];
    return reduce_once(r);
}

template <class P>
static inline Fp<P> sqr(const Fp<P> &a) {
#pragma HLS INLINE
    return mul(a, a);
}

// Fq2 = Fq[u] / (u^2 + 1).
struct Fq2 {
    static const int BYTES = 64;
    static const int WORDS = 2;
    Fq c0, c1;

    static Fq2 zero() {
        Fq2 r;
        r.c0 = Fq::zero();
        r.c1 = Fq::zero();
        return r;
    }
    static Fq2 one() {
        Fq2 r;
        r.c0 = Fq::one();
        r.c1 = Fq::zero();
        return r;
    }
};

static inline bool is_zero(const Fq2 &a) { return is_zero(a.c0) && is_zero(a.c1); }
static inline bool eq(const Fq2 &a, const Fq2 &b) { return eq(a.c0, b.c0) && eq(a.c1, b.c1); }

static inline Fq2 add(const Fq2 &a, const Fq2 &b) {
    Fq2 r;
    r.c0 = add(a.c0, b.c0);
    r.c1 = add(a.c1, b.c1);
    return r;
}
static inline Fq2 sub(const Fq2 &a, const Fq2 &b) {
    Fq2 r;
    r.c0 = sub(a.c0, b.c0);
    r.c1 = sub(a.c1, b.c1);
    return r;
}
static inline Fq2 neg(const Fq2 &a) {
    Fq2 r;
    r.c0 = neg(a.c0);
    r.c1 = neg(a.c1);
    return r;
}
static inline Fq2 dbl(const Fq2 &a) { return add(a, a); }

// Karatsuba: v0 = a0 b0, v1 = a1 b1, c0 = v0 - v1, c1 = (a0 + a1)(b0 + b1) - v0 - v1.
static inline Fq2 mul(const Fq2 &a, const Fq2 &b) {
#pragma HLS INLINE
    Fq v0 = mul(a.c0, b.c0);
    Fq v1 = mul(a.c1, b.c1);
    Fq s = mul(add(a.c0, a.c1), add(b.c0, b.c1));
    Fq2 r;
    r.c0 = sub(v0, v1);
    r.c1 = sub(sub(s, v0), v1);
    return r;
}

// (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u.
static inline Fq2 sqr(const Fq2 &a) {
#pragma HLS INLINE
    Fq2 r;
    r.c0 = mul(add(a.c0, a.c1), sub(a.c0, a.c1));
    r.c1 = dbl(mul(a.c0, a.c1));
    return r;
}

// ---- memory formats ---------------------------------------------------------------

static inline uint64_t le64(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static inline void put_le64(uint8_t *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

template <class P>
static inline void load(Fp<P> &x, const uint8_t *b) {
    for (int i = 0; i < 4; i++) x.l[i] = le64(b + 8 * i);
}
template <class P>
static inline void store(const Fp<P> &x, uint8_t *b) {
    for (int i = 0; i < 4; i++) put_le64(b + 8 * i, (uint64_t)x.l[i]);
}
static inline void load(Fq2 &x, const uint8_t *b) {
    load(x.c0, b);
    load(x.c1, b + 32);
}
static inline void store(const Fq2 &x, uint8_t *b) {
    store(x.c0, b);
    store(x.c1, b + 32);
}

// 256-bit bus words (the HLS tops' m_axi ports).
template <class P>
static inline void load_w(Fp<P> &x, const word_t *w) {
    word_t v = w[0];
    for (int i = 0; i < 4; i++) x.l[i] = (uint64_t)v.range(64 * i + 63, 64 * i);
}
template <class P>
static inline void store_w(const Fp<P> &x, word_t *w) {
    word_t v = 0;
    for (int i = 0; i < 4; i++) v.range(64 * i + 63, 64 * i) = (ap_uint<64>)x.l[i];
    w[0] = v;
}
static inline void load_w(Fq2 &x, const word_t *w) {
    load_w(x.c0, w);
    load_w(x.c1, w + 1);
}
static inline void store_w(const Fq2 &x, word_t *w) {
    store_w(x.c0, w);
    store_w(x.c1, w + 1);
}

// Is the canonical 256-bit value x below p? (Inputs of the engines are canonical; the
// test benches use this to reject malformed vectors.)
template <class P>
static inline bool is_canonical(const Fp<P> &x) {
    limb_t b = 0, d;
    for (int i = 0; i < 4; i++) b = sbb(x.l[i], P::P[i], b, d);
    return b != 0;
}

}  // namespace kiln_hw

#endif
