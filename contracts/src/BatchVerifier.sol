// SPDX-License-Identifier: Apache-2.0
// Written by `kiln zkey export-verifier`: the Groth16 verifier of one key on BN254,
// with 1 public input(s).
pragma solidity >=0.8.4 <0.9.0;

/// @title Groth16 verifier of one proving key (BN254)
/// @notice `verifyProof` takes the proof in snarkjs's calldata order and answers whether
/// it verifies for `input`; a malformed proof or input gets `false`, never a revert.
contract BatchVerifier {
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    uint256 internal constant ALPHA_X = 107955441303086499198928264574281537751491210347764280892389001568777607861546;
    uint256 internal constant ALPHA_Y = 110080970341908487192789688659483762553618370242197702495108153067453059348642;
    uint256 internal constant BETA_X1 = 60124728997506217764267090335606996038177857429171321364999315067515924534725;
    uint256 internal constant BETA_X0 = 74249595123005448703117649809759292984517352940418113647811378097581189932446;
    uint256 internal constant BETA_Y1 = 61256289277087739664516939468055706466039065035778510460103927819462051691648;
    uint256 internal constant BETA_Y0 = 99890810300951410996359734193733390479853782359887855825435097179345951183573;
    uint256 internal constant GAMMA_X1 = 64286430863847554687330969916521621012898786225935519744159699403013111302840;
    uint256 internal constant GAMMA_X0 = 91603301992688792974917462981022479022989040182629578317812322526342632553992;
    uint256 internal constant GAMMA_Y1 = 94406795843825071620205167288708232661762213095475396711500317283916367327244;
    uint256 internal constant GAMMA_Y0 = 101963113537120534499277372023032336494017371058853802456427514267839599301280;
    uint256 internal constant DELTA_X1 = 96286845718393428936597760339906510135289282356753488990014822739378795258446;
    uint256 internal constant DELTA_X0 = 65305702480442072713141058001545903455313864841782486605787503732320766131675;
    uint256 internal constant DELTA_Y1 = 101395612329438279924540856543810758474836010909455220265767393708338414283364;
    uint256 internal constant DELTA_Y0 = 103237912187242898539568889297215484730532693160481776690190322816715610037595;
    uint256 internal constant IC0_X = 83648955530131300698546631553899392227652409723900444123316128580828526354434;
    uint256 internal constant IC0_Y = 103476761706956394557929072239997756361476898168225809084440648145796595319086;
    uint256 internal constant IC1_X = 90976434367792036258832585259079037298341757783101578346708147520206276654203;
    uint256 internal constant IC1_Y = 81995902729356141052513836163145391318935748956711353475299961205361591121563;

    /// @notice Whether the proof `(a, b, c)` verifies for the public inputs `input`.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[1] calldata input
    ) external view returns (bool) {
        for (uint256 i = 0; i < 1; i++) {
            if (input[i] >= R) return false;
        }
        if (a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q) return false;
        if (b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q) return false;

        // vk_x = IC0 + sum of input[i] * IC(i+1)
        uint256[2] memory vkX = [uint256(IC0_X), uint256(IC0_Y)];
        if (!mulAdd(vkX, IC1_X, IC1_Y, input[0])) return false;

        // e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1
        uint256[24] memory p;
        p[0] = a[0];
        p[1] = a[1] == 0 ? 0 : Q - a[1];
        p[2] = b[0][0];
        p[3] = b[0][1];
        p[4] = b[1][0];
        p[5] = b[1][1];
        p[6] = ALPHA_X;
        p[7] = ALPHA_Y;
        p[8] = BETA_X1;
        p[9] = BETA_X0;
        p[10] = BETA_Y1;
        p[11] = BETA_Y0;
        p[12] = vkX[0];
        p[13] = vkX[1];
        p[14] = GAMMA_X1;
        p[15] = GAMMA_X0;
        p[16] = GAMMA_Y1;
        p[17] = GAMMA_Y0;
        p[18] = c[0];
        p[19] = c[1];
        p[20] = DELTA_X1;
        p[21] = DELTA_X0;
        p[22] = DELTA_Y1;
        p[23] = DELTA_Y0;
        uint256[1] memory out;
        bool ok;
        assembly {
            ok := staticcall(gas(), 0x08, p, 768, out, 32)
        }
        return ok && out[0] == 1;
    }

    /// acc += s * (x, y), with the ecMul and ecAdd precompiles; false if either fails.
    function mulAdd(uint256[2] memory acc, uint256 x, uint256 y, uint256 s) private view returns (bool ok) {
        uint256[4] memory buf;
        buf[0] = x;
        buf[1] = y;
        buf[2] = s;
        assembly {
            ok := staticcall(gas(), 0x07, buf, 96, buf, 64)
            mstore(add(buf, 64), mload(acc))
            mstore(add(buf, 96), mload(add(acc, 32)))
            ok := and(ok, staticcall(gas(), 0x06, buf, 128, acc, 64))
        }
    }
}
