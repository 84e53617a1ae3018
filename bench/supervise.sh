#!/usr/bin/env bash
# What supervising many instances costs the daemon: its CPU (share of one core) and resident memory with
# N instances probed every second (3 environments), against the same daemon with no instances, in one run.
# Goal (issue 15): under 3% of a core and under 100 MB RSS at 192 instances.
#
# Usage (as root, like the test suite):  bench/supervise.sh
#   BENCH_INSTANCES=192   instances in all (split over 3 environments, at most 64 each)
#   BENCH_SECONDS=30      length of each measurement
#   BENCH_PERF=FILE       also record the busy daemon with `perf record -g` into FILE (for `perf report -i FILE`)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_INSTANCES:-192}
SECS=${BENCH_SECONDS:-30}
PER=$(( (N + 2) / 3 ))
[ "$PER" -le 64 ] || { echo "at most 192 instances (64 per environment)" >&2; exit 2; }

. bench/lib.sh
build_release slipway demo-app
WORK=$(mktemp -d /tmp/slipway-bench-supervise.XXXXXX)
DAEMON=""
trap 'stop_slipway; rm -rf "$WORK"' EXIT

config() {  # config INSTANCES_PER_ENVIRONMENT
  cat > "$WORK/slipway.yml" <<YAML
app: bench
root: $WORK/root
process: { command: "$BIN/demo-app --port \$PORT", instances: $1, stop_timeout: 3s }
health: { path: /health/ready, interval: 1s, healthy_threshold: 1, deadline: 120s }
watch: 0
environments:
  a: { router: { listen: "127.0.0.1:$(free_port)" } }
  b: { router: { listen: "127.0.0.1:$(free_port)" } }
  c: { router: { listen: "127.0.0.1:$(free_port)" } }
YAML
}

# CPU seconds (user + system) of a pid, from /proc/PID/stat fields 14 and 15.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

measure() {  # measure LABEL: prints "LABEL cpu% rssMB"
  local c0 c1
  c0=$(cpu_seconds "$DAEMON"); sleep "$SECS"; c1=$(cpu_seconds "$DAEMON")
  python3 -c "print(f'$1 {100 * ($c1 - $c0) / $SECS:.2f} $(rss_mb "$DAEMON")')"
}


export SLIPWAY_CONFIG="$WORK/slipway.yml"
config 1   # nothing deployed: no instance runs
start_daemon
sleep 3
IDLE=$(measure idle)
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=""

config "$PER"
start_daemon
mkdir -p "$WORK/src"; echo '{"ready": true}' > "$WORK/src/demo-app.json"
"$SLIPWAY" release create v1 --from "$WORK/src" >/dev/null
for env in a b c; do "$SLIPWAY" deploy v1 --env "$env" >/dev/null; done
echo "$((PER * 3)) instances ready; measuring ${SECS}s each…" >&2
sleep 5
if [ -n "${BENCH_PERF:-}" ]; then perf record -g -o "$BENCH_PERF" -p "$DAEMON" -- sleep "$SECS" >/dev/null 2>&1 & PERF=$!; fi
BUSY=$(measure "$((PER * 3))-instances")
if [ -n "${BENCH_PERF:-}" ]; then wait "$PERF" || true; fi

echo
echo "daemon                    CPU (% of a core)   RSS (MB)"
for line in "$IDLE" "$BUSY"; do read -r label cpu rss <<< "$line"; printf "%-25s %17s %10s\n" "$label" "$cpu" "$rss"; done
read -r _ icpu irss <<< "$IDLE"; read -r _ bcpu brss <<< "$BUSY"
python3 -c "print(f'supervising: +{$bcpu - $icpu:.2f} points of a core, +{$brss - $irss:.1f} MB (goal: under 3% and 100 MB in all)')"
