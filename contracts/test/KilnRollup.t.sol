// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// forge's tests of KilnRollup (run: cd contracts && ../.ci/npm/node_modules/.bin/forge test).
//
// They cover everything the contract decides without a real Groth16 proof: the verifier here
// rejects every proof, so no test relies on a proof passing, and the proving paths are only
// checked up to the "proof does not verify" refusal (except KilnRollupPauseLivenessTest, whose
// rollup takes every proof so that batches including forced exits can be proven). Poseidon is circomlib's, deployed from
// the committed artifacts of build.mjs (contracts/out/Poseidon{3,4,6}.json), so the state
// proofs built here are real ones over the tree of docs/rollup.md.

import {KilnRollup} from "../src/KilnRollup.sol";
import {IGroth16Verifier} from "../src/IGroth16Verifier.sol";
import {IPoseidon3, IPoseidon4, IPoseidon6} from "../src/IPoseidon.sol";
import {TestToken} from "./TestToken.sol";
import {TestBase} from "./Vm.sol";

/// @notice A batch verifier that refuses every proof.
contract RejectingVerifier is IGroth16Verifier {
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[1] calldata)
        external
        pure
        returns (bool)
    {
        return false;
    }
}

/// @notice A batch verifier that takes every proof (KilnRollupPauseLivenessTest only).
contract AcceptingVerifier is IGroth16Verifier {
    function verifyProof(uint256[2] calldata, uint256[2][2] calldata, uint256[2] calldata, uint256[1] calldata)
        external
        pure
        returns (bool)
    {
        return true;
    }
}

/// @notice An account owner that, when paid ETH, tries to call the rollup again with a
/// prepared call (to claim twice) and records how that went.
contract ReenteringOwner {
    address public target;
    bytes public payload;
    bool public tried;
    bool public innerOk;
    bytes public innerRevert;

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    receive() external payable {
        if (tried || target == address(0)) return;
        tried = true;
        (innerOk, innerRevert) = target.call(payload);
    }
}

/// @notice The deployment every test starts from: circomlib's Poseidon contracts from
/// contracts/out/, a verifier that refuses every proof, a registered ERC-20 (token id 1),
/// and a rollup (chain id 7, batch size `_batchSize()`) whose genesis, computed here on chain,
/// holds account 1 (3 ETH, owner ALICE) and account 6 (1000 tokens, nonce 2, owner BOB),
/// backed by the ETH sent to the constructor and tokens minted to the rollup.
abstract contract RollupFixture is TestBase {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant CHAIN_ID = 7;
    uint256 internal constant PROOF_DEADLINE = 1 days;
    uint256 internal constant INCLUSION_DEADLINE = 3 days;
    /// @dev Under half the inclusion deadline, as the constructor requires.
    uint256 internal constant MAX_PAUSE = 1 days;
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant FIRST_FREE_ACCOUNT = 7;
    uint8 internal constant KIND_DEPOSIT = 3;
    uint8 internal constant KIND_FORCED_EXIT = 4;

    address internal constant OPERATOR = address(0x0BE7A7);
    address internal constant GUARDIAN = address(0x6A4D1A4);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA401);
    address internal constant STRANGER = address(0x5742A6E4);

    /// @notice A genesis account: its index and its leaf's fields.
    struct Account {
        uint256 index;
        uint256 token;
        uint256 nonce;
        uint256 balance;
        uint256 ax;
        uint256 ay;
        address owner;
    }

    IPoseidon3 internal poseidon3;
    IPoseidon4 internal poseidon4;
    IPoseidon6 internal poseidon6;
    RejectingVerifier internal verifier;
    TestToken internal token;
    KilnRollup internal rollup;
    /// @dev emptyNode[k]: the root of an empty subtree of k levels (E0 = 0, E(k+1) = H4(Ek x4)).
    uint256[13] internal emptyNode;
    Account[] internal genesis;
    uint256 internal genesisRoot;

    function setUp() public virtual {
        vm.warp(T0);
        poseidon3 = IPoseidon3(_deployArtifact("out/Poseidon3.json"));
        poseidon4 = IPoseidon4(_deployArtifact("out/Poseidon4.json"));
        poseidon6 = IPoseidon6(_deployArtifact("out/Poseidon6.json"));
        for (uint256 k = 0; k < 12; k++) {
            uint256 e = emptyNode[k];
            emptyNode[k + 1] = poseidon4.poseidon([e, e, e, e]);
        }
        verifier = new RejectingVerifier();
        token = new TestToken("kiln test token", "KTT");
        _genesisAccounts();
        (genesisRoot,) = _stateProof(genesis[0].index);

        uint256 eth = 0;
        uint256 tokens = 0;
        for (uint256 i = 0; i < genesis.length; i++) {
            if (genesis[i].token == 0) eth += genesis[i].balance;
            else tokens += genesis[i].balance;
        }
        rollup = new KilnRollup{value: eth}(_config(_batchSize(), genesisRoot));
        assertEq(rollup.registerToken(address(token)), 1, "the test token's id");
        token.mint(address(rollup), tokens);

        vm.label(address(rollup), "KilnRollup");
        vm.label(OPERATOR, "operator");
        vm.label(GUARDIAN, "guardian");
        vm.label(ALICE, "alice");
        vm.label(BOB, "bob");
        vm.label(CAROL, "carol");
        vm.label(STRANGER, "stranger");
    }

    /// @dev Transaction slots per batch of the rollup under test.
    function _batchSize() internal pure virtual returns (uint256) {
        return 4;
    }

    /// @dev Fills `genesis`.
    function _genesisAccounts() internal virtual {
        genesis.push(Account(1, 0, 0, 3 ether, 1001, 1002, ALICE));
        genesis.push(Account(6, 1, 2, 1000 ether, 6001, 6002, BOB));
    }

    function _config(uint256 batchSize, uint256 root) internal view returns (KilnRollup.Config memory) {
        return KilnRollup.Config({
            verifier: verifier,
            poseidon3: poseidon3,
            poseidon4: poseidon4,
            poseidon6: poseidon6,
            rollupChainId: CHAIN_ID,
            batchSize: batchSize,
            genesisRoot: root,
            firstFreeAccount: FIRST_FREE_ACCOUNT,
            proofDeadline: PROOF_DEADLINE,
            inclusionDeadline: INCLUSION_DEADLINE,
            maxPause: MAX_PAUSE,
            operator: OPERATOR,
            guardian: GUARDIAN
        });
    }

    /// @dev Deploys the creation code at ".bytecode" of a build.mjs artifact.
    function _deployArtifact(string memory path) internal returns (address a) {
        bytes memory code = vm.parseJsonBytes(vm.readFile(path), ".bytecode");
        assembly {
            a := create(0, add(code, 0x20), mload(code))
        }
        require(a != address(0) && a.code.length > 0, string.concat("cannot deploy ", path));
    }

    // ------------------------------------------------------------ the state tree

    /// @dev Poseidon6(token, nonce, balance, ax, ay, ethAddr).
    function _leaf(Account memory a) internal view returns (uint256) {
        return poseidon6.poseidon([a.token, a.nonce, a.balance, a.ax, a.ay, uint256(uint160(a.owner))]);
    }

    /// @dev The root of the state tree holding `genesis` (every other leaf empty) and the state
    /// proof of the account at `target` (one of them): 12 groups of four children, leaves first.
    function _stateProof(uint256 target) internal view returns (uint256 root, uint256[4][] memory path) {
        uint256 n = genesis.length;
        uint256[] memory pos = new uint256[](n);
        uint256[] memory val = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            pos[i] = genesis[i].index;
            val[i] = _leaf(genesis[i]);
        }
        path = new uint256[4][](12);
        for (uint256 k = 0; k < 12; k++) {
            uint256[] memory upPos = new uint256[](n);
            uint256[] memory upVal = new uint256[](n);
            uint256 m = 0;
            for (uint256 i = 0; i < n; i++) {
                uint256 parent = pos[i] >> 2;
                if (_contains(upPos, m, parent)) continue;
                uint256[4] memory group = _group(pos, val, n, parent, k);
                if (parent == target >> (2 * (k + 1))) path[k] = group;
                upPos[m] = parent;
                upVal[m] = poseidon4.poseidon(group);
                m++;
            }
            (pos, val, n) = (upPos, upVal, m);
        }
        require(n == 1 && pos[0] == 0, "the tree has one root");
        root = val[0];
    }

    /// @dev The four children of node `parent` at level k + 1, from the first `n` level-k nodes.
    function _group(uint256[] memory pos, uint256[] memory val, uint256 n, uint256 parent, uint256 k)
        internal
        view
        returns (uint256[4] memory group)
    {
        group = [emptyNode[k], emptyNode[k], emptyNode[k], emptyNode[k]];
        for (uint256 j = 0; j < n; j++) {
            if (pos[j] >> 2 == parent) group[pos[j] & 3] = val[j];
        }
    }

    function _contains(uint256[] memory xs, uint256 n, uint256 x) internal pure returns (bool) {
        for (uint256 i = 0; i < n; i++) {
            if (xs[i] == x) return true;
        }
        return false;
    }

    function _account(uint256 index) internal view returns (Account memory) {
        for (uint256 i = 0; i < genesis.length; i++) {
            if (genesis[i].index == index) return genesis[i];
        }
        revert("no such genesis account");
    }

    // ------------------------------------------------------------ L1 slots and batch data

    /// @dev A deposit's 108-byte L1 slot, written from docs/rollup.md's table.
    function _depositSlot(uint256 index, uint256 tokenId, uint256 amount, address owner, uint256 ax, uint256 ay)
        internal
        pure
        returns (bytes memory slot)
    {
        slot = abi.encodePacked(KIND_DEPOSIT, uint24(index), uint32(tokenId), uint128(amount), owner, ax, ay);
        require(slot.length == 108, "an L1 slot has 108 bytes");
    }

    /// @dev A forced exit's L1 slot: token, amount, ax and ay 0.
    function _forcedExitSlot(uint256 index, address owner) internal pure returns (bytes memory) {
        return abi.encodePacked(KIND_FORCED_EXIT, uint24(index), uint32(0), uint128(0), owner, uint256(0), uint256(0));
    }

    function _slots() internal pure returns (bytes[] memory s) {
        s = new bytes[](0);
    }

    function _slots(bytes memory a) internal pure returns (bytes[] memory s) {
        s = new bytes[](1);
        s[0] = a;
    }

    function _slots(bytes memory a, bytes memory b) internal pure returns (bytes[] memory s) {
        s = new bytes[](2);
        s[0] = a;
        s[1] = b;
    }

    /// @dev Batch data D of docs/rollup.md: header, the rollup's L L1 slots (`slots` first,
    /// then empty ones), four empty fee slots and N transaction slots (one transfer from 1
    /// to 6, then no-ops: the contract does not read them, the circuit does).
    function _batchData(uint256 n, uint256 oldRoot, uint256 newRoot, uint256 exitRoot, bytes[] memory slots)
        internal
        view
        returns (bytes memory d)
    {
        uint256 l = rollup.l1Slots();
        require(slots.length <= l, "more slots than the batch holds");
        d = abi.encodePacked(uint64(CHAIN_ID), uint64(n), oldRoot, newRoot, exitRoot);
        for (uint256 i = 0; i < l; i++) {
            d = bytes.concat(d, i < slots.length ? slots[i] : new bytes(108));
        }
        // A transfer of 1 (mantissa 1, exponent 0) with fee 0, then no-ops.
        bytes memory txs = abi.encodePacked(uint24(1), uint24(6), uint48(uint48(1 << 5) << 12));
        d = bytes.concat(d, new bytes(12), txs, new bytes(12 * (rollup.batchSize() - 1)));
        assertEq(d.length, rollup.batchDataLength(), "batch data length");
    }

    /// @dev A made-up new state root for batch `n` (a field element).
    function _fakeRoot(uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("kiln test state root", n))) % R;
    }

    /// @dev The data of the next batch: from the last committed root to `_fakeRoot`, no exits.
    function _nextBatch(bytes[] memory slots) internal view returns (bytes memory) {
        (uint64 committed,,,) = rollup.progress();
        uint256 n = uint256(committed) + 1;
        return _batchData(n, rollup.stateRoots(n - 1), _fakeRoot(n), rollup.emptyExitRoot(), slots);
    }

    /// @dev Commits the next batch as the operator; returns its data.
    function _commitNext(bytes[] memory slots) internal returns (bytes memory d) {
        d = _nextBatch(slots);
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
    }

    function _assertProgress(uint256 committed, uint256 proven, uint256 head, uint256 provenHead, string memory what)
        internal
        view
    {
        (uint64 c, uint64 p, uint64 h, uint64 ph) = rollup.progress();
        assertEq(c, committed, string.concat(what, ": last committed batch"));
        assertEq(p, proven, string.concat(what, ": last proven batch"));
        assertEq(h, head, string.concat(what, ": queue head"));
        assertEq(ph, provenHead, string.concat(what, ": proven queue head"));
    }

    // ------------------------------------------------------------ queueing L1 operations

    /// @dev `from` deposits `amount` wei to existing account `index`; returns the op's slot.
    function _depositEth(address from, uint256 amount, uint256 index) internal returns (bytes memory) {
        vm.deal(from, from.balance + amount);
        vm.prank(from);
        rollup.deposit{value: amount}(address(0), amount, index);
        return _depositSlot(index, 0, amount, from, 0, 0);
    }

    /// @dev `from` deposits `amount` of the test token to a new account with key (ax, ay);
    /// returns the op's slot.
    function _depositTokenNewKey(address from, uint256 amount, uint256 ax, uint256 ay) internal returns (bytes memory) {
        token.mint(from, amount);
        uint256 index = rollup.nextAccountIndex();
        vm.startPrank(from);
        token.approve(address(rollup), amount);
        rollup.deposit(address(token), amount, ax, ay);
        vm.stopPrank();
        return _depositSlot(index, 1, amount, from, ax, ay);
    }

    /// @dev `from` queues a forced exit of `index`; returns the op's slot.
    function _forceExit(address from, uint256 index) internal returns (bytes memory) {
        vm.prank(from);
        rollup.forceExit(index);
        return _forcedExitSlot(index, from);
    }

    function _noProof() internal pure returns (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) {}

    // ------------------------------------------------------------ the guardian

    /// @dev The guardian calls `pause()`; returns whether it went through.
    function _tryPause() internal returns (bool ok) {
        vm.prank(GUARDIAN);
        (ok,) = address(rollup).call(abi.encodeCall(KilnRollup.pause, ()));
    }

    /// @dev The guardian calls `unpause()`; returns whether it went through.
    function _tryUnpause() internal returns (bool ok) {
        vm.prank(GUARDIAN);
        (ok,) = address(rollup).call(abi.encodeCall(KilnRollup.unpause, ()));
    }

    /// @dev The operator commits the next batch (no L1 operations) if the rollup is live now
    /// and is refused for the pause if not; returns whether it was live.
    function _commitIffLive() internal returns (bool live) {
        live = !rollup.paused();
        bytes memory d = _nextBatch(_slots());
        if (!live) vm.expectRevert(bytes("paused by the guardian: no new batches"));
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
    }

    /// @dev A time from now on for the fuzzed guardian's next move, from random `r`: often
    /// the boundaries of the pause rules (the earliest next pause, a second before it, the
    /// last pause's end), sometimes now again, otherwise 1 s to 2 * maxPause later.
    function _nextTime(uint256 r) internal view returns (uint256) {
        uint256 t = block.timestamp;
        uint256 until = rollup.pausedUntil();
        uint256 k = r % 8;
        if (k == 0 && until != 0 && until + MAX_PAUSE > t) return until + MAX_PAUSE;
        if (k == 1 && until != 0 && until + MAX_PAUSE > t + 1) return until + MAX_PAUSE - 1;
        if (k == 2 && until > t) return until;
        if (k == 3) return t;
        return t + 1 + (r >> 3) % (2 * MAX_PAUSE);
    }

    /// @dev The guardian's `pause()` reverts now for having paused too recently.
    function _pauseRefused() internal {
        vm.expectRevert(bytes("the guardian may pause again only maxPause after the last pause ended"));
        vm.prank(GUARDIAN);
        rollup.pause();
    }

    /// @dev Queues a forced exit and waits past its inclusion deadline, then switches to exodus.
    function _enterExodus() internal {
        _forceExit(BOB, 6);
        vm.warp(block.timestamp + INCLUSION_DEADLINE + 1);
        vm.prank(STRANGER);
        rollup.activateExodus();
        assertTrue(rollup.exodus(), "the rollup is in exodus mode");
    }
}

/// @notice The deployment itself: circomlib's Poseidon contracts and the state tree built
/// here agree with circomlibjs (values computed with circomlibjs 0.1.7's buildPoseidon), the
/// constructor's derived sizes and checks, and token registration.
contract KilnRollupDeploymentTest is RollupFixture {
    function testPoseidonContractsMatchCircomlibjs() public view {
        assertEq(
            poseidon3.poseidon([uint256(1), 2, 3]),
            6542985608222806190361240322586112750744169038454362455181422643027100751666,
            "H(1, 2, 3)"
        );
        assertEq(
            poseidon4.poseidon([uint256(1), 2, 3, 4]),
            18821383157269793795438455681495246036402687001665670618754263018637548127333,
            "H(1, 2, 3, 4)"
        );
        assertEq(
            poseidon6.poseidon([uint256(1), 2, 3, 4, 5, 6]),
            20400040500897583745843009878988256314335038853985262692600694741116813247201,
            "H(1, ..., 6)"
        );
    }

    function testStateTreeMatchesCircomlibjs() public view {
        assertEq(emptyNode[1], 2351654555892372227640888372176282444150254868378439619268573230312091195718, "E1");
        assertEq(
            emptyNode[12],
            5502479177772891194542009540012941542204094004749813714118505924674776464255,
            "the empty state tree's root"
        );
        assertEq(
            _leaf(_account(1)),
            11987201588711117168024702178647197283193069718284568521543274735870221229593,
            "account 1's leaf"
        );
        assertEq(
            genesisRoot,
            5931445642765914957897037064785534405288116361950303276327415452911665650862,
            "the genesis root of accounts 1 and 6"
        );
        // Account 6 = digits (2, 1, 0, ...): position 2 at level 0, position 1 at level 1.
        (uint256 root, uint256[4][] memory path) = _stateProof(6);
        assertEq(root, genesisRoot, "the same root from account 6");
        assertEq(path[0][2], _leaf(_account(6)), "account 6's leaf is at position 2 of its group");
        assertEq(path[1][0], poseidon4.poseidon([0, _leaf(_account(1)), 0, 0]), "account 1's group is at position 0");
        assertEq(path[1][1], poseidon4.poseidon(path[0]), "account 6's group is at position 1");
    }

    function testGenesisState() public view {
        assertEq(rollup.stateRoots(0), genesisRoot, "stateRoots(0)");
        assertEq(rollup.provenStateRoot(), genesisRoot, "provenStateRoot");
        assertTrue(rollup.verifyStateCommitment(0, genesisRoot), "batch 0 is the genesis");
        assertTrue(!rollup.verifyStateCommitment(1, genesisRoot), "batch 1 is not proven");
        _assertProgress(0, 0, 0, 0, "genesis");
        assertEq(rollup.nextAccountIndex(), FIRST_FREE_ACCOUNT, "next account index");
        assertEq(rollup.queueLength(), 0, "queue length");
        assertEq(address(rollup).balance, 3 ether, "ETH backing the genesis");
        assertEq(token.balanceOf(address(rollup)), 1000 ether, "tokens backing the genesis");
        assertEq(rollup.tokenCount(), 2, "ETH and the test token");
        assertEq(rollup.tokens(0), address(0), "token 0 is ETH");
        assertEq(rollup.tokenId(address(0)), 0, "ETH's id");
        assertEq(rollup.tokenId(address(token)), 1, "the test token's id");
        assertEq(rollup.operator(), OPERATOR, "operator");
        assertEq(rollup.guardian(), GUARDIAN, "guardian");
        assertTrue(!rollup.exodus() && !rollup.paused(), "neither exodus nor paused");
    }

    function testDerivedSizes() public {
        _assertSizes(rollup, 4, 1, 280, 2);
        _assertSizes(new KilnRollup(_config(1, genesisRoot)), 1, 1, 112 + 108 + 12 + 12, 1);
        // L + N exactly a power of 4 fills the exit tree: 3 + 1 = 4, 15 + 1 = 16, 60 + 4 = 64.
        _assertSizes(new KilnRollup(_config(3, genesisRoot)), 3, 1, 112 + 108 + 12 + 36, 1);
        _assertSizes(new KilnRollup(_config(12, genesisRoot)), 12, 1, 112 + 108 + 12 + 144, 2);
        _assertSizes(new KilnRollup(_config(15, genesisRoot)), 15, 1, 112 + 108 + 12 + 180, 2);
        _assertSizes(new KilnRollup(_config(60, genesisRoot)), 60, 4, 112 + 4 * 108 + 12 + 720, 3);
        _assertSizes(new KilnRollup(_config(16, genesisRoot)), 16, 1, 112 + 108 + 12 + 192, 3);
        _assertSizes(new KilnRollup(_config(17, genesisRoot)), 17, 2, 112 + 216 + 12 + 204, 3);
        _assertSizes(new KilnRollup(_config(4096, genesisRoot)), 4096, 256, 112 + 256 * 108 + 12 + 4096 * 12, 7);
    }

    function _assertSizes(KilnRollup r, uint256 n, uint256 l, uint256 length, uint256 exitDepth) internal view {
        assertEq(r.batchSize(), n, "batch size");
        assertEq(r.l1Slots(), l, "L1 slots");
        assertEq(r.batchDataLength(), length, "batch data length");
        assertEq(r.exitTreeDepth(), exitDepth, "exit tree depth");
        assertEq(r.emptyExitRoot(), emptyNode[exitDepth], "empty exit root");
    }

    function testConstructorRejectsBadConfigs() public {
        KilnRollup.Config memory c = _config(0, genesisRoot);
        vm.expectRevert(bytes("batch size must be 1 to 4096"));
        new KilnRollup(c);
        c = _config(4097, genesisRoot);
        vm.expectRevert(bytes("batch size must be 1 to 4096"));
        new KilnRollup(c);
        c = _config(4, R);
        vm.expectRevert(bytes("genesis root is not a field element"));
        new KilnRollup(c);
        c = _config(4, genesisRoot);
        c.firstFreeAccount = 0;
        vm.expectRevert(bytes("first free account out of range"));
        new KilnRollup(c);
        c.firstFreeAccount = 1 << 24;
        vm.expectRevert(bytes("first free account out of range"));
        new KilnRollup(c);
        c = _config(4, genesisRoot);
        c.operator = address(0);
        vm.expectRevert(bytes("operator and guardian must be set"));
        new KilnRollup(c);
        c = _config(4, genesisRoot);
        c.guardian = address(0);
        vm.expectRevert(bytes("operator and guardian must be set"));
        new KilnRollup(c);
    }

    /// @dev A pause of maxPause plus the live time the next one must wait must fit in the
    /// inclusion deadline: maxPause * 2 < inclusionDeadline, strictly.
    function testConstructorKeepsThePauseUnderHalfTheInclusionDeadline() public {
        string memory tooLong = "maxPause must be under half the inclusion deadline (a pause must not force exodus)";
        KilnRollup.Config memory c = _config(4, genesisRoot);
        c.maxPause = INCLUSION_DEADLINE / 2; // exactly half
        vm.expectRevert(bytes(tooLong));
        new KilnRollup(c);
        c.maxPause = INCLUSION_DEADLINE;
        vm.expectRevert(bytes(tooLong));
        new KilnRollup(c);
        c.maxPause = 2 days; // the old fixture's setting
        vm.expectRevert(bytes(tooLong));
        new KilnRollup(c);
        c.maxPause = 0;
        c.inclusionDeadline = 0;
        vm.expectRevert(bytes(tooLong));
        new KilnRollup(c);
        c.maxPause = 5;
        c.inclusionDeadline = 11;
        assertEq(new KilnRollup(c).maxPause(), 5, "2 * 5 < 11");
        c.inclusionDeadline = 10;
        vm.expectRevert(bytes(tooLong));
        new KilnRollup(c);

        c = _config(4, genesisRoot);
        c.maxPause = INCLUSION_DEADLINE / 2 - 1; // just under half
        KilnRollup r = new KilnRollup(c);
        assertEq(r.maxPause(), INCLUSION_DEADLINE / 2 - 1, "max pause");
        assertEq(r.inclusionDeadline(), INCLUSION_DEADLINE, "inclusion deadline");
        c.maxPause = 0; // a guardian that cannot pause at all
        assertEq(new KilnRollup(c).maxPause(), 0, "no pause");
        assertEq(rollup.maxPause(), MAX_PAUSE, "the fixture's max pause");
    }

    function testRegisterToken() public {
        TestToken other = new TestToken("other", "OTH");
        vm.expectRevert(bytes("token: not registered (registerToken first)"));
        rollup.tokenId(address(other));
        vm.expectRevert(bytes("token: not a contract"));
        rollup.registerToken(ALICE);
        vm.expectRevert(bytes("token: already registered"));
        rollup.registerToken(address(token));
        vm.expectRevert(bytes("token: not a contract")); // ETH is registered as id 0
        rollup.registerToken(address(0));

        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.TokenRegistered(2, address(other));
        vm.prank(STRANGER);
        assertEq(rollup.registerToken(address(other)), 2, "the next id");
        assertEq(rollup.tokenId(address(other)), 2, "tokenId");
        assertEq(rollup.tokens(2), address(other), "tokens(2)");
    }
}

/// @notice Deposits (ETH and ERC-20, to an existing index and to a new public key) and forced
/// exits join the L1 queue as the hash of their 108-byte L1 slot; bad ones are refused.
contract KilnRollupDepositTest is RollupFixture {
    function testEthDepositToExistingAccount() public {
        vm.deal(CAROL, 5 ether);
        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.L1OpQueued(0, KIND_DEPOSIT, 1, 0, 2 ether, CAROL, 0, 0);
        vm.prank(CAROL);
        rollup.deposit{value: 2 ether}(address(0), 2 ether, 1);

        bytes memory slot = _depositSlot(1, 0, 2 ether, CAROL, 0, 0);
        assertEq(keccak256(rollup.l1Slot(KIND_DEPOSIT, 1, 0, 2 ether, CAROL, 0, 0)), keccak256(slot), "l1Slot()");
        assertEq(rollup.queuedOpHash(0), keccak256(slot), "queued op hash");
        assertEq(rollup.queuedAt(0), T0, "queued at");
        assertEq(rollup.queueLength(), 1, "queue length");
        assertEq(rollup.nextAccountIndex(), FIRST_FREE_ACCOUNT, "no account index taken");
        assertEq(address(rollup).balance, 5 ether, "the rollup holds the ETH");
        assertEq(CAROL.balance, 3 ether, "carol paid");
    }

    function testTokenDepositToExistingAccount() public {
        token.mint(CAROL, 700);
        vm.prank(CAROL);
        token.approve(address(rollup), 500);
        vm.warp(T0 + 10);
        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.L1OpQueued(0, KIND_DEPOSIT, 6, 1, 500, CAROL, 0, 0);
        vm.prank(CAROL);
        rollup.deposit(address(token), 500, 6);

        assertEq(rollup.queuedOpHash(0), keccak256(_depositSlot(6, 1, 500, CAROL, 0, 0)), "queued op hash");
        assertEq(rollup.queuedAt(0), T0 + 10, "queued at");
        assertEq(token.balanceOf(CAROL), 200, "carol's tokens");
        assertEq(token.balanceOf(address(rollup)), 1000 ether + 500, "the rollup's tokens");
    }

    function testDepositsToNewKeysTakeTheNextIndices() public {
        vm.deal(CAROL, 1 ether);
        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.L1OpQueued(0, KIND_DEPOSIT, 7, 0, 1 ether, CAROL, 71, 72);
        vm.prank(CAROL);
        rollup.deposit{value: 1 ether}(address(0), 1 ether, 71, 72);
        assertEq(rollup.queuedOpHash(0), keccak256(_depositSlot(7, 0, 1 ether, CAROL, 71, 72)), "ETH deposit");
        assertEq(rollup.nextAccountIndex(), 8, "index 7 taken");

        // A key with one coordinate 0 is a key.
        bytes memory slot = _depositTokenNewKey(BOB, 300, 0, 82);
        assertEq(rollup.queuedOpHash(1), keccak256(slot), "token deposit");
        assertEq(rollup.nextAccountIndex(), 9, "index 8 taken");
        assertEq(token.balanceOf(address(rollup)), 1000 ether + 300, "the rollup's tokens");

        // Index 7 now exists for deposits by index.
        slot = _depositEth(ALICE, 5, 7);
        assertEq(rollup.queuedOpHash(2), keccak256(slot), "deposit to the new index");
        assertEq(rollup.queueLength(), 3, "queue length");
    }

    function testBadDepositsAreRefused() public {
        TestToken other = new TestToken("other", "OTH");
        vm.deal(CAROL, 10 ether);
        token.mint(CAROL, 10);
        vm.startPrank(CAROL);

        vm.expectRevert(bytes("token: not registered (registerToken first)"));
        rollup.deposit(address(other), 1, 1);
        vm.expectRevert(bytes("token: not registered (registerToken first)"));
        rollup.deposit(address(other), 1, 5, 5);
        vm.expectRevert(bytes("deposit: send the ETH amount as the value"));
        rollup.deposit{value: 1}(address(0), 2, 1);
        vm.expectRevert(bytes("deposit: send the ETH amount as the value"));
        rollup.deposit{value: 2}(address(0), 1, 5, 5);
        vm.expectRevert(bytes("deposit: no ETH with a token deposit"));
        rollup.deposit{value: 1}(address(token), 1, 1);
        vm.expectRevert(bytes("deposit: amount must be 1 to 2^128 - 1"));
        rollup.deposit(address(0), 0, 1);
        vm.expectRevert(bytes("deposit: amount must be 1 to 2^128 - 1"));
        rollup.deposit(address(token), 1 << 128, 1);
        vm.expectRevert(bytes("deposit: amount must be 1 to 2^128 - 1"));
        rollup.deposit(address(token), 0, 5, 5);
        vm.expectRevert(bytes("deposit: no such L2 account"));
        rollup.deposit{value: 1}(address(0), 1, 0);
        vm.expectRevert(bytes("deposit: no such L2 account"));
        rollup.deposit{value: 1}(address(0), 1, FIRST_FREE_ACCOUNT);
        vm.expectRevert(bytes("deposit: a new account needs a public key"));
        rollup.deposit{value: 1}(address(0), 1, 0, 0);
        vm.expectRevert(bytes("deposit: the public key's coordinates must be field elements"));
        rollup.deposit{value: 1}(address(0), 1, R, 1);
        vm.expectRevert(bytes("deposit: the public key's coordinates must be field elements"));
        rollup.deposit{value: 1}(address(0), 1, 1, R);
        // No allowance: the token refuses transferFrom.
        vm.expectRevert(bytes("deposit: transferFrom failed"));
        rollup.deposit(address(token), 5, 1);
        vm.stopPrank();

        assertEq(rollup.queueLength(), 0, "nothing queued");
        assertEq(rollup.nextAccountIndex(), FIRST_FREE_ACCOUNT, "no index taken");
        assertEq(address(rollup).balance, 3 ether, "no ETH kept");
    }

    function testForcedExits() public {
        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.L1OpQueued(0, KIND_FORCED_EXIT, 6, 0, 0, BOB, 0, 0);
        vm.prank(BOB);
        rollup.forceExit(6);
        assertEq(rollup.queuedOpHash(0), keccak256(_forcedExitSlot(6, BOB)), "forceExit");
        assertEq(
            keccak256(rollup.l1Slot(KIND_FORCED_EXIT, 6, 0, 0, BOB, 0, 0)),
            keccak256(_forcedExitSlot(6, BOB)),
            "l1Slot()"
        );

        // Anyone may ask (the batch checks the owner); withdraw and initiateWithdrawal are aliases.
        vm.prank(STRANGER);
        rollup.withdraw(1);
        assertEq(rollup.queuedOpHash(1), keccak256(_forcedExitSlot(1, STRANGER)), "withdraw");
        vm.prank(ALICE);
        rollup.initiateWithdrawal(1);
        assertEq(rollup.queuedOpHash(2), keccak256(_forcedExitSlot(1, ALICE)), "initiateWithdrawal");
        assertEq(rollup.queueLength(), 3, "queue length");

        vm.expectRevert(bytes("forced exit: no such L2 account"));
        rollup.forceExit(0);
        vm.expectRevert(bytes("forced exit: no such L2 account"));
        rollup.forceExit(FIRST_FREE_ACCOUNT);
        vm.expectRevert(bytes("forced exit: no such L2 account"));
        rollup.withdraw(1 << 24);
    }
}

/// @notice Committing batches (batch size 4, so one L1 slot): only the operator, only data of
/// the right length, chain, number and old root, whose L1 slot is the queue's next operation
/// or empty (all zero); a correct commit records the roots and moves the queue head, and a
/// batch cannot be committed twice.
contract KilnRollupCommitTest is RollupFixture {
    function testOnlyTheOperatorCommits() public {
        bytes memory d = _nextBatch(_slots());
        vm.expectRevert(bytes("only the operator commits batches"));
        vm.prank(STRANGER);
        rollup.submitStateRoot(d);
        vm.expectRevert(bytes("only the operator commits batches"));
        vm.prank(GUARDIAN);
        rollup.submitStateRoot(d);
    }

    function testMalformedHeadersAreRefused() public {
        uint256 empty = rollup.emptyExitRoot();
        bytes memory good = _batchData(1, genesisRoot, _fakeRoot(1), empty, _slots());
        _refuse(bytes.concat(good, hex"00"), "batch data: wrong length for this rollup's batch size");
        _refuse(_cut(good, 12), "batch data: wrong length for this rollup's batch size");
        _refuse("", "batch data: wrong length for this rollup's batch size");

        bytes memory d = bytes.concat(good);
        d[7] = bytes1(uint8(8)); // chain id 8
        _refuse(d, "batch data: wrong chain id");
        d = bytes.concat(good);
        d[0] = 0x01; // chain id 2^56 + 7
        _refuse(d, "batch data: wrong chain id");

        _refuse(_batchData(0, genesisRoot, _fakeRoot(1), empty, _slots()), "batch data: not the next batch number");
        _refuse(_batchData(2, genesisRoot, _fakeRoot(1), empty, _slots()), "batch data: not the next batch number");
        _refuse(
            _batchData(1, _fakeRoot(0), _fakeRoot(1), empty, _slots()),
            "batch data: old state root is not the last committed root"
        );
        _refuse(_batchData(1, genesisRoot, R, empty, _slots()), "batch data: a root is not a field element");
        _refuse(_batchData(1, genesisRoot, _fakeRoot(1), R, _slots()), "batch data: a root is not a field element");

        vm.prank(OPERATOR);
        rollup.submitStateRoot(good);
        _assertProgress(1, 0, 0, 0, "after the good batch");
    }

    function testL1SlotMustBeTheNextQueuedOperation() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _refuse(
            _nextBatch(_slots(_depositSlot(1, 0, 1 ether + 1, CAROL, 0, 0))),
            "batch data: L1 slot is not the next queued operation"
        );
        _refuse(
            _nextBatch(_slots(_depositSlot(6, 0, 1 ether, CAROL, 0, 0))),
            "batch data: L1 slot is not the next queued operation"
        );
        _refuse(_nextBatch(_slots(_forcedExitSlot(1, CAROL))), "batch data: L1 slot is not the next queued operation");
        // Another kind byte, same fields.
        bytes memory d = _nextBatch(_slots(op));
        d[112] = bytes1(uint8(5));
        _refuse(d, "batch data: L1 slot is not the next queued operation");
        _commitNext(_slots(op));
        _assertProgress(1, 0, 1, 0, "after including the deposit");
    }

    function testEmptyL1SlotMustBeAllZero() public {
        _depositEth(CAROL, 1 ether, 1);
        bytes memory empty = new bytes(108);
        empty[3] = 0x01; // index 1, kind 0
        _refuse(_nextBatch(_slots(empty)), "batch data: an empty L1 slot is not all zero");
        empty = new bytes(108);
        empty[107] = 0x01; // the last byte of ay
        _refuse(_nextBatch(_slots(empty)), "batch data: an empty L1 slot is not all zero");
        empty = new bytes(108);
        empty[100] = 0x01; // in the last 12 bytes
        _refuse(_nextBatch(_slots(empty)), "batch data: an empty L1 slot is not all zero");
        // An all-zero slot leaves the queued deposit waiting.
        _commitNext(_slots(new bytes(108)));
        _assertProgress(1, 0, 0, 0, "an empty slot");
    }

    function testNoMoreOperationsThanQueued() public {
        _refuse(
            _nextBatch(_slots(_depositSlot(1, 0, 1 ether, CAROL, 0, 0))),
            "batch data: more L1 operations than the queue holds"
        );
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        // The queue's only operation is taken.
        _refuse(_nextBatch(_slots(op)), "batch data: more L1 operations than the queue holds");
    }

    function testCommitRecordsTheBatch() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        uint256 newRoot = _fakeRoot(1);
        uint256 exitRoot = 12345;
        bytes memory d = _batchData(1, genesisRoot, newRoot, exitRoot, _slots(op));
        vm.warp(T0 + 100);
        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.BatchCommitted(1, newRoot, exitRoot, 1);
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);

        assertEq(rollup.stateRoots(1), newRoot, "stateRoots(1)");
        assertEq(rollup.exitRoots(1), exitRoot, "exitRoots(1)");
        _assertProgress(1, 0, 1, 0, "after batch 1");
        (uint256 input, uint64 committedAt, uint64 headAfter) = rollup.pending(1);
        assertEq(input, uint256(sha256(d)) % R, "public input = sha256(D) mod r");
        assertEq(committedAt, T0 + 100, "committed at");
        assertEq(headAfter, 1, "queue head after");
        // Committed is not proven.
        assertEq(rollup.provenStateRoot(), genesisRoot, "proven root");
        assertTrue(!rollup.verifyStateCommitment(1, newRoot), "batch 1 is not proven");

        // Batch 2 starts from batch 1's root; without exits no exit root is kept.
        bytes memory d2 = _batchData(2, newRoot, _fakeRoot(2), rollup.emptyExitRoot(), _slots());
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d2);
        assertEq(rollup.stateRoots(2), _fakeRoot(2), "stateRoots(2)");
        assertEq(rollup.exitRoots(2), 0, "no exits in batch 2");
        _assertProgress(2, 0, 1, 0, "after batch 2");
    }

    function testABatchCannotBeCommittedTwice() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        bytes memory d = _commitNext(_slots(op));
        _refuse(d, "batch data: not the next batch number");
        // Nor its operation in the next batch.
        _refuse(
            _batchData(2, _fakeRoot(1), _fakeRoot(2), rollup.emptyExitRoot(), _slots(op)),
            "batch data: more L1 operations than the queue holds"
        );
        bytes memory op2 = _depositEth(CAROL, 2 ether, 1);
        _refuse(
            _batchData(2, _fakeRoot(1), _fakeRoot(2), rollup.emptyExitRoot(), _slots(op)),
            "batch data: L1 slot is not the next queued operation"
        );
        // Nor batch 2 from the genesis root.
        _refuse(
            _batchData(2, genesisRoot, _fakeRoot(2), rollup.emptyExitRoot(), _slots(op2)),
            "batch data: old state root is not the last committed root"
        );
        _commitNext(_slots(op2));
        _assertProgress(2, 0, 2, 0, "two batches");
    }

    function testSetOperator() public {
        vm.expectRevert(bytes("only the operator commits batches"));
        vm.prank(STRANGER);
        rollup.setOperator(STRANGER);
        vm.expectRevert(bytes("operator must be set"));
        vm.prank(OPERATOR);
        rollup.setOperator(address(0));
        vm.prank(OPERATOR);
        rollup.setOperator(CAROL);
        assertEq(rollup.operator(), CAROL, "the new operator");

        bytes memory d = _nextBatch(_slots());
        _refuse(d, "only the operator commits batches");
        vm.prank(CAROL);
        rollup.submitStateRoot(d);
        _assertProgress(1, 0, 0, 0, "committed by the new operator");
    }

    /// @dev The operator's commit of `d` reverts with `reason`.
    function _refuse(bytes memory d, string memory reason) internal {
        vm.expectRevert(bytes(reason));
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
    }

    function _cut(bytes memory d, uint256 bytes_) internal pure returns (bytes memory out) {
        out = new bytes(d.length - bytes_);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = d[i];
        }
    }
}

/// @notice With batch size 17 a batch has L = 2 L1 slots: queued operations must fill them in
/// queue order, from the first slot, with nothing after an empty one.
contract KilnRollupL1SlotOrderTest is RollupFixture {
    bytes internal a;
    bytes internal b;

    function _batchSize() internal pure override returns (uint256) {
        return 17;
    }

    function setUp() public override {
        super.setUp();
        a = _depositEth(CAROL, 1 ether, 1);
        b = _forceExit(BOB, 6);
    }

    function testSizes() public view {
        assertEq(rollup.l1Slots(), 2, "L = ceil(17 / 16)");
        assertEq(rollup.batchDataLength(), 112 + 2 * 108 + 12 + 17 * 12, "batch data length");
    }

    function testTwoOperationsInQueueOrder() public {
        _commitNext(_slots(a, b));
        _assertProgress(1, 0, 2, 0, "both included");
    }

    function testOperationsOutOfOrderAreRefused() public {
        _refuse(_nextBatch(_slots(b, a)), "batch data: L1 slot is not the next queued operation");
        _refuse(_nextBatch(_slots(a, a)), "batch data: L1 slot is not the next queued operation");
        _refuse(_nextBatch(_slots(b)), "batch data: L1 slot is not the next queued operation");
    }

    function testNoOperationAfterAnEmptySlot() public {
        _refuse(_nextBatch(_slots(new bytes(108), a)), "batch data: an L1 operation after an empty L1 slot");
    }

    function testOperationsSpreadOverBatches() public {
        _commitNext(_slots(a));
        _assertProgress(1, 0, 1, 0, "the first operation");
        _refuse(_nextBatch(_slots(a)), "batch data: L1 slot is not the next queued operation");
        _refuse(_nextBatch(_slots(b, b)), "batch data: more L1 operations than the queue holds");
        _commitNext(_slots(b));
        _assertProgress(2, 0, 2, 0, "the second operation");
        _commitNext(_slots());
        _assertProgress(3, 0, 2, 0, "a batch without L1 operations");
    }

    function _refuse(bytes memory d, string memory reason) internal {
        vm.expectRevert(bytes(reason));
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
    }
}

/// @notice Proving and reverting: with a verifier that refuses every proof, proving paths
/// revert with "proof does not verify for this batch data" and leave nothing behind; unproven
/// batches are reverted by the operator at any time or by anyone after the first one's proof
/// deadline, which puts their L1 operations back in the queue.
contract KilnRollupProveAndRevertTest is RollupFixture {
    function testVerifyStateTransitionWithARefusingVerifier() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        bytes memory d = _commitNext(_slots(op));
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.expectRevert(bytes("proof does not verify for this batch data"));
        vm.prank(STRANGER);
        rollup.verifyStateTransition(1, pa, pb, pc);
        _assertProgress(1, 0, 1, 0, "still unproven");
        (uint256 input,,) = rollup.pending(1);
        assertEq(input, uint256(sha256(d)) % R, "still pending");
        assertEq(rollup.provenStateRoot(), genesisRoot, "proven root");
    }

    function testOnlyTheFirstUnprovenBatchCanBeProven() public {
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.expectRevert(bytes("not the first committed batch waiting for its proof"));
        rollup.verifyStateTransition(1, pa, pb, pc);
        _commitNext(_slots());
        _commitNext(_slots());
        vm.expectRevert(bytes("not the first committed batch waiting for its proof"));
        rollup.verifyStateTransition(0, pa, pb, pc);
        vm.expectRevert(bytes("not the first committed batch waiting for its proof"));
        rollup.verifyStateTransition(2, pa, pb, pc);
        vm.expectRevert(bytes("not the first committed batch waiting for its proof"));
        rollup.verifyStateTransition(3, pa, pb, pc);
        vm.expectRevert(bytes("proof does not verify for this batch data"));
        rollup.verifyStateTransition(1, pa, pb, pc);
    }

    function testFinalizeBatchWithARefusingVerifier() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        bytes memory d = _nextBatch(_slots(op));
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.expectRevert(bytes("only the operator commits batches"));
        vm.prank(STRANGER);
        rollup.finalizeBatch(d, pa, pb, pc);
        vm.expectRevert(bytes("proof does not verify for this batch data"));
        vm.prank(OPERATOR);
        rollup.finalizeBatch(d, pa, pb, pc);
        _assertProgress(0, 0, 0, 0, "nothing committed");
        assertEq(rollup.stateRoots(1), 0, "no root kept");

        // Batch data is checked before the proof.
        bytes memory bad = _batchData(1, _fakeRoot(7), _fakeRoot(1), rollup.emptyExitRoot(), _slots(op));
        vm.expectRevert(bytes("batch data: old state root is not the last committed root"));
        vm.prank(OPERATOR);
        rollup.finalizeBatch(bad, pa, pb, pc);

        // Not while committed batches wait for their proofs.
        _commitNext(_slots(op));
        bytes memory next = _nextBatch(_slots());
        vm.expectRevert(bytes("committed batches wait for their proofs"));
        vm.prank(OPERATOR);
        rollup.finalizeBatch(next, pa, pb, pc);
    }

    function testNothingToRevert() public {
        vm.expectRevert(bytes("no committed batch waits for a proof"));
        vm.prank(OPERATOR);
        rollup.revertBatches();
    }

    function testAnyoneRevertsAfterTheProofDeadline() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        bytes memory d = _commitNext(_slots(op));
        vm.warp(T0 + PROOF_DEADLINE);
        vm.expectRevert(bytes("the first unproven batch is within its proof deadline"));
        vm.prank(STRANGER);
        rollup.revertBatches();

        vm.warp(T0 + PROOF_DEADLINE + 1);
        vm.expectEmit(false, false, false, true, address(rollup));
        emit KilnRollup.BatchesReverted(1, 1);
        vm.prank(STRANGER);
        rollup.revertBatches();
        _assertProgress(0, 0, 0, 0, "reverted");
        (uint256 input, uint64 committedAt,) = rollup.pending(1);
        assertEq(input, 0, "pending(1) cleared");
        assertEq(committedAt, 0, "pending(1) cleared");

        // The deposit is back in the queue: the same batch can be committed again.
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
        _assertProgress(1, 0, 1, 0, "committed again");
    }

    function testTheDeadlineIsTheFirstUnprovenBatchs() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        vm.warp(T0 + PROOF_DEADLINE);
        bytes memory op2 = _forceExit(BOB, 6);
        _commitNext(_slots(op2));
        _assertProgress(2, 0, 2, 0, "two batches");
        vm.warp(T0 + PROOF_DEADLINE + 1);
        vm.expectEmit(false, false, false, true, address(rollup));
        emit KilnRollup.BatchesReverted(1, 2);
        vm.prank(STRANGER);
        rollup.revertBatches();
        _assertProgress(0, 0, 0, 0, "both reverted");
        (, uint64 committedAt,) = rollup.pending(2);
        assertEq(committedAt, 0, "pending(2) cleared");
    }

    function testTheOperatorRevertsAtAnyTime() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        _commitNext(_slots());
        vm.expectEmit(false, false, false, true, address(rollup));
        emit KilnRollup.BatchesReverted(1, 2);
        vm.prank(OPERATOR);
        rollup.revertBatches();
        _assertProgress(0, 0, 0, 0, "reverted");
        // A different batch 1 from the genesis root, with the operation again.
        bytes memory d = _batchData(1, genesisRoot, _fakeRoot(11), rollup.emptyExitRoot(), _slots(op));
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
        assertEq(rollup.stateRoots(1), _fakeRoot(11), "the new batch 1");
        _assertProgress(1, 0, 1, 0, "committed again");
    }

    function testWithdrawalsNeedAProvenBatch() public {
        bytes memory d = _batchData(1, genesisRoot, _fakeRoot(1), 777, _slots());
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);
        uint256[4][] memory path = new uint256[4][](2);
        vm.expectRevert(bytes("withdrawal: the batch is not proven"));
        rollup.finalizeWithdrawal(1, 1, ALICE, 0, 1 ether, path);
        vm.expectRevert(bytes("withdrawal: the batch is not proven"));
        rollup.finalizeWithdrawal(0, 1, ALICE, 0, 1 ether, path);
        assertTrue(!rollup.exitPaid(1, 1), "nothing paid");
    }
}

/// @notice Exodus: once the oldest L1 operation no proven batch includes has waited past the
/// inclusion deadline anyone switches the rollup into exodus mode, for ever; owners then take
/// their balances of the last proven state (here the genesis) with state proofs checked on
/// chain, once, and queued deposits no proven batch included are refunded, once.
contract KilnRollupExodusTest is RollupFixture {
    function testExodusNeedsAWaitingOperation() public {
        vm.expectRevert(bytes("exodus: no L1 operation is waiting"));
        rollup.activateExodus();
        vm.warp(T0 + 365 days);
        vm.expectRevert(bytes("exodus: no L1 operation is waiting"));
        rollup.activateExodus();
    }

    function testExodusAfterTheInclusionDeadline() public {
        _forceExit(BOB, 6);
        vm.warp(T0 + INCLUSION_DEADLINE);
        vm.expectRevert(bytes("exodus: the oldest waiting L1 operation is within its inclusion deadline"));
        rollup.activateExodus();
        vm.warp(T0 + INCLUSION_DEADLINE + 1);
        vm.expectEmit(false, false, false, true, address(rollup));
        emit KilnRollup.ExodusActivated(0, genesisRoot);
        vm.prank(STRANGER);
        rollup.activateExodus();
        assertTrue(rollup.exodus(), "exodus");
    }

    function testCommittedButUnprovenOperationsStillCount() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        // The deadline is that of the oldest operation no proven batch includes (queue 0), not
        // of the first one past the committed head (queue 1, queued later).
        vm.warp(T0 + INCLUSION_DEADLINE);
        _forceExit(BOB, 6);
        vm.expectRevert(bytes("exodus: the oldest waiting L1 operation is within its inclusion deadline"));
        rollup.activateExodus();
        vm.warp(T0 + INCLUSION_DEADLINE + 1);
        rollup.activateExodus();
        assertTrue(rollup.exodus(), "exodus");
        assertEq(rollup.provenStateRoot(), genesisRoot, "exodus works on the genesis");
    }

    function testExodusStopsTheRollup() public {
        bytes memory d = _nextBatch(_slots());
        _enterExodus();
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        string memory reason = "the rollup is in exodus mode";
        vm.deal(CAROL, 1 ether);
        vm.startPrank(CAROL);
        vm.expectRevert(bytes(reason));
        rollup.deposit{value: 1}(address(0), 1, 1);
        vm.expectRevert(bytes(reason));
        rollup.deposit{value: 1}(address(0), 1, 5, 5);
        vm.expectRevert(bytes(reason));
        rollup.forceExit(1);
        vm.expectRevert(bytes(reason));
        rollup.activateExodus();
        vm.expectRevert(bytes(reason));
        rollup.verifyStateTransition(1, pa, pb, pc);
        vm.stopPrank();
        vm.startPrank(OPERATOR);
        vm.expectRevert(bytes(reason));
        rollup.submitStateRoot(d);
        vm.expectRevert(bytes(reason));
        rollup.finalizeBatch(d, pa, pb, pc);
        vm.expectRevert(bytes(reason));
        rollup.revertBatches();
        vm.stopPrank();
    }

    function testExodusWithdrawOfEth() public {
        Account memory a = _account(1);
        (uint256 root, uint256[4][] memory path) = _stateProof(1);
        assertEq(root, genesisRoot, "proof root");
        vm.expectRevert(bytes("exodus: the rollup is not in exodus mode"));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);

        _enterExodus();
        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.ExodusWithdrawal(1, ALICE, 0, 3 ether);
        vm.prank(STRANGER); // anyone may send it; the owner is paid
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        assertEq(ALICE.balance, 3 ether, "alice's ETH");
        assertEq(address(rollup).balance, 0, "the rollup's ETH");
        assertTrue(rollup.exodusWithdrawn(1), "account 1 withdrawn");

        vm.expectRevert(bytes("exodus: this account has already withdrawn"));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
    }

    function testExodusWithdrawOfTokens() public {
        _enterExodus();
        Account memory a = _account(6);
        (, uint256[4][] memory path) = _stateProof(6);
        vm.prank(BOB);
        rollup.exodusWithdraw(6, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        assertEq(token.balanceOf(BOB), 1000 ether, "bob's tokens");
        assertEq(token.balanceOf(address(rollup)), 0, "the rollup's tokens");
        vm.expectRevert(bytes("exodus: this account has already withdrawn"));
        rollup.exodusWithdraw(6, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
    }

    function testExodusWithdrawRefusesWrongProofs() public {
        _enterExodus();
        Account memory a = _account(1);
        (, uint256[4][] memory path) = _stateProof(1);
        string memory mismatch = "exodus: the state proof does not match the last proven state root";

        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance + 1, a.ax, a.ay, a.owner, path);
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(1, a.token, a.nonce + 1, a.balance, a.ax, a.ay, a.owner, path);
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(1, 1, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax + 1, a.ay, a.owner, path);
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, CAROL, path);
        // Account 1's proof presented for index 2 (position 2 of the same group) or 5.
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(2, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(5, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        // A changed sibling.
        path[3][1] += 1;
        vm.expectRevert(bytes(mismatch));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        path[3][1] -= 1;

        uint256[4][] memory short = new uint256[4][](11);
        for (uint256 k = 0; k < 11; k++) {
            short[k] = path[k];
        }
        vm.expectRevert(bytes("exodus: a state proof has 12 levels"));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, short);
        vm.expectRevert(bytes("exodus: no such L2 account"));
        rollup.exodusWithdraw(0, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        vm.expectRevert(bytes("exodus: no such L2 account"));
        rollup.exodusWithdraw(1 << 24, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        vm.expectRevert(bytes("exodus: the account has no L1 owner"));
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, address(0), path);

        // The right proof still works.
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        assertEq(ALICE.balance, 3 ether, "alice's ETH");
    }

    function testExodusUsesTheLastProvenRootNotTheLastCommitted() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        vm.warp(T0 + INCLUSION_DEADLINE + 1);
        rollup.activateExodus();
        Account memory a = _account(1);
        (, uint256[4][] memory path) = _stateProof(1);
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        assertEq(ALICE.balance, 3 ether, "the genesis balance");
    }

    function testExodusRefundsQueuedDeposits() public {
        _depositEth(CAROL, 1 ether, 1); // queue 0
        _forceExit(BOB, 6); // queue 1
        _depositTokenNewKey(CAROL, 250, 81, 82); // queue 2, index 7
        assertEq(CAROL.balance, 0, "carol deposited her ETH");
        assertEq(token.balanceOf(CAROL), 0, "carol deposited her tokens");

        vm.expectRevert(bytes("exodus: the rollup is not in exodus mode"));
        rollup.exodusRefundDeposit(0, 1, 0, 1 ether, CAROL, 0, 0);
        vm.warp(T0 + INCLUSION_DEADLINE + 1);
        rollup.activateExodus();

        vm.expectRevert(bytes("exodus: not the queued deposit"));
        rollup.exodusRefundDeposit(0, 1, 0, 2 ether, CAROL, 0, 0);
        vm.expectRevert(bytes("exodus: not the queued deposit"));
        rollup.exodusRefundDeposit(0, 1, 0, 1 ether, STRANGER, 0, 0);
        vm.expectRevert(bytes("exodus: not the queued deposit"));
        rollup.exodusRefundDeposit(1, 6, 0, 0, BOB, 0, 0); // a forced exit is no deposit
        vm.expectRevert(bytes("exodus: that queued operation was included by a proven batch, or does not exist"));
        rollup.exodusRefundDeposit(3, 1, 0, 1 ether, CAROL, 0, 0);

        vm.expectEmit(true, false, false, true, address(rollup));
        emit KilnRollup.DepositRefunded(0, CAROL, 0, 1 ether);
        vm.prank(STRANGER);
        rollup.exodusRefundDeposit(0, 1, 0, 1 ether, CAROL, 0, 0);
        assertEq(CAROL.balance, 1 ether, "carol's ETH back");
        assertTrue(rollup.depositRefunded(0), "refunded");
        vm.expectRevert(bytes("exodus: already refunded"));
        rollup.exodusRefundDeposit(0, 1, 0, 1 ether, CAROL, 0, 0);

        rollup.exodusRefundDeposit(2, 7, 1, 250, CAROL, 81, 82);
        assertEq(token.balanceOf(CAROL), 250, "carol's tokens back");
        assertEq(address(rollup).balance, 3 ether, "the genesis's ETH stays");
        assertEq(token.balanceOf(address(rollup)), 1000 ether, "the genesis's tokens stay");
    }
}

/// @notice An owner contract that re-enters the rollup from its ETH payout cannot claim
/// twice: the reentrancy guard refuses the inner call and the account is paid once.
contract KilnRollupReentrancyTest is RollupFixture {
    ReenteringOwner internal owner;

    function _genesisAccounts() internal override {
        owner = new ReenteringOwner();
        super._genesisAccounts();
        genesis.push(Account(2, 0, 5, 1 ether, 2001, 2002, address(owner)));
    }

    function testExodusPayoutCannotBeReentered() public {
        Account memory a = _account(2);
        (, uint256[4][] memory path) = _stateProof(2);
        bytes memory claim =
            abi.encodeCall(KilnRollup.exodusWithdraw, (2, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path));
        owner.arm(address(rollup), claim);
        _enterExodus();

        (bool ok,) = address(rollup).call(claim);
        assertTrue(ok, "the claim succeeds");
        assertTrue(owner.tried(), "the owner tried to claim again");
        assertTrue(!owner.innerOk(), "the second claim failed");
        assertEq(
            keccak256(owner.innerRevert()),
            keccak256(abi.encodeWithSignature("Error(string)", "reentrant call")),
            "the second claim's revert"
        );
        assertEq(address(owner).balance, 1 ether, "paid once");
        assertEq(address(rollup).balance, 3 ether, "alice's ETH stays");
    }
}

/// @notice The guardian's pause: only the guardian pauses and unpauses; a pause stops
/// deposits and new batches for at most maxPause, and stops no forced exit, proof, revert,
/// exodus activation or exodus claim. A pause cannot be renewed: the next one may start only
/// maxPause after the last one ended (lapsed or lifted), and only a pause on can be lifted, so
/// the rollup is live at least maxPause of any 2 * maxPause whatever the guardian does.
contract KilnRollupGuardianTest is RollupFixture {
    function testOnlyTheGuardianPauses() public {
        vm.expectRevert(bytes("only the guardian pauses"));
        vm.prank(OPERATOR);
        rollup.pause();
        vm.expectRevert(bytes("only the guardian pauses"));
        vm.prank(STRANGER);
        rollup.pause();

        vm.expectEmit(false, false, false, true, address(rollup));
        emit KilnRollup.Paused(T0 + MAX_PAUSE);
        vm.prank(GUARDIAN);
        rollup.pause();
        assertTrue(rollup.paused(), "paused");
        assertEq(rollup.pausedUntil(), T0 + MAX_PAUSE, "paused until");

        vm.expectRevert(bytes("only the guardian unpauses"));
        vm.prank(OPERATOR);
        rollup.unpause();
        vm.expectEmit(false, false, false, false, address(rollup));
        emit KilnRollup.Unpaused();
        vm.prank(GUARDIAN);
        rollup.unpause();
        assertTrue(!rollup.paused(), "unpaused");
        assertEq(rollup.pausedUntil(), T0, "the pause ended when it was lifted");
        _depositEth(CAROL, 1 ether, 1);
    }

    function testThePauseStopsDepositsAndBatches() public {
        bytes memory d = _nextBatch(_slots());
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.prank(GUARDIAN);
        rollup.pause();

        string memory noDeposits = "paused by the guardian: no deposits";
        vm.deal(CAROL, 1 ether);
        token.mint(CAROL, 100);
        vm.startPrank(CAROL);
        token.approve(address(rollup), 100);
        vm.expectRevert(bytes(noDeposits));
        rollup.deposit{value: 1}(address(0), 1, 1);
        vm.expectRevert(bytes(noDeposits));
        rollup.deposit{value: 1}(address(0), 1, 5, 5);
        vm.expectRevert(bytes(noDeposits));
        rollup.deposit(address(token), 100, 6);
        vm.expectRevert(bytes(noDeposits));
        rollup.deposit(address(token), 100, 5, 5);
        vm.stopPrank();

        vm.startPrank(OPERATOR);
        vm.expectRevert(bytes("paused by the guardian: no new batches"));
        rollup.submitStateRoot(d);
        vm.expectRevert(bytes("paused by the guardian: no new batches"));
        rollup.finalizeBatch(d, pa, pb, pc);
        vm.stopPrank();
        assertEq(rollup.queueLength(), 0, "nothing queued");
        _assertProgress(0, 0, 0, 0, "nothing committed");
    }

    function testThePauseSparesExitsProofsAndReverts() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        vm.prank(GUARDIAN);
        rollup.pause();

        _forceExit(BOB, 6);
        assertEq(rollup.queueLength(), 2, "the forced exit is queued");
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.expectRevert(bytes("proof does not verify for this batch data"));
        rollup.verifyStateTransition(1, pa, pb, pc);
        vm.prank(OPERATOR);
        rollup.revertBatches();
        _assertProgress(0, 0, 0, 0, "reverted during the pause");
        vm.prank(STRANGER);
        rollup.registerToken(address(new TestToken("other", "OTH")));
    }

    function testThePauseSparesExodus() public {
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        vm.warp(T0 + INCLUSION_DEADLINE);
        vm.prank(GUARDIAN);
        rollup.pause();
        vm.warp(T0 + INCLUSION_DEADLINE + 1);
        assertTrue(rollup.paused(), "paused");

        vm.prank(STRANGER);
        rollup.activateExodus();
        Account memory a = _account(1);
        (, uint256[4][] memory path) = _stateProof(1);
        rollup.exodusWithdraw(1, a.token, a.nonce, a.balance, a.ax, a.ay, a.owner, path);
        assertEq(ALICE.balance, 3 ether, "alice's exodus claim");
        rollup.exodusRefundDeposit(0, 1, 0, 1 ether, CAROL, 0, 0);
        assertEq(CAROL.balance, 1 ether, "carol's refund");
        assertEq(keccak256(op), keccak256(_depositSlot(1, 0, 1 ether, CAROL, 0, 0)), "the refunded op");
    }

    function testThePauseLapsesAfterMaxPause() public {
        vm.prank(GUARDIAN);
        rollup.pause();
        vm.warp(T0 + MAX_PAUSE - 1);
        assertTrue(rollup.paused(), "still paused");
        vm.deal(CAROL, 1 ether);
        vm.expectRevert(bytes("paused by the guardian: no deposits"));
        vm.prank(CAROL);
        rollup.deposit{value: 1 ether}(address(0), 1 ether, 1);
        bytes memory d = _nextBatch(_slots());
        vm.expectRevert(bytes("paused by the guardian: no new batches"));
        vm.prank(OPERATOR);
        rollup.submitStateRoot(d);

        vm.warp(T0 + MAX_PAUSE);
        assertTrue(!rollup.paused(), "the pause has lapsed");
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        _assertProgress(1, 0, 1, 0, "committed after the pause");
    }

    function testNoSecondPauseWhilePausedOrRightAfterItEnds() public {
        vm.prank(GUARDIAN);
        rollup.pause();
        _pauseRefused(); // the same block
        vm.warp(T0 + MAX_PAUSE - 1);
        assertTrue(rollup.paused(), "still paused");
        _pauseRefused(); // renewing a running pause
        vm.warp(T0 + MAX_PAUSE);
        assertTrue(!rollup.paused(), "the pause has lapsed");
        _pauseRefused(); // right after it ended
        vm.warp(T0 + MAX_PAUSE + 1);
        _pauseRefused();
        vm.warp(T0 + 2 * MAX_PAUSE - 1);
        _pauseRefused(); // a second short of maxPause after it ended
        assertEq(rollup.pausedUntil(), T0 + MAX_PAUSE, "the refusals moved nothing");
        assertTrue(!rollup.paused(), "live");
    }

    function testLiftingAPauseDoesNotRenewIt() public {
        vm.prank(GUARDIAN);
        rollup.pause();
        // The renewal the old contract allowed: lift the pause just before it lapses and pause
        // again at once.
        vm.warp(T0 + MAX_PAUSE - 1);
        vm.prank(GUARDIAN);
        rollup.unpause();
        assertEq(rollup.pausedUntil(), T0 + MAX_PAUSE - 1, "the pause ended when it was lifted");
        _pauseRefused();
        vm.warp(T0 + MAX_PAUSE);
        _pauseRefused();
        vm.warp(T0 + 2 * MAX_PAUSE - 2);
        _pauseRefused();
        assertTrue(!rollup.paused(), "live");
    }

    function testPauseAgainExactlyMaxPauseAfterALapsedPause() public {
        vm.prank(GUARDIAN);
        rollup.pause();
        vm.warp(T0 + MAX_PAUSE);
        // Live between the pauses.
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        vm.warp(T0 + 2 * MAX_PAUSE - 1);
        _pauseRefused();
        _commitNext(_slots());

        vm.warp(T0 + 2 * MAX_PAUSE);
        vm.expectEmit(false, false, false, true, address(rollup));
        emit KilnRollup.Paused(T0 + 3 * MAX_PAUSE);
        vm.prank(GUARDIAN);
        rollup.pause();
        assertTrue(rollup.paused(), "paused again");
        assertEq(rollup.pausedUntil(), T0 + 3 * MAX_PAUSE, "the second pause lasts maxPause");
        assertTrue(!_commitIffLive(), "no commit during the second pause");
        _assertProgress(2, 0, 1, 0, "the commits between the pauses");
    }

    function testPauseAgainExactlyMaxPauseAfterAnEarlyUnpause() public {
        vm.prank(GUARDIAN);
        rollup.pause();
        vm.warp(T0 + 100);
        vm.prank(GUARDIAN);
        rollup.unpause();
        assertEq(rollup.pausedUntil(), T0 + 100, "ended at the unpause");
        assertTrue(!rollup.paused(), "unpaused");
        bytes memory op = _depositEth(CAROL, 1 ether, 1);
        _commitNext(_slots(op));
        vm.warp(T0 + 100 + MAX_PAUSE - 1);
        _pauseRefused();

        vm.warp(T0 + 100 + MAX_PAUSE);
        vm.prank(GUARDIAN);
        rollup.pause();
        assertTrue(rollup.paused(), "paused again");
        assertEq(rollup.pausedUntil(), T0 + 100 + 2 * MAX_PAUSE, "a full maxPause");

        // Lifted in the block it started: the next pause waits maxPause from then.
        vm.prank(GUARDIAN);
        rollup.unpause();
        assertEq(rollup.pausedUntil(), T0 + 100 + MAX_PAUSE, "a pause of no time");
        assertTrue(_commitIffLive(), "live again");
        vm.warp(T0 + 100 + 2 * MAX_PAUSE - 1);
        _pauseRefused();
        vm.warp(T0 + 100 + 2 * MAX_PAUSE);
        assertTrue(_tryPause(), "paused a third time");
    }

    function testUnpauseWhenNotPausedReverts() public {
        vm.expectRevert(bytes("not paused"));
        vm.prank(GUARDIAN);
        rollup.unpause(); // never paused
        assertEq(rollup.pausedUntil(), 0, "never paused");
        vm.expectRevert(bytes("only the guardian unpauses"));
        vm.prank(STRANGER);
        rollup.unpause();

        vm.prank(GUARDIAN);
        rollup.pause();
        vm.warp(T0 + MAX_PAUSE);
        vm.expectRevert(bytes("not paused"));
        vm.prank(GUARDIAN);
        rollup.unpause(); // lapsed, at its very end
        vm.warp(T0 + MAX_PAUSE + 5);
        vm.expectRevert(bytes("not paused"));
        vm.prank(GUARDIAN);
        rollup.unpause();
        assertEq(rollup.pausedUntil(), T0 + MAX_PAUSE, "a lapsed pause keeps its end");

        vm.warp(T0 + 2 * MAX_PAUSE);
        vm.prank(GUARDIAN);
        rollup.pause();
        vm.warp(T0 + 2 * MAX_PAUSE + 7);
        vm.prank(GUARDIAN);
        rollup.unpause();
        vm.warp(T0 + 2 * MAX_PAUSE + 8);
        vm.expectRevert(bytes("not paused"));
        vm.prank(GUARDIAN);
        rollup.unpause(); // already lifted
        assertEq(rollup.pausedUntil(), T0 + 2 * MAX_PAUSE + 7, "the lifted pause keeps its end");
    }

    /// @dev The guardian tries to pause every hour for 20 days, so pauses as often as allowed
    /// (every 2 * maxPause, from T0); the operator commits whenever it can. Every window of
    /// 2 * maxPause holds exactly maxPause of live time, in which batches are committed.
    function testAGuardianPausingAsOftenAsAllowedLeavesHalfTheTimeLive() public {
        uint256 step = 1 hours;
        uint256 perPause = MAX_PAUSE / step;
        uint256 samples = 20 * perPause;
        bool[] memory live = new bool[](samples);
        uint256 pauses = 0;
        uint256 liveSamples = 0;
        for (uint256 i = 0; i < samples; i++) {
            vm.warp(T0 + i * step);
            if (_tryPause()) {
                assertEq(i % (2 * perPause), 0, "a pause starts every 2 * maxPause");
                pauses++;
            }
            live[i] = _commitIffLive();
            if (live[i]) liveSamples++;
        }
        assertEq(pauses, 10, "pauses in 20 days");
        assertEq(liveSamples * 2, samples, "live half the time");
        (uint64 committed,,,) = rollup.progress();
        assertEq(committed, liveSamples, "a batch committed at each live hour");
        for (uint256 a = 0; a + 2 * perPause <= samples; a++) {
            uint256 n = 0;
            for (uint256 j = a; j < a + 2 * perPause; j++) {
                if (live[j]) n++;
            }
            assertEq(n, perPause, "live maxPause of any 2 * maxPause");
        }
    }

    /// @dev A fuzzed guardian pauses and unpauses at will (often at the rules' boundaries).
    /// The contract takes exactly the pauses and unpauses the rules allow; whenever it is not
    /// paused the operator commits; and every window of 2 * maxPause holds at most maxPause of
    /// pause, so any long window is live at least half the time.
    function testTheRollupIsLiveHalfOfAnyLongWindow(uint256 seed) public {
        uint256 steps = 60;
        uint256[] memory starts = new uint256[](steps);
        uint256[] memory ends = new uint256[](steps);
        uint256 n = 0;
        for (uint256 i = 0; i < steps; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            assertEq(_commitIffLive(), !_inside(starts, ends, n, block.timestamp), "live outside the pauses");
            uint256 until = rollup.pausedUntil();
            if (r % 3 != 2) {
                bool allowed = until == 0 || block.timestamp >= until + MAX_PAUSE;
                assertEq(_tryPause(), allowed, "a pause exactly when maxPause after the last one ended");
                if (allowed) {
                    starts[n] = block.timestamp;
                    ends[n] = block.timestamp + MAX_PAUSE;
                    n++;
                }
            } else {
                bool on = block.timestamp < until;
                assertEq(_tryUnpause(), on, "an unpause exactly while paused");
                if (on) ends[n - 1] = block.timestamp;
            }
            assertEq(rollup.pausedUntil(), n == 0 ? 0 : ends[n - 1], "pausedUntil is the last pause's end");
            assertEq(_commitIffLive(), !_inside(starts, ends, n, block.timestamp), "live outside the pauses");
            vm.warp(_nextTime(r >> 8));
        }
        uint256 w = 2 * MAX_PAUSE;
        for (uint256 i = 0; i + 1 < n; i++) {
            assertTrue(starts[i + 1] >= ends[i] + MAX_PAUSE, "pauses are maxPause apart");
        }
        // The pause in [a, a + w) is piecewise linear in a, so it is greatest where a or a + w
        // meets a pause's start or end.
        for (uint256 i = 0; i < n; i++) {
            uint256[4] memory at = [starts[i], ends[i], starts[i] - w, ends[i] - w];
            for (uint256 j = 0; j < 4; j++) {
                assertTrue(_pausedIn(starts, ends, n, at[j], at[j] + w) <= MAX_PAUSE, "at most maxPause of 2 * maxPause");
            }
        }
        uint256 k = (block.timestamp - T0) / w;
        assertTrue(_pausedIn(starts, ends, n, T0, T0 + k * w) * 2 <= k * w, "live half of the whole run");
    }

    /// @dev Whether `t` is in one of the pauses [starts[i], ends[i]).
    function _inside(uint256[] memory starts, uint256[] memory ends, uint256 n, uint256 t) internal pure returns (bool) {
        for (uint256 i = 0; i < n; i++) {
            if (starts[i] <= t && t < ends[i]) return true;
        }
        return false;
    }

    /// @dev Seconds of [a, b) in the pauses.
    function _pausedIn(uint256[] memory starts, uint256[] memory ends, uint256 n, uint256 a, uint256 b)
        internal
        pure
        returns (uint256 total)
    {
        for (uint256 i = 0; i < n; i++) {
            uint256 lo = starts[i] > a ? starts[i] : a;
            uint256 hi = ends[i] < b ? ends[i] : b;
            if (hi > lo) total += hi - lo;
        }
    }
}

/// @notice A pause cannot force exodus: with a verifier that takes every proof, an operator
/// that commits (and proves) during the live periods includes every forced exit within
/// maxPause of its queueing, well inside the inclusion deadline, however the guardian pauses.
contract KilnRollupPauseLivenessTest is RollupFixture {
    function setUp() public override {
        super.setUp();
        KilnRollup.Config memory c = _config(_batchSize(), genesisRoot);
        c.verifier = new AcceptingVerifier();
        rollup = new KilnRollup(c);
        vm.label(address(rollup), "KilnRollup (accepting verifier)");
    }

    /// @dev The operator commits and proves the next batch with `slots`.
    function _finalizeNext(bytes[] memory slots) internal {
        bytes memory d = _nextBatch(slots);
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.prank(OPERATOR);
        rollup.finalizeBatch(d, pa, pb, pc);
    }

    function testAPauseCannotPushAForcedExitIntoExodus() public {
        bytes memory op = _forceExit(BOB, 6);
        vm.prank(GUARDIAN);
        rollup.pause(); // at once
        bytes memory d = _nextBatch(_slots(op));
        (uint256[2] memory pa, uint256[2][2] memory pb, uint256[2] memory pc) = _noProof();
        vm.warp(T0 + MAX_PAUSE - 1);
        vm.expectRevert(bytes("paused by the guardian: no new batches"));
        vm.prank(OPERATOR);
        rollup.finalizeBatch(d, pa, pb, pc);
        _pauseRefused();

        vm.warp(T0 + MAX_PAUSE);
        _pauseRefused();
        vm.expectRevert(bytes("exodus: the oldest waiting L1 operation is within its inclusion deadline"));
        rollup.activateExodus();
        _finalizeNext(_slots(op));
        _assertProgress(1, 1, 1, 1, "the forced exit is proven when the pause ends");

        vm.warp(T0 + 2 * MAX_PAUSE);
        assertTrue(_tryPause(), "the next pause");
        vm.warp(T0 + INCLUSION_DEADLINE + 1);
        vm.expectRevert(bytes("exodus: no L1 operation is waiting"));
        rollup.activateExodus();
        assertTrue(!rollup.exodus(), "no exodus");
    }

    /// @dev The guardian pauses as often as allowed for 20 days; forced exits come at the start
    /// of each pause (the worst moment) and in the last second before the next one. The
    /// operator proves each at the first live second; exodus never becomes possible.
    function testAGuardianPausingAsOftenAsAllowedCannotForceExodus() public {
        uint256 queued = 0;
        for (uint256 k = 0; k < 10; k++) {
            uint256 s = T0 + 2 * k * MAX_PAUSE;
            vm.warp(s);
            assertTrue(_tryPause(), "a pause every 2 * maxPause");
            bytes memory op = _forceExit(BOB, 6);
            queued++;
            vm.warp(s + MAX_PAUSE - 1);
            vm.expectRevert(bytes("exodus: the oldest waiting L1 operation is within its inclusion deadline"));
            rollup.activateExodus();
            vm.warp(s + MAX_PAUSE);
            _finalizeNext(_slots(op));
            vm.warp(s + 2 * MAX_PAUSE - 1);
            _pauseRefused();
            op = _forceExit(ALICE, 1);
            queued++;
            _finalizeNext(_slots(op)); // still live
            _assertProgress(queued, queued, queued, queued, "every forced exit proven");
            vm.expectRevert(bytes("exodus: no L1 operation is waiting"));
            rollup.activateExodus();
        }
        vm.warp(block.timestamp + INCLUSION_DEADLINE + 1);
        vm.expectRevert(bytes("exodus: no L1 operation is waiting"));
        rollup.activateExodus();
        assertTrue(!rollup.exodus(), "no exodus");
    }

    /// @dev A fuzzed guardian pauses and unpauses at will while forced exits arrive at random
    /// times; the operator commits and proves the waiting ones whenever the rollup is live
    /// (at once, or when the pause ends or is lifted). Each is proven within maxPause of its
    /// queueing and exodus can never be activated.
    function testForcedExitsOutlastAGuardianPausingAtWill(uint256 seed) public {
        uint256 steps = 60;
        bytes[] memory ops = new bytes[](steps);
        uint256 queued = 0;
        uint256 served = 0;
        for (uint256 i = 0; i < steps; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 until = rollup.pausedUntil();
            uint256 k = r % 4;
            if (k == 0) {
                bool allowed = until == 0 || block.timestamp >= until + MAX_PAUSE;
                assertEq(_tryPause(), allowed, "a pause exactly when maxPause after the last one ended");
            } else if (k == 1) {
                assertEq(_tryUnpause(), block.timestamp < until, "an unpause exactly while paused");
            } else {
                ops[queued++] = (r >> 2) % 2 == 0 ? _forceExit(BOB, 6) : _forceExit(ALICE, 1);
            }
            served = _serve(ops, queued, served);
            uint256 next = _nextTime(r >> 8);
            until = rollup.pausedUntil();
            if (served < queued && until <= next) {
                vm.warp(until); // the pause ends before the guardian's next move
                served = _serve(ops, queued, served);
            }
            vm.warp(next);
        }
        if (rollup.paused()) vm.warp(rollup.pausedUntil());
        served = _serve(ops, queued, served);
        assertEq(served, queued, "every forced exit proven");
        _assertProgress(queued, queued, queued, queued, "the end");
        vm.warp(block.timestamp + INCLUSION_DEADLINE + 1);
        vm.expectRevert(bytes("exodus: no L1 operation is waiting"));
        rollup.activateExodus();
    }

    /// @dev Exodus cannot be activated now; if live, the operator proves every waiting forced
    /// exit, each within maxPause of its queueing. Returns how many are proven.
    function _serve(bytes[] memory ops, uint256 queued, uint256 served) internal returns (uint256) {
        (bool activated,) = address(rollup).call(abi.encodeCall(KilnRollup.activateExodus, ()));
        assertTrue(!activated && !rollup.exodus(), "exodus cannot be activated");
        if (rollup.paused()) return served;
        for (; served < queued; served++) {
            assertTrue(block.timestamp <= rollup.queuedAt(served) + MAX_PAUSE, "proven within maxPause of queueing");
            _finalizeNext(_slots(ops[served]));
        }
        return served;
    }
}
