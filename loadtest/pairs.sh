#!/usr/bin/env bash
# Paired load-test runs: A and B alternate (A B, B A, A B, ...) so drift on a shared machine hits both alike.
# Usage: loadtest/pairs.sh PAIRS "A's vigil-loadtest arguments" "B's vigil-loadtest arguments"
# Prints one line per pair: each side's throughput (--max runs) or p99s (open-loop runs), Vigil's mean CPU, and B/A
# of throughput and Vigil's maximum RSS. VIGIL_LOADTEST picks the load test binary; pass --vigil in A's or B's arguments to compare builds.
# Example (issue 11: catalog 1 against catalog 2 with a served merchant table):
#   loadtest/pairs.sh 5 "--max --count 300000 --partitions 20 --vigil-arg=--feature-catalog --vigil-arg=1" \
#                       "--max --count 300000 --partitions 20 --merchant-snapshot"
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=$1; a=$2; b=$3
tool=${VIGIL_LOADTEST:-.build/release/vigil-loadtest}
out=$(mktemp -d)
run() {  # label, args
  local dir="$out/$1-$RANDOM"
  # shellcheck disable=SC2086
  "$tool" $2 --report-dir "$dir" > "$dir.log" 2>&1 || { echo "run failed: $dir.log" >&2; tail -5 "$dir.log" >&2; return 1; }
  local tput p99 p99r
  tput=$(grep -m1 "Vigil throughput" "$dir.log" | sed -E 's/.*throughput +([0-9,]+)\/s.*/\1/' | tr -d ,)
  p99=$(grep -m1 "Latency (from schedule)" "$dir.log" | grep -oE "p99 [0-9.]+" | head -1 | cut -d' ' -f2 || true)
  p99r=$(grep -m1 "Latency (input readable)" "$dir.log" | grep -oE "p99 [0-9.]+" | head -1 | cut -d' ' -f2 || true)
  cpu=$(grep -m1 "Vigil CPU" "$dir.log" | grep -oE "mean [0-9]+" | cut -d' ' -f2 || true)
  rss=$(grep -m1 "Vigil RSS" "$dir.log" | grep -oE "max [0-9.]+" | cut -d' ' -f2 || true)
  echo "$1 throughput=${tput:-n/a} p99_schedule=${p99:-n/a} p99_readable=${p99r:-n/a} vigil_cpu_mean=${cpu:-n/a}% rss_max=${rss:-n/a}MB"
}
for i in $(seq 1 "$pairs"); do
  if (( i % 2 )); then ra=$(run A "$a"); rb=$(run B "$b"); else rb=$(run B "$b"); ra=$(run A "$a"); fi
  ta=${ra#*throughput=}; ta=${ta%% *}; tb=${rb#*throughput=}; tb=${tb%% *}
  ratio=n/a; [[ $ta =~ ^[0-9]+$ && $tb =~ ^[0-9]+$ ]] && ratio=$(awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.3f", b / a }')
  echo "pair $i: $ra | $rb | B/A $ratio"
done
echo "reports and logs: $out"
