#!/usr/bin/env bash
# The whole test suite: unit tests, then the end-to-end suite on SQLite and on PostgreSQL, with
# Redis reachable and an S3-compatible server (moto's standalone server, from PyPI) for the image
# tests, and HAProxy for the balancer test. Starts PostgreSQL and Redis when installed but stopped,
# installs them (and HAProxy) when absent, starts
# (and afterwards stops) the S3 server, installing it when absent, and fails loudly when any of
# them cannot be had. Node packages for the ecosystem tests are installed in tests/node (npm ci),
# and Debian's chromium for the playground test. Then a short soak (benches/soak/soak.sh, a few
# minutes of mixed load on the debug build, with its flatness check; CCPOR_SOAK=0 skips it), and
# every fuzz target for a few seconds under libFuzzer (cargo-fuzz's development build, with the
# nightly toolchain and cargo-fuzz installed when absent; a crash fails the run; CCPOR_FUZZ=0
# skips it). The fuzz targets' corpora are also replayed on stable by the unit tests
# (src/fuzzing/).
#
#   bash scripts/test.sh
#
# Environment: CCPOR_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
# REDIS_URL (default redis://127.0.0.1:6379), CCPOR_TEST_S3_ENDPOINT (default: start moto on
# http://127.0.0.1:5077), CARGO_TARGET_DIR (a persistent one speeds reruns; the fuzz build goes to
# its fuzz/ subdirectory), CCPOR_SOAK (0: no short soak), CCPOR_CI_SOAK_SECONDS (default 150),
# CCPOR_FUZZ (0: no fuzz runs), CCPOR_FUZZ_SECONDS (per target, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${CCPOR_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export REDIS_URL

# A failing test's message is printed just before the summary; a backtrace under it pushes it
# out of the output's tail, which is what a CI log keeps (CCPOR_TEST_BACKTRACE=1 brings them back).
export RUST_BACKTRACE="${CCPOR_TEST_BACKTRACE:-0}"

say() { printf '\n== %s\n' "$*"; }
die() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
  as_root apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null || die "could not install $*"
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ensure_postgres() {
  command -v pg_isready >/dev/null || apt_install postgresql postgresql-client
  if ! pg_ready; then
    say "starting PostgreSQL"
    if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
      for v in /etc/postgresql/*; do as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true; done
    else
      as_root service postgresql start || true
    fi
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  fi
  pg_ready || die "PostgreSQL is not reachable on 127.0.0.1:5432"
  psql "$PG_URL" -tAc 'select 1' >/dev/null 2>&1 || die "cannot log in to PostgreSQL at $PG_URL (trust auth for user postgres expected)"
}

redis_ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis_ready; then
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/ccpor-redis.log
    for _ in $(seq 1 20); do redis_ready && break; sleep 0.5; done
  fi
  redis_ready || die "Redis is not reachable on 127.0.0.1:6379"
}

S3_PORT=5077
S3_ENDPOINT="${CCPOR_TEST_S3_ENDPOINT:-http://127.0.0.1:$S3_PORT}"
S3_PID=""
s3_ready() { python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$S3_ENDPOINT/" >/dev/null 2>&1; }
stop_s3() { if [ -n "$S3_PID" ]; then kill "$S3_PID" 2>/dev/null || true; wait "$S3_PID" 2>/dev/null || true; fi; }
ensure_s3() {
  if ! s3_ready; then
    [ -z "${CCPOR_TEST_S3_ENDPOINT:-}" ] || die "the S3 server at CCPOR_TEST_S3_ENDPOINT=$S3_ENDPOINT is not reachable"
    command -v python3 >/dev/null || apt_install python3 python3-pip
    if ! command -v moto_server >/dev/null || ! python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
      say "installing moto[server] (S3-compatible test server) from PyPI"
      python3 -m pip install --quiet 'moto[server]' \
        || python3 -m pip install --quiet --break-system-packages 'moto[server]' \
        || die "could not install moto[server]"
    fi
    say "starting the S3-compatible test server (moto) on $S3_ENDPOINT"
    if command -v moto_server >/dev/null; then
      moto_server -H 127.0.0.1 -p "$S3_PORT" >/tmp/ccpor-moto.log 2>&1 &
    else
      python3 -m moto.server -H 127.0.0.1 -p "$S3_PORT" >/tmp/ccpor-moto.log 2>&1 &
    fi
    S3_PID=$!
    trap stop_s3 EXIT
    for _ in $(seq 1 60); do s3_ready && break; sleep 0.5; done
  fi
  s3_ready || die "the S3-compatible test server is not reachable on $S3_ENDPOINT (log: /tmp/ccpor-moto.log)"
  export CCPOR_TEST_S3_ENDPOINT="$S3_ENDPOINT"
}

# The GraphQL ecosystem's own tools (graphql-http's audit, ...) run from tests/node.
ensure_node_tools() {
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  command -v node >/dev/null || die "node is not installed and could not be installed"
  # @apollo/server 5 and playwright-core need Node 20 or later (Debian 12's own nodejs is 18).
  [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] \
    || die "Node.js $(node --version) is too old for tests/node: install Node 20 or later (e.g. the NodeSource nodejs package)"
  if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
    say "installing the Node test tools (npm ci in tests/node)"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in tests/node failed"
  fi
}

# Debian's Chromium, which the playground test drives headless through playwright-core.
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
  [ -x /usr/bin/chromium ] || die "chromium is not installed at /usr/bin/chromium and could not be installed"
}

drop_test_databases() {
  psql "$PG_URL" -tAc "select datname from pg_database where datname like 'ccpor_test_%'" \
    | while read -r db; do [ -n "$db" ] && psql "$PG_URL" -qc "drop database if exists \"$db\"" >/dev/null; done
}

# The balancer test (tests/api/faults/balancer.rs) runs Debian's HAProxy with deploy/haproxy.cfg.
ensure_haproxy() {
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || apt_install haproxy
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || die "haproxy is not installed and could not be installed"
}

# The short soak plots with matplotlib.
ensure_matplotlib() {
  python3 -c 'import matplotlib' 2>/dev/null && return
  say "installing matplotlib (the soak's plot)"
  python3 -m pip install --quiet matplotlib \
    || python3 -m pip install --quiet --break-system-packages matplotlib \
    || apt_install python3-matplotlib
  python3 -c 'import matplotlib' 2>/dev/null || die "python3 matplotlib is not installed and could not be installed"
}

# A few minutes of the soak's mixed load on the debug binary the tests built, on ports and a
# database of its own (not the 2-hour soak's 18280/16399), with the flatness check.
short_soak() {
  local out; out=$(mktemp -d /tmp/ccpor-ci-soak.XXXX)
  say "short soak: ${CCPOR_CI_SOAK_SECONDS:-150} s of mixed load (debug build, PostgreSQL, Redis), flatness check"
  CCPOR_SOAK_SECONDS="${CCPOR_CI_SOAK_SECONDS:-150}" CCPOR_SOAK_SEEDED=50 CCPOR_SOAK_PROFILE=debug \
    CCPOR_SOAK_PORT=18390 CCPOR_SOAK_REDIS_PORT=16499 CCPOR_SOAK_DB="ccpor_test_soak_$$" \
    CCPOR_SOAK_OUT="$out" CCPOR_BENCH_POSTGRES="${PG_URL%/*}" \
    CCPOR_SOAK_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/ccpor" bash benches/soak/soak.sh \
    || die "the short soak failed (samples and plot: $out)"
}

# libFuzzer through cargo-fuzz, on the nightly toolchain.
ensure_cargo_fuzz() {
  command -v rustup >/dev/null || die "rustup is needed for the nightly toolchain of the fuzz targets"
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal \
    || die "could not install the nightly toolchain"
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked || die "could not install cargo-fuzz"
  fi
}

# Every fuzz target (fuzz/fuzz_targets/) for CCPOR_FUZZ_SECONDS against its committed corpus;
# new inputs go to a scratch directory, a crash's input to fuzz/artifacts/<target>/.
fuzz_targets() {
  local dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz" secs="${CCPOR_FUZZ_SECONDS:-10}" scratch t
  # The development build (no optimisation, debug assertions on): about 10 minutes cold where the
  # optimised one took over an hour on two cores; it runs fewer inputs a second, which a run of
  # seconds does not need.
  say "fuzz targets: nightly development build (libFuzzer) into $dir"
  (cd fuzz && cargo +nightly fuzz build --dev --sanitizer none --target-dir "$dir") || die "the fuzz build failed"
  scratch=$(mktemp -d /tmp/ccpor-fuzz.XXXX)
  for t in $(cd fuzz && cargo +nightly fuzz list); do
    say "fuzz $t: $secs s"
    mkdir -p "$scratch/$t" "fuzz/artifacts/$t"
    "$dir/x86_64-unknown-linux-gnu/debug/$t" "$scratch/$t" "fuzz/corpus/$t" \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="fuzz/artifacts/$t/" 2>"$scratch/$t.log" \
      || { tail -40 "$scratch/$t.log" >&2; die "fuzz target $t failed: the input is in fuzz/artifacts/$t/ (cargo +nightly fuzz run $t fuzz/artifacts/$t/<file> reproduces it)"; }
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$scratch/$t.log" | tail -1
  done
  rm -rf "$scratch"
}

ensure_postgres
ensure_redis
ensure_haproxy
ensure_s3
ensure_node_tools
ensure_chromium
ensure_matplotlib
if [ "${CCPOR_FUZZ:-1}" != 0 ]; then ensure_cargo_fuzz; fi
drop_test_databases

say "tests on SQLite (unit + end-to-end)"
env -u CCPOR_TEST_POSTGRES_URL cargo test --workspace --locked

say "end-to-end tests on PostgreSQL"
CCPOR_TEST_POSTGRES_URL="$PG_URL" cargo test --locked --test api

if [ "${CCPOR_SOAK:-1}" != 0 ]; then short_soak; else say "short soak skipped (CCPOR_SOAK=0)"; fi
if [ "${CCPOR_FUZZ:-1}" != 0 ]; then fuzz_targets; else say "fuzz targets skipped (CCPOR_FUZZ=0; the corpora were replayed by the unit tests)"; fi

drop_test_databases
say "all tests passed on SQLite and PostgreSQL (images on the filesystem and on S3)"
