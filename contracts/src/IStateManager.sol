// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The seed's state manager: batches' state roots on L1, each proven by a Groth16 proof.
/// @notice A batch is committed with its batch data (`submitStateRoot`) and proven later
/// (`verifyStateTransition`), or both at once (`IL2Bridge.finalizeBatch`). docs/rollup.md
/// fixes the batch data and the single public input `uint256(sha256(data)) mod r`.
interface IStateManager {
    /// @notice Commits the next batch: `batchData` is the batch data D of docs/rollup.md;
    /// its old state root must be the last committed batch's new root, and its L1 slots the
    /// next operations of the L1 queue, in order. Only the operator commits.
    function submitStateRoot(bytes calldata batchData) external;

    /// @notice Proves committed batch `batchNumber` (the first one not yet proven) with a
    /// Groth16 proof in snarkjs's calldata order.
    function verifyStateTransition(
        uint256 batchNumber,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external;
}
