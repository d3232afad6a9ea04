// Checks kiln-rollup's values against circomlibjs (the peer wallets are built on).
//   node circomlibjs.cjs <node_modules dir> <cases.json>
// Prints one JSON object: what circomlibjs computes for each case, and a list of
// mismatches it found itself (empty when every check passed).
"use strict";
const path = require("path");
const fs = require("fs");

async function main() {
    const [nodeModules, casesFile] = process.argv.slice(2);
    const c = require(path.join(nodeModules, "circomlibjs"));
    const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
    const poseidon = await c.buildPoseidon();
    const eddsa = await c.buildEddsa();
    const F = poseidon.F;
    const H = (xs) => F.toObject(poseidon(xs.map((x) => BigInt(x)))).toString();
    const bad = [];
    const out = { poseidon: [], keys: [], tree: null, messages: [] };

    for (const k of cases.poseidon) {
        out.poseidon.push(H(k.inputs));
    }

    for (const k of cases.keys) {
        const prv = Buffer.from(k.prv, "hex");
        const A = eddsa.prv2pub(prv);
        const pub = [eddsa.F.toObject(A[0]).toString(), eddsa.F.toObject(A[1]).toString()];
        const msg = eddsa.F.e(BigInt(k.msg));
        const sig = eddsa.signPoseidon(prv, msg);
        const r8 = [eddsa.F.toObject(sig.R8[0]).toString(), eddsa.F.toObject(sig.R8[1]).toString()];
        // kiln's signature, checked by circomlibjs.
        const kilnSig = {
            R8: [eddsa.F.e(BigInt(k.sig.r8[0])), eddsa.F.e(BigInt(k.sig.r8[1]))],
            S: BigInt(k.sig.s),
        };
        const kilnPub = [eddsa.F.e(BigInt(k.pub[0])), eddsa.F.e(BigInt(k.pub[1]))];
        const accepted = eddsa.verifyPoseidon(msg, kilnSig, kilnPub);
        const otherMsg = eddsa.F.e(BigInt(k.msg) + 1n);
        const tamperedAccepted = eddsa.verifyPoseidon(otherMsg, kilnSig, kilnPub);
        out.keys.push({ pub, r8, s: sig.S.toString(), accepted, tamperedAccepted });
    }

    // The state tree, rebuilt here from its leaves by ROLLUP.md's definition, and every
    // proof kiln gave checked against the root circomlibjs computes.
    {
        const t = cases.tree;
        const E = [0n];
        for (let k = 0; k < 12; k++) E.push(BigInt(H([E[k], E[k], E[k], E[k]])));
        let level = new Map(t.leaves.map((l) => [BigInt(l.index), BigInt(l.leaf)]));
        for (let k = 0; k < 12; k++) {
            const next = new Map();
            for (const pos of new Set([...level.keys()].map((p) => p >> 2n))) {
                const ch = [0n, 1n, 2n, 3n].map((j) => level.has(pos * 4n + j) ? level.get(pos * 4n + j) : E[k]);
                next.set(pos, BigInt(H(ch)));
            }
            level = next;
        }
        const root = level.has(0n) ? level.get(0n) : E[12];
        out.tree = { root: root.toString() };
        for (const p of t.proofs) {
            let running = BigInt(p.leaf);
            let idx = BigInt(p.index);
            for (let k = 0; k < 12; k++) {
                const digit = Number(idx & 3n);
                idx >>= 2n;
                const group = p.path[k].map((x) => BigInt(x));
                if (group[digit] !== running) bad.push(`proof of ${p.index}: level ${k} does not hold the running hash`);
                running = BigInt(H(group));
            }
            if (running !== root) bad.push(`proof of ${p.index} ends at ${running}, not the root ${root}`);
        }
    }

    for (const m of cases.messages) {
        out.messages.push(H(m.fields));
    }
    out.bad = bad;
    process.stdout.write(JSON.stringify(out));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
