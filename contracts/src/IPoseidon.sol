// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title circomlib's Poseidon of 3 inputs (bytecode from circomlibjs's generator).
interface IPoseidon3 {
    /// @notice H(x0, x1, x2).
    function poseidon(uint256[3] calldata input) external pure returns (uint256);
}

/// @title circomlib's Poseidon of 4 inputs (bytecode from circomlibjs's generator).
interface IPoseidon4 {
    /// @notice H(x0, x1, x2, x3).
    function poseidon(uint256[4] calldata input) external pure returns (uint256);
}

/// @title circomlib's Poseidon of 6 inputs (bytecode from circomlibjs's generator).
interface IPoseidon6 {
    /// @notice H(x0, …, x5).
    function poseidon(uint256[6] calldata input) external pure returns (uint256);
}
