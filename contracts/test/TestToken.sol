// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title A plain ERC-20 token for kiln's tests and development chains.
/// @notice Anyone may mint: it exists so deposits and withdrawals of a token can be tried on
/// a local chain. Never deploy it where its tokens should be worth anything.
contract TestToken {
    /// @notice The token's name.
    string public name;
    /// @notice The token's symbol.
    string public symbol;
    /// @notice Decimals (18).
    uint8 public constant decimals = 18;
    /// @notice Tokens in existence.
    uint256 public totalSupply;
    /// @notice Balances.
    mapping(address => uint256) public balanceOf;
    /// @notice Allowances.
    mapping(address => mapping(address => uint256)) public allowance;

    /// @notice ERC-20 transfer.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice ERC-20 approval.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice A token named `name_` (`symbol_`).
    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
    }

    /// @notice Creates `amount` tokens for `to`.
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice ERC-20 approve.
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice ERC-20 transfer.
    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice ERC-20 transferFrom.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= amount, "TestToken: allowance too low");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal {
        require(balanceOf[from] >= amount, "TestToken: balance too low");
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
