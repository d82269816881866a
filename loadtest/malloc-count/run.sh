#!/usr/bin/env bash
# Microbenchmarks of the hot path with allocation counts: builds vigil (release) and the allocation counter,
# then runs `vigil bench`. Extra arguments go to `vigil bench` (see `vigil bench --help`).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
swift build -c release --product vigil
mkdir -p .build/malloc-count
gcc -O2 -shared -fPIC -o .build/malloc-count/libmalloc_count.so loadtest/malloc-count/malloc_count.c
LD_PRELOAD=$PWD/.build/malloc-count/libmalloc_count.so .build/release/vigil bench "$@"
