#!/usr/bin/env bash
# Person search over HTTP at scale (BENCHMARKS.md, issue 21): the in-process bench's population
# imported as orders into a fresh SQLite data dir, reindexed, served by the release binary, and
# the development set asked through searchPersons one request at a time.
#
#   bash benches/search_http/run.sh target/release/ccpor DUMP_DIR [DATA_DIR]
#
# DUMP_DIR comes from `CCPOR_BENCH_PERSONS=N CCPOR_BENCH_QUERIES=1000 CCPOR_BENCH_DUMP=DIR
# cargo bench --bench search`. DATA_DIR is kept between runs: an existing one is served as is.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "$1"); DUMP=$2; DATA=${3:-$DUMP/data}; PORT=${PORT:-18431}
if [ ! -f "$DATA/.loaded" ]; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  python3 "$HERE/search_http.py" orders "$DUMP" > "$DUMP/orders.ndjson"
  /usr/bin/time -f "import: %e s, max RSS %M KB" "$BIN" --data-dir "$DATA" import "$DUMP/orders.ndjson" | tail -2
  /usr/bin/time -f "reindex: %e s, max RSS %M KB" "$BIN" --data-dir "$DATA" reindex | tail -1
  "$BIN" --data-dir "$DATA" keys generate > /dev/null
  touch "$DATA/.loaded"
fi
token=$("$BIN" --data-dir "$DATA" token mint --role bench_officer --court SC19 --ttl 2h | tail -1)
"$BIN" --data-dir "$DATA" serve --addr "127.0.0.1:$PORT" --cost-per-minute 0 > "$DATA/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$DATA/server.log" >&2; exit 1; }
  sleep 0.5
done
python3 "$HERE/search_http.py" query "$DUMP" "http://127.0.0.1:$PORT/graphql" "$token" --warm 500
