// Builds kiln's L1 contracts into contracts/out/ (committed, so the appliance needs no
// compiler at run time): every contract of src/ and test/ compiled by solc-js with the
// settings below, and circomlib's Poseidon contracts of 3, 4 and 6 inputs from circomlibjs's
// generator. Each artifact is {contractName, abi, bytecode, compiler}.
//
//   node contracts/build.mjs           write contracts/out/
//   node contracts/build.mjs --check   exit 1 if a fresh build differs from contracts/out/
//
// The npm packages come from KILN_NPM_MODULES (default: .ci/npm/node_modules).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = resolve(process.env.KILN_NPM_MODULES || join(here, "..", ".ci", "npm", "node_modules"));
const require = createRequire(join(modules, "noop.js"));
const solc = require("solc");
const gen = await import(join(modules, "circomlibjs", "src", "poseidon_gencontract.js"));

/** Compiler settings: part of what the committed bytecode is reproduced from. */
export const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
};

const sources = {};
for (const dir of ["src", "test"]) {
  for (const f of readdirSync(join(here, dir)).sort()) {
    if (f.endsWith(".sol") && !f.endsWith(".t.sol")) {
      sources[`${dir}/${f}`] = { content: readFileSync(join(here, dir, f), "utf8") };
    }
  }
}
const input = { language: "Solidity", sources, settings: SETTINGS };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: (p) => {
  const f = join(here, p);
  return existsSync(f) ? { contents: readFileSync(f, "utf8") } : { error: `not found: ${p}` };
} }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

const artifacts = {};
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    if (!c.evm.bytecode.object) continue; // interfaces
    artifacts[name] = {
      contractName: name,
      source: `contracts/${file}`,
      compiler: `solc-js ${solc.version()}`,
      settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
    };
  }
}
for (const n of [3, 4, 6]) {
  artifacts[`Poseidon${n}`] = {
    contractName: `Poseidon${n}`,
    source: "circomlibjs/src/poseidon_gencontract.js",
    compiler: "circomlibjs 0.1.7 poseidon_gencontract.createCode",
    abi: gen.generateABI(n),
    bytecode: gen.createCode(n),
  };
}

const out = join(here, "out");
const check = process.argv.includes("--check");
let differ = 0;
if (!check) mkdirSync(out, { recursive: true });
for (const [name, a] of Object.entries(artifacts).sort()) {
  const path = join(out, `${name}.json`);
  const text = JSON.stringify(a, null, 2) + "\n";
  if (check) {
    const old = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (old !== text) {
      console.error(`contracts/out/${name}.json differs from a fresh build`);
      differ++;
    }
  } else {
    writeFileSync(path, text);
  }
}
if (check) {
  const stale = readdirSync(out).filter((f) => f.endsWith(".json") && !(f.slice(0, -5) in artifacts));
  for (const f of stale) console.error(`contracts/out/${f} has no source`);
  if (differ || stale.length) process.exit(1);
  console.log(`${Object.keys(artifacts).length} artifacts match a fresh build`);
} else {
  console.log(`wrote ${Object.keys(artifacts).length} artifacts to contracts/out/`);
}
