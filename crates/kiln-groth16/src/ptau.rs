//! Development powers of tau: a snarkjs `.ptau` file, already prepared for phase 2, from
//! freshly sampled toxic waste, in seconds instead of the hours `snarkjs powersoftau prepare
//! phase2` takes at 2^16–2^17.
//!
//! NOT FOR PRODUCTION: one process samples τ, α, β and forgets them; anyone who kept them
//! could forge proofs for every circuit set up from the file. The file records no
//! contributions. It is for tests and benchmarks that need `snarkjs groth16 setup` (then
//! `zkey contribute`, `zkey verify`, proving and verifying) on large circuits.
//!
//! The file is what `powersoftau new` + contributions + `prepare phase2` would write for the
//! same τ, α, β: magic `ptau`, version 1, and eleven sections, every point uncompressed
//! with little-endian Montgomery coordinates (as in `.zkey` files):
//!
//! | section | contents | points |
//! |---|---|---|
//! | 1 | header: n8 of Fq, the Fq modulus, power, ceremony power (= power) | |
//! | 2 | τ^i·G1 | 2^(power+1) − 1 |
//! | 3 | τ^i·G2 | 2^power |
//! | 4 | α·τ^i·G1 | 2^power |
//! | 5 | β·τ^i·G1 | 2^power |
//! | 6 | β·G2 | 1 |
//! | 7 | the contributions: a u32 count, 0 | |
//! | 12 | L_i(τ)·G1 for every domain 2^p, p = 0 ..= power + 1 | 2^(power+2) − 1 |
//! | 13 | L_i(τ)·G2, p = 0 ..= power | 2^(power+1) − 1 |
//! | 14 | α·L_i(τ)·G1, p = 0 ..= power | 2^(power+1) − 1 |
//! | 15 | β·L_i(τ)·G1, p = 0 ..= power | 2^(power+1) − 1 |
//!
//! Sections 12–15 hold, one domain after another (sizes 1, 2, 4, …), the inverse DFT of the
//! monomial points: `L_i(τ) = (1/n)·Σ_j ω^(−ij)·τ^j`, the Lagrange basis of the domain of
//! the n-th roots of unity `ω^i`. Section 12's last domain, 2^(power+1), transforms
//! section 2 padded with the point at infinity (section 2 has one point fewer), so its
//! entries are `L_i(τ) − ω^i·τ^(n−1)/n`. `groth16 setup` reads a circuit's domain from
//! sections 12–15 and its H points from the odd entries of section 12's next larger one.
//!
//! Every value is computed as a scalar (the Lagrange values from `τ^n − 1` and one batch
//! inversion) and multiplied by the generator with a fixed-base window table, adding in
//! affine coordinates with batched inversions, in parallel: power 17 (the ~150 MB file a
//! circuit of 100k constraints needs) takes about 12 s of CPU time.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{batch_inversion, FftField, Field, PrimeField, UniformRand};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;

use kiln_algebra::curve::{Bn254, Curve, G1Affine, G2Affine};
use kiln_formats::atomic::write_atomically;
use kiln_formats::binfile::{write_file_header, write_section_header};
use kiln_formats::codec::{g1_len, g1_to_mont, g2_len, g2_to_mont, modulus_le};
use kiln_formats::FormatError;

/// The smallest power [`write_dev_ptau`] writes.
pub const MIN_POWER: u32 = 1;

/// The largest power [`write_dev_ptau`] writes for BN254: section 12's last domain has
/// 2^(power+1) points, and BN254's scalar field has roots of unity of order up to 2^28.
/// (The file would be about 2^(power+10) bytes; memory is the practical limit long before.)
pub const MAX_POWER: u32 = 27;

/// Why a development powers-of-tau file was not written.
#[derive(Debug, thiserror::Error)]
pub enum PtauError {
    /// The power is outside what the format and the curve allow.
    #[error("cannot write powers of tau of power {power}: the power must be {min} to {max} (the file serves circuits of fewer than 2^power constraints plus public signals, and its phase-2 sections need roots of unity of order 2^(power+1))")]
    Power {
        /// The power asked for.
        power: u32,
        /// The smallest power written.
        min: u32,
        /// The largest power written for this curve.
        max: u32,
    },
    /// The file could not be written (nothing is left at the path).
    #[error(transparent)]
    Write(#[from] FormatError),
}

/// Writes to `path` (atomically) a BN254 powers-of-tau file of 2^`power` powers, prepared
/// for phase 2, from toxic waste drawn from `rng`: what `snarkjs groth16 setup` needs for
/// any circuit with fewer than 2^`power` constraints plus public signals (snarkjs's rule).
/// NOT FOR PRODUCTION.
///
/// `power` must be [`MIN_POWER`] to [`MAX_POWER`]. Power 17 takes seconds and writes about
/// 150 MB.
pub fn write_dev_ptau<R: RngCore + CryptoRng>(
    path: &Path,
    power: u32,
    rng: &mut R,
) -> Result<(), PtauError> {
    write_dev_ptau_for::<Bn254, R>(path, power, rng)
}

/// [`write_dev_ptau`] for any curve kiln knows.
fn write_dev_ptau_for<C: Curve, R: RngCore + CryptoRng>(
    path: &Path,
    power: u32,
    rng: &mut R,
) -> Result<(), PtauError> {
    let max = max_power::<C>();
    if !(MIN_POWER..=max).contains(&power) {
        return Err(PtauError::Power {
            power,
            min: MIN_POWER,
            max,
        });
    }
    let waste = ToxicWaste::<C::Fr>::sample(rng, power);
    write_with_waste::<C>(path, power, &waste)
}

/// The largest power for curve `C` (see [`MAX_POWER`]).
fn max_power<C: Curve>() -> u32 {
    C::Fr::TWO_ADICITY - 1
}

/// The secrets a powers-of-tau file is made of.
struct ToxicWaste<F> {
    tau: F,
    alpha: F,
    beta: F,
}

impl<F: FftField + UniformRand> ToxicWaste<F> {
    /// Fresh τ, α, β: all nonzero, and τ in no domain of up to 2^(power+1) roots of unity
    /// (so every Lagrange denominator `τ − ω^i` is invertible).
    fn sample<R: RngCore>(rng: &mut R, power: u32) -> Self {
        let top = 1u64 << (power + 1);
        let nonzero = |rng: &mut R| loop {
            let x = F::rand(rng);
            if !x.is_zero() {
                return x;
            }
        };
        let tau = loop {
            let t = nonzero(rng);
            if t.pow([top]) != F::one() {
                break t;
            }
        };
        ToxicWaste {
            tau,
            alpha: nonzero(rng),
            beta: nonzero(rng),
        }
    }
}

/// `1, x, x², …` (`n` values).
fn powers<F: Field>(x: F, n: usize) -> Vec<F> {
    std::iter::successors(Some(F::one()), |p| Some(*p * x))
        .take(n)
        .collect()
}

/// Section 12's scalars: for each domain size `n = 2^p`, `p = 0 ..= power + 1`, the values
/// `L_i(τ) = (τ^n − 1)/n · ω_n^i/(τ − ω_n^i)`, `i < n`; in the last domain (size `m`) minus
/// `ω_m^i·τ^(m−1)/m`, the term of the missing point `τ^(m−1)·G1`. The first
/// `2^(power+1) − 1` values (domains up to 2^power) are sections 13–15's.
fn lagrange_scalars<F: FftField>(tau: F, power: u32) -> Vec<F> {
    let top = power + 1;
    let m = 1usize << top;
    let omega = F::get_root_of_unity(m as u64).expect("power checked against the 2-adicity");
    let roots = powers(omega, m);
    // Every ω_n^i is ω_m^(i·m/n): one denominator per entry, all inverted at once.
    let mut denominators: Vec<F> = (0..=top)
        .flat_map(|p| {
            let stride = m >> p;
            roots.iter().step_by(stride).map(|w| tau - w)
        })
        .collect();
    batch_inversion(&mut denominators);

    let mut out = Vec::with_capacity(2 * m - 1);
    for p in 0..=top {
        let n = 1usize << p;
        let stride = m >> p;
        let inverses = &denominators[n - 1..2 * n - 1];
        let n_fr = F::from(n as u64);
        let scale = (tau.pow([n as u64]) - F::one()) * n_fr.inverse().expect("n < char");
        let chunk: Vec<F> = inverses
            .par_iter()
            .enumerate()
            .map(|(i, inv)| scale * roots[i * stride] * inv)
            .collect();
        out.extend(chunk);
    }
    // The last domain transforms τ^0 … τ^(m−2) and the point at infinity.
    let missing = tau.pow([(m - 1) as u64]) * F::from(m as u64).inverse().expect("m < char");
    out[m - 1..]
        .par_iter_mut()
        .zip(roots.par_iter())
        .for_each(|(l, w)| *l -= missing * w);
    out
}

/// Scalars per batch of [`FixedBase::mul`]: enough to make the shared inversion cheap.
const BATCH: usize = 1024;

/// Fixed-base multiples `s·G` of one generator: arkworks' window table of `G` (affine
/// multiples `d·2^(wk)·G`), but the window terms are added in affine coordinates, a batch of
/// scalars at a time with one field inversion per batch and window (Montgomery's trick).
/// An affine addition then costs about 5M + 1S, against 7M + 4S for a mixed Jacobian one,
/// and the results need no normalization.
struct FixedBase<P: SWCurveConfig> {
    table: BatchMulPreprocessing<Projective<P>>,
}

impl<P: SWCurveConfig> FixedBase<P> {
    /// The table for `g`, with arkworks' window for batches of about `largest` scalars.
    fn new(g: Affine<P>, largest: usize) -> Self {
        FixedBase {
            table: BatchMulPreprocessing::new(g.into_group(), largest),
        }
    }

    /// `[s·G for s in scalars]` (parallel over batches).
    fn mul(&self, scalars: &[P::ScalarField]) -> Vec<Affine<P>> {
        let mut out = vec![Affine::<P>::zero(); scalars.len()];
        out.par_chunks_mut(BATCH)
            .zip(scalars.par_chunks(BATCH))
            .for_each(|(acc, s)| self.mul_batch(acc, s));
        out
    }

    /// `acc[k] = s[k]·G` for one batch (`acc` starts at infinity).
    fn mul_batch(&self, acc: &mut [Affine<P>], s: &[P::ScalarField]) {
        let window = self.table.window;
        let bigs: Vec<_> = s.iter().map(|x| x.into_bigint()).collect();
        // (index into the batch, table entry) of the additions that need an inversion.
        let mut pending: Vec<(usize, usize)> = Vec::with_capacity(s.len());
        let mut den: Vec<P::BaseField> = Vec::with_capacity(s.len());
        let mut prefix: Vec<P::BaseField> = Vec::with_capacity(s.len());
        for (w, row) in self.table.table.iter().enumerate() {
            pending.clear();
            den.clear();
            for (k, big) in bigs.iter().enumerate() {
                let d = digit(big.as_ref(), w * window, window);
                let t = &row[d];
                let a = &mut acc[k];
                if t.infinity {
                } else if a.infinity {
                    *a = *t;
                } else if a.x == t.x {
                    // a = ±t: a doubling or the point at infinity (rare: not worth batching).
                    *a = (*a + t).into_affine();
                } else {
                    den.push(t.x - a.x);
                    pending.push((k, d));
                }
            }
            invert_all(&mut den, &mut prefix);
            for ((k, d), inv) in pending.iter().zip(&den) {
                let (a, t) = (&mut acc[*k], &row[*d]);
                let slope = (t.y - a.y) * inv;
                let x = slope.square() - a.x - t.x;
                let y = slope * (a.x - x) - a.y;
                *a = Affine::new_unchecked(x, y);
            }
        }
    }
}

/// Bits `at .. at + width` of a little-endian multi-limb integer.
fn digit(limbs: &[u64], at: usize, width: usize) -> usize {
    let (i, shift) = (at / 64, at % 64);
    let mut v = limbs.get(i).map_or(0, |l| l >> shift);
    if shift + width > 64 && shift > 0 {
        v |= limbs.get(i + 1).map_or(0, |l| l << (64 - shift));
    }
    (v & ((1u64 << width) - 1)) as usize
}

/// Replaces every element of `v` (all nonzero) by its inverse with one field inversion;
/// `prefix` is scratch space.
fn invert_all<F: Field>(v: &mut [F], prefix: &mut Vec<F>) {
    prefix.clear();
    let mut acc = F::one();
    for x in v.iter() {
        prefix.push(acc);
        acc *= x;
    }
    let mut inv = acc.inverse().expect("the denominators are nonzero");
    for (x, before) in v.iter_mut().zip(prefix.iter()).rev() {
        let next = inv * *x;
        *x = inv * before;
        inv = next;
    }
}

/// Writes a section of G1 points `s·G1`, Montgomery-encoded.
fn g1_section<C: Curve>(
    w: &mut impl Write,
    id: u32,
    base: &FixedBase<C::G1>,
    scalars: &[C::Fr],
) -> std::io::Result<()> {
    let points: Vec<G1Affine<C>> = base.mul(scalars);
    let size = g1_len::<C>();
    let mut bytes = vec![0u8; points.len() * size];
    bytes
        .par_chunks_mut(size)
        .zip(points.par_iter())
        .for_each(|(out, p)| g1_to_mont::<C>(p, out));
    write_section_header(w, id, bytes.len() as u64)?;
    w.write_all(&bytes)
}

/// Writes a section of G2 points `s·G2`, Montgomery-encoded.
fn g2_section<C: Curve>(
    w: &mut impl Write,
    id: u32,
    base: &FixedBase<C::G2>,
    scalars: &[C::Fr],
) -> std::io::Result<()> {
    let points: Vec<G2Affine<C>> = base.mul(scalars);
    let size = g2_len::<C>();
    let mut bytes = vec![0u8; points.len() * size];
    bytes
        .par_chunks_mut(size)
        .zip(points.par_iter())
        .for_each(|(out, p)| g2_to_mont::<C>(p, out));
    write_section_header(w, id, bytes.len() as u64)?;
    w.write_all(&bytes)
}

/// `x·s` for every `s`.
fn scaled<F: Field>(x: F, scalars: &[F]) -> Vec<F> {
    scalars.par_iter().map(|s| x * s).collect()
}

/// Writes the prepared file for the given toxic waste (`power` already checked).
fn write_with_waste<C: Curve>(
    path: &Path,
    power: u32,
    waste: &ToxicWaste<C::Fr>,
) -> Result<(), PtauError> {
    let t0 = Instant::now();
    let n = 1usize << power;
    let m = 2 * n;
    let ToxicWaste { tau, alpha, beta } = *waste;
    let (tau_powers, lagrange) =
        rayon::join(|| powers(tau, m - 1), || lagrange_scalars(tau, power));
    let small_lagrange = &lagrange[..m - 1];
    let g1 = FixedBase::new(G1Affine::<C>::generator(), lagrange.len());
    let g2 = FixedBase::new(G2Affine::<C>::generator(), m - 1);
    let nq = C::FQ_BYTES;

    write_atomically(path, |w| {
        write_file_header(w, "ptau", 1, 11)?;

        write_section_header(w, 1, (4 + nq + 4 + 4) as u64)?;
        w.write_all(&(nq as u32).to_le_bytes())?;
        w.write_all(&modulus_le::<C::Fq>(nq))?;
        w.write_all(&power.to_le_bytes())?;
        w.write_all(&power.to_le_bytes())?; // ceremony power

        g1_section::<C>(w, 2, &g1, &tau_powers)?;
        g2_section::<C>(w, 3, &g2, &tau_powers[..n])?;
        g1_section::<C>(w, 4, &g1, &scaled(alpha, &tau_powers[..n]))?;
        g1_section::<C>(w, 5, &g1, &scaled(beta, &tau_powers[..n]))?;
        g2_section::<C>(w, 6, &g2, &[beta])?;

        write_section_header(w, 7, 4)?;
        w.write_all(&0u32.to_le_bytes())?; // no contributions

        g1_section::<C>(w, 12, &g1, &lagrange)?;
        g2_section::<C>(w, 13, &g2, small_lagrange)?;
        g1_section::<C>(w, 14, &g1, &scaled(alpha, small_lagrange))?;
        g1_section::<C>(w, 15, &g1, &scaled(beta, small_lagrange))
    })?;
    tracing::info!(
        target: crate::TARGET,
        power,
        path = %path.display(),
        seconds = t0.elapsed().as_secs_f64(),
        "development powers of tau written"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::VariableBaseMSM;
    use ark_ff::{One, Zero};
    use kiln_formats::binfile::{BinFile, FileSpec};
    use kiln_formats::codec::{g1_from_mont, g2_from_mont};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    type Fr = ark_bn254::Fr;

    fn spec() -> FileSpec {
        FileSpec {
            magic: "ptau",
            kind: ".ptau",
            versions: 1..=1,
        }
    }

    fn g1s(f: &BinFile, id: u32) -> Vec<ark_bn254::G1Affine> {
        let s = f.table().require(id, "points", f.path()).unwrap();
        f.body(&s)
            .chunks_exact(64)
            .map(|b| g1_from_mont::<Bn254>(b).unwrap())
            .collect()
    }

    fn g2s(f: &BinFile, id: u32) -> Vec<ark_bn254::G2Affine> {
        let s = f.table().require(id, "points", f.path()).unwrap();
        f.body(&s)
            .chunks_exact(128)
            .map(|b| g2_from_mont::<Bn254>(b).unwrap())
            .collect()
    }

    /// The inverse DFT over the domain of `v.len()` points, from its definition.
    fn naive_inverse_dft(v: &[Fr]) -> Vec<Fr> {
        let n = v.len();
        let w_inv = Fr::get_root_of_unity(n as u64).unwrap().inverse().unwrap();
        let n_inv = Fr::from(n as u64).inverse().unwrap();
        (0..n)
            .map(|i| {
                let wi = w_inv.pow([i as u64]);
                let mut acc = Fr::zero();
                let mut x = Fr::one();
                for vj in v {
                    acc += x * vj;
                    x *= wi;
                }
                acc * n_inv
            })
            .collect()
    }

    #[test]
    fn lagrange_scalars_are_the_inverse_dft_of_the_powers_prepare_phase2_transforms() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for power in 1..=4 {
            let tau = ToxicWaste::<Fr>::sample(&mut rng, power).tau;
            let got = lagrange_scalars(tau, power);
            assert_eq!(got.len(), (1 << (power + 2)) - 1);
            let mut at = 0;
            for p in 0..=power + 1 {
                let n = 1usize << p;
                let mut monomials = powers(tau, n);
                if p == power + 1 {
                    monomials[n - 1] = Fr::zero();
                }
                assert_eq!(
                    got[at..at + n],
                    naive_inverse_dft(&monomials)[..],
                    "power {power}, domain 2^{p}"
                );
                at += n;
            }
        }
    }

    #[test]
    fn the_file_holds_the_powers_and_their_lagrange_forms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.ptau");
        let power = 3;
        let waste = ToxicWaste::<Fr>::sample(&mut ChaCha20Rng::seed_from_u64(7), power);
        write_with_waste::<Bn254>(&path, power, &waste).unwrap();
        let f = BinFile::open(&path, &spec()).unwrap();
        let ids: Vec<u32> = f.table().sections.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]);

        let header = f.body(&f.table().require(1, "header", &path).unwrap());
        assert_eq!(header.len(), 44);
        assert_eq!(header[..4], 32u32.to_le_bytes());
        assert_eq!(header[4..36], modulus_le::<ark_bn254::Fq>(32)[..]);
        assert_eq!(header[36..], [3, 0, 0, 0, 3, 0, 0, 0]);
        let contributions = f.body(&f.table().require(7, "contributions", &path).unwrap());
        assert_eq!(contributions, [0, 0, 0, 0]);

        let (n, m) = (1usize << power, 2usize << power);
        let g1 = ark_bn254::G1Affine::generator();
        let g2 = ark_bn254::G2Affine::generator();
        let tp = powers(waste.tau, m - 1);
        let times_g1 = |s: Fr| (g1 * s).into_affine();
        let times_g2 = |s: Fr| (g2 * s).into_affine();
        let tau_g1 = g1s(&f, 2);
        assert_eq!(tau_g1, tp.iter().map(|s| times_g1(*s)).collect::<Vec<_>>());
        assert_eq!(
            g2s(&f, 3),
            tp[..n].iter().map(|s| times_g2(*s)).collect::<Vec<_>>()
        );
        let alpha_tau: Vec<_> = tp[..n].iter().map(|s| times_g1(waste.alpha * s)).collect();
        assert_eq!(g1s(&f, 4), alpha_tau);
        let beta_tau: Vec<_> = tp[..n].iter().map(|s| times_g1(waste.beta * s)).collect();
        assert_eq!(g1s(&f, 5), beta_tau);
        assert_eq!(g2s(&f, 6), [times_g2(waste.beta)]);

        // Each Lagrange domain maps back to the monomial points by a forward DFT:
        // Σ_i ω^(ij)·L_i(τ)·G = τ^j·G for every j below the domain size, where section 12's
        // padded last domain gives the point at infinity for the missing τ^(m−1)·G1.
        let sections = [
            (g1s(&f, 12), tau_g1, power + 1),
            (g1s(&f, 14), alpha_tau, power),
            (g1s(&f, 15), beta_tau, power),
        ];
        for (id, (lagrange, monomials, top)) in [12, 14, 15].into_iter().zip(&sections) {
            let mut at = 0;
            for p in 0..=*top {
                let size = 1usize << p;
                let w = Fr::get_root_of_unity(size as u64).unwrap();
                for j in 0..size {
                    let got = ark_bn254::G1Projective::msm(
                        &lagrange[at..at + size],
                        &powers(w.pow([j as u64]), size),
                    )
                    .unwrap()
                    .into_affine();
                    let want = monomials
                        .get(j)
                        .copied()
                        .unwrap_or(ark_bn254::G1Affine::zero());
                    assert_eq!(got, want, "section {id}, domain 2^{p}, j = {j}");
                }
                at += size;
            }
            assert_eq!(at, lagrange.len(), "section {id}");
        }
        let lag_g2 = g2s(&f, 13);
        assert_eq!(lag_g2.len(), m - 1);
        let last = &lag_g2[n - 1..];
        let w = Fr::get_root_of_unity(n as u64).unwrap();
        let got = ark_bn254::G2Projective::msm(last, &powers(w, n)).unwrap();
        assert_eq!(got.into_affine(), times_g2(waste.tau));
    }

    #[test]
    fn fixed_base_multiples_equal_scalar_multiplication() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut scalars: Vec<Fr> = (0..3 * BATCH / 2).map(|_| Fr::rand(&mut rng)).collect();
        // Zero digits, repeated scalars, zero, one, −1, and sums that hit a = ±t.
        scalars.extend([0u64, 1, 2, 3, 1 << 13, (1 << 13) + 1, 3 << 26, 5].map(Fr::from));
        scalars.extend([-Fr::from(1u64), -Fr::from(1u64 << 13), scalars[0]]);
        let g1 = ark_bn254::G1Affine::generator();
        let got = FixedBase::new(g1, scalars.len()).mul(&scalars);
        for (s, p) in scalars.iter().zip(&got) {
            assert_eq!(*p, (g1 * s).into_affine(), "{s}");
        }
        let g2 = ark_bn254::G2Affine::generator();
        let got = FixedBase::new(g2, 40).mul(&scalars[BATCH - 20..BATCH + 20]);
        for (s, p) in scalars[BATCH - 20..].iter().zip(&got) {
            assert_eq!(*p, (g2 * s).into_affine(), "{s}");
        }
        let limbs = [u64::MAX, 0b1011, 0, 1 << 63];
        assert_eq!(digit(&limbs, 60, 8), 0b1011_1111);
        assert_eq!(digit(&limbs, 64, 4), 0b1011);
        assert_eq!(digit(&limbs, 250, 13), 0b10_0000);
        assert_eq!(digit(&limbs, 256, 13), 0);
    }

    #[test]
    fn powers_outside_the_range_are_refused_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.ptau");
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for power in [0, MAX_POWER + 1, u32::MAX] {
            let e = write_dev_ptau(&path, power, &mut rng).unwrap_err();
            assert!(
                matches!(e, PtauError::Power { power: p, min: 1, max: MAX_POWER } if p == power),
                "{e}"
            );
            assert!(e.to_string().contains("must be 1 to 27"), "{e}");
        }
        assert_eq!(max_power::<Bn254>(), MAX_POWER);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
