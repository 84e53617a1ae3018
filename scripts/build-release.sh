#!/usr/bin/env bash
# Builds the slipway binary to install on a server, and prints its path.
#
#   scripts/build-release.sh            → the path of the binary, under .build/ship
#
# Two choices differ from a plain `swift build -c release`:
#   --static-swift-stdlib               the Swift runtime and Foundation are linked in, so the one file
#                                       runs on a server without a Swift toolchain (it needs only libc,
#                                       libstdc++, libz and libsqlite3 from the distribution);
#   -enforce-exclusivity=unchecked      no run-time exclusivity checks (the compile-time ones stay), as
#                                       the Swift standard library itself is built. The test suite runs
#                                       in debug builds, where every check is on.
# Together they make the router about 5–10% cheaper per request (docs/PERFORMANCE.md). The build has
# its own scratch directory, so it does not invalidate the development build in .build/.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SLIPWAY_SHIP_SCRATCH:-.build/ship}
if ! out=$(swift build -c release --product slipway --static-swift-stdlib \
    -Xswiftc -enforce-exclusivity=unchecked --scratch-path "$SCRATCH" 2>&1); then
  echo "$out" | grep -E "error" >&2 || echo "$out" | tail -20 >&2
  exit 1
fi
echo "$(swift build -c release --static-swift-stdlib -Xswiftc -enforce-exclusivity=unchecked --scratch-path "$SCRATCH" --show-bin-path)/slipway"
