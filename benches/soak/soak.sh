#!/usr/bin/env bash
# Soak (BENCHMARKS.md, "Soak"): one `ccpor serve` on PostgreSQL with a Redis of its own, under a
# steady mixed load (benches/soak/load.py: persisted-query GETs by hash and createOrder POSTs)
# for CCPOR_SOAK_SECONDS, sampling every 10 s the server's RSS and open files, its PostgreSQL
# connections, and the cache (Redis keys and memory). Writes samples.csv, plots them
# (benches/soak/plot.py → a PNG) and fails (exit 1) when, after the warm-up, any of them keeps
# growing (benches/soak/plot.py --check).
#
#   bash benches/soak/soak.sh                          # 2 h, release build
#   CCPOR_SOAK_SECONDS=150 CCPOR_SOAK_SEEDED=50 CCPOR_SOAK_PROFILE=debug \
#     CCPOR_SOAK_OUT=$(mktemp -d) bash benches/soak/soak.sh   # the short variant (scripts/test.sh)
#
# The orders the GETs look up are seeded by one `ccpor import` before the server starts.
#
# Environment: CCPOR_SOAK_SECONDS (default 7200), CCPOR_SOAK_RATE (requests/s, default 40),
# CCPOR_SOAK_SEEDED (orders the GETs look up, seeded first; default 500, 50 for a short run),
# CCPOR_SOAK_WRITES (share of POSTs, default 0.1), CCPOR_SOAK_PROFILE (release or debug, default
# release), CCPOR_SOAK_OUT (where the CSV and PNG go, default benches/soak), CCPOR_SOAK_PORT and
# CCPOR_SOAK_REDIS_PORT (the server's and its Redis's ports, default 18280 and 16399),
# CCPOR_SOAK_DB (the database's name, default ccpor_soak_<pid>), CCPOR_SOAK_BIN (a ccpor binary
# to run instead of building one; a copy keeps a long run off later builds), CCPOR_BENCH_POSTGRES (default
# postgres://postgres@127.0.0.1:5432), CARGO_TARGET_DIR. Needs python3 with matplotlib for the
# plot (pip install matplotlib).
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
SECS=${CCPOR_SOAK_SECONDS:-7200}
RATE=${CCPOR_SOAK_RATE:-40}
WRITES=${CCPOR_SOAK_WRITES:-0.1}
PROFILE=${CCPOR_SOAK_PROFILE:-release}
OUT=${CCPOR_SOAK_OUT:-$HERE}
PG=${CCPOR_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
PORT=${CCPOR_SOAK_PORT:-18280}
REDIS_PORT=${CCPOR_SOAK_REDIS_PORT:-16399}
DB=${CCPOR_SOAK_DB:-ccpor_soak_$$}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${CCPOR_SOAK_BIN:-$TARGET/$PROFILE/ccpor}
WORK=$(mktemp -d /tmp/ccpor-soak.XXXX)
SERVER_PID="" REDIS_PID="" LOAD_PID=""

log() { printf '== %s\n' "$*" >&2; }
cleanup() {
  for pid in $LOAD_PID $SERVER_PID $REDIS_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${CCPOR_SOAK_BIN:-}" ]; then log "binary $BIN (not built here)"
elif [ "$PROFILE" = release ]; then log "release build"; (cd "$ROOT" && cargo build --release --locked -q)
else log "debug build"; (cd "$ROOT" && cargo build --locked -q); fi
python3 -c 'import matplotlib' 2>/dev/null || { echo "python3 matplotlib is needed for the plot (pip install matplotlib)" >&2; exit 1; }

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
DB_URL="$PG/$DB?sslmode=disable"
"$BIN" --data-dir "$WORK" keys generate >/dev/null
token=$("$BIN" --data-dir "$WORK" token mint --role clerk --court SC19 --ttl 4h | tail -1)
log "seeding the orders the GETs look up (ccpor import)"
python3 "$HERE/load.py" lines >"$WORK/seed.ndjson"
env DATABASE_URL="$DB_URL" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" RUST_LOG=warn \
  "$BIN" --data-dir "$WORK" import "$WORK/seed.ndjson" >"$WORK/import.log" 2>&1 \
  || { cat "$WORK/import.log" >&2; echo "seeding failed" >&2; exit 1; }
hash=$("$BIN" schema operations | python3 -c 'import json,sys; print(next(o["id"] for o in json.load(sys.stdin)["operations"] if o["name"] == "LeaCaseLookup"))')

env DATABASE_URL="$DB_URL" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" CCPOR_LOG_FORMAT=json RUST_LOG=warn \
  "$BIN" --data-dir "$WORK" serve --addr "127.0.0.1:$PORT" --cost-per-minute 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done
url="http://127.0.0.1:$PORT"

csv="$OUT/samples.csv"
echo "seconds,rss_mib,open_files,db_connections,cache_keys,cache_mib" >"$csv"
sample() {
  local rss fds conns keys mem
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status")
  fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
  conns=$(psql "$PG/postgres" -tAc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'")
  keys=$(redis-cli -p "$REDIS_PORT" dbsize)
  mem=$(redis-cli -p "$REDIS_PORT" info memory | awk -F: '/^used_memory:/ {printf "%.2f", $2 / 1048576}')
  echo "$1,$rss,$fds,$conns,$keys,$mem" >>"$csv"
}

log "load: $RATE requests/s ($WRITES writes) for $SECS s, sampled every 10 s → $csv"
python3 "$HERE/load.py" "$url" "$token" "$hash" "$SECS" "$RATE" "$WRITES" >"$WORK/load.json" &
LOAD_PID=$!
start=$(date +%s)
while kill -0 "$LOAD_PID" 2>/dev/null; do
  sample $(( $(date +%s) - start ))
  sleep 10
done
wait "$LOAD_PID"; LOAD_PID=""
log "load: $(cat "$WORK/load.json")"
python3 -c 'import json,sys; n = json.load(open(sys.argv[1]))["errors"]; sys.exit("%d requests failed" % n if n else 0)' "$WORK/load.json"
python3 "$HERE/plot.py" "$csv" "$OUT/soak.png" --check
