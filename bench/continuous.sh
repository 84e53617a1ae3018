#!/usr/bin/env bash
# What continuous archiving (`backup.continuous`) costs the app, measured in the same run, alternating rounds:
#   SQLite:     an app inserting one row per transaction (WAL mode, synchronous=NORMAL), alone vs with the daemon
#               archiving the database (its read transaction, its own checkpoints, shipments): at 1,000 writes/s (the
#               issue's load: the mean time of a write) and as fast as it can (writes/s)
#   PostgreSQL: pgbench (TPC-B-like, 4 clients) alone vs with the daemon streaming the server's WAL through its slot
# Prints each side and the cost (archiving / alone for times, alone / archiving for rates). Target: ≤ 1.05 (5%).
#
# Usage (as root, like the test suite; installs what it needs):  bench/continuous.sh
#   BENCH_SECONDS=10   length of each timed run
#   BENCH_RUNS=3       rounds; each round times both sides back to back (the median of each is kept)
#   BENCH_ONLY=        "postgres" or "sqlite" to run one half
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-}
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

. bench/lib.sh
need_packages postgresql sqlite3 zstd
build_release slipway

SLIPWAY_SERVICES=pg source scripts/test-services.sh
WORK=$(mktemp -d /tmp/slipway-bench-continuous.XXXXXX)
DAEMON=""
trap 'stop_slipway; stop_test_services; rm -rf "$WORK"' EXIT
export PGPASSWORD=$PG_PASSWORD
PG=(-h 127.0.0.1 -p "$PG_PORT" -U postgres)
PGBENCH=$(dirname "$(dpkg -L postgresql-15 | grep '/bin/pgbench$' | head -1)")/pgbench
[ -x "$PGBENCH" ] || PGBENCH=pgbench

# The SQLite app: inserts for N seconds at RATE per second (0: as fast as it can); prints writes/s, or with a rate
# the mean time of one write in µs.
cat > "$WORK/writer.py" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
c.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, at REAL, pad TEXT)")
seconds, rate = float(sys.argv[2]), float(sys.argv[3])
start = time.perf_counter(); n, spent = 0, 0.0
while time.perf_counter() - start < seconds:
    if rate > 0:
        wait = start + n / rate - time.perf_counter()
        if wait > 0: time.sleep(wait)
    t0 = time.perf_counter()
    c.execute("INSERT INTO t (at, pad) VALUES (?, ?)", (time.time(), "x" * 200)); n += 1
    spent += time.perf_counter() - t0
print(spent / n * 1e6 if rate > 0 else n / seconds)
PY
mkdir -p "$WORK/data"
python3 "$WORK/writer.py" "$WORK/data/app.db" 0.1 0 >/dev/null
"$PGBENCH" -i -q -s 10 "${PG[@]}" slipway_test >/dev/null 2>&1

# config SOURCES: the daemon's slipway.yml with these continuous sources (none: archiving off).
config() {
  cat > "$WORK/slipway.yml" <<YAML
app: bench
root: $WORK/root
process: { command: "true" }
backup:
  sources: [$1]
  stores: [{ local: $WORK/store }]
  continuous: { max_lag: 1s }
YAML
}
sqlite_rate() { python3 "$WORK/writer.py" "$WORK/data/app.db" "$SECONDS_EACH" 0; }
sqlite_paced() { python3 "$WORK/writer.py" "$WORK/data/app.db" "$SECONDS_EACH" 1000; }
pg_rate() { "$PGBENCH" -n -c 4 -j 2 -T "$SECONDS_EACH" "${PG[@]}" slipway_test 2>/dev/null | awk '/^tps/ { print $3; exit }'; }
export BENCH_PG_URL=$SLIPWAY_TEST_PG_URL

declare -A RATES
# side NAME SOURCES RATE_FUNCTION: one timed run, with a daemon archiving SOURCES (empty: no daemon).
side() {
  local name=$1 sources=$2 fn=$3
  if [ -n "$sources" ]; then
    config "$sources"; start_daemon
    # Archiving has begun (a generation or a base backup exists) before the clock starts.
    for _ in $(seq 300); do [ -n "$(find "$WORK/store" -name 'generation.json' -o -name 'base.json' 2>/dev/null | head -1)" ] && break; sleep 0.1; done
  fi
  RATES[$name]="${RATES[$name]:-} $($fn)"
  if [ -n "$sources" ]; then stop_slipway; DAEMON=""; fi
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for ((round = 0; round < RUNS; round++)); do
  echo "round $((round + 1)) of $RUNS…" >&2
  if want sqlite; then
    side sqlite_paced_off "" sqlite_paced
    side sqlite_paced_on "{ name: db, sqlite: $WORK/data/app.db, continuous: true }" sqlite_paced
    side sqlite_off "" sqlite_rate
    side sqlite_on "{ name: db, sqlite: $WORK/data/app.db, continuous: true }" sqlite_rate
  fi
  if want postgres; then
    side pg_off "" pg_rate
    side pg_on "{ name: main, postgres: { url_secret: BENCH_PG_URL }, continuous: true }" pg_rate
  fi
done
"${PSQL:-psql}" -X -q "${PG[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'slipway_bench_%'" >/dev/null 2>&1 || true

printf '\n%-44s %12s %12s %8s %s\n' "" "archiving" "alone" "cost" "target"
# row NAME ARCHIVING ALONE COST: cost is how much worse archiving makes it (1.00: not at all).
row() { printf '%-44s %12.0f %12.0f %8.3f %s\n' "$1" "$2" "$3" "$4" "${5:-≤ 1.05}"; }
if want sqlite; then
  on=$(median "${RATES[sqlite_paced_on]}"); off=$(median "${RATES[sqlite_paced_off]}")
  row "SQLite at 1,000 writes/s: µs per write" "$on" "$off" "$(echo "scale=3; $on / $off" | bc)"
  on=$(median "${RATES[sqlite_on]}"); off=$(median "${RATES[sqlite_off]}")
  row "SQLite writes/s as fast as it can" "$on" "$off" "$(echo "scale=3; $off / $on" | bc)" "(not a goal: for reference)"
fi
if want postgres; then
  on=$(median "${RATES[pg_on]}"); off=$(median "${RATES[pg_off]}")
  row "PostgreSQL pgbench tps (4 clients)" "$on" "$off" "$(echo "scale=3; $off / $on" | bc)"
fi
