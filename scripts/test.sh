#!/usr/bin/env bash
# One command from a fresh clone: install, build, and run the whole test suite (unit tests, module tests against
# librdkafka's mock cluster and real redis-server processes, end-to-end pipeline tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== building (debug, with tests)"
swift build --build-tests
echo "== running the tests"
swift test --skip-build "$@"
