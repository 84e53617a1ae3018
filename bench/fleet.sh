#!/usr/bin/env bash
# A fleet deploy (environments.NAME.hosts, all_at_once) across 4 and then 16 hosts, against the slowest single
# host's deploy of the same kind measured in the same run (`slipway deploy V --hosts hN`, one host at a time). The
# hosts are network namespaces with their own sshd and `slipway server --host-only` (scripts/fleet-lab.sh). Goal:
# fleet time ≤ 1.3× the slowest single host's. Also counts the SSH connections each host accepted during the fleet
# deploy (sshd's log). Goal: 1 per host. Then a slow host: 4 hosts, the fourth reached through a link with 1.5 s of
# delay each way and 10% of its segments late by a retransmission (bench/delay-proxy.py as its ssh ProxyCommand: this
# kernel has no sch_netem for `tc netem delay 1500ms loss 10%`), against that slow host's deploy alone. Goal: the
# fleet takes about the slow host's time (≤ 1.3×), still one ssh connection per host.
#
# Usage (as root, like the test suite):  bench/fleet.sh
#   BENCH_ROUNDS=3     fleet deploys timed per size (the median is reported)
#   BENCH_SIZES="4 16" the fleet sizes measured (the slow-host case always uses 4)
#   BENCH_BINARY=PATH  measure this slipway binary instead of scripts/build-release.sh's
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_ROUNDS:-3}
. bench/lib.sh
need_packages openssh-server iproute2 python3
ship_binary   # the binary users install: a host starts it for every ssh session and every instance (its launcher)
WORK=$(mktemp -d /tmp/slipway-bench-fleet.XXXXXX)
cleanup() { bash scripts/fleet-lab.sh down "$WORK/lab" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

ms() { python3 -c 'import time; print(int(time.monotonic()*1000))'; }
median() { python3 -c 'import sys, statistics; print(int(statistics.median(int(x) for x in sys.argv[1:])))' "$@"; }

bash scripts/fleet-lab.sh up 16 "$WORK/lab" "$SLIPWAY" "LogLevel INFO" >/dev/null
mkdir -p "$WORK/app"
cat > "$WORK/app/app.py" <<'PY'
import os, http.server
v = open("VERSION").read().strip()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("hello from " + v).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
PY
config() {  # config N [HOSTS]: the first N hosts, or the hosts listed
  local hosts; hosts=${2:-$(seq -s, -f 'h%g' 1 "$1")}
  cat > "$WORK/app/slipway.yml" <<YML
app: bench
release: { files: [app.py, VERSION] }
ssh: { config: $WORK/lab/ssh_config, slipway: $SLIPWAY }
environments:
  production:
    hosts: [$hosts]
    fleet: { strategy: all_at_once, healthy_deadline: 60s }
    process: { command: "python3 app.py", instances: 1, stop_timeout: 2s }
    health: { path: /health, interval: 100ms, deadline: 20s, healthy_threshold: 2 }
    router: { listen: "0.0.0.0:18080", drain_timeout: 1s }
YML
}
deploy() {  # deploy VERSION [ARGS…]: prints milliseconds; exits on a failed deploy
  echo "$1" > "$WORK/app/VERSION"
  local t0 t1; t0=$(ms)
  (cd "$WORK/app" && "$SLIPWAY" deploy "$@" >"$WORK/deploy.log" 2>&1) || { cat "$WORK/deploy.log" >&2; exit 1; }
  t1=$(ms); echo $((t1 - t0))
}
accepted() { grep -c "Accepted publickey" "$WORK/lab/h$1/sshd.log" 2>/dev/null || echo 0; }

v=0
for n in ${BENCH_SIZES:-4 16}; do
  config "$n"
  v=$((v + 1)); deploy "w$v" >/dev/null   # every host serves something first: each measured deploy is a switch
  fleet=(); single=()
  for r in $(seq 1 "$ROUNDS"); do
    slowest=0
    for i in $(seq 1 "$n"); do
      v=$((v + 1)); t=$(deploy "w$v" --hosts "h$i"); [ "$t" -gt "$slowest" ] && slowest=$t
    done
    single+=("$slowest")
    before=(); for i in $(seq 1 "$n"); do before+=("$(accepted "$i")"); done
    v=$((v + 1)); fleet+=("$(deploy "w$v")")
    maxconn=0; for i in $(seq 1 "$n"); do c=$(( $(accepted "$i") - before[i-1] )); [ "$c" -gt "$maxconn" ] && maxconn=$c; done
  done
  f=$(median "${fleet[@]}"); s=$(median "${single[@]}")
  printf '%2d hosts: fleet deploy %5d ms, slowest single host %5d ms: %s× (goal ≤ 1.3×); ssh connections per host: %d (goal 1)\n' \
    "$n" "$f" "$s" "$(python3 -c "print(f'{$f/$s:.2f}')")" "$maxconn"
done

# The slow host: h4 again, under the name h4slow, through the delaying proxy.
addr4=$(awk '$1 == "h4" { print $2 }' "$WORK/lab/hosts")
awk -v addr="$addr4" -v proxy="python3 $PWD/bench/delay-proxy.py 1.5 0.1 %h %p" '
  /^Host h4$/ { copy = 1; print "Host h4slow"; next }
  /^Host / { copy = 0 }
  copy { print; if ($1 == "HostName") print "  ProxyCommand " proxy }' "$WORK/lab/ssh_config" > "$WORK/slow.conf"
cat "$WORK/slow.conf" >> "$WORK/lab/ssh_config"
config 4 h1,h2,h3,h4slow
v=$((v + 1)); deploy "w$v" >/dev/null
fleet=(); single=()
for r in $(seq 1 "$ROUNDS"); do
  v=$((v + 1)); single+=("$(deploy "w$v" --hosts h4slow)")
  before=(); for i in 1 2 3 4; do before+=("$(accepted "$i")"); done
  v=$((v + 1)); fleet+=("$(deploy "w$v")")
  maxconn=0; for i in 1 2 3 4; do c=$(( $(accepted "$i") - before[i-1] )); [ "$c" -gt "$maxconn" ] && maxconn=$c; done
done
f=$(median "${fleet[@]}"); s=$(median "${single[@]}")
printf 'slow host (1.5 s each way, 10%% late): fleet of 4 %5d ms, the slow host alone %5d ms: %s× (goal ≤ 1.3×); ssh connections per host: %d (goal 1)\n' \
  "$f" "$s" "$(python3 -c "print(f'{$f/$s:.2f}')")" "$maxconn"
