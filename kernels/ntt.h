// Radix-2 NTT over BN254 Fr, batched: GID_Y selects the vector (each n elements of 8
// words, back to back). A transform is a bit reversal followed by log2(n) DIT stages; the
// twiddle table holds w^i for i < n/2 (w the n-th root, or its inverse for an inverse
// transform). Scalings (1/n, coset shifts) multiply by a table or a constant.
#ifndef KILN_NTT_H
#define KILN_NTT_H

DEVICE uint reverse_bits(uint x, uint bits) {
    uint r = 0;
    for (uint k = 0; k < bits; k++) {
        r = (r << 1) | (x & 1u);
        x >>= 1;
    }
    return r;
}

KERNEL void ntt_bitrev(GLOBAL uint *data, uint n, uint log_n) {
    uint i = GID_X;
    if (i >= n) return;
    uint j = reverse_bits(i, log_n);
    if (i >= j) return;
    GLOBAL uint *v = data + (ulong)GID_Y * n * 8;
    for (int k = 0; k < 8; k++) {
        uint t = v[i * 8 + k];
        v[i * 8 + k] = v[j * 8 + k];
        v[j * 8 + k] = t;
    }
}

// One DIT stage joining blocks of `span` elements: n/2 butterflies per vector.
KERNEL void ntt_dit_stage(GLOBAL uint *data, const GLOBAL uint *twiddles, uint n, uint span) {
    uint k = GID_X;
    if (k >= n / 2) return;
    GLOBAL uint *v = data + (ulong)GID_Y * n * 8;
    uint j = k & (span - 1u);
    uint i0 = (k - j) * 2u + j;
    uint i1 = i0 + span;
    fr_t w = fr_load(twiddles + (ulong)j * (n / (2u * span)) * 8);
    fr_t u = fr_load(v + (ulong)i0 * 8);
    fr_t x = fr_mul(fr_load(v + (ulong)i1 * 8), w);
    fr_store(v + (ulong)i0 * 8, fr_add(u, x));
    fr_store(v + (ulong)i1 * 8, fr_sub(u, x));
}

// data[i] *= factors[i] for i < n, in every vector.
KERNEL void ntt_scale_table(GLOBAL uint *data, const GLOBAL uint *factors, uint n) {
    uint i = GID_X;
    if (i >= n) return;
    GLOBAL uint *v = data + ((ulong)GID_Y * n + i) * 8;
    fr_store(v, fr_mul(fr_load(v), fr_load(factors + (ulong)i * 8)));
}

// data[i] *= c for i < n, in every vector (c: one element, 8 words).
KERNEL void ntt_scale_const(GLOBAL uint *data, const GLOBAL uint *c, uint n) {
    uint i = GID_X;
    if (i >= n) return;
    GLOBAL uint *v = data + ((ulong)GID_Y * n + i) * 8;
    fr_store(v, fr_mul(fr_load(v), fr_load(c)));
}

#endif
