#!/usr/bin/env bash
# One command from a fresh clone: install, build, and run the whole test suite (unit tests, module tests against
# librdkafka's mock cluster and real redis-server processes, end-to-end pipeline tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== building (debug, with tests)"
swift build --build-tests
echo "== running the tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line with the totals of XCTest's last summary.
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1 || true)
total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -n "$summary" ]; then
  echo "tests: $((total - failed)) passed, $failed failed"
else
  echo "tests: no XCTest summary found" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
