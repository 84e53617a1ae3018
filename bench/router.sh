#!/usr/bin/env bash
# The router against HAProxy and nginx, in front of the same nginx backend, measured in the same run.
#
#   bench/router.sh                 speed: wrk -t1 -c64 against the backend directly, HAProxy (nbthread 1),
#                                   nginx as a proxy (1 worker) and `slipway router --threads 1`, in turns
#   bench/router.sh --switches N    zero drops: continuous load through an environment's router while the
#                                   daemon deploys back and forth between two releases N times
#
#   BENCH_RUNS=3 BENCH_SECONDS=10 BENCH_CONNECTIONS=64
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
SWITCHES=0
if [ "${1:-}" = "--switches" ]; then SWITCHES=${2:?--switches needs a count}; fi

need=()
for pkg in haproxy nginx-light wrk curl; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi

echo "building slipway (release)…" >&2
if ! out=$(swift build -c release --product slipway 2>&1); then echo "$out" | grep -E "error" >&2; exit 1; fi
BIN="$(swift build -c release --show-bin-path)"
SLIPWAY="$BIN/slipway"

WORK=$(mktemp -d /tmp/slipway-bench-router.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "nothing answers on port $1 ($2)" >&2; return 1; }

# wrk's summary → "req/s p50_ms p99_ms non2xx socket_errors"
run_wrk() {
  local out; out=$(wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$1/" 2>&1)
  python3 - "$out" <<'PY'
import re, sys
t = sys.argv[1]
def ms(v):
    n, u = float(re.match(r"([\d.]+)", v).group(1)), re.search(r"(us|ms|s)$", v).group(1)
    return n / 1000 if u == "us" else n * 1000 if u == "s" else n
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s*50%\s+(\S+)", t, re.M).group(1)); p99 = ms(re.search(r"^\s*99%\s+(\S+)", t, re.M).group(1))
non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", t)) else 0
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
print(f"{rps:.0f} {p50:.3f} {p99:.3f} {non2xx} {errs}")
PY
}

if [ "$SWITCHES" -eq 0 ]; then
  BACKEND=$(free_port) HAPROXY=$(free_port) NGINXPROXY=$(free_port) ROUTER=$(free_port)
  mkdir -p "$WORK/nginx"
  cat > "$WORK/nginx/backend.conf" <<NGINX
worker_processes 1; daemon off; pid $WORK/nginx/backend.pid; error_log $WORK/nginx/backend.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$BACKEND; keepalive_requests 1000000; location / { return 200 "ok\n"; } } }
NGINX
  cat > "$WORK/nginx/proxy.conf" <<NGINX
worker_processes 1; daemon off; pid $WORK/nginx/proxy.pid; error_log $WORK/nginx/proxy.err;
events { worker_connections 4096; }
http { access_log off;
  upstream app { server 127.0.0.1:$BACKEND; keepalive 64; }
  server { listen 127.0.0.1:$NGINXPROXY; keepalive_requests 1000000;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
NGINX
  cat > "$WORK/haproxy.cfg" <<HAP
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend f
  bind 127.0.0.1:$HAPROXY
  default_backend b
backend b
  server s1 127.0.0.1:$BACKEND
HAP
  nginx -c "$WORK/nginx/backend.conf" -p "$WORK/nginx" & PIDS+=($!)
  nginx -c "$WORK/nginx/proxy.conf" -p "$WORK/nginx" & PIDS+=($!)
  haproxy -f "$WORK/haproxy.cfg" -q & PIDS+=($!)
  "$SLIPWAY" router --listen "127.0.0.1:$ROUTER" --upstream "127.0.0.1:$BACKEND" --threads 1 >"$WORK/router.log" 2>&1 & PIDS+=($!)
  wait_http "$BACKEND" "nginx backend"; wait_http "$HAPROXY" "haproxy"; wait_http "$NGINXPROXY" "nginx proxy"; wait_http "$ROUTER" "slipway router"

  declare -A RPS P50 P99 BAD
  names=(direct haproxy nginx slipway)
  declare -A PORT=([direct]=$BACKEND [haproxy]=$HAPROXY [nginx]=$NGINXPROXY [slipway]=$ROUTER)
  for ((r = 1; r <= RUNS; r++)); do
    for n in "${names[@]}"; do
      read -r rps p50 p99 non2xx errs < <(run_wrk "${PORT[$n]}")
      echo "run $r $n: $rps req/s p50 ${p50}ms p99 ${p99}ms non-2xx $non2xx socket errors $errs" >&2
      RPS[$n]="${RPS[$n]:-} $rps"; P50[$n]="${P50[$n]:-} $p50"; P99[$n]="${P99[$n]:-} $p99"
      BAD[$n]=$(( ${BAD[$n]:-0} + non2xx + errs ))
    done
  done
  median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  h_rps=$(median "${RPS[haproxy]}"); h_p99=$(median "${P99[haproxy]}")
  printf '\n%-10s %10s %9s %9s %12s %12s %7s\n' "" "req/s" "p50 ms" "p99 ms" "rps/haproxy" "p99/haproxy" "errors"
  for n in "${names[@]}"; do
    rps=$(median "${RPS[$n]}"); p50=$(median "${P50[$n]}"); p99=$(median "${P99[$n]}")
    printf '%-10s %10.0f %9.3f %9.3f %12.2f %12.2f %7d\n' "$n" "$rps" "$p50" "$p99" "$(echo "$rps / $h_rps" | bc -l)" "$(echo "$p99 / $h_p99" | bc -l)" "${BAD[$n]}"
  done
  echo "(medians of $RUNS runs of wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s; goal: slipway ≥ 1.0× haproxy req/s, p99 ≤ haproxy's)"
  exit 0
fi

# --switches N: the daemon with two releases of demo-app, load through its router, N deploys.
PORT=$(free_port)
mkdir -p "$WORK/src"
echo '{"ready": true}' > "$WORK/src/demo-app.json"
cat > "$WORK/slipway.yml" <<YAML
app: bench
root: $WORK/root
process: { command: "$SLIPWAY demo-app --port \$PORT", instances: 2 }
health: { path: /health/ready, interval: 100ms, healthy_threshold: 1, deadline: 20s }
router: { listen: 127.0.0.1:$PORT, drain_timeout: 10s }
strategy: blue-green
keep_warm: 0s
YAML
export SLIPWAY_CONFIG="$WORK/slipway.yml"
"$SLIPWAY" server >"$WORK/daemon.log" 2>&1 & DAEMON=$!; PIDS+=($DAEMON)
for _ in $(seq 100); do "$SLIPWAY" status >/dev/null 2>&1 && break; sleep 0.1; done
"$SLIPWAY" release create a --from "$WORK/src" >/dev/null
"$SLIPWAY" release create b --from "$WORK/src" >/dev/null
"$SLIPWAY" deploy a >/dev/null
wait_http "$PORT" "the environment's router"
rss() { awk '/VmRSS/ {print $2}' "/proc/$DAEMON/status"; }
rss_start=$(rss)
wrk -t1 -c16 -d3600s "http://127.0.0.1:$PORT/" >"$WORK/wrk.out" 2>&1 & WRK=$!; PIDS+=($WRK)
sleep 1
failed_deploys=0
for ((i = 1; i <= SWITCHES; i++)); do
  v=$([ $((i % 2)) -eq 1 ] && echo b || echo a)
  "$SLIPWAY" deploy "$v" >/dev/null 2>&1 || failed_deploys=$((failed_deploys + 1))
  [ $((i % 10)) -eq 0 ] && echo "  $i switches, daemon RSS $(rss) KiB" >&2
done
sleep 1
kill -INT "$WRK"; wait "$WRK" 2>/dev/null || true
rss_end=$(rss)
requests=$(grep -oE '^ +[0-9]+ requests' "$WORK/wrk.out" | grep -oE '[0-9]+')
non2xx=$(grep -oE 'Non-2xx or 3xx responses: [0-9]+' "$WORK/wrk.out" | grep -oE '[0-9]+$' || echo 0)
errors=$(grep -oE 'Socket errors: .*' "$WORK/wrk.out" || echo "Socket errors: none")
echo
echo "$SWITCHES switches under load: $requests requests, failed (non-2xx): ${non2xx:-0}, $errors, failed deploys: $failed_deploys"
echo "daemon RSS: $rss_start KiB → $rss_end KiB ($(echo "scale=1; 100 * ($rss_end - $rss_start) / $rss_start" | bc)%)"
