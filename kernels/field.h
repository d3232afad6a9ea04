// 256-bit prime-field arithmetic in Montgomery form (R = 2^256) on eight 32-bit limbs,
// little endian. The limb routines take the modulus as an argument; FIELD_DEFINE stamps out
// a typed API per field (fq_*, fr_*), with the constants folded in at compile time.
// Moduli must be below 2^254 (BN254's are), so sums of two reduced values never carry out.
#ifndef KILN_FIELD_H
#define KILN_FIELD_H

// a * b + c as a 64-bit value (cannot overflow: (2^32-1)^2 + 2^32-1 < 2^64).
DEVICE ulong mac_wide(uint a, uint b, ulong c) {
#if defined(__CUDACC__) && !defined(KILN_NO_PTX)
    ulong r;
    asm("mad.wide.u32 %0, %1, %2, %3;" : "=l"(r) : "r"(a), "r"(b), "l"(c));
    return r;
#else
    return (ulong)a * (ulong)b + c;
#endif
}

// r = a - p if a >= p, else a.
DEVICE void mp_reduce_once(uint r[8], const uint a[8], const uint p[8]) {
    uint d[8];
    long borrow = 0;
    for (int i = 0; i < 8; i++) {
        long t = (long)a[i] - (long)p[i] + borrow;
        d[i] = (uint)t;
        borrow = t >> 32;  // 0 or -1
    }
    for (int i = 0; i < 8; i++) r[i] = borrow < 0 ? a[i] : d[i];
}

// r = a + b mod p, for a, b < p.
DEVICE void mp_add(uint r[8], const uint a[8], const uint b[8], const uint p[8]) {
    uint s[8];
    ulong c = 0;
    for (int i = 0; i < 8; i++) {
        c += (ulong)a[i] + (ulong)b[i];
        s[i] = (uint)c;
        c >>= 32;
    }
    mp_reduce_once(r, s, p);
}

// r = a - b mod p, for a, b < p.
DEVICE void mp_sub(uint r[8], const uint a[8], const uint b[8], const uint p[8]) {
    uint d[8];
    long borrow = 0;
    for (int i = 0; i < 8; i++) {
        long t = (long)a[i] - (long)b[i] + borrow;
        d[i] = (uint)t;
        borrow = t >> 32;
    }
    // On borrow, add p back (the carry out of the top limb cancels the borrow).
    uint mask = borrow < 0 ? 0xffffffffu : 0u;
    ulong c = 0;
    for (int i = 0; i < 8; i++) {
        c += (ulong)d[i] + (ulong)(p[i] & mask);
        r[i] = (uint)c;
        c >>= 32;
    }
}

// r = a * b * 2^-256 mod p (CIOS Montgomery multiplication), for a, b < p.
DEVICE void mp_mul(uint r[8], const uint a[8], const uint b[8], const uint p[8], uint inv) {
    uint t[10];
    for (int i = 0; i < 10; i++) t[i] = 0;
    for (int i = 0; i < 8; i++) {
        ulong c = 0;
        for (int j = 0; j < 8; j++) {
            c = mac_wide(a[j], b[i], c + t[j]);
            t[j] = (uint)c;
            c >>= 32;
        }
        c += t[8];
        t[8] = (uint)c;
        t[9] = (uint)(c >> 32);
        uint m = t[0] * inv;
        c = mac_wide(m, p[0], t[0]) >> 32;
        for (int j = 1; j < 8; j++) {
            c = mac_wide(m, p[j], c + t[j]);
            t[j - 1] = (uint)c;
            c >>= 32;
        }
        c += t[8];
        t[7] = (uint)c;
        t[8] = t[9] + (uint)(c >> 32);
    }
    // t < 2p < 2^256 here (p < 2^254), so t[8] is zero.
    mp_reduce_once(r, t, p);
}

#define FIELD_DEFINE(F, P_INIT, INV, ONE_INIT)                                          \
    typedef struct { uint v[8]; } F##_t;                                                \
    DEVICE F##_t F##_zero(void) {                                                        \
        F##_t r;                                                                         \
        for (int i = 0; i < 8; i++) r.v[i] = 0;                                          \
        return r;                                                                        \
    }                                                                                    \
    DEVICE F##_t F##_one(void) {                                                         \
        const uint o[8] = ONE_INIT;                                                      \
        F##_t r;                                                                         \
        for (int i = 0; i < 8; i++) r.v[i] = o[i];                                       \
        return r;                                                                        \
    }                                                                                    \
    DEVICE int F##_is_zero(F##_t a) {                                                    \
        uint acc = 0;                                                                    \
        for (int i = 0; i < 8; i++) acc |= a.v[i];                                       \
        return acc == 0;                                                                 \
    }                                                                                    \
    DEVICE int F##_eq(F##_t a, F##_t b) {                                                \
        uint acc = 0;                                                                    \
        for (int i = 0; i < 8; i++) acc |= a.v[i] ^ b.v[i];                              \
        return acc == 0;                                                                 \
    }                                                                                    \
    DEVICE F##_t F##_add(F##_t a, F##_t b) {                                             \
        const uint p[8] = P_INIT;                                                        \
        F##_t r;                                                                         \
        mp_add(r.v, a.v, b.v, p);                                                        \
        return r;                                                                        \
    }                                                                                    \
    DEVICE F##_t F##_sub(F##_t a, F##_t b) {                                             \
        const uint p[8] = P_INIT;                                                        \
        F##_t r;                                                                         \
        mp_sub(r.v, a.v, b.v, p);                                                        \
        return r;                                                                        \
    }                                                                                    \
    DEVICE F##_t F##_dbl(F##_t a) { return F##_add(a, a); }                              \
    DEVICE F##_t F##_neg(F##_t a) { return F##_sub(F##_zero(), a); }                     \
    DEVICE F##_t F##_mul(F##_t a, F##_t b) {                                             \
        const uint p[8] = P_INIT;                                                        \
        F##_t r;                                                                         \
        mp_mul(r.v, a.v, b.v, p, INV);                                                   \
        return r;                                                                        \
    }                                                                                    \
    DEVICE F##_t F##_sqr(F##_t a) { return F##_mul(a, a); }                              \
    /* a^e for a 32-bit exponent (square and multiply). */                               \
    DEVICE F##_t F##_pow(F##_t a, uint e) {                                              \
        F##_t r = F##_one();                                                             \
        while (e) {                                                                      \
            if (e & 1u) r = F##_mul(r, a);                                               \
            a = F##_sqr(a);                                                              \
            e >>= 1;                                                                     \
        }                                                                                \
        return r;                                                                        \
    }                                                                                    \
    DEVICE F##_t F##_load(const GLOBAL uint *src) {                                      \
        F##_t r;                                                                         \
        for (int i = 0; i < 8; i++) r.v[i] = src[i];                                     \
        return r;                                                                        \
    }                                                                                    \
    DEVICE void F##_store(GLOBAL uint *dst, F##_t a) {                                   \
        for (int i = 0; i < 8; i++) dst[i] = a.v[i];                                     \
    }

FIELD_DEFINE(fq, FQ_P, FQ_INV, FQ_ONE)
FIELD_DEFINE(fr, FR_P, FR_INV, FR_ONE)

// Fq2 = Fq[u] / (u^2 + 1): BN254's quadratic extension (the G2 coordinates' field).
typedef struct { fq_t c0; fq_t c1; } fq2_t;
DEVICE fq2_t fq2_zero(void) { fq2_t r; r.c0 = fq_zero(); r.c1 = fq_zero(); return r; }
DEVICE fq2_t fq2_one(void) { fq2_t r; r.c0 = fq_one(); r.c1 = fq_zero(); return r; }
DEVICE int fq2_is_zero(fq2_t a) { return fq_is_zero(a.c0) && fq_is_zero(a.c1); }
DEVICE int fq2_eq(fq2_t a, fq2_t b) { return fq_eq(a.c0, b.c0) && fq_eq(a.c1, b.c1); }
DEVICE fq2_t fq2_add(fq2_t a, fq2_t b) { fq2_t r; r.c0 = fq_add(a.c0, b.c0); r.c1 = fq_add(a.c1, b.c1); return r; }
DEVICE fq2_t fq2_sub(fq2_t a, fq2_t b) { fq2_t r; r.c0 = fq_sub(a.c0, b.c0); r.c1 = fq_sub(a.c1, b.c1); return r; }
DEVICE fq2_t fq2_dbl(fq2_t a) { return fq2_add(a, a); }
DEVICE fq2_t fq2_neg(fq2_t a) { fq2_t r; r.c0 = fq_neg(a.c0); r.c1 = fq_neg(a.c1); return r; }
// Karatsuba: (a0 + a1 u)(b0 + b1 u) = a0 b0 - a1 b1 + ((a0 + a1)(b0 + b1) - a0 b0 - a1 b1) u.
DEVICE fq2_t fq2_mul(fq2_t a, fq2_t b) {
    fq_t t0 = fq_mul(a.c0, b.c0);
    fq_t t1 = fq_mul(a.c1, b.c1);
    fq_t t2 = fq_mul(fq_add(a.c0, a.c1), fq_add(b.c0, b.c1));
    fq2_t r;
    r.c0 = fq_sub(t0, t1);
    r.c1 = fq_sub(fq_sub(t2, t0), t1);
    return r;
}
// (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u.
DEVICE fq2_t fq2_sqr(fq2_t a) {
    fq2_t r;
    r.c0 = fq_mul(fq_add(a.c0, a.c1), fq_sub(a.c0, a.c1));
    r.c1 = fq_dbl(fq_mul(a.c0, a.c1));
    return r;
}
DEVICE fq2_t fq2_load(const GLOBAL uint *src) { fq2_t r; r.c0 = fq_load(src); r.c1 = fq_load(src + 8); return r; }
DEVICE void fq2_store(GLOBAL uint *dst, fq2_t a) { fq_store(dst, a.c0); fq_store(dst + 8, a.c1); }

#endif
