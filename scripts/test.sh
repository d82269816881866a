#!/usr/bin/env bash
# One command from a fresh clone: install, build, and run the whole test suite (unit tests, module tests against
# librdkafka's mock cluster and real redis-server processes, end-to-end pipeline tests), the dashboards and alert
# rules against a running Vigil, and the analysts' console in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== checking the deployment files (deploy/: Kubernetes schemas, Vigil's rules, systemd exposure)"
bash scripts/check-deploy.sh
echo "== building (debug, with tests)"
swift build --build-tests
echo "== checking the dashboards and alert rules (deploy/observability/: promtool, and Prometheus scraping vigil demo)"
VIGIL_BIN=.build/debug/vigil bash scripts/check-observability.sh
echo "== the console in a headless browser (scripts/console-test.sh)"
console_images=$(mktemp -d)
VIGIL=.build/debug/vigil CONSOLE_IMAGES=$console_images bash scripts/console-test.sh
rm -rf "$console_images"
echo "== running the tests"
# Test cases run in parallel, each in its own process (most of the suite waits on rebalances, timeouts and restarts
# rather than computing): VIGIL_TEST_WORKERS at once (default 3). VIGIL_TEST_WORKERS=1 runs them one at a time in one
# process, with XCTest's own output.
workers="${VIGIL_TEST_WORKERS:-3}"
log=$(mktemp)
xml=$(mktemp --suffix=.xml)
trap 'rm -f "$log" "$xml"' EXIT
status=0
started=$(date +%s)
if [ "$workers" = "1" ]; then
  swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
  passed=$(grep -cE "^Test Case '.*' passed" "$log" || true)
  failed=$(grep -cE "^Test Case '.*' failed" "$log" || true)
  failures=$(grep -E "^Test Case '.*' failed" "$log" | sed -E "s/^Test Case '(.*)' failed.*/\1/" || true)
else
  swift test --skip-build --disable-swift-testing --parallel --num-workers "$workers" --xunit-output "$xml" "$@" \
    2>&1 | tee "$log" || status=$?
  # One <testcase> element per test; a failed one holds a <failure> element.
  summary=$(awk '
    /<testcase / { if (name != "") print (failed ? "F " : "P ") time " " name
                   match($0, /classname="[^"]*"/); cls = substr($0, RSTART + 11, RLENGTH - 12)
                   match($0, / name="[^"]*"/); n = substr($0, RSTART + 7, RLENGTH - 8)
                   match($0, /time="[^"]*"/); time = substr($0, RSTART + 6, RLENGTH - 7)
                   name = cls "." n; failed = 0 }
    /<failure/ { failed = 1 }
    END { if (name != "") print (failed ? "F " : "P ") time " " name }' "$xml" 2>/dev/null || true)
  passed=$(printf '%s\n' "$summary" | grep -c '^P ' || true)
  failed=$(printf '%s\n' "$summary" | grep -c '^F ' || true)
  failures=$(printf '%s\n' "$summary" | awk '$1 == "F" { print $3 }')
  echo "slowest tests (seconds):"
  printf '%s\n' "$summary" | awk 'NF == 3 { print $2, $3 }' | sort -rn | awk 'NR <= 8 { print "  " $0 }'
fi
# One plain closing line: test cases passed and failed (XCTest's own summary counts failed assertions).
if [ "$((passed + failed))" -gt 0 ]; then
  [ -z "$failures" ] || printf 'failed: %s\n' $failures
  echo "tests: $passed passed, $failed failed ($(( $(date +%s) - started )) s)"
  [ "$failed" -eq 0 ] || [ "$status" -ne 0 ] || status=1
else
  echo "tests: no XCTest summary found" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
