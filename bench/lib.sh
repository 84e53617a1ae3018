# Shared by the bench scripts (source it from the project's root).

# build_release PRODUCT…: release builds of the products; sets BIN (where they are) and SLIPWAY.
build_release() {
  echo "building $* (release)…" >&2
  local product out
  for product in "$@"; do
    if ! out=$(swift build -c release --product "$product" 2>&1); then echo "$out" | grep -E "error" >&2; exit 1; fi
  done
  BIN="$(swift build -c release --show-bin-path)"
  SLIPWAY="$BIN/slipway"
}

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# stop_slipway: the run's daemon ($DAEMON, configured by $WORK/slipway.yml) takes everything down, then stops;
# the router and instances outlive a daemon by design, so any of this run's still running (found by $WORK)
# are killed.
stop_slipway() {
  if [ -n "${DAEMON:-}" ]; then
    SLIPWAY_CONFIG="$WORK/slipway.yml" "$SLIPWAY" down --all >/dev/null 2>&1 || true
    kill "$DAEMON" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  pkill -f -- "--control $WORK/" 2>/dev/null || true
  local p
  for p in $(pgrep -f -- "$BIN/demo-app" || true); do
    case "$(readlink "/proc/$p/cwd" 2>/dev/null)" in "$WORK"/*) kill "$p" 2>/dev/null || true ;; esac
  done
}

# start_daemon: `slipway server` for $WORK/slipway.yml in the background ($DAEMON), once it answers.
start_daemon() {
  SLIPWAY_CONFIG="$WORK/slipway.yml" "$SLIPWAY" server >"$WORK/daemon.log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 200); do SLIPWAY_CONFIG="$WORK/slipway.yml" "$SLIPWAY" status >/dev/null 2>&1 && return; sleep 0.1; done
  echo "the daemon did not start" >&2; cat "$WORK/daemon.log" >&2; exit 1
}

# wrk_summary OUTPUT: wrk's --latency summary → "req/s p50_ms p99_ms non2xx socket_errors"
wrk_summary() {
  python3 - "$1" <<'PY'
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

# need_packages PKG…: installs the Debian packages not installed yet.
need_packages() {
  local need=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
  if [ ${#need[@]} -gt 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
}

# ship_binary: sets SLIPWAY to the binary users install (scripts/build-release.sh: Swift runtime linked in,
# no run-time exclusivity checks), or to $BENCH_BINARY to measure another build.
ship_binary() {
  if [ -n "${BENCH_BINARY:-}" ]; then
    SLIPWAY=$BENCH_BINARY
  else
    echo "building slipway (scripts/build-release.sh; the first build takes a while)…" >&2
    SLIPWAY=$(scripts/build-release.sh)
  fi
}
