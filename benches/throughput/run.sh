#!/usr/bin/env bash
# Throughput benchmark (BENCHMARKS.md): the release server on a seeded statewide dataset, loaded
# by wrk on the same machine, on SQLite, PostgreSQL (cache off: every answer from the database)
# and PostgreSQL + Redis; in each run also the bare `/ping` handler of the same binary (the
# physical limit of this HTTP stack here) and, on the PostgreSQL data, PostGraphile 4 answering
# the equivalent person-with-orders query. Prints one markdown table.
#
#   bash benches/throughput/run.sh
#
# Environment: CCPOR_BENCH_ORDERS (default 300000: ~420k persons), CCPOR_BENCH_SECONDS (per
# measurement, default 20), CCPOR_BENCH_CONNECTIONS (default 50), CCPOR_BENCH_BACKENDS (default
# "sqlite postgres postgres+redis"), CCPOR_BENCH_POSTGRES (default
# postgres://postgres@127.0.0.1:5432), REDIS_URL (default redis://127.0.0.1:6379),
# CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
ORDERS=${CCPOR_BENCH_ORDERS:-300000}
SECONDS_EACH=${CCPOR_BENCH_SECONDS:-20}
CONNS=${CCPOR_BENCH_CONNECTIONS:-50}
BACKENDS=${CCPOR_BENCH_BACKENDS:-"sqlite postgres postgres+redis"}
PG=${CCPOR_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
# Loopback without TLS for both servers (node-postgres, under PostGraphile, does not use TLS
# unless asked; sqlx would negotiate it).
PG_OPTS="?sslmode=disable"
REDIS=${REDIS_URL:-redis://127.0.0.1:6379}
PORT=18080
PG_PORT=18081
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/ccpor
WORK=$(mktemp -d /tmp/ccpor-throughput.XXXX)
SERVER_PID=""

log() { printf '== %s\n' "$*" >&2; }
stop() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
# A server left over on a benchmark port would answer in place of the one under test.
port_free() {
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null)" != 000 ]; then
    echo "port $1 is already taken; stop what listens there first" >&2; exit 1
  fi
}
# npx runs PostGraphile in node processes of its own, which outlive npx's being stopped.
stop_postgraphile() { stop; pkill -f "postgraphile -c $PG/ccpor_bench" 2>/dev/null || true; }
trap 'stop_postgraphile; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
command -v wrk >/dev/null || { echo "wrk is needed (Debian package wrk)" >&2; exit 1; }
log "release build"
(cd "$ROOT" && cargo build --release --locked -q)
if [ ! -d "$HERE/node/node_modules" ]; then
  log "installing PostGraphile (npm ci in benches/throughput/node)"
  (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

# RSS of the processes whose command line names PostGraphile (npx runs it in a child node).
postgraphile_rss_mb() { ps -eo rss=,args= | awk '/[p]ostgraphile/ { s += $1 } END { printf "%.0f", s / 1024 }'; }
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# Any HTTP answer counts (PostGraphile answers GET /graphql with 405).
wait_up() {
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" != 000 ] && return 0
    sleep 0.1
  done
  echo "not up: $1" >&2; return 1
}

# measure <label> <url> <bodies file or ""> <token>: prints "rps p50 p99 errors"
measure() {
  local url=$2 bodies=$3 token=$4
  # Every sampled input once first: the cached rows then measure a warm cache, and every
  # server, PostGraphile included, runs on warm database pages.
  if [ -n "$bodies" ]; then python3 "$HERE/warm.py" "$url" "$bodies" "$token"; fi
  BENCH_BODIES=$bodies BENCH_TOKEN=$token wrk -t2 -c"$CONNS" -d3s -s "$HERE/gql.lua" "$url" >/dev/null
  BENCH_BODIES=$bodies BENCH_TOKEN=$token wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --timeout 10s \
    -s "$HERE/gql.lua" "$url" | awk '/^RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s %s %s %d\n", v["rps"], v["p50_ms"], v["p99_ms"], v["errors"] + v["socket_errors"] }'
}

ROWS=()
row() { ROWS+=("$*"); }

seed() { # seed <backend> <data dir> -> sets DB_URL, SAMPLE_DB
  local backend=$1 dir=$2
  mkdir -p "$dir"
  if [ "$backend" = sqlite ]; then
    DB_URL=""
    SAMPLE_DB="$dir/ccpor.db"
  else
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ccpor_bench" >/dev/null
    psql "$PG/postgres" -qc "CREATE DATABASE ccpor_bench" >/dev/null
    DB_URL="$PG/ccpor_bench$PG_OPTS"
    SAMPLE_DB="$PG/ccpor_bench"
  fi
  log "$backend: seeding $ORDERS orders"
  DATABASE_URL=$DB_URL "$BIN" --data-dir "$dir" demo --orders "$ORDERS" >/dev/null
  # The demo's past end dates, recorded now: otherwise each server's first sweep records ~19k
  # expiries in the middle of a measurement and empties the cache.
  DATABASE_URL=$DB_URL "$BIN" --data-dir "$dir" expire >/dev/null
  DATABASE_URL=$DB_URL "$BIN" --data-dir "$dir" reindex >/dev/null
  "$BIN" --data-dir "$dir" keys generate >/dev/null
  # The load's gigabytes on disk before measuring: otherwise the kernel writes back the seed's
  # dirty pages (and PostgreSQL its checkpoint) during the runs, and every fsync of the audit
  # log waits behind them (p99 of 0.3-0.7 s seen).
  if [ "$backend" != sqlite ]; then psql "$PG/ccpor_bench" -qc CHECKPOINT >/dev/null; fi
  sync
}

for backend in $BACKENDS; do
  base=${backend%%+*}
  dir="$WORK/$base"
  if [ ! -d "$dir" ]; then seed "$base" "$dir"; fi
  if [ "$base" = sqlite ]; then DB_URL=""; SAMPLE_DB="$dir/ccpor.db"; else DB_URL="$PG/ccpor_bench$PG_OPTS"; SAMPLE_DB="$PG/ccpor_bench"; fi
  [ -f "$SAMPLE_DB" ] || [ "$base" != sqlite ] || SAMPLE_DB=$(ls "$dir"/*.db | head -1)
  "$BIN" schema operations >"$dir/manifest.json"
  python3 "$HERE/bodies.py" "$SAMPLE_DB" "$dir/manifest.json" "$dir" >&2
  judge=$("$BIN" --data-dir "$dir" token mint --role bench_officer --court SC19 --ttl 2h | tail -1)
  lea=$("$BIN" --data-dir "$dir" token mint --role lea --agency CA0190000 --ttl 2h | tail -1)
  cache=off; nocache=true; redis=""
  case $backend in
    sqlite) cache=on; nocache="" ;;
    postgres+redis) cache=on; nocache=""; redis=$REDIS ;;
  esac
  log "$backend: serving (cache $cache${redis:+, Redis})"
  port_free "$PORT"
  env DATABASE_URL="$DB_URL" REDIS_URL="$redis" ${nocache:+CCPOR_NO_CACHE=true} \
    CCPOR_CACHE_NAMESPACE="bench-$$-$backend" CCPOR_LOG_FORMAT=json RUST_LOG=warn \
    "$BIN" --data-dir "$dir" serve --addr "127.0.0.1:$PORT" --cost-per-minute 0 >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  wait_up "http://127.0.0.1:$PORT/readyz"
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  url="http://127.0.0.1:$PORT"
  read -r b_rps b_p50 b_p99 b_err < <(measure bare "$url/ping" "" "")
  row "$backend | bare handler (/ping) | $b_rps | $b_p50 | $b_p99 | $b_err | $(rss_mb $SERVER_PID) | 1.00"
  for op in history history_lean lea search; do
    token=$judge; [ $op = lea ] && token=$lea
    read -r rps p50 p99 err < <(measure "$op" "$url/graphql" "$dir/$op.jsonl" "$token")
    label=$op
    case $op in
      history) label="personHistory (BenchDashboard, full selection)" ;;
      history_lean) label="personHistory, PostGraphile's person-with-orders selection" ;;
      lea) label="LEA lookup by case number (persisted query)" ;;
      search) label="searchPersons name + DOB" ;;
    esac
    row "$backend | $label | $rps | $p50 | $p99 | $err | $(rss_mb $SERVER_PID) | $(awk -v a="$rps" -v b="$b_rps" 'BEGIN { printf "%.2f", a / b }')"
  done
  stop
  if [ "$backend" = postgres ]; then
    log "PostGraphile 4 on the same PostgreSQL data"
    port_free "$PG_PORT"
    (cd "$HERE/node" && exec npx postgraphile -c "$PG/ccpor_bench" -s public -n 127.0.0.1 -p $PG_PORT \
      --disable-query-log --disable-graphiql) >"$dir/postgraphile.log" 2>&1 &
    SERVER_PID=$!
    wait_up "http://127.0.0.1:$PG_PORT/graphql" || { cat "$dir/postgraphile.log" >&2; exit 1; }
    read -r rps p50 p99 err < <(measure postgraphile "http://127.0.0.1:$PG_PORT/graphql" "$dir/postgraphile.jsonl" "")
    row "postgres | PostGraphile 4: person with orders | $rps | $p50 | $p99 | $err | $(postgraphile_rss_mb) | $(awk -v a="$rps" -v b="$b_rps" 'BEGIN { printf "%.2f", a / b }')"
    stop_postgraphile
  fi
done

echo
echo "$ORDERS orders; wrk -t2 -c$CONNS -d${SECONDS_EACH}s after a pass over every input and a 3 s warm-up; random inputs from a 2,000-row sample"
echo
echo "| backend | operation | req/s | p50 ms | p99 ms | errors | RSS MB | × bare |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for r in "${ROWS[@]}"; do echo "| $r |"; done
