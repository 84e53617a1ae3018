#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, builds, runs every test.
# Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use (real processes and sockets only need what the image has today;
# later suites add their servers here). Installed only when missing.
need=()
for pkg in git ca-certificates procps curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

swift build --build-tests
# The tests start the real `slipway` binary (router process) and `demo-app` from this build.
export SLIPWAY_TEST_BIN="$(swift build --show-bin-path)"
swift test --skip-build "$@"
