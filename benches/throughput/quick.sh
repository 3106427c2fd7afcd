#!/usr/bin/env bash
# One quick measurement against a server that is already running (BENCHMARKS.md, the quick runs
# on the 60k-order copy): every input once (warm.py), a 3 s warm-up, then the measured run, and
# the CPU seconds the server, PostgreSQL and Redis spent during it (from /proc/<pid>/stat, so
# the split shows which process to profile next). Prints wrk's RESULT line and one CPU line.
#
#   bash benches/throughput/quick.sh <bodies.jsonl> <token> [seconds] [url]
#
# Environment: BENCH_CONNECTIONS (default 50); BENCH_SERVER_MATCH, a pattern `pgrep -f` finds
# the server by (default "serve --addr 127.0.0.1:18090", the address in BENCHMARKS.md).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BODIES=${1:?bodies file}
TOKEN=${2?token (may be empty)}
SECS=${3:-10}
URL=${4:-http://127.0.0.1:18090/graphql}
CONNS=${BENCH_CONNECTIONS:-50}
MATCH=${BENCH_SERVER_MATCH:-"serve --addr 127.0.0.1:18090"}
pgrep -f -- "$MATCH" >/dev/null || { echo "no server matches \"$MATCH\"" >&2; exit 1; }

# utime + stime of every process of each kind, in clock ticks.
ticks() {
  local kind=$1; shift
  for p in "$@"; do
    awk -v k="$kind" '{ print k, $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
  done
}
snapshot() {
  # shellcheck disable=SC2046
  { ticks server $(pgrep -f -- "$MATCH"); ticks postgres $(pgrep -x postgres || true);
    ticks redis $(pgrep -x redis-server || true); }
}

python3 "$HERE/warm.py" "$URL" "$BODIES" "$TOKEN" >/dev/null
BENCH_BODIES=$BODIES BENCH_TOKEN=$TOKEN wrk -t2 -c"$CONNS" -d3s -s "$HERE/gql.lua" "$URL" >/dev/null
before=$(snapshot)
BENCH_BODIES=$BODIES BENCH_TOKEN=$TOKEN wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s \
  -s "$HERE/gql.lua" "$URL" | grep '^RESULT'
after=$(snapshot)
# Processes that started during the run count from zero; those that ended are left out.
hz=$(getconf CLK_TCK)
awk -v hz="$hz" 'NR == FNR { b[$1] += $2; next } { a[$1] += $2 }
  END { printf "CPU seconds:"; for (k in a) printf " %s=%.1f", k, (a[k] - b[k]) / hz; print "" }' \
  <(echo "$before") <(echo "$after")
