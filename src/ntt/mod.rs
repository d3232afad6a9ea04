//! Number-theoretic transforms over radix-2 domains (the CPU NTT of the prover pipeline).
//!
//! [`NttDomain`] precomputes the twiddles of one domain of size 2^k and then transforms
//! vectors of that size in place: [`NttDomain::ntt`] / [`NttDomain::intt`] between
//! coefficients and evaluations at ω^i, the `coset_` variants at shift·ω^i, and
//! [`NttDomain::intt_then_coset_ntt`], the Groth16 step "interpolate over the domain,
//! evaluate on the coset", which skips both bit-reversal permutations by chaining a
//! decimation-in-frequency inverse with a decimation-in-time forward transform.
//!
//! Submodules: `plan` (block and pass sizes, thresholds), `twiddles` (tables), `kernels`
//! (the radix-2 DIF/DIT transforms), `bitrev` (the permutation), `scale` (power
//! sequences and scaling), `naive` (the O(n²) reference).

mod bitrev;
mod kernels;
mod naive;
mod plan;
mod scale;
#[cfg(test)]
mod tests;
mod twiddles;

use ark_ff::FftField;

pub use naive::ntt_naive;

use bitrev::bit_reverse;
use kernels::{dif, dit};
use plan::Plan;
use scale::BitrevFactors;
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

/// A radix-2 evaluation domain of size 2^k with precomputed twiddles (forward and
/// inverse), reusable across calls and threads (Send + Sync).
pub struct NttDomain<F: FftField> {
    log_size: u32,
    root: F,
    size_inv: F,
    twiddles: Twiddles<F>,
}

impl<F: FftField> std::fmt::Debug for NttDomain<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NttDomain")
            .field("size", &self.size())
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl<F: FftField> NttDomain<F> {
    /// Builds the domain of `size` elements: `size` must be a power of two with
    /// 1 ≤ size ≤ 2^F::TWO_ADICITY. Precomputes about `size` twiddle factors.
    pub fn new(size: usize) -> Result<Self, NttError> {
        if !size.is_power_of_two() {
            return Err(NttError::NotPowerOfTwo { size });
        }
        let log_size = size.trailing_zeros();
        if log_size > F::TWO_ADICITY {
            return Err(NttError::TooLarge {
                log_size,
                max: F::TWO_ADICITY,
            });
        }
        let mut root = F::TWO_ADIC_ROOT_OF_UNITY;
        for _ in log_size..F::TWO_ADICITY {
            root.square_in_place();
        }
        let size_inv = F::from(size as u64).inverse().ok_or(NttError::TooLarge {
            log_size,
            max: F::TWO_ADICITY,
        })?;
        Ok(Self {
            log_size,
            root,
            size_inv,
            twiddles: Twiddles::new(root, log_size),
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

    /// The domain generator ω: `F::TWO_ADIC_ROOT_OF_UNITY` squared down to order 2^k,
    /// the same chain as snarkjs (ω_{2^k} = ω_{2^{k+1}}²) and ark_poly's
    /// `Radix2EvaluationDomain`.
    pub fn root(&self) -> F {
        self.root
    }

    /// Coefficients → evaluations at ω^i, natural order in and out, in place.
    pub fn ntt(&self, data: &mut [F]) -> Result<(), NttError> {
        self.check(data)?;
        let plan = self.plan();
        bit_reverse(data);
        dit::<F, false>(data, &self.twiddles, plan, |_, _| {});
        Ok(())
    }

    /// Evaluations at ω^i → coefficients (includes the 1/n scaling), in place.
    pub fn intt(&self, data: &mut [F]) -> Result<(), NttError> {
        self.check(data)?;
        let plan = self.plan();
        let c = self.size_inv;
        dif::<F, true>(data, &self.twiddles, plan, |_, b| {
            b.iter_mut().for_each(|x| *x *= c);
        });
        bit_reverse(data);
        Ok(())
    }

    /// Coefficients → evaluations at shift·ω^i, in place.
    pub fn coset_ntt(&self, data: &mut [F], shift: F) -> Result<(), NttError> {
        self.check(data)?;
        let plan = self.plan();
        bit_reverse(data);
        // Position j now holds coefficient bitrev(j), which needs shift^bitrev(j).
        let f = BitrevFactors::new(shift, F::one(), self.log_size, plan.block_log);
        dit::<F, false>(data, &self.twiddles, plan, |i, b| f.apply(i, b));
        Ok(())
    }

    /// Evaluations at shift·ω^i → coefficients, in place. A zero `shift` (not a coset)
    /// leaves the result undefined; it does not panic.
    pub fn coset_intt(&self, data: &mut [F], shift: F) -> Result<(), NttError> {
        self.check(data)?;
        let plan = self.plan();
        let shift_inv = shift.inverse().unwrap_or_default();
        let f = BitrevFactors::new(shift_inv, self.size_inv, self.log_size, plan.block_log);
        dif::<F, true>(data, &self.twiddles, plan, |i, b| f.apply(i, b));
        bit_reverse(data);
        Ok(())
    }

    /// [`intt`](Self::intt) followed by [`coset_ntt`](Self::coset_ntt) with `shift`
    /// (evaluations over the domain → evaluations over the coset shift·ω^i), fused:
    /// no bit-reversal permutation and one combined scaling, applied while cache-hot.
    pub fn intt_then_coset_ntt(&self, data: &mut [F], shift: F) -> Result<(), NttError> {
        self.check(data)?;
        let plan = self.plan();
        // After the inverse DIF, position j holds coefficient bitrev(j)·n: scale it by
        // shift^bitrev(j)/n and the forward DIT takes bit-reversed input as it is.
        let f = BitrevFactors::new(shift, self.size_inv, self.log_size, plan.block_log);
        dif::<F, true>(data, &self.twiddles, plan, |i, b| f.apply(i, b));
        dit::<F, false>(data, &self.twiddles, plan, |_, _| {});
        Ok(())
    }

    /// The split used for a transform of this domain's size.
    fn plan(&self) -> Plan {
        Plan::new(self.log_size)
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
