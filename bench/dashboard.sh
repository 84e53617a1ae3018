#!/usr/bin/env bash
# How long the daemon takes to render dashboard pages with a long history: 1,000 deployments and 500 backups
# in the store. Each page is fetched 40 times over loopback (curl's time to the last byte, so the server's
# render plus a loopback round trip) and printed as median and p95, with the ratio to the JSON API answering
# the same data (`/v1/deployments?limit=1000`, `/v1/backups`) in the same run.
# Goal (issue 16): a page in under 50 ms.
#
# Usage (as root, like the test suite):  bench/dashboard.sh      BENCH_REQUESTS=40
#   BENCH_PERF=FILE   record the daemon with `perf record -g` while the pages are fetched
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REQUESTS:-40}
for tool in curl sqlite3 python3; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }; done
. bench/lib.sh
build_release slipway demo-app
WORK=$(mktemp -d /tmp/slipway-bench-dashboard.XXXXXX)
DAEMON=""
trap 'stop_slipway; rm -rf "$WORK"' EXIT
API=$(free_port)
export SLIPWAY_CONFIG="$WORK/slipway.yml"
cat > "$SLIPWAY_CONFIG" <<YAML
app: bench
root: $WORK/root
server: { listen: "127.0.0.1:$API" }
process: { command: "$BIN/demo-app --port \$PORT", instances: 2 }
health: { path: /health/ready, interval: 1s }
watch: 0
backup:
  sources: [{ name: db, sqlite: shared/app.db }]
  stores: [{ local: backups }]
environments:
  production: { router: { listen: "127.0.0.1:$(free_port)" } }
YAML
"$SLIPWAY" server >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
for _ in $(seq 200); do "$SLIPWAY" status >/dev/null 2>&1 && break; sleep 0.1; done
mkdir -p "$WORK/src" "$WORK/root/shared/production"; echo '{"ready": true}' > "$WORK/src/demo-app.json"
sqlite3 "$WORK/root/shared/production/app.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
"$SLIPWAY" release create v1 --from "$WORK/src" >/dev/null
"$SLIPWAY" deploy v1 >/dev/null
"$SLIPWAY" backup create >/dev/null
# The long history: copies of the real deployment and backup rows (each backup's manifest as it was written, with
# its own id and time).
sqlite3 -cmd ".timeout 10000" "$WORK/root/state.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
INSERT INTO deployments (environment, version, previous_version, kind, strategy, state, actor, started_at, finished_at, outcome, message, log_file)
SELECT d.environment, 'v' || i, d.previous_version, d.kind, d.strategy, d.state, d.actor, datetime(d.started_at, '-' || i || ' hours'),
       datetime(d.finished_at, '-' || i || ' hours'), d.outcome, d.message, d.log_file FROM n, (SELECT * FROM deployments ORDER BY id LIMIT 1) d;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 499)
INSERT INTO backups (id, environment, created_at, reason, deployment_id, before_deploy_of, manifest, locations, verified_at, verify_ok)
SELECT b.id || '-' || i, b.environment, datetime(b.created_at, '-' || i || ' hours'), b.reason, b.deployment_id, b.before_deploy_of,
       json_set(b.manifest, '$.id', b.id || '-' || i, '$.started_at', strftime('%Y-%m-%dT%H:%M:%SZ', b.created_at, '-' || i || ' hours')),
       b.locations, b.verified_at, b.verify_ok FROM n, (SELECT * FROM backups LIMIT 1) b;
SQL
echo "store: $(sqlite3 "$WORK/root/state.db" 'SELECT COUNT(*) FROM deployments') deployments, $(sqlite3 "$WORK/root/state.db" 'SELECT COUNT(*) FROM backups') backups" >&2
TOKEN=$("$SLIPWAY" token create --user bench --role viewer 2>/dev/null)
[ -n "$TOKEN" ] || { echo "no token" >&2; exit 1; }
JAR="$WORK/cookies"
curl -s -o /dev/null -c "$JAR" "$("$SLIPWAY" dashboard)"

times() {  # times PATH [curl args…]: N fetches, prints "median p95" in ms
  local path=$1; shift
  for _ in $(seq "$N"); do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@" "http://127.0.0.1:$API$path"; done | python3 -c '
import sys
rows = [l.split() for l in sys.stdin]
bad = [r for r in rows if r[0] != "200"]
if bad: sys.exit(f"HTTP {bad[0][0]}")
ms = sorted(float(r[1]) * 1000 for r in rows)
print(f"{ms[len(ms)//2]:.1f} {ms[int(len(ms)*0.95)-1]:.1f}")'
}
read -r api_d _ <<< "$(times "/v1/deployments?limit=1000" -H "Authorization: Bearer $TOKEN")"
read -r api_b _ <<< "$(times "/v1/backups" -H "Authorization: Bearer $TOKEN")"
echo
if [ -n "${BENCH_PERF:-}" ]; then perf record -g -o "$BENCH_PERF" -p "$DAEMON" >/dev/null 2>&1 & PERF=$!; sleep 1; fi
printf "%-28s %10s %10s %18s\n" "page" "median ms" "p95 ms" "vs JSON API"
for page in /ui /ui/env/production /ui/deployments/1 /ui/backups /ui/alerts /ui/dora; do
  read -r med p95 <<< "$(times "$page" -b "$JAR")"
  [ -n "$med" ] || { echo "$page failed; the daemon's log:" >&2; tail -20 "$WORK/daemon.log" >&2; exit 1; }
  case "$page" in /ui/backups) peer=$api_b ;; *) peer=$api_d ;; esac
  python3 -c "print(f'%-28s %10s %10s %17.2fx' % ('$page', '$med', '$p95', $med / $peer))"
done
read -r med p95 <<< "$(times /metrics -H "Authorization: Bearer $TOKEN")"
[ -n "$med" ] || { echo "/metrics failed" >&2; exit 1; }
python3 -c "print(f'%-28s %10s %10s %17.2fx' % ('/metrics (Prometheus)', '$med', '$p95', $med / $api_d))"
if [ -n "${BENCH_PERF:-}" ]; then kill -INT "$PERF"; wait "$PERF" || true; fi
printf "%-28s %10s\n" "JSON /v1/deployments?limit=1000" "$api_d" "JSON /v1/backups" "$api_b"
echo "goal: every page under 50 ms"
