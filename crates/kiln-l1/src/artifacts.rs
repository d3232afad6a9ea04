//! The L1 contracts as the appliance deploys them: the build artifacts committed under
//! `contracts/out/` (written by `node contracts/build.mjs`, checked by a test that a fresh
//! build reproduces them), embedded in the binary so no compiler is needed at run time.
//!
//! The batch verifier is compiled once from [`kiln_groth16::solidity::template_verifier`]
//! (`contracts/src/BatchVerifier.sol`) and made into a key's verifier by patching its
//! constants ([`verifier_bytecode`]).

use alloy::primitives::Bytes;
use kiln_algebra::curve::Bn254;
use kiln_groth16::solidity::{patch_template, TemplateError};
use kiln_groth16::types::VerifyingKey;

/// Name of the batch verifier template's contract.
pub const VERIFIER_TEMPLATE: &str = "BatchVerifier";

/// Bindings generated from the artifacts' ABIs (the contracts' own NatSpec documents them).
#[allow(clippy::too_many_arguments, missing_docs)]
mod bindings {
    alloy::sol!(
        /// The rollup contract (`contracts/src/KilnRollup.sol`).
        #[sol(rpc)]
        #[allow(missing_docs)]
        KilnRollup,
        "../../contracts/out/KilnRollup.json"
    );

    alloy::sol!(
        /// The batch verifier (`contracts/src/BatchVerifier.sol`, the template).
        #[sol(rpc)]
        BatchVerifier,
        "../../contracts/out/BatchVerifier.json"
    );

    alloy::sol!(
        /// A plain ERC-20 for tests and development chains (`contracts/test/TestToken.sol`).
        #[sol(rpc)]
        #[allow(missing_docs)]
        TestToken,
        "../../contracts/out/TestToken.json"
    );
}

pub use bindings::{BatchVerifier, KilnRollup, TestToken};

/// One artifact of `contracts/out/`.
#[derive(Debug, serde::Deserialize)]
pub struct Artifact {
    /// The contract's name.
    #[serde(rename = "contractName")]
    pub name: String,
    /// Its creation bytecode.
    pub bytecode: Bytes,
}

fn artifact(text: &str) -> Artifact {
    serde_json::from_str(text).expect("contracts/out/ holds valid artifacts (a test checks)")
}

/// circomlib's Poseidon contract of `n` (3, 4 or 6) inputs.
pub fn poseidon(n: usize) -> Artifact {
    artifact(match n {
        3 => include_str!("../../../contracts/out/Poseidon3.json"),
        4 => include_str!("../../../contracts/out/Poseidon4.json"),
        6 => include_str!("../../../contracts/out/Poseidon6.json"),
        _ => panic!("no Poseidon contract of {n} inputs is built"),
    })
}

/// The compiled batch verifier template (one public input).
pub fn verifier_template() -> Artifact {
    artifact(include_str!("../../../contracts/out/BatchVerifier.json"))
}

/// The creation bytecode of the verifier of `vk` (the batch circuit's key: one input).
pub fn verifier_bytecode(vk: &VerifyingKey<Bn254>) -> Result<Bytes, TemplateError> {
    patch_template(&verifier_template().bytecode, 1, vk).map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// contracts/src/BatchVerifier.sol is the template kiln writes (KILN_BLESS=1 rewrites it).
    #[test]
    fn the_committed_verifier_template_is_the_one_kiln_writes() {
        let path = repo().join("contracts/src/BatchVerifier.sol");
        let want = kiln_groth16::solidity::template_verifier(1, VERIFIER_TEMPLATE);
        if std::env::var_os("KILN_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap();
        assert!(
            have == want,
            "contracts/src/BatchVerifier.sol is not kiln's template: run KILN_BLESS=1 cargo test -p kiln-l1, then node contracts/build.mjs"
        );
    }

    #[test]
    fn every_marker_of_the_compiled_template_is_patched() {
        let template = verifier_template();
        assert_eq!(template.name, VERIFIER_TEMPLATE);
        let markers = kiln_groth16::solidity::template_markers(1);
        let code = &template.bytecode;
        for (i, m) in markers.iter().enumerate() {
            assert!(
                code.windows(33).any(|w| w[0] == 0x7f && w[1..] == m[..]),
                "marker {i} is not pushed by the compiled template"
            );
        }
        for n in [3, 4, 6] {
            assert!(poseidon(n).bytecode.len() > 1000);
        }
    }
}
