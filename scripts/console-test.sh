#!/usr/bin/env bash
# The browser test of `vigil console` (docs/console.md, "The browser test"): headless Chromium logs in, sees an
# alert appear, labels alerts (one through a Kafka outage); the labels are checked on fraud.labels and read by
# `vigil train` and `vigil merchant-risk`. Installs what it needs: Debian's chromium and chromium-driver, and
# Selenium from PyPI (into a virtualenv under .build/). Everything it starts listens on loopback only.
# Writes the README's screenshots to docs/images/ (CONSOLE_IMAGES to put them elsewhere).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)

source scripts/setup.sh
ensure_packages chromium chromium-driver python3 python3-venv

venv=.build/console-test-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  echo "== installing selenium into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'selenium>=4.20,<5'
fi

if [ -z "${VIGIL:-}" ]; then
  echo "== building vigil"
  swift build --product vigil 2>&1 | tail -1
  export VIGIL=.build/debug/vigil
fi
mkdir -p "${CONSOLE_IMAGES:-docs/images}"

echo "== browser test"
"$venv/bin/python" scripts/console_browser_test.py
echo "== console test took $(( $(date +%s) - started )) s"
