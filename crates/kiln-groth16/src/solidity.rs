//! A Solidity verifier for one Groth16 key on BN254 (`kiln zkey export-verifier`).
//!
//! The contract has snarkjs's interface, `verifyProof(uint[2] a, uint[2][2] b, uint[2] c,
//! uint[N] input) returns (bool)`, with the proof in the order of `snarkjs zkey export
//! soliditycalldata` (and of kiln's job `calldata`): `b`'s coordinates imaginary part first,
//! as the pairing precompile (EIP-197) takes them. It checks that every public input is
//! below the scalar field's modulus and every proof coordinate below the base field's,
//! computes `vk_x = IC₀ + Σ inputᵢ·ICᵢ₊₁` with the `ecMul` (0x07) and `ecAdd` (0x06)
//! precompiles, and asks the pairing precompile (0x08) whether
//! `e(−A, B)·e(α, β)·e(vk_x, γ)·e(C, δ) = 1`. It answers `false`, never reverts, for a
//! proof that does not verify or is malformed. The key's points are constants of the
//! contract, so it holds no storage.

use std::fmt::Write;

use kiln_algebra::curve::Curve;

use crate::snarkjs::verifying_key_to_json;
use crate::types::VerifyingKey;

/// BN254's base field modulus (`q`).
const Q: &str = "21888242871839275222246405745257275088696311157297823662689037894645226208583";
/// BN254's scalar field modulus (`r`).
const R: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";

/// A G2 point of a snarkjs key (`[[x0, x1], [y0, y1], [1, 0]]`, `x = x0 + x1·u`) as the
/// four words the pairing precompile takes: `x1, x0, y1, y0`.
fn g2_words(p: &[Vec<String>]) -> [&str; 4] {
    [&p[0][1], &p[0][0], &p[1][1], &p[1][0]]
}

/// The key's constants as the contract declares them, in decimal: `ALPHA_X`, `ALPHA_Y`, then
/// `BETA`, `GAMMA` and `DELTA` as `X1, X0, Y1, Y0`, then `ICi_X, ICi_Y` for each `i`.
pub fn key_words<C: Curve>(vk: &VerifyingKey<C>) -> Vec<String> {
    let j = verifying_key_to_json(vk);
    let mut words = vec![j.vk_alpha_1[0].clone(), j.vk_alpha_1[1].clone()];
    for point in [&j.vk_beta_2, &j.vk_gamma_2, &j.vk_delta_2] {
        words.extend(g2_words(point).iter().map(|w| w.to_string()));
    }
    for p in &j.ic {
        words.extend([p[0].clone(), p[1].clone()]);
    }
    words
}

/// Number of constants of a key with `n_inputs` public inputs.
pub fn key_word_count(n_inputs: usize) -> usize {
    14 + 2 * (n_inputs + 1)
}

/// The verifier contract of `vk`, named `contract_name`, as Solidity source.
pub fn solidity_verifier<C: Curve>(vk: &VerifyingKey<C>, contract_name: &str) -> String {
    let n = vk.ic.len().saturating_sub(1);
    source(&key_words(vk), n, contract_name)
}

/// The placeholder constants of a verifier template: word `i` is SHA-256 of
/// `"kiln verifier template word {i}"` with its top byte forced nonzero, so that solc pushes
/// each as one `PUSH32` that [`patch_template`] can find.
pub fn template_markers(n_inputs: usize) -> Vec<[u8; 32]> {
    use sha2::{Digest, Sha256};
    (0..key_word_count(n_inputs))
        .map(|i| {
            let mut w: [u8; 32] = Sha256::digest(format!("kiln verifier template word {i}")).into();
            w[0] |= 0x80;
            w
        })
        .collect()
}

/// A verifier for keys with `n_inputs` public inputs whose constants are
/// [`template_markers`]: compiled once (contracts/out/), it becomes any key's verifier by
/// [`patch_template`], so deploying one needs no compiler.
pub fn template_verifier(n_inputs: usize, contract_name: &str) -> String {
    let words: Vec<String> = template_markers(n_inputs)
        .iter()
        .map(|w| num_bigint::BigUint::from_bytes_be(w).to_string())
        .collect();
    source(&words, n_inputs, contract_name)
}

/// Why a compiled template cannot be made into a key's verifier.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The key has another number of public inputs than the template.
    #[error("the verifier template takes {template} public input(s); the key has {key}")]
    Inputs {
        /// The template's.
        template: usize,
        /// The key's.
        key: usize,
    },
    /// A placeholder is not in the bytecode as a `PUSH32`.
    #[error("constant {0} of the verifier template is not in its bytecode as a PUSH32 (was it compiled from template_verifier?)")]
    MissingMarker(usize),
}

/// The creation bytecode of `vk`'s verifier, from the compiled `template` of a verifier
/// with `n_inputs` public inputs: every `PUSH32 marker` becomes `PUSH32 constant`.
pub fn patch_template<C: Curve>(
    template: &[u8],
    n_inputs: usize,
    vk: &VerifyingKey<C>,
) -> Result<Vec<u8>, TemplateError> {
    let key_inputs = vk.ic.len().saturating_sub(1);
    if key_inputs != n_inputs {
        return Err(TemplateError::Inputs {
            template: n_inputs,
            key: key_inputs,
        });
    }
    let mut code = template.to_vec();
    for (i, (marker, word)) in template_markers(n_inputs)
        .iter()
        .zip(key_words(vk))
        .enumerate()
    {
        let value = word
            .parse::<num_bigint::BigUint>()
            .expect("a key's words are decimal")
            .to_bytes_be();
        let mut be = [0u8; 32];
        be[32 - value.len()..].copy_from_slice(&value);
        let mut found = false;
        let mut at = 0;
        while at + 33 <= code.len() {
            if code[at] == 0x7f && code[at + 1..at + 33] == marker[..] {
                code[at + 1..at + 33].copy_from_slice(&be);
                found = true;
                at += 33;
            } else {
                at += 1;
            }
        }
        if !found {
            return Err(TemplateError::MissingMarker(i));
        }
    }
    Ok(code)
}

/// The contract's source over its constants `words` (as [`key_words`] orders them).
fn source(words: &[String], n: usize, contract_name: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "// SPDX-License-Identifier: Apache-2.0");
    let _ = writeln!(
        s,
        "// Written by `kiln zkey export-verifier`: the Groth16 verifier of one key on BN254,"
    );
    let _ = writeln!(s, "// with {n} public input(s).");
    let _ = writeln!(s, "pragma solidity >=0.8.4 <0.9.0;\n");
    let _ = writeln!(s, "/// @title Groth16 verifier of one proving key (BN254)");
    let _ = writeln!(
        s,
        "/// @notice `verifyProof` takes the proof in snarkjs's calldata order and answers whether"
    );
    let _ = writeln!(
        s,
        "/// it verifies for `input`; a malformed proof or input gets `false`, never a revert."
    );
    let _ = writeln!(s, "contract {contract_name} {{");
    let _ = writeln!(s, "    uint256 internal constant Q = {Q};");
    let _ = writeln!(s, "    uint256 internal constant R = {R};\n");
    let mut names = vec!["ALPHA_X".to_string(), "ALPHA_Y".to_string()];
    for g2 in ["BETA", "GAMMA", "DELTA"] {
        names.extend(["X1", "X0", "Y1", "Y0"].map(|x| format!("{g2}_{x}")));
    }
    for i in 0..=n {
        names.extend([format!("IC{i}_X"), format!("IC{i}_Y")]);
    }
    for (name, word) in names.iter().zip(words) {
        let _ = writeln!(s, "    uint256 internal constant {name} = {word};");
    }
    let _ = writeln!(
        s,
        r#"
    /// @notice Whether the proof `(a, b, c)` verifies for the public inputs `input`.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[{n}] calldata input
    ) external view returns (bool) {{
        for (uint256 i = 0; i < {n}; i++) {{
            if (input[i] >= R) return false;
        }}
        if (a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q) return false;
        if (b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q) return false;

        // vk_x = IC0 + sum of input[i] * IC(i+1)
        uint256[2] memory vkX = [uint256(IC0_X), uint256(IC0_Y)];"#
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "        if (!mulAdd(vkX, IC{}_X, IC{}_Y, input[{i}])) return false;",
            i + 1,
            i + 1
        );
    }
    let _ = writeln!(
        s,
        r#"
        // e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1
        uint256[24] memory p;
        p[0] = a[0];
        p[1] = a[1] == 0 ? 0 : Q - a[1];
        p[2] = b[0][0];
        p[3] = b[0][1];
        p[4] = b[1][0];
        p[5] = b[1][1];
        p[6] = ALPHA_X;
        p[7] = ALPHA_Y;
        p[8] = BETA_X1;
        p[9] = BETA_X0;
        p[10] = BETA_Y1;
        p[11] = BETA_Y0;
        p[12] = vkX[0];
        p[13] = vkX[1];
        p[14] = GAMMA_X1;
        p[15] = GAMMA_X0;
        p[16] = GAMMA_Y1;
        p[17] = GAMMA_Y0;
        p[18] = c[0];
        p[19] = c[1];
        p[20] = DELTA_X1;
        p[21] = DELTA_X0;
        p[22] = DELTA_Y1;
        p[23] = DELTA_Y0;
        uint256[1] memory out;
        bool ok;
        assembly {{
            ok := staticcall(gas(), 0x08, p, 768, out, 32)
        }}
        return ok && out[0] == 1;
    }}

    /// acc += s * (x, y), with the ecMul and ecAdd precompiles; false if either fails.
    function mulAdd(uint256[2] memory acc, uint256 x, uint256 y, uint256 s) private view returns (bool ok) {{
        uint256[4] memory buf;
        buf[0] = x;
        buf[1] = y;
        buf[2] = s;
        assembly {{
            ok := staticcall(gas(), 0x07, buf, 96, buf, 64)
            mstore(add(buf, 64), mload(acc))
            mstore(add(buf, 96), mload(add(acc, 32)))
            ok := and(ok, staticcall(gas(), 0x06, buf, 128, acc, 64))
        }}
    }}
}}"#
    );
    s
}
