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
