#!/usr/bin/env bash
# kiln's benchmark runner: every suite against its baseline in the same run.
#   bash bench/run.sh [--max-log N] [--quick]
# The device suites are `kiln bench` (the shipped binary's own command): MSM and NTT on every
# device against arkworks, whole proofs against the CPU backend; results as a table, and
# JSON, CSV and plots under bench/out/suites/. The daemon and snarkjs comparisons follow.
# Release builds only.
set -euo pipefail
cd "$(dirname "$0")/.."
max_log=20
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --max-log) max_log="$2"; shift 2 ;;
    --quick) quick=1; max_log=16; shift ;;
    *) echo "usage: bench/run.sh [--max-log N] [--quick]" >&2; exit 2 ;;
  esac
done
mkdir -p bench/out
cargo build --release --bin kiln
kiln="${CARGO_TARGET_DIR:-target}/release/kiln"
echo "== kiln bench all: every device against arkworks and the CPU backend (same process) =="
"$kiln" bench all --sizes "12..$max_log" --device all --out bench/out/suites
if [ "$quick" = 0 ]; then
  echo "== kiln prove against snarkjs groth16 prove (same script) =="
  bash bench/prove_vs_snarkjs.sh
  echo "== kiln serve against kiln prove (same script) =="
  bash bench/serve_overhead.sh --no-build
  cp bench/out/serve_overhead.json bench/out/serve_overhead_eddsa.json
  bash bench/serve_overhead.sh --no-build --circuit big --load 100
  cp bench/out/serve_overhead.json bench/out/serve_overhead_big.json
fi
