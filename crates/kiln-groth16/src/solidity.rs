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

/// The verifier contract of `vk`, named `contract_name`, as Solidity source.
pub fn solidity_verifier<C: Curve>(vk: &VerifyingKey<C>, contract_name: &str) -> String {
    let j = verifying_key_to_json(vk);
    let n = vk.ic.len().saturating_sub(1);
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
    let _ = writeln!(
        s,
        "    uint256 internal constant ALPHA_X = {};",
        j.vk_alpha_1[0]
    );
    let _ = writeln!(
        s,
        "    uint256 internal constant ALPHA_Y = {};",
        j.vk_alpha_1[1]
    );
    for (name, point) in [
        ("BETA", &j.vk_beta_2),
        ("GAMMA", &j.vk_gamma_2),
        ("DELTA", &j.vk_delta_2),
    ] {
        for (suffix, word) in ["X1", "X0", "Y1", "Y0"].iter().zip(g2_words(point)) {
            let _ = writeln!(s, "    uint256 internal constant {name}_{suffix} = {word};");
        }
    }
    for (i, p) in j.ic.iter().enumerate() {
        let _ = writeln!(s, "    uint256 internal constant IC{i}_X = {};", p[0]);
        let _ = writeln!(s, "    uint256 internal constant IC{i}_Y = {};", p[1]);
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
