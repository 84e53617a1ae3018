#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, builds, runs every test.
# Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use: real servers for the backup tests (PostgreSQL 15, MariaDB), the
# tools Slipway drives (pg_dump, mariadb-dump, tar, zstd), sqlite3, and Prometheus (it scrapes the
# router in the metrics test), Chromium (the dashboard's browser tests), and pebble (an RFC 8555 CA with
# its DNS stub, for the ACME tests), redis-server (an accessory in the accessory tests), systemd (systemd-analyze
# verify checks the README's unit files), podman with runc and busybox-static (image releases: the tests build
# their images from a busybox rootfs), python3 (the process-type tests' workers), openssh-server and iproute2 (the fleet
# tests' hosts: network namespaces with their own sshd, scripts/fleet-lab.sh). Installed only when missing.
need=()
for pkg in git ca-certificates procps curl postgresql mariadb-server zstd sqlite3 tar prometheus chromium fonts-dejavu-core pebble redis-server systemd \
           podman runc busybox-static python3 openssh-server iproute2; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
# Podman on this kind of machine (a container without systemd or per-user limits): runc, cgroupfs, no default ulimits.
if [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n' > /etc/containers/containers.conf
fi

# S3 for the off-site store tests: moto_server from PyPI.
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install -q 'moto[server]' || python3 -m pip install -q --break-system-packages 'moto[server]'
  hash -r
fi

# Line tables only (no variable info): backtraces keep their files and lines, and the build is about 40 s shorter
# on 2 cores (382 s against 421 s from a clean clone, measured 2026-12-07). Tests are discovered with the index store,
# so that stays on.
swift build --build-tests -Xswiftc -gline-tables-only
# The test bundle, run directly (as `swift test --skip-build` would, without its hold on .build): several
# runs side by side below.
tests="$(swift build --show-bin-path)/slipwayPackageTests.xctest"
run_tests() { "$tests" --testing-library swift-testing "$@"; }

# A process that crashes prints its backtrace (the router's, into its log) rather than dying silently.
export SWIFT_BACKTRACE="enable=yes,interactive=no"
started=$SECONDS
unit_pid=
if [ $# -eq 0 ]; then
  # The unit tests (Tests/SlipwayUnitTests: no daemon, no process, no socket, no service) side by side,
  # while the services start.
  unit_log=$(mktemp)
  run_tests --filter SlipwayUnitTests >"$unit_log" 2>&1 &
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
  # The rest run a real daemon, its router process and app instances with health deadlines, in three shards side by
  # side (three runs of the test bundle, each one test after another), not all at once, which on a 2-core machine
  # starves them and deadlines fail. Mostly they wait (health gates, watch windows, alert durations, ssh round trips),
  # so shards side by side take about a third as long. The first shard holds every test that uses the shared
  # databases (PostgreSQL's and MariaDB's slipway_test) and Chromium, and a few more to even the shards out; the third
  # the fleet suites (network-namespace hosts: mostly ssh and health-gate waits, about 90 s here) and two more; the
  # second everything else, new suites included. Measured 2026-12-07 before the last two moved: 192 s, 186 s, 107 s.
  first='SlipwayTests\.(BuiltInAlertTests|DeployDataTests|BackupTests|EncryptionTests|MetricsTests|CanaryTests|LeaseTests|DashboardBrowserTests|AlertIntegrationTests|NotificationTests|ImageReleaseTests|AccessoryTests)/'
  third='SlipwayTests\.(FleetTests|FleetImageTests|FleetSharedStateTests|FleetArtifactTests|FleetHTTPSHostTests|ProcessTypesTests|WatchTests)/'
  logs=(); pids=()
  for shard in first second third; do
    log=$(mktemp); logs+=("$log")
    case $shard in
      first) run_tests --no-parallel --filter "$first" >"$log" 2>&1 & ;;
      second) run_tests --no-parallel --skip SlipwayUnitTests --skip "$first" --skip "$third" >"$log" 2>&1 & ;;
      third) run_tests --no-parallel --filter "$third" >"$log" 2>&1 & ;;
    esac
    pids+=($!)
  done
  failed=0
  for i in 0 1 2; do
    status=0
    wait "${pids[$i]}" || status=$?
    [ "$status" -eq 0 ] || failed=1
  done
  for i in 0 1 2; do
    echo "== daemon tests, shard $((i + 1))"; cat "${logs[$i]}"; rm -f "${logs[$i]}"
  done
  [ "$failed" -eq 0 ] || { echo "daemon tests failed" >&2; exit 1; }
  echo "daemon tests took $((SECONDS - daemon_started)) s"
fi
echo "tests took $((SECONDS - started)) s (services' start included)"
