// kiln's FPGA engines: the point adder for y^2 = x^3 + b (a = 0), templated over the base
// field (Fq for G1, Fq2 for G2), in XYZZ coordinates (x = X/ZZ, y = Y/ZZZ).
//
// Both adders are one straight-line datapath: the doubling formulas are folded into the
// addition's multiplier schedule (a doubling is an addition with P := 2y, R := 3x^2 and
// the -PPP term of X3 dropped), and every special case (an operand at infinity, equal
// points, opposite points) is a select on the result. In HLS the adder is a pipeline with
// II=1 and no control flow; its depth is PADD_LATENCY_G1/G2 (kiln_hw_config.h).
#ifndef KILN_HW_CURVE_H
#define KILN_HW_CURVE_H

#include "kiln_hw_field.h"

namespace kiln_hw {

template <class F>
struct Affine {
    F x, y;  // (0, 0) = infinity
};

template <class F>
struct Xyzz {
    F x, y, zz, zzz;  // zz = 0: infinity
    static Xyzz infinity() {
        Xyzz r;
        r.x = F::zero();
        r.y = F::zero();
        r.zz = F::zero();
        r.zzz = F::zero();
        return r;
    }
};

template <class F>
static inline bool is_inf(const Affine<F> &p) {
    return is_zero(p.x) && is_zero(p.y);
}

template <class F>
static inline bool is_inf(const Xyzz<F> &p) {
    return is_zero(p.zz);
}

template <class F>
static inline F sel(bool c, const F &a, const F &b) {
#pragma HLS INLINE
    return c ? a : b;
}

template <class F>
static inline Affine<F> neg_if(const Affine<F> &p, bool n) {
    Affine<F> r;
    r.x = p.x;
    r.y = n ? neg(p.y) : p.y;  // neg(0) = 0 keeps infinity
    return r;
}

// acc + p, acc in XYZZ, p affine: madd-2008-s, mdbl-2008-s-1 folded in. 11 multiplies.
template <class F>
static inline Xyzz<F> padd_mixed(const Xyzz<F> &a, const Affine<F> &p) {
#pragma HLS INLINE
    const F one = F::one();
    bool a_inf = is_zero(a.zz);
    bool p_inf = is_inf(p);
    // level 1
    F u2 = mul(p.x, a.zz);
    F s2 = mul(p.y, a.zzz);
    F xx = sqr(p.x);
    F P = sub(u2, a.x);
    F R = sub(s2, a.y);
    bool pz = is_zero(P), rz = is_zero(R);
    bool dbl_mode = pz && rz;
    // doubling of p: P := 2y, R := 3x^2, (X1, Y1, ZZ1, ZZZ1) := (x, y, 1, 1)
    F x1 = sel(dbl_mode, p.x, a.x);
    F y1 = sel(dbl_mode, p.y, a.y);
    F zz1 = sel(dbl_mode, one, a.zz);
    F zzz1 = sel(dbl_mode, one, a.zzz);
    F Pm = sel(dbl_mode, dbl(p.y), P);
    F Rm = sel(dbl_mode, add(dbl(xx), xx), R);
    // levels 2-4
    F PP = sqr(Pm);
    F RR = sqr(Rm);
    F PPP = mul(Pm, PP);
    F Q = mul(x1, PP);
    F X3 = sub(sub(RR, dbl(Q)), sel(dbl_mode, F::zero(), PPP));
    F Y3 = sub(mul(Rm, sub(Q, X3)), mul(y1, PPP));
    Xyzz<F> r;
    r.x = X3;
    r.y = Y3;
    r.zz = mul(zz1, PP);
    r.zzz = mul(zzz1, PPP);
    // special cases
    Xyzz<F> pa;  // p lifted to XYZZ
    pa.x = p.x;
    pa.y = p.y;
    pa.zz = one;
    pa.zzz = one;
    Xyzz<F> inf = Xyzz<F>::infinity();
    if (p_inf) return a_inf ? inf : a;
    if (a_inf) return pa;
    if (pz && !rz) return inf;  // opposite
    return r;
}

// a + b, both XYZZ: add-2008-s, dbl-2008-s-1 folded in. 15 multiplies.
template <class F>
static inline Xyzz<F> padd_xyzz(const Xyzz<F> &a, const Xyzz<F> &b) {
#pragma HLS INLINE
    bool a_inf = is_zero(a.zz);
    bool b_inf = is_zero(b.zz);
    // level 1
    F u1 = mul(a.x, b.zz);
    F u2 = mul(b.x, a.zz);
    F s1 = mul(a.y, b.zzz);
    F s2 = mul(b.y, a.zzz);
    F zz12 = mul(a.zz, b.zz);
    F zzz12 = mul(a.zzz, b.zzz);
    F uu = sqr(u1);
    F P = sub(u2, u1);
    F R = sub(s2, s1);
    bool pz = is_zero(P), rz = is_zero(R);
    bool dbl_mode = pz && rz;
    // doubling of (U1, S1, ZZ1 ZZ2, ZZZ1 ZZZ2) = a: P := 2 S1, R := 3 U1^2
    F Pm = sel(dbl_mode, dbl(s1), P);
    F Rm = sel(dbl_mode, add(dbl(uu), uu), R);
    F PP = sqr(Pm);
    F RR = sqr(Rm);
    F PPP = mul(Pm, PP);
    F Q = mul(u1, PP);
    F X3 = sub(sub(RR, dbl(Q)), sel(dbl_mode, F::zero(), PPP));
    F Y3 = sub(mul(Rm, sub(Q, X3)), mul(s1, PPP));
    Xyzz<F> r;
    r.x = X3;
    r.y = Y3;
    r.zz = mul(zz12, PP);
    r.zzz = mul(zzz12, PPP);
    Xyzz<F> inf = Xyzz<F>::infinity();
    if (b_inf) return a_inf ? inf : a;
    if (a_inf) return b;
    if (pz && !rz) return inf;
    return r;
}

// ---- memory formats ---------------------------------------------------------------

template <class F>
static inline void load(Affine<F> &p, const uint8_t *b) {
    load(p.x, b);
    load(p.y, b + F::BYTES);
}
template <class F>
static inline void load(Xyzz<F> &p, const uint8_t *b) {
    load(p.x, b);
    load(p.y, b + F::BYTES);
    load(p.zz, b + 2 * F::BYTES);
    load(p.zzz, b + 3 * F::BYTES);
}
// Infinity is written as all zeros.
template <class F>
static inline void store(const Xyzz<F> &p0, uint8_t *b) {
    Xyzz<F> p = is_zero(p0.zz) ? Xyzz<F>::infinity() : p0;
    store(p.x, b);
    store(p.y, b + F::BYTES);
    store(p.zz, b + 2 * F::BYTES);
    store(p.zzz, b + 3 * F::BYTES);
}
template <class F>
static inline void load_w(Affine<F> &p, const word_t *w) {
    load_w(p.x, w);
    load_w(p.y, w + F::WORDS);
}
template <class F>
static inline void load_w(Xyzz<F> &p, const word_t *w) {
    load_w(p.x, w);
    load_w(p.y, w + F::WORDS);
    load_w(p.zz, w + 2 * F::WORDS);
    load_w(p.zzz, w + 3 * F::WORDS);
}
template <class F>
static inline void store_w(const Xyzz<F> &p0, word_t *w) {
    Xyzz<F> p = is_zero(p0.zz) ? Xyzz<F>::infinity() : p0;
    store_w(p.x, w);
    store_w(p.y, w + F::WORDS);
    store_w(p.zz, w + 2 * F::WORDS);
    store_w(p.zzz, w + 3 * F::WORDS);
}

// Group tag -> base field.
template <int GROUP>
struct GroupField;
template <>
struct GroupField<1> {
    typedef Fq F;
};
template <>
struct GroupField<2> {
    typedef Fq2 F;
};

template <class F>
struct AdderLatency;
template <>
struct AdderLatency<Fq> {
    static const uint32_t value = PADD_LATENCY_G1;
};
template <>
struct AdderLatency<Fq2> {
    static const uint32_t value = PADD_LATENCY_G2;
};

}  // namespace kiln_hw

#endif

