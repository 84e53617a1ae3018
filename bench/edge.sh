#!/usr/bin/env bash
# HTTPS at the edge: slipway router against HAProxy with the same certificate and the same nginx backend,
# measured in the same run, in turns.
#
#   bench/edge.sh    keep-alive HTTPS (wrk -t1 -c64 over TLS), new TLS handshakes per second (wrk with
#                    `Connection: close`: one handshake per request), HTTP/2 (h2load, Debian's nghttp2-client), and
#                    plain HTTP for reference; both proxies bare (adding no headers), one thread each
#
#   BENCH_RUNS=6 BENCH_SECONDS=5 BENCH_CONNECTIONS=64 BENCH_BINARY=path (default: scripts/build-release.sh)
#   BENCH_PIN=1   with 2+ CPUs: the proxies on CPU 0, wrk and the backend on CPU 1
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-6}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
PIN=${BENCH_PIN:-1}
[ "$(nproc)" -ge 2 ] || PIN=0
CPU0=() CPU1=()
if [ "$PIN" = 1 ]; then CPU0=(taskset -c 0) CPU1=(taskset -c 1); fi

. bench/lib.sh  # need_packages, ship_binary, free_port, wrk_summary
need_packages haproxy nginx-light wrk curl openssl bc nghttp2-client
ship_binary

WORK=$(mktemp -d /tmp/slipway-bench-edge.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# One certificate for both: a P-256 key and a self-signed certificate for 127.0.0.1 (what wrk connects to).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat "$WORK/cert.pem" "$WORK/key.pem" > "$WORK/haproxy.pem"

BACKEND=$(free_port) HAP_TLS=$(free_port) HAP_PLAIN=$(free_port) SW_TLS=$(free_port) SW_PLAIN=$(free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/backend.conf" <<NGINX
worker_processes 1; daemon off; pid $WORK/nginx/backend.pid; error_log $WORK/nginx/backend.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$BACKEND; keepalive_requests 1000000; location / { return 200 "ok\n"; } } }
NGINX
cat > "$WORK/haproxy.cfg" <<HAP
global
  nbthread 1
  maxconn 4000
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend plain
  bind 127.0.0.1:$HAP_PLAIN
  default_backend b
frontend tls
  bind 127.0.0.1:$HAP_TLS ssl crt $WORK/haproxy.pem alpn h2,http/1.1
  default_backend b
backend b
  server s1 127.0.0.1:$BACKEND
HAP
"${CPU1[@]}" nginx -c "$WORK/nginx/backend.conf" -p "$WORK/nginx" & PIDS+=($!)
declare -A PID
"${CPU0[@]}" haproxy -f "$WORK/haproxy.cfg" -q & PIDS+=($!); PID[haproxy]=$!
"${CPU0[@]}" "$SLIPWAY" router --listen "127.0.0.1:$SW_PLAIN" --listen-tls "127.0.0.1:$SW_TLS" --cert "$WORK/cert.pem" --key "$WORK/key.pem" --http2 \
  --upstream "127.0.0.1:$BACKEND" --threads 1 --no-forwarded-headers --no-request-id-header >"$WORK/router.log" 2>&1 & PIDS+=($!); PID[slipway]=$!
wait_url() { for _ in $(seq 100); do curl -sfk -o /dev/null "$1" && return 0; sleep 0.1; done; echo "nothing answers at $1" >&2; return 1; }
wait_url "http://127.0.0.1:$BACKEND/"; wait_url "https://127.0.0.1:$HAP_TLS/"; wait_url "https://127.0.0.1:$SW_TLS/"
wait_url "http://127.0.0.1:$HAP_PLAIN/"; wait_url "http://127.0.0.1:$SW_PLAIN/"

# wrk's summary → "req/s p50_ms p99_ms bad" (bad: non-2xx answers and socket errors)
run_wrk() {
  local url=$1; shift
  local rps p50 p99 non2xx errs
  read -r rps p50 p99 non2xx errs < <(wrk_summary "$("${CPU1[@]}" wrk -t1 "$@" -d"${SECONDS_PER_RUN}s" --latency "$url" 2>&1)")
  echo "$rps $p50 $p99 $((non2xx + errs))"
}
ticks() { awk '{print $14 + $15}' "/proc/${PID[$1]}/stat"; }

# h2load's summary → "req/s p50_ms p99_ms bad" (p50/p99: its request-time "mean" and "max" are all it prints
# per run; p99 here is the max, an upper bound)
run_h2load() {
  local out; out=$("${CPU1[@]}" h2load -D "$SECONDS_PER_RUN" -c 16 -m 10 -t 1 "$1" 2>&1)
  python3 - "$out" <<'PY'
import re, sys
t = sys.argv[1]
def ms(v, u): return float(v) / 1000 if u == "us" else float(v) * 1000 if u == "s" else float(v)
rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", t).group(1))
m = re.search(r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", t)
mn, mx, mean = ms(m.group(1), m.group(2)), ms(m.group(3), m.group(4)), ms(m.group(5), m.group(6))
st = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", t)
print(f"{rps:.0f} {mean:.3f} {mx:.3f} {int(st.group(2)) + int(st.group(3))}")
PY
}
hz=$(getconf CLK_TCK)

# case name → proxy, URL port, scheme, wrk options
cases=(https-keepalive handshakes h2 plain-keepalive)
declare -A RPS P50 P99 CPU BAD
for ((r = 1; r <= RUNS; r++)); do
  for c in "${cases[@]}"; do
    for ((k = 0; k < 2; k++)); do
      p=$([ $(( (k + r) % 2 )) -eq 0 ] && echo slipway || echo haproxy)
      case "$c" in
        https-keepalive) port=$([ "$p" = slipway ] && echo "$SW_TLS" || echo "$HAP_TLS"); url="https://127.0.0.1:$port/"; opts=(-c"$CONNS") ;;
        handshakes) port=$([ "$p" = slipway ] && echo "$SW_TLS" || echo "$HAP_TLS"); url="https://127.0.0.1:$port/"; opts=(-c16 -H "Connection: close") ;;
        h2) port=$([ "$p" = slipway ] && echo "$SW_TLS" || echo "$HAP_TLS"); url="https://127.0.0.1:$port/"; opts=() ;;
        plain-keepalive) port=$([ "$p" = slipway ] && echo "$SW_PLAIN" || echo "$HAP_PLAIN"); url="http://127.0.0.1:$port/"; opts=(-c"$CONNS") ;;
      esac
      t0=$(ticks "$p")
      if [ "$c" = h2 ]; then read -r rps p50 p99 bad < <(run_h2load "$url")
      else read -r rps p50 p99 bad < <(run_wrk "$url" "${opts[@]}"); fi
      cpu=$(echo "($(ticks "$p") - $t0) * 1000000 / $hz / ($rps * $SECONDS_PER_RUN)" | bc -l)
      printf 'run %d %-16s %-8s %7.0f req/s  p50 %6.3f ms  p99 %6.3f ms  cpu %6.1f µs/req  errors %d\n' "$r" "$c" "$p" "$rps" "$p50" "$p99" "$cpu" "$bad" >&2
      RPS[$c,$p,$r]=$rps; P50[$c,$p,$r]=$p50; P99[$c,$p,$r]=$p99; CPU[$c,$p,$r]=$cpu; BAD[$c,$p]=$(( ${BAD[$c,$p]:-0} + bad ))
    done
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { local -n m=$1; local out=""; for ((r = 1; r <= RUNS; r++)); do out+=" ${m[$2,$3,$r]}"; done; median "$out"; }
paired() { local -n m=$1; local out=""; for ((r = 1; r <= RUNS; r++)); do out+=" $(echo "${m[$2,slipway,$r]} / ${m[$2,haproxy,$r]}" | bc -l)"; done; median "$out"; }
printf '\n%-16s %-8s %9s %8s %8s %10s %7s\n' "" "" "req/s" "p50 ms" "p99 ms" "cpu µs/req" "errors"
for c in "${cases[@]}"; do for p in slipway haproxy; do
  printf '%-16s %-8s %9.0f %8.3f %8.3f %10.1f %7d\n' "$c" "$p" "$(col RPS "$c" "$p")" "$(col P50 "$c" "$p")" "$(col P99 "$c" "$p")" "$(col CPU "$c" "$p")" "${BAD[$c,$p]}"
done; done
echo
printf '%-34s %6s %6s %6s\n' "slipway / haproxy, same work" "req/s" "p99" "cpu"
for c in "${cases[@]}"; do
  printf '%-34s %5.2f× %5.2f× %5.2f×\n' "  $c" "$(paired RPS "$c")" "$(paired P99 "$c")" "$(paired CPU "$c")"
done
echo "(medians over $RUNS rounds, wrk -t1 -d${SECONDS_PER_RUN}s: keep-alive with -c$CONNS, handshakes with -c16 and Connection: close;"
echo " h2: h2load -c16 -m10 (16 connections, 10 streams each), its p50 column is the mean and p99 the max;"
[ "$PIN" = 1 ] && echo " proxies on CPU 0, wrk and the backend on CPU 1;"
echo " goals: HTTPS keep-alive req/s ≥ 1.0× with p99 ≤ 1.0×, handshakes ≥ 0.8×)"
