#!/usr/bin/env bash
# Installs what Vigil needs on a fresh Debian machine (as root): the C libraries it links and redis-server.
# The Swift toolchain is expected at /opt/swift or on PATH. Safe to run again: it installs only what is missing.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"
ensure_packages librdkafka-dev libhiredis-dev libssl-dev openssl redis-server pkg-config

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
  else
    echo "error: no Swift toolchain found (looked on PATH and in /opt/swift)" >&2
    exit 1
  fi
fi
