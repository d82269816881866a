#!/usr/bin/env bash
# One command from a fresh clone: install, build (release), start the embedded Kafka and a throwaway Redis, run
# Vigil on generated traffic and show what it does. Extra arguments go to `vigil demo` (see `vigil demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== building vigil (release; the first build takes a few minutes)"
swift build -c release --product vigil
exec .build/release/vigil demo "$@"
