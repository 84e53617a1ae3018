#!/usr/bin/env bash
# How fast a bad canary is reverted, and what weighted pools cost the router, measured in one run.
#
#   1. Under steady load (8 keep-alive clients recording every answer), deploy a canary whose release starts
#      failing 5 s after it starts: a hard failure (10% of requests, all of them failing) and a regression
#      (5% of requests, 10% of them failing). Prints the time from the first failed canary answer to the
#      last answer from the canary (weight 0 as users see it), the share of requests that failed in between
#      (by construction about weight × failure rate: the time is what Slipway controls) and over the run.
#      Goal: < 5 s and < 1%. The hard failure runs again with `canary.retry_on_stable`: the canary's failed
#      GETs are answered by the stable release, so users see none (analysis still does).
#   2. The router's req/s and its CPU time per request (from /proc, so the backends' capacity does not
#      blur it) through an environment with one pool of 4 instances against one with two weighted pools
#      of 2 instances each (a canary at 50%), wrk -t1 -c64, in turns. Goal: weighting costs < 3%.
#
# Usage (as root, like the test suite; installs what it needs):  bench/canary.sh
#   BENCH_RUNS=6        wrk rounds; each runs both environments, in alternating order; the median of the per-round ratios is printed
#   BENCH_SECONDS=5     length of each wrk round
#   BENCH_ONLY=         "revert" or "weights" to run one half
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-6}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
ONLY=${BENCH_ONLY:-}
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

. bench/lib.sh
need_packages wrk curl python3
build_release slipway demo-app

WORK=$(mktemp -d /tmp/slipway-bench-canary.XXXXXX)
DAEMON=""
trap 'stop_slipway; rm -rf "$WORK"' EXIT
P_CANARY=$(free_port); P_SOFT=$(free_port); P_SHIELD=$(free_port); P_ONE=$(free_port); P_TWO=$(free_port)

cat > "$WORK/slipway.yml" <<YAML
app: bench
root: $WORK/root
process: { command: "$BIN/demo-app --port \$PORT", instances: 2, stop_timeout: 3s }
health: { path: /health/ready, interval: 100ms, healthy_threshold: 2, deadline: 10s }
strategy: canary
watch: 0
analysis:
  interval: 1s
  rules: ["error_rate > baseline + 1%", "p99_latency > 1.5 * baseline"]
canary:
  instances: 1
  steps: [{ weight: 10, pause: 10m }]
environments:
  production: { router: { listen: "127.0.0.1:$P_CANARY" } }
  soft: { router: { listen: "127.0.0.1:$P_SOFT" }, canary: { steps: [{ weight: 5, pause: 10m }] } }
  shielded: { router: { listen: "127.0.0.1:$P_SHIELD" }, canary: { retry_on_stable: true, steps: [{ weight: 10, pause: 10m }] } }
  one: { router: { listen: "127.0.0.1:$P_ONE" }, process: { instances: 4 }, strategy: blue-green }
  two:
    router: { listen: "127.0.0.1:$P_TWO" }
    canary: { instances: 2, steps: [{ weight: 50, pause: manual }] }
YAML
export SLIPWAY_CONFIG="$WORK/slipway.yml"
"$SLIPWAY" server >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do "$SLIPWAY" status >/dev/null 2>&1 && break; sleep 0.1; done

release() {  # release VERSION SETTINGS_JSON
  mkdir -p "$WORK/src-$1"; echo "$2" > "$WORK/src-$1/demo-app.json"
  "$SLIPWAY" release create "$1" --from "$WORK/src-$1" >/dev/null
}
release v1 '{}'
release v2 '{"fail_rate": 1.0, "fail_after_s": 5}'
release v3 '{}'
release v4 '{"fail_rate": 0.1, "fail_after_s": 5}'

# scenario NAME ENV PORT VERSION: steady load, the canary deployed after 2 s, every answer recorded.
scenario() {
"$SLIPWAY" deploy v1 --env "$2" >/dev/null
python3 - "$3" "$WORK/answers-$2.csv" <<'PY' &
import http.client, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
stop = time.time() + 25
rows, lock = [], threading.Lock()
def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    local = []
    while time.time() < stop:
        try:
            conn.request("GET", "/")
            r = conn.getresponse(); body = r.read().decode(errors="replace")
            release = body.split("demo-app ")[1].split(" ")[0].strip() if "demo-app " in body else "?"
            local.append((time.time(), r.status, release))
        except Exception:
            local.append((time.time(), 0, "?")); conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    with lock: rows.extend(local)
threads = [threading.Thread(target=worker) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    for t, s, r in sorted(rows): f.write(f"{t:.6f},{s},{r}\n")
PY
local load=$!
sleep 2
"$SLIPWAY" deploy "$4" --env "$2" >"$WORK/deploy-$2.out" 2>&1 || true
wait $load
echo "$1:"
python3 - "$WORK/answers-$2.csv" "$4" <<'PY'
import sys
canary = sys.argv[2]
rows = [l.strip().split(",") for l in open(sys.argv[1])]
rows = [(float(t), int(s), r) for t, s, r in rows]
bad = [t for t, s, r in rows if s >= 500 and r == canary]
total_failed = sum(1 for x in rows if x[1] >= 500 or x[1] == 0)
if not bad:
    served = sum(1 for x in rows if x[2] == canary)
    print(f"  load: {len(rows)} requests; {served} answered by the canary, none of them failed")
    print(f"  requests that failed over the run: {total_failed} of {len(rows)} = {100 * total_failed / len(rows):.3f}%")
    sys.exit(0)
first = bad[0]
last = max(t for t, s, r in rows if r == canary)
between = [x for x in rows if first <= x[0] <= last]
failed = sum(1 for x in between if x[1] >= 500 or x[1] == 0)
total_failed = sum(1 for x in rows if x[1] >= 500 or x[1] == 0)
rps = len(rows) / (rows[-1][0] - rows[0][0])
print(f"  load: {len(rows)} requests at {rps:.0f} req/s")
print(f"  first failed canary answer → last canary answer (weight 0): {last - first:.2f} s   (goal < 5 s)")
print(f"  requests that failed in between: {failed} of {len(between)} = {100 * failed / max(1, len(between)):.2f}%   (goal < 1%)")
print(f"  requests that failed over the run: {total_failed} of {len(rows)} = {100 * total_failed / len(rows):.3f}%")
PY
grep -E "\[rolling_back\] canary aborted" "$WORK/deploy-$2.out" | head -1 | sed 's/^ */  /' || true
}

if want revert; then
echo "1/2 canaries that start failing, under steady load…" >&2
scenario "a hard failure: 10% of requests to a canary that fails them all" production "$P_CANARY" v2
scenario "a regression: 5% of requests to a canary that fails 10% of them" soft "$P_SOFT" v4
scenario "the hard failure again, with canary.retry_on_stable (a failed GET is answered by the stable release)" shielded "$P_SHIELD" v2
fi

want weights || exit 0
echo "2/2 one pool of 4 against two weighted pools of 2 + 2…" >&2
"$SLIPWAY" deploy v1 --env one >/dev/null
"$SLIPWAY" deploy v1 --env two >/dev/null
"$SLIPWAY" deploy v3 --env two >/dev/null 2>&1 &
PROMOTE=$!
for _ in $(seq 100); do "$SLIPWAY" canary status --env two 2>/dev/null | grep -q "canary v3 at 50%" && break; sleep 0.2; done
"$SLIPWAY" canary status --env two | head -1
ROUTER=$(pgrep -f -- "--control $WORK/root/router.sock" | head -1)
TICK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$ROUTER/stat"; }
ratios=(); cpu_ratios=(); ones=(); twos=(); cpu_ones=(); cpu_twos=()
for ((round = 0; round < RUNS; round++)); do
  order=(one two); (( round % 2 )) && order=(two one)
  declare -A RPS=() US=()
  for env in "${order[@]}"; do
    port=$P_ONE; [ "$env" = two ] && port=$P_TWO
    c0=$(cpu)
    out=$(wrk -t1 -c64 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$port/")
    c1=$(cpu)
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    RPS[$env]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    US[$env]=$(echo "scale=3; ($c1 - $c0) * 1000000 / $TICK / $n" | bc)
  done
  ones+=("${RPS[one]}"); twos+=("${RPS[two]}"); cpu_ones+=("${US[one]}"); cpu_twos+=("${US[two]}")
  ratios+=("$(echo "scale=4; ${RPS[two]} / ${RPS[one]}" | bc)")
  cpu_ratios+=("$(echo "scale=4; ${US[two]} / ${US[one]}" | bc)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
printf '%-32s %12s %12s\n' "medians of $RUNS rounds" "req/s" "router µs CPU/request"
printf '%-32s %12.0f %12.2f\n' "one pool (4 instances)" "$(median "${ones[@]}")" "$(median "${cpu_ones[@]}")"
printf '%-32s %12.0f %12.2f\n' "two pools 50/50 (2 + 2)" "$(median "${twos[@]}")" "$(median "${cpu_twos[@]}")"
printf 'per-round ratios two/one, req/s: %s\n' "${ratios[*]}"
printf 'per-round ratios two/one, CPU:   %s\n' "${cpu_ratios[*]}"
printf 'cost of weighting (median): router CPU per request %+.1f%%, req/s %+.1f%%   (goal < 3%%)\n' \
  "$(echo "scale=3; ($(median "${cpu_ratios[@]}") - 1) * 100" | bc)" "$(echo "scale=3; (1 - $(median "${ratios[@]}")) * 100" | bc)"
"$SLIPWAY" canary abort --env two >/dev/null 2>&1 || true
wait $PROMOTE || true
