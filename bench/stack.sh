#!/usr/bin/env bash
# Image releases (runtime: podman), in one run:
#  1. a blue-green deploy of an image release (2 instances: started, health-gated, switched, the old ones stopped)
#     by `slipway deploy` (keep_warm: 0, so no warm instance is reused), against the same done by hand: `podman run`
#     twice, curl polling /health/ready every 100 ms, an nginx upstream rewritten and reloaded, `podman stop` of the
#     old two. Goal: slipway ≤ 1.1× the manual time.
#  2. the daemon's CPU while it supervises 64 container instances against 64 native processes of the same program
#     (busybox httpd), probed every second. Goal: ≤ 1.5×.
#
# Usage (as root, like the test suite):  bench/stack.sh
#   BENCH_ROUNDS=5     deploys timed per side (the median is reported)
#   BENCH_SECONDS=30   length of each CPU measurement
#   BENCH_INSTANCES=64 instances for the CPU comparison
#   BENCH_BINARY=PATH  measure this slipway binary instead of a release build
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-30}
N=${BENCH_INSTANCES:-64}

. bench/lib.sh
need_packages podman runc busybox-static nginx-light curl
if [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' > /etc/containers/containers.conf
fi
if [ -n "${BENCH_BINARY:-}" ]; then SLIPWAY=$BENCH_BINARY; BIN=$(dirname "$SLIPWAY"); else build_release slipway; fi
WORK=$(mktemp -d /tmp/slipway-bench-stack.XXXXXX)
TAG=localhost/slipway-bench-stack
DAEMON=""
cleanup() {
  stop_slipway
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  podman ps -a --filter label=slipway-bench=manual --format '{{.Names}}' | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman rmi -f "$TAG:v1" "$TAG:v2" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Two images: busybox httpd serving /health/ready and a page naming the release, on $PORT.
for v in v1 v2; do
  root="$WORK/rootfs-$v"
  mkdir -p "$root/bin" "$root/www/health"
  cp /bin/busybox "$root/bin/busybox"; ln -s busybox "$root/bin/sh"; ln -s busybox "$root/bin/httpd"
  echo ready > "$root/www/health/ready"; echo "hello from demo-app $v" > "$root/www/index.html"
  tar -C "$root" -cf "$root.tar" .
  podman import --change 'CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]' "$root.tar" "$TAG:$v" >/dev/null
done

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }
now() { date +%s.%N; }

# --- 1. by hand --------------------------------------------------------------------------------------------
LISTEN=$(free_port)
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 1024; }
http { access_log off; include $WORK/upstream.conf; server { listen 127.0.0.1:$LISTEN; location / { proxy_pass http://app; } } }
NGINX
OLD=()
manual_deploy() {  # manual_deploy VERSION: two containers on fresh ports, polled until ready, nginx switched, the old two stopped
  local ports=() names=() p c
  for i in 0 1; do
    p=$(free_port); ports+=("$p")
    PORT=$p podman run -d --rm --init --network host --env PORT --label slipway-bench=manual --name "bench-$1-$i-$p" "$TAG:$1" >/dev/null
    names+=("bench-$1-$i-$p")
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 600); do curl -fs -o /dev/null "http://127.0.0.1:$p/health/ready" && break; sleep 0.1; done
  done
  { echo "upstream app {"; for p in "${ports[@]}"; do echo "  server 127.0.0.1:$p;"; done; echo "}"; } > "$WORK/upstream.conf"
  if [ -f "$WORK/nginx.pid" ] && kill -0 "$(cat "$WORK/nginx.pid")" 2>/dev/null; then nginx -c "$WORK/nginx.conf" -s reload 2>/dev/null; else nginx -c "$WORK/nginx.conf"; fi
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$LISTEN/" | grep -q "$1" && break; sleep 0.02; done
  if [ ${#OLD[@]} -gt 0 ]; then podman stop --time 3 "${OLD[@]}" >/dev/null; fi
  OLD=("${names[@]}")
}
MANUAL=()
for r in $(seq "$ROUNDS"); do
  v=$([ $((r % 2)) -eq 1 ] && echo v1 || echo v2)
  t0=$(now); manual_deploy "$v"; t1=$(now)
  MANUAL+=("$(python3 -c "print($t1 - $t0)")")
done
kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
podman ps -a --filter label=slipway-bench=manual --format '{{.Names}}' | xargs -r podman rm -f >/dev/null 2>&1 || true

# --- 1. slipway ----------------------------------------------------------------------------------------------
export SLIPWAY_CONFIG="$WORK/slipway.yml"
cat > "$WORK/slipway.yml" <<YAML
app: benchstack
root: $WORK/root
runtime: podman
process: { instances: 2, stop_timeout: 3s }
health: { path: /health/ready, interval: 100ms, healthy_threshold: 1, deadline: 60s }
router: { listen: "127.0.0.1:$(free_port)" }
watch: 0
keep_warm: 0
YAML
start_daemon
"$SLIPWAY" release create v1 --image "$TAG:v1" >/dev/null
"$SLIPWAY" release create v2 --image "$TAG:v2" >/dev/null
SLIP=()
for r in $(seq "$ROUNDS"); do
  v=$([ $((r % 2)) -eq 1 ] && echo v1 || echo v2)
  t0=$(now); "$SLIPWAY" deploy "$v" --force >/dev/null; t1=$(now)
  SLIP+=("$(python3 -c "print($t1 - $t0)")")
done
"$SLIPWAY" down --all >/dev/null
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=""

# --- 2. supervising N containers against N processes ---------------------------------------------------------
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
supervise() {  # supervise RUNTIME: the daemon's share of a core over SECS with N instances of it
  local runtime=$1 command=""
  [ "$runtime" = process ] && command='command: "/bin/busybox httpd -f -p $PORT -h www", '
  rm -rf "$WORK/root"
  cat > "$WORK/slipway.yml" <<YAML
app: benchstack
root: $WORK/root
runtime: $runtime
process: { ${command}instances: $N, stop_timeout: 3s }
health: { path: /health/ready, interval: 1s, healthy_threshold: 1, deadline: 300s }
router: { listen: "127.0.0.1:$(free_port)" }
watch: 0
YAML
  start_daemon
  if [ "$runtime" = process ]; then
    mkdir -p "$WORK/src/www/health"; echo ready > "$WORK/src/www/health/ready"; echo hello > "$WORK/src/www/index.html"
    "$SLIPWAY" release create v1 --from "$WORK/src" >/dev/null
  else
    "$SLIPWAY" release create v1 --image "$TAG:v1" >/dev/null
  fi
  "$SLIPWAY" deploy v1 >/dev/null
  sleep 5
  local c0 c1; c0=$(cpu_seconds "$DAEMON"); sleep "$SECS"; c1=$(cpu_seconds "$DAEMON")
  "$SLIPWAY" down --all >/dev/null
  kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=""
  python3 -c "print(f'{100 * ($c1 - $c0) / $SECS:.2f}')"
}
echo "measuring the daemon with $N native instances, then $N containers (${SECS}s each)…" >&2
NATIVE=$(supervise process)
CONTAINERS=$(supervise podman)

M=$(median "${MANUAL[@]}"); S=$(median "${SLIP[@]}")
echo
echo "blue-green of an image release, 2 instances (median of $ROUNDS)"
printf "  by hand (podman run, curl polling, nginx reload)   %7.3f s\n" "$M"
printf "  slipway deploy                                      %7.3f s\n" "$S"
python3 -c "print(f'  ratio slipway / by hand: {$S / $M:.2f}x (goal ≤ 1.1x)')"
echo "daemon CPU supervising $N instances (% of a core)"
printf "  native processes   %6s\n  containers         %6s\n" "$NATIVE" "$CONTAINERS"
python3 -c "n, c = $NATIVE, $CONTAINERS; print(f'  ratio containers / native: {c / n:.2f}x (goal ≤ 1.5x)' if n > 0 else '  native used no measurable CPU')"
