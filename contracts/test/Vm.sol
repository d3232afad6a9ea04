// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title The few foundry cheatcodes kiln's Solidity tests use.
/// @notice forge answers calls to `VM_ADDRESS` (the address of keccak256("hevm cheat code"),
/// cut to 20 bytes) itself. Only what the tests call is declared here; the signatures are
/// forge's. This file holds no deployable contract, so `build.mjs` makes no artifact of it.
interface Vm {
    /// @notice Sets `block.timestamp`.
    function warp(uint256 timestamp) external;

    /// @notice Makes `sender` the `msg.sender` of the next call.
    function prank(address sender) external;

    /// @notice Makes `sender` the `msg.sender` of every call until `stopPrank`.
    function startPrank(address sender) external;

    /// @notice Ends `startPrank`.
    function stopPrank() external;

    /// @notice Sets the ETH balance of `who`.
    function deal(address who, uint256 balance) external;

    /// @notice The next call must revert with this revert data (for `Error(string)`: the
    /// string's bytes).
    function expectRevert(bytes calldata revertData) external;

    /// @notice The next call must revert, with any data.
    function expectRevert() external;

    /// @notice The next event emitted by `emitter` must match the event emitted right after
    /// this call, on the topics and data selected.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;

    /// @notice A file's text, by a path relative to the project root (fs_permissions apply).
    function readFile(string calldata path) external view returns (string memory);

    /// @notice The bytes at `key` (a JSONPath such as ".bytecode") of `json`.
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);

    /// @notice A decimal string.
    function toString(uint256 value) external pure returns (string memory);

    /// @notice A hex string.
    function toString(address value) external pure returns (string memory);

    /// @notice A hex string.
    function toString(bytes32 value) external pure returns (string memory);

    /// @notice Names `who` in traces.
    function label(address who, string calldata name) external;
}

/// @title A base for kiln's test contracts: the cheatcodes and plain assertions.
/// @notice An assertion that fails reverts with a message naming both values, which makes
/// the test fail.
abstract contract TestBase {
    /// @dev forge's cheatcode address.
    address internal constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
    /// @dev The cheatcodes.
    Vm internal constant vm = Vm(VM_ADDRESS);

    function assertTrue(bool ok, string memory what) internal pure {
        if (!ok) revert(string.concat("assertion failed: ", what));
    }

    function assertEq(uint256 got, uint256 want, string memory what) internal pure {
        if (got != want) {
            revert(string.concat(what, ": got ", vm.toString(got), ", want ", vm.toString(want)));
        }
    }

    function assertEq(address got, address want, string memory what) internal pure {
        if (got != want) {
            revert(string.concat(what, ": got ", vm.toString(got), ", want ", vm.toString(want)));
        }
    }

    function assertEq(bytes32 got, bytes32 want, string memory what) internal pure {
        if (got != want) {
            revert(string.concat(what, ": got ", vm.toString(got), ", want ", vm.toString(want)));
        }
    }

    function assertEq(bool got, bool want, string memory what) internal pure {
        if (got != want) revert(string.concat(what, ": got ", got ? "true" : "false"));
    }
}
