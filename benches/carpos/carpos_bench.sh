#!/usr/bin/env bash
# CARPOS transmission throughput (issue 23): imports N synthetic orders with `ccpor import`
# (each queues one ETO entry in the outbox), then starts the reference peer `ccpor carpos-sim`
# and `ccpor serve --carpos-addr` on that database, and reports messages acknowledged per second
# (from the rows' own acknowledgement times in the registry's carpos_transmission table: the
# messages after the first pass's, over the time from its acknowledgement to the last one's;
# server start-up excluded). The table is polled every 0.5 s only to see when all are done: a
# poll of 0.1 s with a fresh psql each time took 6.5 % of the machine's CPU during a PostgreSQL
# drain, CPU the import it is compared with did not have to share. Everything on loopback; bounded:
# it stops when all N are acknowledged or after TIMEOUT seconds.
#
#   cargo build --release
#   benches/carpos/carpos_bench.sh target/release/ccpor 20000                      # SQLite
#   benches/carpos/carpos_bench.sh target/release/ccpor 20000 postgres://postgres@127.0.0.1:5432/postgres
#
# Env: BATCH (serve --carpos-batch), WORKERS (serve --carpos-workers); unset, the server's own
# defaults for the backend (transmitter::defaults);
# TIMEOUT (default 600). Ends with the mean time a pass spent in each stage (the server's
# ccpor_carpos_pass_stage_duration_seconds).
set -euo pipefail
BIN=$(realpath "${1:?path to the ccpor binary}")
N=${2:-20000}
PG_BASE=${3:-}
BATCH=${BATCH:-}
WORKERS=${WORKERS:-}
TUNING=()
[ -n "$BATCH" ] && TUNING+=(--carpos-batch "$BATCH")
[ -n "$WORKERS" ] && TUNING+=(--carpos-workers "$WORKERS")
TIMEOUT=${TIMEOUT:-600}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/carpos-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$PG_BASE" ]; then psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "$PG_BASE" ]; then
  DB="ccpor_carposbench_$$"
  psql "$PG_BASE" -qc "CREATE DATABASE $DB" >/dev/null
  URL="${PG_BASE%/*}/$DB"
  count() { psql "$URL" -tAc "SELECT count(*) FROM carpos_transmission WHERE state = 'acknowledged'"; }
  # (rows acknowledged with the first, seconds from the first acknowledgement to the last)
  span() { psql "$URL" -tA -F' ' -c "SELECT count(*) FILTER (WHERE acknowledged_at = m.lo), max(extract(epoch FROM m.hi - m.lo)) FROM carpos_transmission, (SELECT min(acknowledged_at) lo, max(acknowledged_at) hi FROM carpos_transmission) m"; }
else
  URL="sqlite://$WORK/ccpor.db?mode=rwc"
  count() { sqlite3 "$WORK/ccpor.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM carpos_transmission WHERE state = 'acknowledged'" | tail -1; }
  span() { sqlite3 -separator ' ' "$WORK/ccpor.db" "PRAGMA busy_timeout=5000; SELECT (SELECT count(*) FROM carpos_transmission WHERE acknowledged_at = (SELECT min(acknowledged_at) FROM carpos_transmission)), (julianday(max(acknowledged_at)) - julianday(min(acknowledged_at))) * 86400.0 FROM carpos_transmission" | tail -1; }
fi
now() { date +%s.%N; }
ccpor() { "$BIN" --data-dir "$WORK/data" --database-url "$URL" "$@"; }

python3 "$HERE/gen_orders.py" "$N" > "$WORK/orders.ndjson"
t0=$(now)
ccpor import "$WORK/orders.ndjson" > "$WORK/import.out"
t1=$(now)
echo "import: $N orders in $(echo "$t1 - $t0" | bc -l | xargs printf %.2f) s = $(echo "$N / ($t1 - $t0)" | bc -l | xargs printf %.0f) orders/s"
ccpor keys generate > /dev/null

"$BIN" carpos-sim --addr 127.0.0.1:0 --data-dir "$WORK/peer" > "$WORK/peer.out" 2> "$WORK/peer.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/peer.out" ] && break; sleep 0.1; done
PEER=$(head -1 "$WORK/peer.out")
# The binary itself in the background (not the `ccpor` function, whose subshell's pid `kill`
# would end, leaving the server running after the bench).
"$BIN" --data-dir "$WORK/data" --database-url "$URL" serve --addr 127.0.0.1:0 --carpos-addr "$PEER" \
  "${TUNING[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
PIDS+=($!)

start=$(now)
while :; do
  a=$(count 2>/dev/null || echo 0)
  t=$(now)
  [ "${a:-0}" -ge "$N" ] && break
  if [ "$(echo "$t - $start > $TIMEOUT" | bc)" = 1 ]; then echo "timed out at $a acknowledged" >&2; exit 1; fi
  sleep 0.5
done
read -r a0 secs <<< "$(span)"
[ -n "${secs:-}" ] || { echo "could not read the acknowledgement times" >&2; exit 1; }
if [ "$(echo "$secs > 0" | bc)" = 1 ]; then
  rate=$(echo "($a - $a0) / $secs" | bc -l | xargs printf %.0f)
else
  rate="(all $a acknowledged at once)"
fi
echo "transmission: $N acknowledged; $a0 with the first, the rest in $(echo "$secs" | bc -l | xargs printf %.2f) s = $rate acknowledged/s (batch ${BATCH:-default}, workers ${WORKERS:-default})"
echo "peer journal: $(wc -l < "$WORK/peer/carpos-sim.jsonl") lines (one per message applied)"
# Where a pass's time went: the server's own per-stage histogram, mean milliseconds a pass.
BASE=$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" | head -1)
if [ -n "$BASE" ]; then
  curl -sf "$BASE/metrics" > "$WORK/metrics.txt" || true
  [ -z "${METRICS_OUT:-}" ] || cp "$WORK/metrics.txt" "$METRICS_OUT"
  grep -E '^ccpor_(db_statement_duration_seconds|audit_batch_rows)_(sum|count)' "$WORK/metrics.txt" | sed 's/^/  /'
  python3 -c '
import re, sys
s, c = {}, {}
for line in sys.stdin:
    m = re.match(r"ccpor_carpos_pass_stage_duration_seconds_(sum|count)\{stage=\"(\w+)\"\} (\S+)", line)
    if m:
        (s if m[1] == "sum" else c)[m[2]] = float(m[3])
passes = max(c.values(), default=0)
total = sum(s.values())
print(f"passes: {passes:.0f}; mean ms a pass by stage (share):")
for k in ["lease", "build", "audit_send", "deliver", "audit_answer", "finish"]:
    if c.get(k):
        print(f"  {k:<13} {1000 * s[k] / c[k]:8.2f}  ({100 * s[k] / total:4.1f} %)")
' < "$WORK/metrics.txt" || echo "(no stage metrics)"
fi
