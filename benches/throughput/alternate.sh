#!/usr/bin/env bash
# Quick runs of two release binaries, alternated on one data dir (BENCHMARKS.md): for each round,
# binary and body file, the binary serves on 127.0.0.1:18090, quick.sh measures, the server stops.
#
#   bash benches/throughput/alternate.sh <data dir> <binary A> <binary B> [rounds] [seconds]
#
# Environment: BENCH_KINDS (default "history lea search": <data dir>/<kind>.jsonl from bodies.py),
# BENCH_TOKEN and BENCH_LEA_TOKEN (the tokens for the bodies; LEA bodies use the second),
# CCPOR_NO_CACHE=true for the uncached rows.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:?data dir}; A=${2:?binary A}; B=${3:?binary B}
ROUNDS=${4:-2}; SECS=${5:-8}
KINDS=${BENCH_KINDS:-history lea search}
: "${BENCH_TOKEN:?BENCH_TOKEN}"
for round in $(seq 1 "$ROUNDS"); do
  for bin in "$A" "$B"; do
    for kind in $KINDS; do
      tok=$BENCH_TOKEN
      [ "$kind" = lea ] && tok=${BENCH_LEA_TOKEN:?BENCH_LEA_TOKEN}
      "$bin" --data-dir "$D" serve --addr 127.0.0.1:18090 --cost-per-minute 0 >/dev/null 2>&1 &
      pid=$!
      for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18090/healthz && break; sleep 0.2; done
      echo "round $round $bin $kind: $(bash "$HERE/quick.sh" "$D/$kind.jsonl" "$tok" "$SECS" 2>&1 | tr '\n' ' ')"
      kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    done
  done
done
