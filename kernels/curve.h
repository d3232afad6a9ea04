// Short-Weierstrass points (y^2 = x^3 + b, a = 0) over a field F, stamped out per group by
// CURVE_DEFINE: G1 over fq, G2 over fq2. Buckets use XYZZ coordinates (x = X/ZZ,
// y = Y/ZZZ, ZZ^3 = ZZZ^2), whose mixed addition costs 8M + 2S and needs no inversion;
// affine points in device buffers are (x, y) with (0, 0) standing for infinity (it is on
// neither BN254 curve). Formulas: EFD's madd-2008-s, add-2008-s and dbl-2008-s-1.
#ifndef KILN_CURVE_H
#define KILN_CURVE_H

// FW: 32-bit words per field element (8 for fq, 16 for fq2).
#define CURVE_DEFINE(G, F, FW)                                                           \
    typedef struct { F##_t x; F##_t y; } G##_affine_t;                                   \
    typedef struct { F##_t x; F##_t y; F##_t zz; F##_t zzz; } G##_xyzz_t;                \
    DEVICE G##_xyzz_t G##_inf(void) {                                                    \
        G##_xyzz_t r;                                                                    \
        r.x = F##_one(); r.y = F##_one(); r.zz = F##_zero(); r.zzz = F##_zero();         \
        return r;                                                                        \
    }                                                                                    \
    DEVICE int G##_is_inf(G##_xyzz_t p) { return F##_is_zero(p.zz); }                    \
    DEVICE int G##_affine_is_inf(G##_affine_t a) {                                       \
        return F##_is_zero(a.x) && F##_is_zero(a.y);                                     \
    }                                                                                    \
    DEVICE G##_affine_t G##_load_affine(const GLOBAL uint *src) {                        \
        G##_affine_t a;                                                                  \
        a.x = F##_load(src); a.y = F##_load(src + FW);                                   \
        return a;                                                                        \
    }                                                                                    \
    DEVICE G##_xyzz_t G##_load_xyzz(const GLOBAL uint *src) {                            \
        G##_xyzz_t p;                                                                    \
        p.x = F##_load(src); p.y = F##_load(src + FW);                                   \
        p.zz = F##_load(src + 2 * FW); p.zzz = F##_load(src + 3 * FW);                   \
        return p;                                                                        \
    }                                                                                    \
    DEVICE void G##_store_xyzz(GLOBAL uint *dst, G##_xyzz_t p) {                         \
        F##_store(dst, p.x); F##_store(dst + FW, p.y);                                   \
        F##_store(dst + 2 * FW, p.zz); F##_store(dst + 3 * FW, p.zzz);                   \
    }                                                                                    \
    DEVICE G##_affine_t G##_neg_affine(G##_affine_t a) {                                 \
        if (!G##_affine_is_inf(a)) a.y = F##_neg(a.y);                                   \
        return a;                                                                        \
    }                                                                                    \
    /* 2p (dbl-2008-s-1 with a = 0). */                                                  \
    DEVICE_CALL G##_xyzz_t G##_dbl(G##_xyzz_t p) {                                            \
        if (G##_is_inf(p)) return p;                                                     \
        F##_t u = F##_dbl(p.y);                                                          \
        F##_t v = F##_sqr(u);                                                            \
        F##_t w = F##_mul(u, v);                                                         \
        F##_t s = F##_mul(p.x, v);                                                       \
        F##_t xx = F##_sqr(p.x);                                                         \
        F##_t m = F##_add(F##_dbl(xx), xx);                                              \
        G##_xyzz_t r;                                                                    \
        r.x = F##_sub(F##_sqr(m), F##_dbl(s));                                           \
        r.y = F##_sub(F##_mul(m, F##_sub(s, r.x)), F##_mul(w, p.y));                     \
        r.zz = F##_mul(v, p.zz);                                                         \
        r.zzz = F##_mul(w, p.zzz);                                                       \
        return r;                                                                        \
    }                                                                                    \
    /* p + a for an affine a (madd-2008-s), every special case handled. */               \
    DEVICE_CALL G##_xyzz_t G##_add_affine(G##_xyzz_t p, G##_affine_t a) {                     \
        if (G##_affine_is_inf(a)) return p;                                              \
        if (G##_is_inf(p)) {                                                             \
            G##_xyzz_t r;                                                                \
            r.x = a.x; r.y = a.y; r.zz = F##_one(); r.zzz = F##_one();                   \
            return r;                                                                    \
        }                                                                                \
        F##_t u2 = F##_mul(a.x, p.zz);                                                   \
        F##_t s2 = F##_mul(a.y, p.zzz);                                                  \
        F##_t pd = F##_sub(u2, p.x);                                                     \
        F##_t rd = F##_sub(s2, p.y);                                                     \
        if (F##_is_zero(pd)) {                                                           \
            if (F##_is_zero(rd)) return G##_dbl(p); /* p == a */                        \
            return G##_inf();                                                            \
        }                                                                                \
        F##_t pp = F##_sqr(pd);                                                          \
        F##_t ppp = F##_mul(pd, pp);                                                     \
        F##_t q = F##_mul(p.x, pp);                                                      \
        G##_xyzz_t r;                                                                    \
        r.x = F##_sub(F##_sub(F##_sqr(rd), ppp), F##_dbl(q));                            \
        r.y = F##_sub(F##_mul(rd, F##_sub(q, r.x)), F##_mul(p.y, ppp));                  \
        r.zz = F##_mul(p.zz, pp);                                                        \
        r.zzz = F##_mul(p.zzz, ppp);                                                     \
        return r;                                                                        \
    }                                                                                    \
    /* p + q (add-2008-s), every special case handled. */                                \
    DEVICE_CALL G##_xyzz_t G##_add(G##_xyzz_t p, G##_xyzz_t q) {                              \
        if (G##_is_inf(p)) return q;                                                     \
        if (G##_is_inf(q)) return p;                                                     \
        F##_t u1 = F##_mul(p.x, q.zz);                                                   \
        F##_t u2 = F##_mul(q.x, p.zz);                                                   \
        F##_t s1 = F##_mul(p.y, q.zzz);                                                  \
        F##_t s2 = F##_mul(q.y, p.zzz);                                                  \
        F##_t pd = F##_sub(u2, u1);                                                      \
        F##_t rd = F##_sub(s2, s1);                                                      \
        if (F##_is_zero(pd)) {                                                           \
            if (F##_is_zero(rd)) return G##_dbl(p);                                      \
            return G##_inf();                                                            \
        }                                                                                \
        F##_t pp = F##_sqr(pd);                                                          \
        F##_t ppp = F##_mul(pd, pp);                                                     \
        F##_t q1 = F##_mul(u1, pp);                                                      \
        G##_xyzz_t r;                                                                    \
        r.x = F##_sub(F##_sub(F##_sqr(rd), ppp), F##_dbl(q1));                           \
        r.y = F##_sub(F##_mul(rd, F##_sub(q1, r.x)), F##_mul(s1, ppp));                  \
        r.zz = F##_mul(F##_mul(p.zz, q.zz), pp);                                         \
        r.zzz = F##_mul(F##_mul(p.zzz, q.zzz), ppp);                                     \
        return r;                                                                        \
    }                                                                                    \
    /* k * p for a small k (double and add from the top bit). */                         \
    DEVICE G##_xyzz_t G##_mul_small(G##_xyzz_t p, uint k) {                              \
        G##_xyzz_t r = G##_inf();                                                        \
        for (int bit = 31; bit >= 0; bit--) {                                            \
            r = G##_dbl(r);                                                              \
            if ((k >> bit) & 1u) r = G##_add(r, p);                                      \
        }                                                                                \
        return r;                                                                        \
    }

CURVE_DEFINE(g1, fq, 8)
CURVE_DEFINE(g2, fq2, 16)

#endif
