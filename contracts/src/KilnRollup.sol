// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IGroth16Verifier} from "./IGroth16Verifier.sol";
import {IL1Bridge} from "./IL1Bridge.sol";
import {IL2Bridge} from "./IL2Bridge.sol";
import {IPoseidon3, IPoseidon4, IPoseidon6} from "./IPoseidon.sol";
import {IStateManager} from "./IStateManager.sol";

/// @dev The part of ERC-20 the bridge uses (tokens that return nothing are accepted too).
interface IERC20Minimal {
    function balanceOf(address owner) external view returns (uint256);
}

/// @title kiln's rollup on L1: state roots, the bridge, the L1 queue, exodus and the pause.
/// @notice One contract keeps the rollup's state on Ethereum (docs/rollup.md, "L1"):
/// - batches are committed with their data as calldata and proven by the batch circuit's
///   Groth16 proof against `uint256(sha256(data)) mod r` (commit, then prove by a deadline,
///   or both at once with `finalizeBatch`); unproven batches past the deadline are reverted;
/// - deposits (ETH and registered ERC-20 tokens) and forced exits enter an L1 queue that
///   batches must include in order; one that waits past the inclusion deadline lets anyone
///   switch the rollup into exodus mode, where owners take their balances of the last proven
///   state out with state proofs checked here with circomlib's Poseidon;
/// - exits of proven batches are paid once each against the batch's exit root;
/// - a guardian may pause new batches and deposits for a bounded time, and can do nothing
///   else: it moves no funds and stops no withdrawal, forced exit or exodus claim.
contract KilnRollup is IStateManager, IL1Bridge, IL2Bridge {
    /// @notice BN254's scalar field modulus.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Bytes of the batch data's header: chain id, number, old root, new root, exit root.
    uint256 internal constant HEADER_BYTES = 112;
    /// @dev Bytes of one L1 slot: kind, index, token, amount, eth address, ax, ay.
    uint256 internal constant L1_SLOT_BYTES = 108;
    /// @dev Bytes of the four fee slots.
    uint256 internal constant FEE_BYTES = 12;
    /// @dev Bytes of one transaction slot.
    uint256 internal constant TX_BYTES = 12;
    /// @dev L1 never queues an account index of 2^24 or more (three bytes in the data).
    uint256 internal constant MAX_ACCOUNTS = 1 << 24;
    /// @dev The L1 slot kind of a deposit.
    uint8 internal constant KIND_DEPOSIT = 3;
    /// @dev The L1 slot kind of a forced exit.
    uint8 internal constant KIND_FORCED_EXIT = 4;
    /// @dev Depth of the state tree.
    uint256 internal constant STATE_DEPTH = 12;

    /// @notice The batch circuit's verifier (`kiln zkey export-verifier`).
    IGroth16Verifier public immutable verifier;
    /// @notice circomlib's Poseidon of 3 inputs (exit leaves).
    IPoseidon3 public immutable poseidon3;
    /// @notice circomlib's Poseidon of 4 inputs (tree nodes).
    IPoseidon4 public immutable poseidon4;
    /// @notice circomlib's Poseidon of 6 inputs (account leaves).
    IPoseidon6 public immutable poseidon6;
    /// @notice The rollup's chain id (the transactions' `chainId`, not Ethereum's).
    uint256 public immutable rollupChainId;
    /// @notice Transaction slots per batch (the batch circuit's N).
    uint256 public immutable batchSize;
    /// @notice L1 slots per batch, ceil(N / 16).
    uint256 public immutable l1Slots;
    /// @notice Length of every batch's data.
    uint256 public immutable batchDataLength;
    /// @notice Levels of a batch's exit tree.
    uint256 public immutable exitTreeDepth;
    /// @notice The exit root of a batch without exits.
    uint256 public immutable emptyExitRoot;
    /// @notice Seconds a committed batch has to be proven before anyone may revert it.
    uint256 public immutable proofDeadline;
    /// @notice Seconds a queued L1 operation has to be included by a proven batch.
    uint256 public immutable inclusionDeadline;
    /// @notice Longest pause, in seconds.
    uint256 public immutable maxPause;
    /// @notice The guardian, who may pause.
    address public immutable guardian;
    /// @notice The operator, who commits batches (kiln's submitter).
    address public operator;

    /// @notice Where the rollup stands; one storage word.
    struct Progress {
        uint64 lastCommitted;
        uint64 lastProven;
        uint64 queueHead;
        uint64 provenQueueHead;
    }

    /// @notice A committed batch that is not proven yet.
    struct Pending {
        uint256 publicInput;
        uint64 committedAt;
        uint64 queueHeadAfter;
    }

    /// @notice The deployment's settings.
    struct Config {
        IGroth16Verifier verifier;
        IPoseidon3 poseidon3;
        IPoseidon4 poseidon4;
        IPoseidon6 poseidon6;
        uint256 rollupChainId;
        uint256 batchSize;
        uint256 genesisRoot;
        uint256 firstFreeAccount;
        uint256 proofDeadline;
        uint256 inclusionDeadline;
        uint256 maxPause;
        address operator;
        address guardian;
    }

    /// @notice Batches committed and proven, and the L1 queue's heads.
    Progress public progress;
    /// @notice The state root after each committed batch (0: genesis).
    mapping(uint256 => uint256) public stateRoots;
    /// @notice The exit root of each committed batch with exits (0 when it has none).
    mapping(uint256 => uint256) public exitRoots;
    /// @notice Committed batches waiting for their proofs.
    mapping(uint256 => Pending) public pending;
    /// @dev Paid exits: batch => word => bits.
    mapping(uint256 => mapping(uint256 => uint256)) internal paidExits;

    /// @notice keccak256 of each queued L1 operation's 108-byte slot.
    mapping(uint256 => bytes32) public queuedOpHash;
    /// @notice When each L1 operation was queued.
    mapping(uint256 => uint256) public queuedAt;
    /// @notice L1 operations ever queued.
    uint256 public queueLength;
    /// @notice The index the next deposit to a public key creates.
    uint256 public nextAccountIndex;

    /// @notice Registered tokens by L2 token id (0: ETH, `address(0)`).
    address[] public tokens;
    /// @dev Token id + 1 by address (0: not registered).
    mapping(address => uint256) internal tokenIdPlusOne;

    /// @notice Whether the rollup is in exodus mode (for ever).
    bool public exodus;
    /// @notice The last pause lasts, or lasted, until this time (0: never paused).
    uint256 public pausedUntil;
    /// @notice Accounts whose balance has left in exodus mode.
    mapping(uint256 => bool) public exodusWithdrawn;
    /// @notice Queued deposits refunded in exodus mode.
    mapping(uint256 => bool) public depositRefunded;
    /// @dev Reentrancy guard (1: free, 2: taken).
    uint256 internal lock = 1;

    /// @notice An L1 operation joined the queue (kind 3: deposit, 4: forced exit).
    event L1OpQueued(
        uint256 indexed queueIndex,
        uint8 kind,
        uint256 l2Account,
        uint256 token,
        uint256 amount,
        address ethAddress,
        uint256 ax,
        uint256 ay
    );
    /// @notice Batch `batchNumber` was committed; the queue's head moved to `queueHead`.
    event BatchCommitted(uint256 indexed batchNumber, uint256 stateRoot, uint256 exitRoot, uint256 queueHead);
    /// @notice Batch `batchNumber` was proven.
    event BatchProven(uint256 indexed batchNumber);
    /// @notice Committed batches `fromBatch` to `toBatch` were dropped unproven.
    event BatchesReverted(uint256 fromBatch, uint256 toBatch);
    /// @notice An exit was paid.
    event WithdrawalFinalized(
        uint256 indexed batchNumber, uint256 position, address recipient, uint256 token, uint256 amount
    );
    /// @notice `token` has L2 token id `id`.
    event TokenRegistered(uint256 indexed id, address token);
    /// @notice The rollup is in exodus mode on the state of batch `lastProvenBatch`.
    event ExodusActivated(uint256 lastProvenBatch, uint256 stateRoot);
    /// @notice An account's balance left in exodus mode.
    event ExodusWithdrawal(uint256 indexed l2Account, address owner, uint256 token, uint256 amount);
    /// @notice A queued deposit that no proven batch included was refunded in exodus mode.
    event DepositRefunded(uint256 indexed queueIndex, address owner, uint256 token, uint256 amount);
    /// @notice The guardian paused new batches and deposits until `until`.
    event Paused(uint256 until);
    /// @notice The guardian lifted the pause.
    event Unpaused();

    modifier nonReentrant() {
        require(lock == 1, "reentrant call");
        lock = 2;
        _;
        lock = 1;
    }

    modifier onlyOperator() {
        require(msg.sender == operator, "only the operator commits batches");
        _;
    }

    modifier live() {
        require(!exodus, "the rollup is in exodus mode");
        _;
    }

    /// @notice Deploys the rollup from genesis root `c.genesisRoot`; accounts below
    /// `c.firstFreeAccount` are the genesis's. Value sent backs the genesis's ETH balances.
    constructor(Config memory c) payable {
        require(c.batchSize >= 1 && c.batchSize <= 4096, "batch size must be 1 to 4096");
        require(c.genesisRoot < R, "genesis root is not a field element");
        require(c.firstFreeAccount >= 1 && c.firstFreeAccount < MAX_ACCOUNTS, "first free account out of range");
        require(c.operator != address(0) && c.guardian != address(0), "operator and guardian must be set");
        require(
            c.maxPause * 2 < c.inclusionDeadline,
            "maxPause must be under half the inclusion deadline (a pause must not force exodus)"
        );
        verifier = c.verifier;
        poseidon3 = c.poseidon3;
        poseidon4 = c.poseidon4;
        poseidon6 = c.poseidon6;
        rollupChainId = c.rollupChainId;
        batchSize = c.batchSize;
        uint256 slots = (c.batchSize + 15) / 16;
        l1Slots = slots;
        batchDataLength = HEADER_BYTES + slots * L1_SLOT_BYTES + FEE_BYTES + c.batchSize * TX_BYTES;
        uint256 depth = 1;
        while (4 ** depth < slots + c.batchSize) depth++;
        exitTreeDepth = depth;
        uint256 empty = 0;
        for (uint256 k = 0; k < depth; k++) {
            empty = c.poseidon4.poseidon([empty, empty, empty, empty]);
        }
        emptyExitRoot = empty;
        proofDeadline = c.proofDeadline;
        inclusionDeadline = c.inclusionDeadline;
        maxPause = c.maxPause;
        operator = c.operator;
        guardian = c.guardian;
        stateRoots[0] = c.genesisRoot;
        nextAccountIndex = c.firstFreeAccount;
        tokens.push(address(0));
        tokenIdPlusOne[address(0)] = 1;
        emit TokenRegistered(0, address(0));
    }

    // ---------------------------------------------------------------- batches

    /// @inheritdoc IStateManager
    function submitStateRoot(bytes calldata batchData) external onlyOperator live {
        (uint256 n, uint256 input, uint256 head) = _commit(batchData);
        pending[n] = Pending(input, uint64(block.timestamp), uint64(head));
    }

    /// @inheritdoc IStateManager
    function verifyStateTransition(uint256 batchNumber, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c)
        external
        live
    {
        Progress memory p = progress;
        require(
            batchNumber == uint256(p.lastProven) + 1 && batchNumber <= p.lastCommitted,
            "not the first committed batch waiting for its proof"
        );
        Pending memory w = pending[batchNumber];
        delete pending[batchNumber];
        _prove(batchNumber, w.publicInput, w.queueHeadAfter, a, b, c);
    }

    /// @inheritdoc IL2Bridge
    function finalizeBatch(bytes calldata batchData, uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c)
        external
        onlyOperator
        live
    {
        require(progress.lastCommitted == progress.lastProven, "committed batches wait for their proofs");
        (uint256 n, uint256 input, uint256 head) = _commit(batchData);
        _prove(n, input, head, a, b, c);
    }

    /// @notice Drops every committed batch not yet proven: the operator may at any time,
    /// anyone once the first of them is past its proof deadline. Their L1 operations go
    /// back to the queue.
    function revertBatches() external live {
        Progress memory p = progress;
        require(p.lastCommitted > p.lastProven, "no committed batch waits for a proof");
        uint256 first = uint256(p.lastProven) + 1;
        require(
            msg.sender == operator || block.timestamp > pending[first].committedAt + proofDeadline,
            "the first unproven batch is within its proof deadline"
        );
        for (uint256 n = first; n <= p.lastCommitted; n++) {
            delete pending[n];
        }
        emit BatchesReverted(first, p.lastCommitted);
        p.lastCommitted = p.lastProven;
        p.queueHead = p.provenQueueHead;
        progress = p;
    }

    /// @inheritdoc IL2Bridge
    function verifyStateCommitment(uint256 batchNumber, uint256 stateRoot) external view returns (bool) {
        return batchNumber <= progress.lastProven && stateRoots[batchNumber] == stateRoot;
    }

    /// @notice The state root of the last proven batch.
    function provenStateRoot() external view returns (uint256) {
        return stateRoots[progress.lastProven];
    }

    /// @dev Checks batch data against the chain and the queue and records its roots.
    function _commit(bytes calldata d) internal returns (uint256 n, uint256 input, uint256 head) {
        require(!paused(), "paused by the guardian: no new batches");
        require(d.length == batchDataLength, "batch data: wrong length for this rollup's batch size");
        require(uint64(bytes8(d[0:8])) == rollupChainId, "batch data: wrong chain id");
        Progress memory p = progress;
        n = uint64(bytes8(d[8:16]));
        require(n == uint256(p.lastCommitted) + 1, "batch data: not the next batch number");
        require(uint256(bytes32(d[16:48])) == stateRoots[n - 1], "batch data: old state root is not the last committed root");
        uint256 newRoot = uint256(bytes32(d[48:80]));
        uint256 exitRoot = uint256(bytes32(d[80:112]));
        require(newRoot < R && exitRoot < R, "batch data: a root is not a field element");
        head = _checkL1Slots(d, p.queueHead);
        input = uint256(sha256(d)) % R;
        stateRoots[n] = newRoot;
        if (exitRoot != emptyExitRoot) {
            exitRoots[n] = exitRoot;
        } else if (exitRoots[n] != 0) {
            delete exitRoots[n];
        }
        p.lastCommitted = uint64(n);
        p.queueHead = uint64(head);
        progress = p;
        emit BatchCommitted(n, newRoot, exitRoot, head);
    }

    /// @dev The batch's L1 slots must be the queue's next operations, in order, then empty
    /// slots (all zero). Returns the queue's head after them.
    function _checkL1Slots(bytes calldata d, uint256 head) internal view returns (uint256) {
        bool ended = false;
        for (uint256 i = 0; i < l1Slots; i++) {
            uint256 off = HEADER_BYTES + i * L1_SLOT_BYTES;
            bytes calldata slot = d[off:off + L1_SLOT_BYTES];
            if (uint8(slot[0]) == 0) {
                require(
                    bytes32(slot[0:32]) == 0 && bytes32(slot[32:64]) == 0 && bytes32(slot[64:96]) == 0
                        && bytes12(slot[96:108]) == 0,
                    "batch data: an empty L1 slot is not all zero"
                );
                ended = true;
                continue;
            }
            require(!ended, "batch data: an L1 operation after an empty L1 slot");
            require(head < queueLength, "batch data: more L1 operations than the queue holds");
            require(keccak256(slot) == queuedOpHash[head], "batch data: L1 slot is not the next queued operation");
            head++;
        }
        return head;
    }

    /// @dev Verifies the proof of batch `n` and marks it proven.
    function _prove(
        uint256 n,
        uint256 input,
        uint256 headAfter,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) internal {
        require(verifier.verifyProof(a, b, c, [input]), "proof does not verify for this batch data");
        Progress memory p = progress;
        p.lastProven = uint64(n);
        p.provenQueueHead = uint64(headAfter);
        progress = p;
        emit BatchProven(n);
    }

    // ---------------------------------------------------------------- the L1 queue

    /// @notice Registers ERC-20 `token` under the next L2 token id (anyone may).
    function registerToken(address token) external returns (uint256 id) {
        require(token.code.length > 0, "token: not a contract");
        require(tokenIdPlusOne[token] == 0, "token: already registered");
        id = tokens.length;
        require(id < 1 << 32, "token: ids are used up");
        tokens.push(token);
        tokenIdPlusOne[token] = id + 1;
        emit TokenRegistered(id, token);
    }

    /// @notice The L2 token id of `token` (reverts if it is not registered).
    function tokenId(address token) public view returns (uint256) {
        uint256 t = tokenIdPlusOne[token];
        require(t != 0, "token: not registered (registerToken first)");
        return t - 1;
    }

    /// @notice Registered tokens, ETH included.
    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    /// @inheritdoc IL1Bridge
    function deposit(address token, uint256 amount, uint256 l2Account) external payable live nonReentrant {
        require(l2Account >= 1 && l2Account < nextAccountIndex, "deposit: no such L2 account");
        (uint256 id, uint256 received) = _pull(token, amount);
        _queue(KIND_DEPOSIT, l2Account, id, received, msg.sender, 0, 0);
    }

    /// @inheritdoc IL2Bridge
    function deposit(address token, uint256 amount, uint256 ax, uint256 ay) external payable live nonReentrant {
        require(ax < R && ay < R, "deposit: the public key's coordinates must be field elements");
        require(ax != 0 || ay != 0, "deposit: a new account needs a public key");
        uint256 index = nextAccountIndex;
        require(index < MAX_ACCOUNTS, "deposit: the rollup's account indices are used up");
        nextAccountIndex = index + 1;
        (uint256 id, uint256 received) = _pull(token, amount);
        _queue(KIND_DEPOSIT, index, id, received, msg.sender, ax, ay);
    }

    /// @inheritdoc IL1Bridge
    function withdraw(uint256 l2Account) external {
        forceExit(l2Account);
    }

    /// @inheritdoc IL2Bridge
    function initiateWithdrawal(uint256 l2Account) external {
        forceExit(l2Account);
    }

    /// @inheritdoc IL2Bridge
    function forceExit(uint256 l2Account) public live {
        require(l2Account >= 1 && l2Account < nextAccountIndex, "forced exit: no such L2 account");
        _queue(KIND_FORCED_EXIT, l2Account, 0, 0, msg.sender, 0, 0);
    }

    /// @notice The 108-byte L1 slot of an operation, as batch data carries it.
    function l1Slot(uint8 kind, uint256 l2Account, uint256 token, uint256 amount, address ethAddress, uint256 ax, uint256 ay)
        public
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(kind, uint24(l2Account), uint32(token), uint128(amount), ethAddress, ax, ay);
    }

    /// @dev Takes a deposit's funds; returns the token id and the amount received.
    function _pull(address token, uint256 amount) internal returns (uint256 id, uint256 received) {
        require(!paused(), "paused by the guardian: no deposits");
        id = tokenId(token);
        require(amount > 0 && amount < 1 << 128, "deposit: amount must be 1 to 2^128 - 1");
        if (token == address(0)) {
            require(msg.value == amount, "deposit: send the ETH amount as the value");
            return (id, amount);
        }
        require(msg.value == 0, "deposit: no ETH with a token deposit");
        uint256 before = IERC20Minimal(token).balanceOf(address(this));
        _call(token, abi.encodeWithSelector(0x23b872dd, msg.sender, address(this), amount), "deposit: transferFrom failed");
        received = IERC20Minimal(token).balanceOf(address(this)) - before;
        require(received > 0 && received < 1 << 128, "deposit: the token moved no usable amount");
    }

    /// @dev Appends an operation to the L1 queue.
    function _queue(uint8 kind, uint256 l2Account, uint256 token, uint256 amount, address eth, uint256 ax, uint256 ay)
        internal
    {
        uint256 q = queueLength;
        queuedOpHash[q] = keccak256(l1Slot(kind, l2Account, token, amount, eth, ax, ay));
        queuedAt[q] = block.timestamp;
        queueLength = q + 1;
        emit L1OpQueued(q, kind, l2Account, token, amount, eth, ax, ay);
    }

    // ---------------------------------------------------------------- exits

    /// @inheritdoc IL1Bridge
    function finalizeWithdrawal(
        uint256 batchNumber,
        uint256 position,
        address recipient,
        uint256 token,
        uint256 amount,
        uint256[4][] calldata path
    ) external nonReentrant {
        require(batchNumber >= 1 && batchNumber <= progress.lastProven, "withdrawal: the batch is not proven");
        uint256 root = exitRoots[batchNumber];
        require(root != 0, "withdrawal: the batch has no exits");
        require(path.length == exitTreeDepth, "withdrawal: the exit proof has the wrong number of levels");
        require(position < l1Slots + batchSize, "withdrawal: no such exit position");
        uint256 bit = 1 << (position & 255);
        uint256 word = paidExits[batchNumber][position >> 8];
        require(word & bit == 0, "withdrawal: already paid");
        require(amount > 0, "withdrawal: nothing to pay");
        uint256 leaf = poseidon3.poseidon([uint256(uint160(recipient)), token, amount]);
        require(_pathRoot(leaf, position, path) == root, "withdrawal: the exit proof does not match the batch's exit root");
        paidExits[batchNumber][position >> 8] = word | bit;
        emit WithdrawalFinalized(batchNumber, position, recipient, token, amount);
        _pay(token, recipient, amount);
    }

    /// @notice Whether the exit at `position` of batch `batchNumber` has been paid.
    function exitPaid(uint256 batchNumber, uint256 position) external view returns (bool) {
        return paidExits[batchNumber][position >> 8] & (1 << (position & 255)) != 0;
    }

    // ---------------------------------------------------------------- exodus

    /// @notice Switches the rollup into exodus mode, for ever, once the oldest L1 operation
    /// that no proven batch includes has waited past the inclusion deadline. Anyone may.
    function activateExodus() external live {
        Progress memory p = progress;
        require(p.provenQueueHead < queueLength, "exodus: no L1 operation is waiting");
        require(
            block.timestamp > queuedAt[p.provenQueueHead] + inclusionDeadline,
            "exodus: the oldest waiting L1 operation is within its inclusion deadline"
        );
        exodus = true;
        emit ExodusActivated(p.lastProven, stateRoots[p.lastProven]);
    }

    /// @notice In exodus mode, pays account `l2Account`'s balance in the last proven state to
    /// its L1 owner, once: (`token`, `nonce`, `balance`, `ax`, `ay`, `owner`) must be its leaf
    /// and `path` its state proof (12 groups of four children, leaves first). Anyone may send
    /// it; the funds go to `owner`.
    function exodusWithdraw(
        uint256 l2Account,
        uint256 token,
        uint256 nonce,
        uint256 balance,
        uint256 ax,
        uint256 ay,
        address owner,
        uint256[4][] calldata path
    ) external nonReentrant {
        require(exodus, "exodus: the rollup is not in exodus mode");
        require(l2Account >= 1 && l2Account < 1 << (2 * STATE_DEPTH), "exodus: no such L2 account");
        require(!exodusWithdrawn[l2Account], "exodus: this account has already withdrawn");
        require(owner != address(0), "exodus: the account has no L1 owner");
        require(path.length == STATE_DEPTH, "exodus: a state proof has 12 levels");
        uint256 leaf = poseidon6.poseidon([token, nonce, balance, ax, ay, uint256(uint160(owner))]);
        require(
            _pathRoot(leaf, l2Account, path) == stateRoots[progress.lastProven],
            "exodus: the state proof does not match the last proven state root"
        );
        exodusWithdrawn[l2Account] = true;
        emit ExodusWithdrawal(l2Account, owner, token, balance);
        if (balance > 0) _pay(token, owner, balance);
    }

    /// @notice In exodus mode, refunds queued deposit `queueIndex` that no proven batch
    /// included, once, to the address that made it.
    function exodusRefundDeposit(
        uint256 queueIndex,
        uint256 l2Account,
        uint256 token,
        uint256 amount,
        address owner,
        uint256 ax,
        uint256 ay
    ) external nonReentrant {
        require(exodus, "exodus: the rollup is not in exodus mode");
        require(
            queueIndex >= progress.provenQueueHead && queueIndex < queueLength,
            "exodus: that queued operation was included by a proven batch, or does not exist"
        );
        require(!depositRefunded[queueIndex], "exodus: already refunded");
        require(
            keccak256(l1Slot(KIND_DEPOSIT, l2Account, token, amount, owner, ax, ay)) == queuedOpHash[queueIndex],
            "exodus: not the queued deposit"
        );
        depositRefunded[queueIndex] = true;
        emit DepositRefunded(queueIndex, owner, token, amount);
        _pay(token, owner, amount);
    }

    // ---------------------------------------------------------------- the guardian

    /// @notice Whether the guardian's pause is on.
    function paused() public view returns (bool) {
        return block.timestamp < pausedUntil;
    }

    /// @notice Pauses new batches and deposits for `maxPause` seconds (the guardian only).
    /// A pause cannot be renewed: the next one may start `maxPause` after the last one
    /// ended, so the rollup is live at least half the time whatever the guardian does.
    function pause() external {
        require(msg.sender == guardian, "only the guardian pauses");
        require(
            pausedUntil == 0 || block.timestamp >= pausedUntil + maxPause,
            "the guardian may pause again only maxPause after the last pause ended"
        );
        pausedUntil = block.timestamp + maxPause;
        emit Paused(pausedUntil);
    }

    /// @notice Lifts the pause (the guardian only).
    function unpause() external {
        require(msg.sender == guardian, "only the guardian unpauses");
        require(paused(), "not paused");
        pausedUntil = block.timestamp;
        emit Unpaused();
    }

    /// @notice Hands the operator's role to `next` (the operator only).
    function setOperator(address next) external onlyOperator {
        require(next != address(0), "operator must be set");
        operator = next;
    }

    // ---------------------------------------------------------------- helpers

    /// @dev The root that `path` leads to from `leaf` at `index` (base-4 digits, least
    /// significant first), or 0 if a group does not hold the running hash at its digit.
    function _pathRoot(uint256 leaf, uint256 index, uint256[4][] calldata path) internal view returns (uint256) {
        uint256 h = leaf;
        for (uint256 k = 0; k < path.length; k++) {
            if (path[k][(index >> (2 * k)) & 3] != h) return 0;
            h = poseidon4.poseidon(path[k]);
        }
        return h;
    }

    /// @dev Pays `amount` of L2 token `token` to `to`.
    function _pay(uint256 token, address to, uint256 amount) internal {
        require(token < tokens.length, "payout: unknown token");
        address t = tokens[token];
        if (t == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            require(ok, "payout: the recipient refused the ETH");
        } else {
            _call(t, abi.encodeWithSelector(0xa9059cbb, to, amount), "payout: token transfer failed");
        }
    }

    /// @dev Calls a token; it must succeed and return nothing or `true`.
    function _call(address token, bytes memory data, string memory failure) internal {
        (bool ok, bytes memory ret) = token.call(data);
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), failure);
    }
}
