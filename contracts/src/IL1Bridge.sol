// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The seed's L1 bridge: funds into the rollup, and out of it against proven exits.
/// @notice Token `address(0)` is ETH. Amounts are in the token's smallest unit and below
/// 2^128.
interface IL1Bridge {
    /// @notice Deposits `amount` of `token` (ETH: send it as the value) to the existing L2
    /// account `l2Account`. The deposit joins the L1 queue; a batch credits it. If the
    /// account holds another token, the batch refunds it as an exit to the sender.
    function deposit(address token, uint256 amount, uint256 l2Account) external payable;

    /// @notice Asks that the whole balance of L2 account `l2Account`, whose L1 owner is the
    /// sender, leave the rollup to the sender: a forced exit in the L1 queue (the same
    /// operation as `IL2Bridge.forceExit`).
    function withdraw(uint256 l2Account) external;

    /// @notice Pays the exit at `position` of proven batch `batchNumber`, once: `recipient`
    /// gets `amount` of L2 token `token`, if `Poseidon(recipient, token, amount)` is that
    /// leaf of the batch's exit tree (`path`: the groups of four children from the leaves
    /// up). Anyone may send it; the funds go to `recipient`.
    function finalizeWithdrawal(
        uint256 batchNumber,
        uint256 position,
        address recipient,
        uint256 token,
        uint256 amount,
        uint256[4][] calldata path
    ) external;
}
