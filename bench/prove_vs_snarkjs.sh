#!/usr/bin/env bash
# kiln prove against snarkjs groth16 prove: the same ~2^16-constraint circuit
# (tests/fixtures/circuits/big.circom, a chain of circomlib Poseidon hashes), the same
# zkey and the same witness, timed in the same run. Release build only.
#
#   bash bench/prove_vs_snarkjs.sh [--runs N] [--key kiln|snarkjs] [--no-build]
#
#   --runs N      timed runs per prover (default 3); the median is reported
#   --key kiln    (default) the zkey comes from `kiln setup` (seconds)
#   --key snarkjs the zkey comes from snarkjs: a 2^16 powers of tau (tests/fixtures/ptau.sh;
#                 snarkjs's `prepare phase2` takes hours at 2^16 on 2 cores, so this is
#                 opt-in) + `snarkjs groth16 setup` + one beacon contribution
#   --no-build    use target/release/kiln as it is
#
# Both provers must produce proofs that `snarkjs groth16 verify` accepts, or the numbers
# are not reported. Prints a table and writes bench/out/prove_vs_snarkjs.json. Everything
# slow (the compiled circuit, witness, keys) is cached under .ci/cache/bench/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

runs=3
key_source=kiln
build=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --key) key_source="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "usage: bench/prove_vs_snarkjs.sh [--runs N] [--key kiln|snarkjs] [--no-build]" >&2; exit 2 ;;
    esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "--runs: a positive integer" >&2; exit 2; }
[[ "$key_source" == kiln || "$key_source" == snarkjs ]] || { echo "--key: kiln or snarkjs" >&2; exit 2; }

export KILN_NPM_BIN="${KILN_NPM_BIN:-$repo/.ci/npm/node_modules/.bin}"
snarkjs="$KILN_NPM_BIN/snarkjs"
[[ -x "$snarkjs" ]] || { echo "bench: $snarkjs not found; run 'bash .ci/run --install' first" >&2; exit 2; }
kiln="$repo/target/release/kiln"

say() { printf '== bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
quiet() {   # run a command, showing its output only if it fails
    local out
    if ! out="$("$@" 2>&1)"; then
        echo "bench: failed: $*" >&2
        echo "$out" >&2
        exit 1
    fi
}

declare -A setup_s=()

# --- the kiln binary
if [[ $build -eq 1 ]]; then
    say "cargo build --release --bin kiln"
    cargo build --release --bin kiln
fi
[[ -x "$kiln" ]] || { echo "bench: $kiln not built" >&2; exit 2; }

# --- the circuit, compiled once per source version
src_hash="$(cat tests/fixtures/circuits/big.circom tests/fixtures/circuits/big.input.json \
    tests/fixtures/circuits/build.sh .ci/npm/package-lock.json | sha256sum | cut -c1-16)"
dir="${KILN_CACHE_DIR:-$repo/.ci/cache}/bench/big-$src_hash"
mkdir -p "$dir"
exec 8>"$dir/.lock"
flock 8

if [[ ! -f "$dir/big.r1cs" ]]; then
    say "compiling big.circom with circom2 (--O2) into $dir"
    t=$(now)
    quiet bash tests/fixtures/circuits/build.sh --out "$dir" big
    setup_s[compile]=$(secs "$t" "$(now)")
    say "compiled in ${setup_s[compile]} s"
fi
r1cs="$dir/big.r1cs"

if [[ ! -f "$dir/big.wtns" ]]; then
    t=$(now)
    quiet "$snarkjs" wtns calculate "$dir/big_js/big.wasm" tests/fixtures/circuits/big.input.json "$dir/big.wtns.tmp"
    mv "$dir/big.wtns.tmp" "$dir/big.wtns"
    setup_s[witness]=$(secs "$t" "$(now)")
fi
wtns="$dir/big.wtns"

info="$("$snarkjs" r1cs info "$r1cs" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')"
constraints="$(sed -nE 's/.*# of Constraints: *([0-9]+).*/\1/p' <<<"$info")"
wires="$(sed -nE 's/.*# of Wires: *([0-9]+).*/\1/p' <<<"$info")"
outputs="$(sed -nE 's/.*# of Outputs: *([0-9]+).*/\1/p' <<<"$info")"
pub_in="$(sed -nE 's/.*# of Public Inputs: *([0-9]+).*/\1/p' <<<"$info")"
n=$((constraints + outputs + pub_in)); power=0
while (( n > 1 )); do n=$((n >> 1)); power=$((power + 1)); done
power=$((power + 1))
say "circuit: $constraints constraints, $wires wires, $((outputs + pub_in)) public, domain 2^$power"

# --- the proving key
zkey="$dir/big.$key_source.zkey"
if [[ ! -f "$zkey" ]]; then
    if [[ "$key_source" == kiln ]]; then
        say "kiln setup (development key)"
        t=$(now)
        quiet "$kiln" setup "$r1cs" "$zkey.tmp"
        mv "$zkey.tmp" "$zkey"
        setup_s[kiln_setup]=$(secs "$t" "$(now)")
        say "kiln setup: ${setup_s[kiln_setup]} s"
    else
        say "powers of tau 2^$power (snarkjs; slow, cached)"
        t=$(now)
        ptau="$(bash tests/fixtures/ptau.sh "$power")"
        setup_s[ptau]=$(secs "$t" "$(now)")
        say "ptau: ${setup_s[ptau]} s"
        t=$(now)
        quiet "$snarkjs" groth16 setup "$r1cs" "$ptau" "$dir/big.0000.zkey"
        setup_s[snarkjs_groth16_setup]=$(secs "$t" "$(now)")
        say "snarkjs groth16 setup: ${setup_s[snarkjs_groth16_setup]} s"
        t=$(now)
        quiet "$snarkjs" zkey beacon "$dir/big.0000.zkey" "$zkey.tmp" \
            0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9 10 -n="kiln bench beacon"
        mv "$zkey.tmp" "$zkey"
        rm -f "$dir/big.0000.zkey"
        setup_s[snarkjs_zkey_beacon]=$(secs "$t" "$(now)")
        say "snarkjs zkey beacon: ${setup_s[snarkjs_zkey_beacon]} s"
    fi
fi
vk="$dir/big.$key_source.vk.json"
[[ -f "$vk" ]] || quiet "$snarkjs" zkey export verificationkey "$zkey" "$vk"

# --- timed runs, alternating the provers so that drift in machine load hits both
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
snarkjs_s=()
kiln_s=()
for ((i = 1; i <= runs; i++)); do
    t=$(now)
    quiet "$snarkjs" groth16 prove "$zkey" "$wtns" "$work/snarkjs_proof.json" "$work/snarkjs_public.json"
    snarkjs_s+=("$(secs "$t" "$(now)")")
    t=$(now)
    quiet "$kiln" prove "$zkey" "$wtns" "$work/kiln_proof.json" "$work/kiln_public.json"
    kiln_s+=("$(secs "$t" "$(now)")")
    say "run $i/$runs: snarkjs ${snarkjs_s[-1]} s, kiln ${kiln_s[-1]} s"
done

# Both proofs must verify (in snarkjs) and agree on the public signals.
for who in snarkjs kiln; do
    out="$("$snarkjs" groth16 verify "$vk" "$work/${who}_public.json" "$work/${who}_proof.json" 2>&1)" \
        || { echo "bench: snarkjs rejects the $who proof; no numbers reported" >&2; echo "$out" >&2; exit 1; }
done
cmp -s "$work/snarkjs_public.json" "$work/kiln_public.json" \
    || { echo "bench: public.json differs between snarkjs and kiln" >&2; exit 1; }

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
snarkjs_med="$(median "${snarkjs_s[@]}")"
kiln_med="$(median "${kiln_s[@]}")"
ratio="$(awk -v s="$snarkjs_med" -v k="$kiln_med" 'BEGIN { printf "%.2f", s / k }')"

cpu="$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n1)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
printf '\nprove, %s constraints (domain 2^%s), zkey from %s, %s runs each, %s cores (%s), load %s\n' \
    "$constraints" "$power" "$key_source" "$runs" "$(nproc)" "$cpu" "$load"
printf '%-22s %12s %30s\n' "prover" "median (s)" "runs (s)"
printf '%-22s %12s %30s\n' "snarkjs groth16 prove" "$snarkjs_med" "${snarkjs_s[*]}"
printf '%-22s %12s %30s\n' "kiln prove (cpu)" "$kiln_med" "${kiln_s[*]}"
printf '%-22s %12s\n' "speedup (snarkjs/kiln)" "${ratio}x"
for k in "${!setup_s[@]}"; do printf '  setup: %s %s s\n' "$k" "${setup_s[$k]}"; done

mkdir -p bench/out
json_list() { local IFS=,; echo "[$*]"; }
setup_json="$(for k in "${!setup_s[@]}"; do printf '"%s": %s\n' "$k" "${setup_s[$k]}"; done | paste -sd, -)"
cat >bench/out/prove_vs_snarkjs.json <<EOF
{
  "suite": "prove_vs_snarkjs",
  "date": "$(date -u +%FT%TZ)",
  "git": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty)",
  "machine": { "cores": $(nproc), "cpu": "$cpu", "loadavg_at_end": "$load" },
  "circuit": { "source": "tests/fixtures/circuits/big.circom", "constraints": $constraints, "wires": $wires,
               "public": $((outputs + pub_in)), "domain_log2": $power },
  "zkey_source": "$key_source",
  "baseline": "snarkjs $("$snarkjs" --version 2>/dev/null | head -n1 | sed 's/snarkjs@//') groth16 prove (node $(node --version))",
  "runs": $runs,
  "snarkjs_s": $(json_list "${snarkjs_s[@]}"),
  "kiln_s": $(json_list "${kiln_s[@]}"),
  "snarkjs_median_s": $snarkjs_med,
  "kiln_median_s": $kiln_med,
  "speedup": $ratio,
  "setup_s_this_run": { $setup_json }
}
EOF
say "wrote bench/out/prove_vs_snarkjs.json"
