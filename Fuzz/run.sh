#!/usr/bin/env bash
# Fuzzes TransactionDecoder with libFuzzer + AddressSanitizer, without SwiftPM.
#
#   bash Fuzz/run.sh [SECONDS]            fuzz for SECONDS (default 300), then print a summary
#   bash Fuzz/run.sh --repro FILE...      run the target once on each FILE (no fuzzing)
#   bash Fuzz/run.sh --minimize FILE      shrink a crashing input (writes FILE.min)
#   bash Fuzz/run.sh --coverage           line coverage of the decoder files by the corpus (llvm-cov)
#
# Builds .build-fuzz/decoder-fuzzer from a snapshot of Sources/VigilCore/*.swift
# (so edits during the build do not matter) plus Fuzz/*.swift, compiled as one
# module named VigilCore. Package.swift and normal builds are not involved.
# The corpus lives in .build-fuzz/corpus and grows from run to run; the seeds
# from Tests/Fuzz/seeds are copied into it first. Crashes and property
# violations are written to .build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/.build-fuzz"
bin="$out/decoder-fuzzer"
mkdir -p "$out/src" "$out/corpus" "$out/artifacts" "$out/logs"

build() {
    # Snapshot the sources and rebuild only when the snapshot or Fuzz/ changed.
    rm -f "$out"/src/*.swift
    cp Sources/VigilCore/*.swift "$out/src/"
    local stamp
    stamp=$(cat "$out"/src/*.swift Fuzz/*.swift | sha256sum | cut -c1-16)
    if [ -x "$bin" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
        echo "== fuzz target up to date (sources $stamp)"
        return
    fi
    echo "== building the fuzz target (sources $stamp; about a minute)"
    rm -f "$bin.tmp"
    # ld.gold warns about every ASan helper symbol it cannot export; those warnings are noise.
    nice -n 5 swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name VigilCore \
        "$out"/src/*.swift Fuzz/*.swift -o "$bin.tmp" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
    [ -x "$bin.tmp" ] || { echo "build failed" >&2; exit 2; }
    mv "$bin.tmp" "$bin"
    echo "$stamp" > "$out/stamp"
}

case "${1:-}" in
--repro)
    shift
    build
    exec "$bin" -max_len=20000 -timeout=2 "$@"
    ;;
--minimize)
    build
    exec "$bin" -max_len=20000 -timeout=2 -minimize_crash=1 -runs=200000 -exact_artifact_path="$2.min" "$2"
    ;;
--coverage)
    # Line and region coverage of the decoder's files by the current corpus (llvm-cov, no sanitizer).
    rm -f "$out"/src/*.swift
    cp Sources/VigilCore/*.swift "$out/src/"
    echo "== building the coverage replay binary"
    swiftc -sanitize=fuzzer -profile-generate -profile-coverage-mapping -parse-as-library -Onone -module-name VigilCore \
        "$out"/src/*.swift Fuzz/*.swift -o "$out/decoder-cov" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" || true
    # Use the toolchain's own LLVM tools: the Debian ones may not read this compiler's profile format.
    tools=$(dirname "$(command -v swiftc)")
    rm -f "$out"/cov.profraw
    LLVM_PROFILE_FILE="$out/cov.profraw" "$out/decoder-cov" -runs=0 -max_len=20000 "$out/corpus" 2>&1 | grep -E "INITED|DONE" || true
    "$tools/llvm-profdata" merge -sparse "$out/cov.profraw" -o "$out/cov.profdata"
    files=()
    for f in TransactionDecoder TransactionDecoder+Fields TransactionField JSONScanner JSONScanner+Unescape JSONNumber \
        UTF8Validation JSONWriter; do files+=("$out/src/$f.swift"); done
    "$tools/llvm-cov" report "$out/decoder-cov" -instr-profile="$out/cov.profdata" "${files[@]}"
    "$tools/llvm-cov" show "$out/decoder-cov" -instr-profile="$out/cov.profdata" -show-line-counts-or-regions \
        "${files[@]}" > "$out/coverage.txt"
    echo "annotated source: .build-fuzz/coverage.txt (lines with count 0 were never run)"
    exit 0
    ;;
esac

seconds=${1:-300}
build
cp Tests/Fuzz/seeds/*.json "$out/corpus/"
stamp_utc=$(date -u +%Y%m%dT%H%M%SZ)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "== fuzzing for ${seconds}s (logs: .build-fuzz/logs/run-$stamp_utc.*.log)"

# The machine is shared, so a stall can make libFuzzer report a timeout for an
# input that takes a millisecond. Such a timeout is re-run; if the input is
# fast it is set aside in artifacts/spurious/ and fuzzing resumes for the
# remaining time. A timeout that reproduces is a finding like a crash.
deadline=$((SECONDS + seconds))
segment=0
status=0
spurious=0
total_execs=0
logs=()
while [ $((deadline - SECONDS)) -gt 0 ]; do
    segment=$((segment + 1))
    log="$out/logs/run-$stamp_utc.$segment.log"
    logs+=("$log")
    status=0
    # Without Swift's backtracer a fatalError goes straight to libFuzzer's "deadly signal" handler
    # (the backtracer's memory reads otherwise end in a misleading ASan "unknown-crash" line).
    SWIFT_BACKTRACE=enable=no nice -n 5 "$bin" -max_total_time=$((deadline - SECONDS)) -max_len=20000 -timeout=2 -rss_limit_mb=2048 \
        -dict=Fuzz/transaction.dict -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
        "$out/corpus" > "$log" 2>&1 || status=$?
    total_execs=$((total_execs + $(grep -E "^stat::number_of_executed_units:" "$log" | awk '{n = $2} END {print n + 0}')))
    [ "$status" -ne 0 ] || break
    grep -q "ERROR: libFuzzer: timeout" "$log" || break
    artifact=$(sed -nE 's/.*Test unit written to (.*timeout-[0-9a-f]+).*/\1/p' "$log" | tail -n 1)
    [ -n "$artifact" ] || break
    slowest=$("$bin" -timeout=20 "$artifact" "$artifact" "$artifact" 2>&1 \
        | sed -nE 's/^Executed .* in ([0-9]+) ms$/\1/p' | sort -n | tail -n 1)
    if [ -n "$slowest" ] && [ "$slowest" -lt 200 ]; then
        spurious=$((spurious + 1))
        mkdir -p "$out/artifacts/spurious"
        mv "$artifact" "$out/artifacts/spurious/"
        echo "   timeout in segment $segment did not reproduce (input runs in ${slowest} ms): machine stall; resuming"
        status=0
        continue
    fi
    break
done

# Summary.
log=${logs[-1]}
final_stat() { grep -hE "^stat::$1:" "${logs[@]}" | awk '{print $2}' | tail -n 1; }
last=$(grep -hE "^#[0-9]+" "$log" | tail -n 1 || true)
cov=$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
ft=$(echo "$last" | sed -nE 's/.*ft: ([0-9]+).*/\1/p')
files=$(find "$out/corpus" -type f | wc -l)
bytes=$(du -sk "$out/corpus" | cut -f1)
ran=$((seconds - (deadline - SECONDS)))
new_units=$(grep -hE "^stat::new_units_added:" "${logs[@]}" | awk '{s += $2} END {print s + 0}')
echo "== summary"
echo "started:        $started"
echo "duration:       ${ran}s of ${seconds}s requested, in $segment segment(s); spurious timeouts set aside: $spurious"
echo "sources:        $(git rev-parse --short HEAD 2>/dev/null || echo '?') + snapshot $(cat "$out/stamp")"
echo "executions:     $total_execs (last segment $(final_stat average_exec_per_sec) exec/s)"
echo "coverage:       cov ${cov:-?} (edges), ft ${ft:-?} (features)"
corp=$(echo "$last" | sed -nE 's/.*corp: ([0-9]+\/[0-9]+[KMG]?b).*/\1/p')
echo "corpus:         ${corp:-?} in libFuzzer's working set (inputs/bytes); $files files, ${bytes} KiB on disk (new this run: $new_units)"
echo "peak rss:       $(final_stat peak_rss_mb) MB"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$started" "$ran" "$total_execs" "${cov:-?}" "${ft:-?}" "$files" \
    "$status" "$(cat "$out/stamp")" >> "$out/history.tsv"
if [ "$status" -ne 0 ]; then
    echo "RESULT:         FAILED (libFuzzer exit $status)"
    grep -E "Fatal error|PROPERTY VIOLATION|^  key:|^  value|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY:|Test unit written| in \\\$s" "$log" \
        | head -n 30 | swift demangle --simplified
    echo "reproduce with: bash Fuzz/run.sh --repro <artifact>; shrink with: bash Fuzz/run.sh --minimize <artifact>"
    exit "$status"
fi
echo "RESULT:         clean (no crash, no property violation)"
