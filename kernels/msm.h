// Pippenger MSM on the device, in five launches (the host adds the few hundred partial
// sums that come back and combines the windows):
//   1. msm_digits    one thread per scalar: signed c-bit window digits, bucket histogram
//   2. msm_scan      one thread per window: exclusive prefix sums of the histogram
//   3. msm_scatter   one thread per scalar: point indices sorted by (window, bucket)
//   4. G_bucket_sum  one thread per (window, bucket): the bucket's points, mixed additions
//   5. G_bucket_reduce  one thread per (window, segment): running sums over a segment of
//                    buckets, weighted by bucket index
// Digits: bucket b of a window holds the points whose digit is ±(b + 1); bit 31 of a
// digit or sorted entry marks a negated point; NO_DIGIT marks a zero digit.
#ifndef KILN_MSM_H
#define KILN_MSM_H

#define NO_DIGIT 0xffffffffu

// scalars: n canonical (not Montgomery) 256-bit integers, 8 words each. The top window
// absorbs the last carry: the host picks windows = 254 / c + 1 for scalars below 2^254.
KERNEL void msm_digits(const GLOBAL uint *scalars, uint n, uint c, uint windows,
                       GLOBAL uint *digits, GLOBAL uint *counts) {
    uint i = GID_X;
    if (i >= n) return;
    uint s[8];
    for (int k = 0; k < 8; k++) s[k] = scalars[i * 8 + k];
    uint buckets = 1u << (c - 1);
    uint full = 1u << c;
    uint carry = 0;
    for (uint w = 0; w < windows; w++) {
        uint bit = w * c;
        uint limb = bit >> 5;
        uint off = bit & 31u;
        ulong chunk = limb < 8 ? (ulong)s[limb] : 0ul;
        if (limb + 1 < 8) chunk |= (ulong)s[limb + 1] << 32;
        uint d = ((uint)(chunk >> off) & (full - 1u)) + carry;
        uint mag, neg;
        if (d > buckets) {
            mag = full - d;
            neg = 1u;
            carry = 1u;
        } else {
            mag = d;
            neg = 0u;
            carry = 0u;
        }
        if (mag == 0u) {
            digits[w * n + i] = NO_DIGIT;
        } else {
            digits[w * n + i] = (mag - 1u) | (neg << 31);
            ATOMIC_INC(&counts[w * buckets + mag - 1u]);
        }
    }
}

// counts[w * buckets + b] becomes the bucket's start in the sorted list of window w (and
// serves as the scatter cursor); starts keeps a copy.
KERNEL void msm_scan(GLOBAL uint *counts, GLOBAL uint *starts, uint buckets, uint windows) {
    uint w = GID_X;
    if (w >= windows) return;
    uint run = 0;
    for (uint b = 0; b < buckets; b++) {
        uint k = counts[w * buckets + b];
        counts[w * buckets + b] = run;
        starts[w * buckets + b] = run;
        run += k;
    }
}

// After this, cursors[w * buckets + b] is the end of bucket b's run in window w.
KERNEL void msm_scatter(const GLOBAL uint *digits, uint n, uint buckets, uint windows,
                        GLOBAL uint *cursors, GLOBAL uint *sorted) {
    uint i = GID_X;
    if (i >= n) return;
    for (uint w = 0; w < windows; w++) {
        uint d = digits[w * n + i];
        if (d == NO_DIGIT) continue;
        uint pos = ATOMIC_INC(&cursors[w * buckets + (d & 0x7fffffffu)]);
        sorted[w * n + pos] = i | (d & 0x80000000u);
    }
}

#define MSM_KERNELS(G, FW)                                                               \
    /* bases: resident affine table (2 FW words per point), read from index start. */    \
    KERNEL void G##_bucket_sum(const GLOBAL uint *bases, uint start,                     \
                               const GLOBAL uint *sorted, const GLOBAL uint *starts,     \
                               const GLOBAL uint *ends, uint n, uint buckets,            \
                               uint windows, GLOBAL uint *out) {                          \
        uint t = GID_X;                                                                  \
        if (t >= windows * buckets) return;                                              \
        uint w = t / buckets;                                                            \
        G##_xyzz_t acc = G##_inf();                                                      \
        for (uint k = starts[t]; k < ends[t]; k++) {                                     \
            uint e = sorted[w * n + k];                                                  \
            G##_affine_t a =                                                             \
                G##_load_affine(bases + (ulong)(start + (e & 0x7fffffffu)) * (2 * FW));  \
            if (e >> 31) a = G##_neg_affine(a);                                          \
            acc = G##_add_affine(acc, a);                                                \
        }                                                                                \
        G##_store_xyzz(out + (ulong)t * (4 * FW), acc);                                  \
    }                                                                                    \
    /* out[w * segs + s] = sum over the segment's buckets b of (b + 1) * bucket_b. */    \
    KERNEL void G##_bucket_reduce(const GLOBAL uint *bucket_sums, uint buckets,           \
                                  uint windows, uint segs, GLOBAL uint *out) {            \
        uint t = GID_X;                                                                  \
        if (t >= windows * segs) return;                                                 \
        uint w = t / segs;                                                               \
        uint s = t % segs;                                                               \
        uint len = (buckets + segs - 1u) / segs;                                         \
        uint lo = s * len;                                                               \
        uint hi = lo + len < buckets ? lo + len : buckets;                               \
        G##_xyzz_t running = G##_inf();                                                  \
        G##_xyzz_t acc = G##_inf();                                                      \
        for (uint b = hi; b > lo; b--) {                                                 \
            running = G##_add(running,                                                   \
                              G##_load_xyzz(bucket_sums +                                \
                                            ((ulong)w * buckets + b - 1u) * (4 * FW)));  \
            acc = G##_add(acc, running);                                                 \
        }                                                                                \
        /* acc counts bucket b (b - lo + 1) times; lo more times makes b + 1. */         \
        if (lo > 0u) acc = G##_add(acc, G##_mul_small(running, lo));                     \
        G##_store_xyzz(out + (ulong)t * (4 * FW), acc);                                  \
    }

MSM_KERNELS(g1, 8)
MSM_KERNELS(g2, 16)

#endif
