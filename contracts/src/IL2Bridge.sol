// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The seed's L2 bridge set, on the rollup contract.
interface IL2Bridge {
    /// @notice Deposits `amount` of `token` (ETH: send it as the value) into a new L2
    /// account with BabyJubJub public key (`ax`, `ay`) and the sender as its L1 owner. The
    /// account's index is the one the `L1OpQueued` event names.
    function deposit(address token, uint256 amount, uint256 ax, uint256 ay) external payable;

    /// @notice The seed's name for `IL1Bridge.withdraw`: a forced exit of `l2Account`.
    function initiateWithdrawal(uint256 l2Account) external;

    /// @notice Queues a forced exit: the whole balance of `l2Account` (whose L1 owner must be
    /// the sender) leaves to the sender. Batches must include it within the inclusion
    /// deadline, or anyone may switch the rollup into exodus mode.
    function forceExit(uint256 l2Account) external;

    /// @notice Whether `stateRoot` is the state root after proven batch `batchNumber`.
    function verifyStateCommitment(uint256 batchNumber, uint256 stateRoot) external view returns (bool);

    /// @notice Commits and proves the next batch in one transaction.
    function finalizeBatch(
        bytes calldata batchData,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external;
}
