#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, builds, runs every test.
# Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use: real servers for the backup tests (PostgreSQL 15, MariaDB), the
# tools Slipway drives (pg_dump, mariadb-dump, tar, zstd), sqlite3, and Prometheus (it scrapes the
# router in the metrics test), Chromium (the dashboard's browser tests), and pebble (an RFC 8555 CA with
# its DNS stub, for the ACME tests). Installed only when missing.
need=()
for pkg in git ca-certificates procps curl postgresql mariadb-server zstd sqlite3 tar prometheus chromium fonts-dejavu-core pebble; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# S3 for the off-site store tests: moto_server from PyPI.
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install -q 'moto[server]' || python3 -m pip install -q --break-system-packages 'moto[server]'
  hash -r
fi

swift build --build-tests

# A process that crashes prints its backtrace (the router's, into its log) rather than dying silently.
export SWIFT_BACKTRACE="enable=yes,interactive=no"
started=$SECONDS
unit_pid=
if [ $# -eq 0 ]; then
  # The unit tests (Tests/SlipwayUnitTests: no daemon, no process, no socket, no service) side by side,
  # while the services start.
  unit_log=$(mktemp)
  swift test --skip-build --filter SlipwayUnitTests >"$unit_log" 2>&1 &
  unit_pid=$!
fi
# Start PostgreSQL, MariaDB and moto_server on free ports; the tests read SLIPWAY_TEST_* and never skip here.
source scripts/test-services.sh
trap stop_test_services EXIT
export SLIPWAY_TEST_REQUIRE_SERVICES=1
# The tests start the real `slipway` binary (router process) and `demo-app` from this build.
export SLIPWAY_TEST_BIN="$(swift build --show-bin-path)"
if [ $# -gt 0 ]; then
  swift test --skip-build --no-parallel "$@"
else
  unit_status=0
  wait "$unit_pid" || unit_status=$?
  cat "$unit_log"; rm -f "$unit_log"
  [ "$unit_status" -eq 0 ] || { echo "unit tests failed" >&2; exit "$unit_status"; }
  echo "unit tests and the services' start took $((SECONDS - started)) s"
  daemon_started=$SECONDS
  # The rest one at a time: they run a real daemon, its router process and app instances with health
  # deadlines; run side by side on a 2-core machine they starve each other and deadlines fail.
  swift test --skip-build --no-parallel --skip SlipwayUnitTests
  echo "daemon tests took $((SECONDS - daemon_started)) s"
fi
echo "tests took $((SECONDS - started)) s (services' start included)"
