#!/usr/bin/env bash
# Builds Vigil's container image and proves it decides transactions, all on this machine and on loopback:
#   1. podman set up (scripts/container-setup.sh: packages, runc, a debootstrap base image)
#   2. vigil and vigil-loadtest built in release mode, statically linked to the Swift runtime
#      (.build/container, a scratch path of its own)
#   3. the image (scripts/container-build.sh) and a Redis image (Debian's redis-server on the same base)
#   4. Redis as a container: --network host, bound to 127.0.0.1 on a free port, noeviction
#   5. vigil-loadtest: librdkafka's mock cluster inside it (127.0.0.1), generated transactions, and
#      `vigil serve` run from the image by scripts/container-vigil.sh (non-root, read-only root file system);
#      it reads fraud.decisions, fraud.late and fraud.dlq back
#   6. checks: decisions came out, every published transaction has exactly one outcome, vigil stopped on SIGTERM
# Exits non-zero if any of that fails; removes its containers either way. Options are passed to vigil-loadtest
# (default: --rate 500 --seconds 10 --partitions 2 --cards 5000). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH=/opt/swift/usr/bin:$PATH

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds_since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
t_start=$(now_ms)
timings=()
step_start=$t_start
step_done() {
  local took; took=$(seconds_since "$step_start")
  timings+=("$(printf '%-36s %7s s' "$1" "$took")")
  echo "-- $1: $took s"
  step_start=$(now_ms)
}

run_id=vigil-ct-$$
redis_name=$run_id-redis
work=$(mktemp -d /tmp/vigil-container-test.XXXXXX)
cleanup() {
  local rc=$?
  podman rm -f -t 2 "$redis_name" >/dev/null 2>&1 || true
  podman rm -f -t 2 "$run_id-vigil" >/dev/null 2>&1 || true
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "(kept $work for inspection)" >&2; fi
}
trap cleanup EXIT

echo "== 1. podman"
bash scripts/container-setup.sh
step_done "podman setup"

echo "== 2. swift build (release, -static-stdlib, .build/container)"
swift build -c release --scratch-path .build/container -Xswiftc -static-stdlib --product vigil 2>&1 | tail -3
swift build -c release --scratch-path .build/container -Xswiftc -static-stdlib --product vigil-loadtest 2>&1 | tail -3
step_done "swift build (vigil, vigil-loadtest)"

echo "== 3. images"
bash scripts/container-build.sh --binary .build/container/release/vigil
step_done "vigil image build"
redis_image=localhost/vigil-test-redis:bookworm
if ! podman image exists "$redis_image"; then
  mkdir -p "$work/redis-context"
  podman build --network host -f deploy/container/redis-test.Containerfile -t "$redis_image" "$work/redis-context"
fi
step_done "redis image build"

echo "== 4. Redis container on 127.0.0.1"
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
podman run -d --rm --name "$redis_name" --network host "$redis_image" \
  --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --maxmemory-policy noeviction >/dev/null
for _ in $(seq 100); do
  podman exec "$redis_name" redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
podman exec "$redis_name" redis-cli -h 127.0.0.1 -p "$redis_port" ping | grep -q PONG \
  || { echo "error: the Redis container did not answer on 127.0.0.1:$redis_port" >&2; podman logs "$redis_name" >&2; exit 1; }
echo "Redis container $redis_name at 127.0.0.1:$redis_port"
step_done "redis container start"

echo "== 5. vigil serve in the image, fed by vigil-loadtest (mock cluster on 127.0.0.1)"
defaults=(--rate 500 --seconds 10 --partitions 2 --cards 5000)
[ $# -gt 0 ] && defaults=()
report=$work/report
# With --network host the endpoint would listen on the host's interfaces: --http-host keeps it on loopback.
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# While it runs, record how the container runs (user, read-only root, network, the process inside) and what its
# health endpoint answers.
(
  for _ in $(seq 600); do
    if [ "$(podman inspect --format '{{.State.Running}}' "$run_id-vigil" 2>/dev/null)" = true ]; then
      podman inspect --format 'user={{.Config.User}} readonly={{.HostConfig.ReadonlyRootfs}} network={{.HostConfig.NetworkMode}} image={{.ImageName}}' "$run_id-vigil" || true
      # `podman top` right after the start can fail ("does not exist in database", seen in CI with podman 4.3):
      # retry it, and never let it end this recorder (set -e and pipefail are inherited by this subshell).
      for _ in $(seq 20); do
        top=$(podman top "$run_id-vigil" user pid args 2>&1) && { printf '%s\n' "$top" | tail -n +2; break; }
        echo "podman top (retrying): $top"
        sleep 0.5
      done
      break
    fi
    sleep 0.2
  done >"$work/container.txt" 2>&1
) &
# The health probe runs on its own, not after the podman calls above (they can be slow or fail on a busy machine).
python3 - "$http_port" >"$work/health.txt" 2>&1 <<'PY' &
import sys, time, urllib.request
last = None
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
for _ in range(600):
    try:
        with opener.open(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
            print(f"healthz={r.status}")
            break
    except Exception as e:
        last = e
        time.sleep(0.2)
else:
    print(f"healthz=unanswered ({last})")
PY
VIGIL_CONTAINER_NAME=$run_id-vigil \
  .build/container/release/vigil-loadtest --vigil scripts/container-vigil.sh --redis "127.0.0.1:$redis_port" \
  --model "$root/models/baseline.json" --report-dir "$report" --startup-timeout 120 \
  --vigil-arg=--http-host --vigil-arg=127.0.0.1 --vigil-arg=--http-port --vigil-arg="$http_port" "${defaults[@]}" "$@" 2>&1 | tee "$work/loadtest.out" \
  || { echo "error: vigil-loadtest failed; Vigil's log: $report/vigil.log" >&2; tail -30 "$report/vigil.log" >&2 || true; exit 1; }
step_done "run (loadtest against the image)"

echo "== 6. checks"
wait
cat "$work/container.txt" "$work/health.txt"
python3 - "$report/summary.json" "$work/container.txt" "$work/health.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
container = open(sys.argv[2]).read() + open(sys.argv[3]).read()
stop = r.get("vigilStop") or {}
checks = [
    ("vigil serve ran in the image as uid 10001 on a read-only root file system, host network",
     "user=10001:10001 readonly=true network=host" in container and "vigil serve" in container),
    ("its /healthz on 127.0.0.1 answered 200", "healthz=200" in container),
    ("the run completed", r["completed"]),
    (f"decisions came out on fraud.decisions: {r['decisions']}", r["decisions"] > 0),
    (f"every published message has one outcome: {r['outcomes']} of {r['published']} "
     f"({r['decisions']} decisions, {r['late']} late, {r['dlq']} dlq)", r["outcomes"] == r["published"] and r["published"] > 0),
    (f"no duplicate or foreign decisions: {r['duplicates']} / {r['foreign']}", r["duplicates"] == 0 and r["foreign"] == 0),
    (f"alerts: {r['alerts']} for {r['reviewOrBlock']} review/block decisions", r["alerts"] == r["reviewOrBlock"]),
    (f"vigil stopped on SIGTERM through podman: {stop.get('exit')} in {stop.get('seconds', 0):.1f} s",
     stop.get("exitedWithinTimeout", False) and "status 0" in stop.get("exit", "")),
]
failed = 0
for text, ok in checks:
    print(("ok    " if ok else "FAIL  ") + text)
    failed += not ok
sys.exit(1 if failed else 0)
PY
step_done "checks"

echo
echo "== timings"
printf '%s\n' "${timings[@]}"
printf '%-36s %7s s\n' "total" "$(seconds_since "$t_start")"
echo "image localhost/vigil:latest: $(podman image inspect --format '{{.Size}}' localhost/vigil:latest | awk '{printf "%.1f MB", $1/1e6}')"
