//! Number-theoretic transforms over radix-2 domains (the CPU NTT of the prover pipeline).
//!
//! [`NttDomain`] precomputes the twiddles of one domain of size 2^k and then transforms
//! vectors of that size in place: [`NttDomain::ntt`] / [`NttDomain::intt`] between
//! coefficients and evaluations at ω^i, the `coset_` variants at shift·ω^i, and
//! [`NttDomain::intt_then_coset_ntt`], the Groth16 step "interpolate over the domain,
//! evaluate on the coset", which skips both bit-reversal permutations by chaining a
//! decimation-in-frequency inverse with a decimation-in-time forward transform.
//!
//! Two sets of kernels share one decomposition: portable ones through arkworks arithmetic
//! (`scalar`), and AVX-512 IFMA ones for BN254 Fr (`ifma`), picked at run time when the
//! CPU supports them; [`NttDomain::backend`] says which one a domain uses, and the
//! environment variable `KILN_NTT_BACKEND=scalar` forces the portable kernels.
//!
//! Submodules: `plan` (block and pass sizes, thresholds), `schedule` (passes, blocks,
//! threads), `twiddles` (tables), `scalar` and `ifma` (butterfly kernels), `bitrev` (the
//! permutation), `scale` (power sequences and fused scaling), `naive` (the O(n²)
//! reference).

mod bitrev;
#[cfg(target_arch = "x86_64")]
mod ifma;
mod naive;
mod plan;
mod scalar;
mod scale;
mod schedule;
#[cfg(test)]
mod tests;
mod twiddles;

use ark_ff::FftField;

pub use naive::ntt_naive;

use bitrev::bit_reverse;
use plan::Plan;
use scale::{BitrevFactors, Scale};
use twiddles::Twiddles;

/// Errors from building a domain or transforming a vector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NttError {
    /// The requested domain size is not a power of two (or is zero).
    #[error("NTT domain size must be a power of two ≥ 1, got {size}")]
    NotPowerOfTwo {
        /// The size that was asked for.
        size: usize,
    },
    /// The requested domain is larger than the field's 2-adic subgroup.
    #[error("NTT domain of size 2^{log_size} exceeds the field's maximum 2^{max}")]
    TooLarge {
        /// log2 of the size that was asked for.
        log_size: u32,
        /// The field's two-adicity (largest supported log2 size).
        max: u32,
    },
    /// The vector to transform does not have the domain's length.
    #[error("NTT input has {got} elements, but the domain has size {expected}")]
    LengthMismatch {
        /// The domain size.
        expected: usize,
        /// The length of the vector passed in.
        got: usize,
    },
}

/// Which kernels a domain runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NttBackend {
    /// Portable radix-2 kernels on arkworks field arithmetic (any FFT-friendly field).
    Scalar,
    /// AVX-512 IFMA kernels, eight butterflies at a time (BN254 Fr, x86-64 with
    /// `avx512f` + `avx512ifma`).
    Avx512Ifma,
}

/// The kernels of a domain together with their twiddle tables.
enum Kernels<F> {
    Scalar(Twiddles<F>),
    #[cfg(target_arch = "x86_64")]
    Ifma(Box<ifma::Tables>),
}

/// A radix-2 evaluation domain of size 2^k with precomputed twiddles (forward and
/// inverse), reusable across calls and threads (Send + Sync). The twiddle table holds
/// about 2^k field elements (32·2^k bytes for BN254, shared by both directions).
pub struct NttDomain<F: FftField> {
    log_size: u32,
    root: F,
    size_inv: F,
    kernels: Kernels<F>,
    /// log2 of the largest cache block (see `plan`).
    max_block_log: u32,
}

impl<F: FftField> std::fmt::Debug for NttDomain<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NttDomain")
            .field("size", &self.size())
            .field("root", &self.root)
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl<F: FftField> NttDomain<F> {
    /// Builds the domain of `size` elements: `size` must be a power of two with
    /// 1 ≤ size ≤ 2^F::TWO_ADICITY. Precomputes about `size` twiddle factors, and picks
    /// the fastest kernels this machine supports for `F` (unless `KILN_NTT_BACKEND=scalar`).
    pub fn new(size: usize) -> Result<Self, NttError> {
        let forced_scalar = std::env::var("KILN_NTT_BACKEND").is_ok_and(|v| v == "scalar");
        let want = if forced_scalar {
            NttBackend::Scalar
        } else {
            NttBackend::Avx512Ifma
        };
        Self::with_backend(size, want)
    }

    /// Like [`new`](Self::new), using `want` if it can run here and the portable kernels
    /// otherwise.
    pub(crate) fn with_backend(size: usize, want: NttBackend) -> Result<Self, NttError> {
        if !size.is_power_of_two() {
            return Err(NttError::NotPowerOfTwo { size });
        }
        let log_size = size.trailing_zeros();
        let too_large = NttError::TooLarge {
            log_size,
            max: F::TWO_ADICITY,
        };
        if log_size > F::TWO_ADICITY {
            return Err(too_large);
        }
        let mut root = F::TWO_ADIC_ROOT_OF_UNITY;
        for _ in log_size..F::TWO_ADICITY {
            root.square_in_place();
        }
        let size_inv = F::from(size as u64).inverse().ok_or(too_large)?;
        let kernels = match want {
            #[cfg(target_arch = "x86_64")]
            NttBackend::Avx512Ifma => match ifma::Tables::new(root, log_size) {
                Some(t) => Kernels::Ifma(Box::new(t)),
                None => Kernels::Scalar(Twiddles::new(root, F::one(), log_size)),
            },
            _ => Kernels::Scalar(Twiddles::new(root, F::one(), log_size)),
        };
        Ok(Self {
            log_size,
            root,
            size_inv,
            kernels,
            max_block_log: plan::MAX_BLOCK_LOG,
        })
    }

    /// The number of points, 2^k.
    pub fn size(&self) -> usize {
        1 << self.log_size
    }

    /// log2 of the number of points, k.
    pub fn log_size(&self) -> u32 {
        self.log_size
    }

    /// The kernels this domain runs.
    pub fn backend(&self) -> NttBackend {
        match self.kernels {
            Kernels::Scalar(_) => NttBackend::Scalar,
            #[cfg(target_arch = "x86_64")]
            Kernels::Ifma(_) => NttBackend::Avx512Ifma,
        }
    }

    /// The domain generator ω: `F::TWO_ADIC_ROOT_OF_UNITY` squared down to order 2^k,
    /// the same chain as snarkjs (ω_{2^k} = ω_{2^{k+1}}²) and ark_poly's
    /// `Radix2EvaluationDomain`.
    pub fn root(&self) -> F {
        self.root
    }

    /// Coefficients → evaluations at ω^i, natural order in and out, in place.
    pub fn ntt(&self, data: &mut [F]) -> Result<(), NttError> {
        self.check(data)?;
        bit_reverse(data);
        self.dit::<false>(data, Scale::None);
        Ok(())
    }

    /// Evaluations at ω^i → coefficients (includes the 1/n scaling), in place.
    pub fn intt(&self, data: &mut [F]) -> Result<(), NttError> {
        self.check(data)?;
        self.dif::<true>(data, Scale::Const(self.size_inv));
        bit_reverse(data);
        Ok(())
    }

    /// Coefficients → evaluations at shift·ω^i, in place.
    pub fn coset_ntt(&self, data: &mut [F], shift: F) -> Result<(), NttError> {
        self.check(data)?;
        bit_reverse(data);
        // Position j now holds coefficient bitrev(j), which needs shift^bitrev(j).
        let f = self.bitrev_factors(shift, F::one());
        self.dit::<false>(data, Scale::Bitrev(&f));
        Ok(())
    }

    /// Evaluations at shift·ω^i → coefficients, in place. A zero `shift` (not a coset)
    /// leaves the result undefined; it does not panic.
    pub fn coset_intt(&self, data: &mut [F], shift: F) -> Result<(), NttError> {
        self.check(data)?;
        let shift_inv = shift.inverse().unwrap_or_default();
        let f = self.bitrev_factors(shift_inv, self.size_inv);
        self.dif::<true>(data, Scale::Bitrev(&f));
        bit_reverse(data);
        Ok(())
    }

    /// [`intt`](Self::intt) followed by [`coset_ntt`](Self::coset_ntt) with `shift`
    /// (evaluations over the domain → evaluations over the coset shift·ω^i), fused:
    /// no bit-reversal permutation and one combined scaling, applied while cache-hot.
    pub fn intt_then_coset_ntt(&self, data: &mut [F], shift: F) -> Result<(), NttError> {
        self.check(data)?;
        // After the inverse DIF, position j holds n × coefficient bitrev(j): scale it by
        // shift^bitrev(j)/n, and the forward DIT takes bit-reversed input as it is.
        let f = self.bitrev_factors(shift, self.size_inv);
        self.dif::<true>(data, Scale::Bitrev(&f));
        self.dit::<false>(data, Scale::None);
        Ok(())
    }

    /// The same domain with blocks of at most 2^max_block_log elements (for tests).
    #[cfg(test)]
    pub(crate) fn with_max_block_log(mut self, max_block_log: u32) -> Self {
        self.max_block_log = max_block_log;
        self
    }

    /// The split used for a transform of this domain's size.
    fn plan(&self) -> Plan {
        Plan::new(self.log_size, self.max_block_log)
    }

    /// c·g^{bitrev(j)} in the block shape of this domain's plan.
    fn bitrev_factors(&self, g: F, c: F) -> BitrevFactors<F> {
        BitrevFactors::new(g, c, self.log_size, self.plan().block_log)
    }

    /// Decimation in frequency (natural in, bit-reversed out), then `scale`.
    fn dif<const INV: bool>(&self, data: &mut [F], scale: Scale<'_, F>) {
        let plan = self.plan();
        match &self.kernels {
            Kernels::Scalar(tw) => schedule::dif(
                data,
                plan,
                |_: &mut (), s| scalar::strip::<F, INV, false>(tw, s),
                |_, i, b| scalar::block::<F, INV, false>(tw, &scale, i, b),
            ),
            #[cfg(target_arch = "x86_64")]
            Kernels::Ifma(t) => match ifma::limbs_mut(data) {
                Some(limbs) => ifma::dif::<F, INV>(limbs, t, plan, &scale),
                None => unreachable!("IFMA tables are only built for BN254 Fr"),
            },
        }
    }

    /// `scale`, then decimation in time (bit-reversed in, natural out).
    fn dit<const INV: bool>(&self, data: &mut [F], scale: Scale<'_, F>) {
        let plan = self.plan();
        match &self.kernels {
            Kernels::Scalar(tw) => schedule::dit(
                data,
                plan,
                |_: &mut (), s| scalar::strip::<F, INV, true>(tw, s),
                |_, i, b| scalar::block::<F, INV, true>(tw, &scale, i, b),
            ),
            #[cfg(target_arch = "x86_64")]
            Kernels::Ifma(t) => match ifma::limbs_mut(data) {
                Some(limbs) => ifma::dit::<F, INV>(limbs, t, plan, &scale),
                None => unreachable!("IFMA tables are only built for BN254 Fr"),
            },
        }
    }

    /// `LengthMismatch` unless `data` has exactly the domain's size.
    fn check(&self, data: &[F]) -> Result<(), NttError> {
        if data.len() == self.size() {
            Ok(())
        } else {
            Err(NttError::LengthMismatch {
                expected: self.size(),
                got: data.len(),
            })
        }
    }
}
