#!/usr/bin/env bash
# Instructions a server spends on N requests, counted by callgrind (repeatable whatever else the
# machine does, unlike requests per second): the server under callgrind, N bodies of KIND
# (history, lea, search: the files bodies.py writes into the data dir) sent one at a time with
# CCPOR_NO_CACHE=true, then SIGTERM; prints callgrind's total. Run it with N=0 too and subtract:
# what remains is the requests' cost. Used for BENCHMARKS.md's before/after of issue 20.
#
#   BENCH_TOKEN=<token> bash benches/throughput/callgrind.sh <data dir> <binary> <N> <kind> <out>
set -euo pipefail
D=${1:?data dir}; BIN=${2:?binary}; N=${3:?requests}; KIND=${4:?kind}; OUT=${5:?out file}
: "${BENCH_TOKEN:?BENCH_TOKEN}"
CCPOR_NO_CACHE=true valgrind --tool=callgrind --callgrind-out-file="$OUT" \
  "$BIN" --data-dir "$D" serve --addr 127.0.0.1:18091 --cost-per-minute 0 >/dev/null 2>"$OUT.log" &
pid=$!
for _ in $(seq 1 600); do curl -s -o /dev/null http://127.0.0.1:18091/healthz && break; sleep 0.5; done
python3 - "$N" "$D/$KIND.jsonl" "$BENCH_TOKEN" <<'PY'
import sys, urllib.request
n, path, tok = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lines = open(path).read().splitlines()
for i in range(n):
    req = urllib.request.Request(
        "http://127.0.0.1:18091/graphql", data=lines[i % len(lines)].encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + tok})
    urllib.request.urlopen(req, timeout=120).read()
PY
kill -TERM "$pid"; wait "$pid" || true
grep -h "^totals" "$OUT"
