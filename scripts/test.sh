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
# One plain closing line: test cases passed and failed (XCTest's own summary counts failed assertions).
passed=$(grep -cE "^Test Case '.*' passed" "$log" || true)
failed=$(grep -cE "^Test Case '.*' failed" "$log" || true)
if [ "$((passed + failed))" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed"
else
  echo "tests: no XCTest summary found" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
