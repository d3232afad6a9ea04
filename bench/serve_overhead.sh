#!/usr/bin/env bash
# kiln serve against kiln prove, on the same circuit, key and witness, in the same run.
# Release build only.
#
#   bash bench/serve_overhead.sh [--circuit NAME] [--runs N] [--load N] [--no-build]
#
#   --circuit NAME  fixture for the per-proof overhead (default eddsa, 2^13 domain; big is
#                   the 2^16 one, compiled on first use)
#   --runs N        timed proofs per side (default 10); medians are reported
#   --load N        small (poseidon, 2^11) proofs submitted at once for the throughput
#                   part (default 200)
#   --no-build      use $CARGO_TARGET_DIR/release/kiln (or target/release/kiln) as it is
#
# Reports, per proof on --circuit:
#   prove_cli_s     wall time of one `kiln prove` process (starts, loads the key, proves,
#                   writes proof.json/public.json): what a script without the daemon pays
#   daemon_e2e_s    one client's POST .wtns + long-poll GET until succeeded, key resident
#   daemon_submit_s of which the POST until its 202 (the job is durable by then)
#   daemon_prove_s  the daemon's own `timings.prove_ms` (the prover call, same code as CLI)
#   overhead        (daemon_e2e - daemon_prove) / daemon_prove: what the daemon adds
#   e2e_vs_cli      daemon_e2e / prove_cli
# and for --load small proofs: submissions/s accepted (202) with 16 concurrent clients,
# proofs/s completed, and the ratio of that to sequential `kiln prove` runs; and how long
# GET /healthz takes while those proofs keep every core busy, against the idle server.
# Prints a table and writes bench/out/serve_overhead.json. Keys are made with `kiln setup`
# (development keys; the prover does the same work as with a ceremony key) and cached in
# .ci/cache/bench/serve/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

circuit=eddsa
runs=10
load=200
build=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --circuit) circuit="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --load) load="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "usage: bench/serve_overhead.sh [--circuit NAME] [--runs N] [--load N] [--no-build]" >&2; exit 2 ;;
    esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "--runs: a positive integer" >&2; exit 2; }
[[ "$load" =~ ^[1-9][0-9]*$ ]] || { echo "--load: a positive integer" >&2; exit 2; }

export KILN_NPM_BIN="${KILN_NPM_BIN:-$repo/.ci/npm/node_modules/.bin}"
snarkjs="$KILN_NPM_BIN/snarkjs"
[[ -x "$snarkjs" ]] || { echo "bench: $snarkjs not found; run 'bash .ci/run --install' first" >&2; exit 2; }
command -v node >/dev/null || { echo "bench: node is needed (it drives the HTTP clients)" >&2; exit 2; }
target="${CARGO_TARGET_DIR:-$repo/target}"
kiln="$target/release/kiln"

say() { printf '== bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [[ $build -eq 1 ]]; then
    say "cargo build --release --bin kiln"
    cargo build --release --bin kiln
fi
[[ -x "$kiln" ]] || { echo "bench: $kiln not found (build it, or drop --no-build)" >&2; exit 2; }

cache="$repo/.ci/cache/bench/serve"
mkdir -p "$cache" "$repo/bench/out"
work="$(mktemp -d -t kiln-serve-bench.XXXXXX)"
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fixture() {   # fixture NAME -> makes $cache/NAME.zkey and $cache/NAME.wtns
    local name="$1" fx="$repo/tests/fixtures/circuits" build="$repo/tests/fixtures/circuits/build"
    [[ -f "$fx/$name.circom" ]] || { echo "bench: no fixture $fx/$name.circom" >&2; exit 2; }
    if [[ ! -f "$build/$name.r1cs" ]]; then   # not committed (big): compile it once
        build="$cache/build"
        if [[ ! -f "$build/$name.r1cs" ]]; then
            say "compiling $name.circom with circom2 into $build"
            bash "$fx/build.sh" --out "$build" "$name" >/dev/null
        fi
    fi
    if [[ ! -f "$cache/$name.zkey" ]]; then
        say "kiln setup $name (development key)"
        "$kiln" setup "$build/$name.r1cs" "$cache/$name.zkey.tmp" 2>/dev/null
        mv "$cache/$name.zkey.tmp" "$cache/$name.zkey"
    fi
    if [[ ! -f "$cache/$name.wtns" ]]; then
        "$snarkjs" wtns calculate "$build/${name}_js/$name.wasm" "$fx/$name.input.json" "$cache/$name.wtns" >/dev/null
    fi
}
fixture "$circuit"
fixture poseidon

# --- baseline: kiln prove, one process per proof
cli_times() {   # cli_times NAME N -> one wall time per line
    local name="$1" n="$2" i t0 t1
    "$kiln" prove "$cache/$name.zkey" "$cache/$name.wtns" "$work/p.json" "$work/pub.json"   # warm the page cache
    for ((i = 0; i < n; i++)); do
        t0="$(now)"
        "$kiln" prove "$cache/$name.zkey" "$cache/$name.wtns" "$work/p.json" "$work/pub.json"
        t1="$(now)"
        secs "$t0" "$t1"; echo
    done
}
say "kiln prove $circuit x $runs"
prove_cli="$(cli_times "$circuit" "$runs" | median)"
"$snarkjs" zkey export verificationkey "$cache/$circuit.zkey" "$work/vk.json" >/dev/null
"$snarkjs" groth16 verify "$work/vk.json" "$work/pub.json" "$work/p.json" | grep -q OK \
    || { echo "bench: snarkjs rejects kiln prove's proof" >&2; exit 1; }
say "kiln prove poseidon x $runs"
prove_cli_small="$(cli_times poseidon "$runs" | median)"

# --- the daemon
admin="bench-admin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
KILN_ADMIN_KEY="$admin" "$kiln" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
    --max-queued-jobs 100000 --max-concurrent-jobs 100000 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/serve.out" 2>/dev/null && break
    sleep 0.1
done
base="$(sed -n 's/^kiln serve: listening on //p' "$work/serve.out")"
[[ -n "$base" ]] || { echo "bench: kiln serve did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }
say "kiln serve at $base"

node - "$base" "$admin" "$cache/$circuit.zkey" "$cache/$circuit.wtns" "$cache/poseidon.zkey" \
    "$cache/poseidon.wtns" "$runs" "$load" >"$work/daemon.json" <<'EOF'
const fs = require("fs");
const [base, admin, zkey, wtns, smallZkey, smallWtns, runs, load] = process.argv.slice(2);
const call = async (method, path, key, body) => {
    const r = await fetch(base + path, {
        method, body,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
};
const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b), n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const ping = async () => {
    const t = performance.now();
    const r = await fetch(base + "/healthz");
    await r.text();
    if (r.status !== 200) throw new Error(`GET /healthz: ${r.status}`);
    return performance.now() - t;
};
const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
const waitDone = async (key, id) => {
    for (;;) {
        const j = await call("GET", `/v1/proofs/${id}?wait=30`, key);
        if (j.status === "succeeded") return j;
        if (j.status !== "queued" && j.status !== "running") throw new Error(JSON.stringify(j));
    }
};
(async () => {
    const t = await call("POST", "/v1/tenants", admin, "{}");
    const key = t.api_key;
    const c = await call("POST", "/v1/circuits", key, fs.readFileSync(zkey));
    const w = fs.readFileSync(wtns);
    await waitDone(key, (await call("POST", `/v1/circuits/${c.id}/proofs`, key, w)).id); // warm
    const e2e = [], prove = [], submit = [];
    for (let i = 0; i < +runs; i++) {
        const t0 = performance.now();
        const { id } = await call("POST", `/v1/circuits/${c.id}/proofs`, key, w);
        submit.push((performance.now() - t0) / 1e3);
        const j = await waitDone(key, id);
        e2e.push((performance.now() - t0) / 1e3);
        prove.push(j.timings.prove_ms / 1e3);
    }
    // Throughput: `load` small proofs from 16 concurrent clients.
    const sc = await call("POST", "/v1/circuits", key, fs.readFileSync(smallZkey));
    const sw = fs.readFileSync(smallWtns);
    await waitDone(key, (await call("POST", `/v1/circuits/${sc.id}/proofs`, key, sw)).id); // warm
    const ids = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < +load) {
            next++;
            ids.push((await call("POST", `/v1/circuits/${sc.id}/proofs`, key, sw)).id);
        }
    }));
    const accepted = (performance.now() - t0) / 1e3;
    // Responsiveness: GET /healthz every 20 ms while the queue is proved (every core busy).
    let proving = true;
    const busy = (async () => {
        const lat = [];
        while (proving) {
            lat.push(await ping());
            await new Promise((r) => setTimeout(r, 20));
        }
        return lat;
    })();
    for (const id of ids) await waitDone(key, id);
    const done = (performance.now() - t0) / 1e3;
    proving = false;
    const busyLat = await busy;
    const idleLat = [];
    for (let i = 0; i < 50; i++) idleLat.push(await ping());
    console.log(JSON.stringify({
        daemon_e2e_s: median(e2e), daemon_prove_s: median(prove), daemon_submit_s: median(submit),
        load: ids.length, accept_s: accepted, complete_s: done,
        healthz_idle_ms: median(idleLat), healthz_busy_ms: median(busyLat),
        healthz_busy_p99_ms: p99(busyLat),
    }));
})().catch((e) => { console.error(e.message); process.exit(1); });
EOF

read -r e2e dprove dsubmit n accept_s complete_s hz_idle hz_busy hz_p99 < <(node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(d.daemon_e2e_s, d.daemon_prove_s, d.daemon_submit_s, d.load, d.accept_s, d.complete_s,
        d.healthz_idle_ms, d.healthz_busy_ms, d.healthz_busy_p99_ms);' "$work/daemon.json")
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

r() { awk "BEGIN { printf \"%.4f\", $1 }"; }

e2e="$(r "$e2e")"; dprove="$(r "$dprove")"; dsubmit="$(r "$dsubmit")"
overhead="$(r "($e2e - $dprove) / $dprove")"
e2e_vs_cli="$(r "$e2e / $prove_cli")"
subs_per_s="$(r "$n / $accept_s")"
proofs_per_s="$(r "$n / $complete_s")"
cli_per_s="$(r "1 / $prove_cli_small")"
tput_ratio="$(r "$proofs_per_s / $cli_per_s")"

printf '\nkiln serve vs kiln prove (%s, %s runs each; release build; %s cores)\n' "$circuit" "$runs" "$(nproc)"
printf '%-44s %12s\n' "metric" "value"
printf '%-44s %12s\n' "kiln prove wall per proof (s)" "$prove_cli"
printf '%-44s %12s\n' "daemon end-to-end per proof (s)" "$e2e"
printf '%-44s %12s\n' "daemon prover time per proof (s)" "$dprove"
printf '%-44s %12s\n' "  of the e2e: POST until 202 (s)" "$dsubmit"
printf '%-44s %11.1f%%\n' "daemon overhead over its prover time" "$(r "$overhead * 100")"
printf '%-44s %12s\n' "daemon e2e / kiln prove wall (ratio)" "$e2e_vs_cli"
printf '%-44s %12s\n' "poseidon: submissions accepted per s" "$subs_per_s"
printf '%-44s %12s\n' "poseidon: proofs completed per s (daemon)" "$proofs_per_s"
printf '%-44s %12s\n' "poseidon: proofs per s (kiln prove loop)" "$cli_per_s"
printf '%-44s %12s\n' "poseidon: daemon / kiln prove loop (ratio)" "$tput_ratio"
printf '%-44s %12s\n' "GET /healthz idle, median (ms)" "$(r "$hz_idle")"
printf '%-44s %12s\n' "GET /healthz while proving, median (ms)" "$(r "$hz_busy")"
printf '%-44s %12s\n' "GET /healthz while proving, p99 (ms)" "$(r "$hz_p99")"

cat >"$repo/bench/out/serve_overhead.json" <<JSON
{
  "circuit": "$circuit", "runs": $runs, "cores": $(nproc),
  "prove_cli_s": $prove_cli, "daemon_e2e_s": $e2e, "daemon_prove_s": $dprove, "daemon_submit_s": $dsubmit,
  "overhead": $overhead, "e2e_vs_cli": $e2e_vs_cli,
  "load": $n, "submissions_per_s": $subs_per_s, "proofs_per_s": $proofs_per_s,
  "cli_proofs_per_s": $cli_per_s, "throughput_vs_cli": $tput_ratio,
  "healthz_idle_ms": $hz_idle, "healthz_busy_ms": $hz_busy, "healthz_busy_p99_ms": $hz_p99
}
JSON
say "wrote bench/out/serve_overhead.json"
