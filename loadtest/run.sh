#!/usr/bin/env bash
# One command from a fresh clone: install what is missing, build vigil and vigil-loadtest (release), run the load
# test. Arguments go to vigil-loadtest (see loadtest/README.md or `vigil-loadtest --help`); with none it runs the
# latency target of the performance table: 10,000 transactions/s for 30 s, 2 partitions, at-least-once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== building vigil and vigil-loadtest (release; the first build takes a few minutes)"
swift build -c release --product vigil
swift build -c release --product vigil-loadtest
if [ $# -eq 0 ]; then
  set -- --rate 10000 --seconds 30 --partitions 2 --vigil-mode at-least-once
fi
exec .build/release/vigil-loadtest "$@"
