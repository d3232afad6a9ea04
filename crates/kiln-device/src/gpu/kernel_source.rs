//! The GPU kernel sources (`kernels/`), embedded in the binary so a device needs no files
//! at run time. OpenCL and NVRTC build them as one concatenated string; nvcc builds
//! `kiln.cu`, which includes the same headers.

/// The headers in dependency order.
pub(crate) const HEADERS: [(&str, &str); 6] = [
    ("common.h", include_str!("../../../../kernels/common.h")),
    ("bn254.h", include_str!("../../../../kernels/bn254.h")),
    ("field.h", include_str!("../../../../kernels/field.h")),
    ("curve.h", include_str!("../../../../kernels/curve.h")),
    ("msm.h", include_str!("../../../../kernels/msm.h")),
    ("ntt.h", include_str!("../../../../kernels/ntt.h")),
];

/// The whole program as one source (OpenCL C, or CUDA C++ for NVRTC: the headers pick
/// their dialect from `__CUDACC__`).
pub(crate) fn kernel_source() -> String {
    let mut src = String::new();
    for (name, text) in HEADERS {
        src.push_str(&format!("// ---- {name} ----\n"));
        src.push_str(text);
        src.push('\n');
    }
    src
}

#[cfg(test)]
mod tests {
    use ark_ff::PrimeField;

    /// The words of a `#define NAME { 0x...u, ... }` or `#define NAME 0x...u` line.
    fn define(name: &str) -> Vec<u32> {
        let text = super::HEADERS[1].1;
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("bn254.h defines {name}"));
        line[format!("#define {name} ").len()..]
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| t.starts_with("0x"))
            .map(|t| {
                u32::from_str_radix(t.trim_start_matches("0x").trim_end_matches('u'), 16).unwrap()
            })
            .collect()
    }

    fn words(limbs: &[u64]) -> Vec<u32> {
        limbs
            .iter()
            .flat_map(|l| [*l as u32, (*l >> 32) as u32])
            .collect()
    }

    fn check<F: PrimeField<BigInt = ark_ff::BigInt<4>>>(prefix: &str) {
        let p = F::MODULUS;
        assert_eq!(define(&format!("{prefix}_P")), words(&p.0), "{prefix}_P");
        let inv = define(&format!("{prefix}_INV"))[0];
        assert_eq!(
            (p.0[0] as u32).wrapping_mul(inv),
            u32::MAX,
            "{prefix}_INV = -p^-1 mod 2^32"
        );
        // R mod p: the Montgomery form of one is 2^256 mod p.
        let r = num_bigint::BigUint::from(1u8) << 256u32;
        let one = r % num_bigint::BigUint::from_bytes_le(&p.to_bytes_le());
        let mut one_words = one.to_u32_digits();
        one_words.resize(8, 0);
        assert_eq!(define(&format!("{prefix}_ONE")), one_words, "{prefix}_ONE");
    }

    use ark_ff::BigInteger;

    #[test]
    fn bn254_constants_match_arkworks() {
        check::<ark_bn254::Fq>("FQ");
        check::<ark_bn254::Fr>("FR");
    }
}
