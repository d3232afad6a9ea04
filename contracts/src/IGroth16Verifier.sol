// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The verifier `kiln zkey export-verifier` writes for the batch circuit (one input).
interface IGroth16Verifier {
    /// @notice Whether the proof verifies for `input` (snarkjs's calldata order).
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[1] calldata input
    ) external view returns (bool);
}
