#!/usr/bin/env bash
# Builds Vigil's container image from a vigil binary built on this host (no Swift image to build in):
#   scripts/container-build.sh [--binary PATH] [--tag IMAGE] [--base IMAGE] [--no-swift-build]
# Unless --binary or --no-swift-build is given it first runs
#   swift build -c release --product vigil --scratch-path .build/container -Xswiftc -static-stdlib
# (a scratch path of its own, so the statically linked build does not make `swift build` elsewhere start over).
# It stages the binary and models/ into .build/container-context/ (the whole build context: a few MB, never
# .build itself) and runs podman build with deploy/container/Dockerfile. Run from anywhere, as root.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="" tag=localhost/vigil:latest base="" swift_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; swift_build=0; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --no-swift-build) swift_build=0; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done
scratch=.build/container
binary=${binary:-$scratch/release/vigil}
if [ -z "$base" ]; then
  # The image debootstrap made (scripts/container-setup.sh) where no registry is reachable, else Docker Hub's.
  if podman image exists localhost/debian:bookworm; then base=localhost/debian:bookworm; else base=docker.io/library/debian:bookworm-slim; fi
fi

if [ "$swift_build" = 1 ]; then
  command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
  echo "== swift build -c release --product vigil --scratch-path $scratch -Xswiftc -static-stdlib"
  swift build -c release --product vigil --scratch-path "$scratch" -Xswiftc -static-stdlib
fi
[ -x "$binary" ] || { echo "error: no vigil binary at $binary" >&2; exit 1; }
# The image has no Swift runtime: refuse a binary that needs one.
if ldd "$binary" | grep -q 'libswift\|libFoundation\|libdispatch'; then
  echo "error: $binary links the Swift runtime dynamically; build it with -Xswiftc -static-stdlib:" >&2
  ldd "$binary" | grep 'libswift\|libFoundation\|libdispatch' >&2
  exit 1
fi

context=.build/container-context
rm -rf "$context"
mkdir -p "$context"
# Debug info off (80 instead of 92 MB); the symbol table stays, so a crash's backtrace still names functions.
if command -v strip >/dev/null 2>&1; then strip --strip-debug -o "$context/vigil" "$binary"; else cp "$binary" "$context/vigil"; fi
cp -r models "$context/models"
echo "== podman build $tag from $base (context $(du -sh "$context" | cut -f1))"
podman build --network host --build-arg BASE="$base" -f deploy/container/Dockerfile -t "$tag" "$context"
echo "== $tag: $(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1/1e6}')"
