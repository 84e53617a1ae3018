#!/usr/bin/env bash
# The router against HAProxy and nginx, in front of the same nginx backend, measured in the same run.
#
#   bench/router.sh                 speed: wrk -t1 -c64 against the backend directly, HAProxy (nbthread 1) bare
#                                   and adding the same headers slipway adds, `slipway router --threads 1` with
#                                   and without those headers, bare with host routing (`--host`: each request's
#                                   Host matched against a route), and nginx as a proxy (1 worker), in turns
#   bench/router.sh --switches N    zero drops: continuous load through an environment's router while the
#                                   daemon deploys back and forth between two releases N times
#
#   BENCH_RUNS=8 BENCH_SECONDS=5 BENCH_CONNECTIONS=64 BENCH_BINARY=path (default: scripts/build-release.sh)
#   BENCH_BASELINE=path  another slipway binary (say, main's before a change) measured in the same rounds,
#                 bare and with headers: the summary adds this build's ratios to it
#   BENCH_PIN=1   with 2+ CPUs: every proxy on CPU 0, wrk and the nginx backend on CPU 1 (0: let the
#                 scheduler place them; three busy processes on two cores then share unevenly run to run)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-8}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
SWITCHES=0
PIN=${BENCH_PIN:-1}
[ "$(nproc)" -ge 2 ] || PIN=0
# Command prefixes that put a process on CPU 0 or 1 when pinning (taskset execs, so $! stays the process).
CPU0=() CPU1=()
if [ "$PIN" = 1 ]; then CPU0=(taskset -c 0) CPU1=(taskset -c 1); fi
if [ "${1:-}" = "--switches" ]; then SWITCHES=${2:?--switches needs a count}; fi

. bench/lib.sh  # need_packages, ship_binary, free_port, wrk_summary, stop_slipway
need_packages haproxy nginx-light wrk curl
ship_binary
BIN=$(dirname "$SLIPWAY")  # for stop_slipway

WORK=$(mktemp -d /tmp/slipway-bench-router.XXXXXX)
PIDS=()
# With --switches, the daemon's router and instances outlive it by design: `stop_slipway` takes them down first.
cleanup() {
  if [ -n "${DAEMON:-}" ]; then stop_slipway; fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT
wait_http() { for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "nothing answers on port $1 ($2)" >&2; return 1; }

# wrk's summary → "req/s p50_ms p99_ms non2xx socket_errors"
run_wrk() {
  wrk_summary "$("${CPU1[@]}" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$1/" 2>&1)"
}

if [ "$SWITCHES" -eq 0 ]; then
  BACKEND=$(free_port) HAPROXY=$(free_port) HAPROXY_H=$(free_port) NGINXPROXY=$(free_port) ROUTER=$(free_port) ROUTER_BARE=$(free_port)
  BASE=$(free_port) BASE_BARE=$(free_port) ROUTER_HOSTS=$(free_port)
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
  # HAProxy twice: bare (adds nothing to requests), and doing what slipway router does by default
  # (X-Forwarded-For/Proto/Host, and a request id in X-Request-Id unless the client sent one).
  haproxy_cfg() {
    cat <<HAP
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
  bind 127.0.0.1:$1
$2
  default_backend b
backend b
  server s1 127.0.0.1:$BACKEND
HAP
  }
  haproxy_cfg "$HAPROXY" "" > "$WORK/haproxy.cfg"
  haproxy_cfg "$HAPROXY_H" '  option forwardfor
  unique-id-format %{+X}o%pid-%rt
  http-request set-header X-Forwarded-Proto http unless { req.hdr(x-forwarded-proto) -m found }
  http-request set-header X-Forwarded-Host %[req.hdr(host)] unless { req.hdr(x-forwarded-host) -m found }
  http-request set-header X-Request-Id %[unique-id] unless { req.hdr(x-request-id) -m found }' > "$WORK/haproxy-headers.cfg"
  declare -A PORT PID
  "${CPU1[@]}" nginx -c "$WORK/nginx/backend.conf" -p "$WORK/nginx" & PIDS+=($!)
  "${CPU0[@]}" nginx -c "$WORK/nginx/proxy.conf" -p "$WORK/nginx" & PIDS+=($!); NGINX_MASTER=$!
  "${CPU0[@]}" haproxy -f "$WORK/haproxy.cfg" -q & PIDS+=($!); PID[haproxy]=$!
  "${CPU0[@]}" haproxy -f "$WORK/haproxy-headers.cfg" -q & PIDS+=($!); PID[haproxy+hdrs]=$!
  "${CPU0[@]}" "$SLIPWAY" router --listen "127.0.0.1:$ROUTER" --upstream "127.0.0.1:$BACKEND" --threads 1 >"$WORK/router.log" 2>&1 & PIDS+=($!); PID[slipway]=$!
  "${CPU0[@]}" "$SLIPWAY" router --listen "127.0.0.1:$ROUTER_BARE" --upstream "127.0.0.1:$BACKEND" --threads 1 \
    --no-forwarded-headers --no-request-id-header >"$WORK/router-bare.log" 2>&1 & PIDS+=($!); PID[slipway-bare]=$!
  # Bare, with the request's Host matched against a route (wrk sends Host: 127.0.0.1:PORT): what host routing costs.
  "${CPU0[@]}" "$SLIPWAY" router --listen "127.0.0.1:$ROUTER_HOSTS" --upstream "127.0.0.1:$BACKEND" --threads 1 \
    --no-forwarded-headers --no-request-id-header --host 127.0.0.1 >"$WORK/router-hosts.log" 2>&1 & PIDS+=($!); PID[slipway-hosts]=$!
  if [ -n "${BENCH_BASELINE:-}" ]; then
    "${CPU0[@]}" "$BENCH_BASELINE" router --listen "127.0.0.1:$BASE" --upstream "127.0.0.1:$BACKEND" --threads 1 >"$WORK/base.log" 2>&1 & PIDS+=($!); PID[baseline]=$!
    "${CPU0[@]}" "$BENCH_BASELINE" router --listen "127.0.0.1:$BASE_BARE" --upstream "127.0.0.1:$BACKEND" --threads 1 \
      --no-forwarded-headers --no-request-id-header >"$WORK/base-bare.log" 2>&1 & PIDS+=($!); PID[baseline-bare]=$!
    wait_http "$BASE" "baseline router"; wait_http "$BASE_BARE" "baseline router (bare)"
  fi
  wait_http "$BACKEND" "nginx backend"; wait_http "$HAPROXY" "haproxy"; wait_http "$HAPROXY_H" "haproxy with headers"
  wait_http "$NGINXPROXY" "nginx proxy"; wait_http "$ROUTER" "slipway router"; wait_http "$ROUTER_BARE" "slipway router (bare)"
  wait_http "$ROUTER_HOSTS" "slipway router (host routing)"
  PID[nginx]=$(pgrep -P "$NGINX_MASTER" | head -1)
  PORT=([direct]=$BACKEND [haproxy]=$HAPROXY [slipway-bare]=$ROUTER_BARE [haproxy+hdrs]=$HAPROXY_H [slipway]=$ROUTER [nginx]=$NGINXPROXY
        [slipway-hosts]=$ROUTER_HOSTS)
  names=(direct haproxy slipway-bare haproxy+hdrs slipway nginx slipway-hosts)
  if [ -n "${BENCH_BASELINE:-}" ]; then PORT[baseline]=$BASE PORT[baseline-bare]=$BASE_BARE; names+=(baseline baseline-bare); fi
  # CPU time (user + system, in clock ticks) a proxy process has used so far.
  ticks() { [ -n "${PID[$1]:-}" ] && awk '{print $14 + $15}' "/proc/${PID[$1]}/stat" || echo 0; }
  hz=$(getconf CLK_TCK)

  declare -A RPS P50 P99 CPU BAD
  for ((r = 1; r <= RUNS; r++)); do
    # Each round starts with a different target, so none always runs first or after the same neighbour.
    for ((k = 0; k < ${#names[@]}; k++)); do
      n=${names[$(( (k + r - 1) % ${#names[@]} ))]}
      t0=$(ticks "$n")
      read -r rps p50 p99 non2xx errs < <(run_wrk "${PORT[$n]}")
      cpu=$(echo "($(ticks "$n") - $t0) * 1000000 / $hz / ($rps * $SECONDS_PER_RUN)" | bc -l)
      printf 'run %d %-13s %7.0f req/s  p50 %6.3f ms  p99 %6.3f ms  cpu %5.1f µs/req  non-2xx %d  socket errors %d\n' \
        "$r" "$n" "$rps" "$p50" "$p99" "$cpu" "$non2xx" "$errs" >&2
      RPS[$n,$r]=$rps; P50[$n,$r]=$p50; P99[$n,$r]=$p99; CPU[$n,$r]=$cpu
      BAD[$n]=$(( ${BAD[$n]:-0} + non2xx + errs ))
    done
  done
  median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  column_of() { local -n m=$1; local out=""; for ((r = 1; r <= RUNS; r++)); do out+=" ${m[$2,$r]}"; done; echo "$out"; }
  # The ratio of two targets, round by round (neighbouring runs share the machine's mood), then the median.
  paired() { local -n m=$1; local out=""; for ((r = 1; r <= RUNS; r++)); do out+=" $(echo "${m[$2,$r]} / ${m[$3,$r]}" | bc -l)"; done; median "$out"; }
  printf '\n%-13s %9s %8s %8s %10s %7s\n' "" "req/s" "p50 ms" "p99 ms" "cpu µs/req" "errors"
  for n in "${names[@]}"; do
    printf '%-13s %9.0f %8.3f %8.3f %10s %7d\n' "$n" "$(median "$(column_of RPS "$n")")" "$(median "$(column_of P50 "$n")")" \
      "$(median "$(column_of P99 "$n")")" "$([ "$n" = direct ] && echo - || printf '%.1f' "$(median "$(column_of CPU "$n")")")" "${BAD[$n]}"
  done
  echo
  printf '%-34s %6s %6s %6s\n' "slipway against haproxy, same work" "req/s" "p99" "cpu"
  printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  bare: slipway-bare / haproxy" "$(paired RPS slipway-bare haproxy)" "$(paired P99 slipway-bare haproxy)" "$(paired CPU slipway-bare haproxy)"
  printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  headers: slipway / haproxy+hdrs" "$(paired RPS slipway haproxy+hdrs)" "$(paired P99 slipway haproxy+hdrs)" "$(paired CPU slipway haproxy+hdrs)"
  printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  slipway / haproxy (bare)" "$(paired RPS slipway haproxy)" "$(paired P99 slipway haproxy)" "$(paired CPU slipway haproxy)"
  printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  host routing: slipway-hosts / bare" "$(paired RPS slipway-hosts slipway-bare)" "$(paired P99 slipway-hosts slipway-bare)" "$(paired CPU slipway-hosts slipway-bare)"
  if [ -n "${BENCH_BASELINE:-}" ]; then
    printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  bare: this build / baseline" "$(paired RPS slipway-bare baseline-bare)" "$(paired P99 slipway-bare baseline-bare)" "$(paired CPU slipway-bare baseline-bare)"
    printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  headers: this build / baseline" "$(paired RPS slipway baseline)" "$(paired P99 slipway baseline)" "$(paired CPU slipway baseline)"
    printf '%-34s %5.2f× %5.2f×\n' "  baseline-bare / haproxy" "$(paired RPS baseline-bare haproxy)" "$(paired P99 baseline-bare haproxy)"
    printf '%-34s %5.2f× %5.2f×\n' "  baseline / haproxy+hdrs" "$(paired RPS baseline haproxy+hdrs)" "$(paired P99 baseline haproxy+hdrs)"
  fi
  echo "(medians over $RUNS rounds of wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s; ratios are medians of the per-round ratios;"
  [ "$PIN" = 1 ] && echo " proxies on CPU 0, wrk and the backend on CPU 1;"
  echo " goal: req/s ≥ 1.0× haproxy's and p99 ≤ 1.0× for the same work)"
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
