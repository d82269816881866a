#!/usr/bin/env bash
# Checks the dashboards and alert rules in deploy/observability/:
#
#   1. `promtool check rules deploy/observability/vigil-alerts.yml` (syntax, PromQL, templates);
#   2. `promtool test rules deploy/observability/tests/*.yml`: synthetic series for which each alert must fire, and
#      normal cases in which it must not;
#   3. scripts/observability/check_static.py --mutations: every alert has a severity, a summary, a description, a
#      `for`, a runbook_url to its heading in docs/alerts.md; the dashboard's structure (datasource variable on
#      every panel and target, ids, grid) and every expression through promtool; and that the unit tests can fail
#      (each alert made never true, then always true: its tests must fail). VIGIL_OBS_MUTATIONS=0 skips the latter;
#   4. scripts/observability/check_live.py: a real Prometheus (127.0.0.1, temporary storage, 1 s scrape and
#      evaluation) scraping `vigil demo` evaluates every rule, rule expression and dashboard expression without
#      error, and every metric and label they read must be in the scrape. VIGIL_OBS_LIVE=0 skips it; VIGIL_BIN
#      names the binary (default .build/debug/vigil, built if missing).
#
# Installs Debian's `prometheus` package (promtool comes with it) if missing. Exits non-zero naming every problem.
# Usage: bash scripts/check-observability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-packages.sh
ensure_packages prometheus python3-yaml

started=$(date +%s)
step() { echo "== observability: $*"; }
failed=0

step "promtool check rules ($(promtool --version 2>&1 | head -1 | cut -d' ' -f1-3))"
promtool check rules deploy/observability/vigil-alerts.yml || failed=1

step "promtool test rules (deploy/observability/tests)"
promtool test rules deploy/observability/tests/*.yml || failed=1

step "rules' annotations and runbooks, dashboard structure and expressions$([ "${VIGIL_OBS_MUTATIONS:-1}" = 0 ] || echo ', mutations of every alert')"
args=()
[ "${VIGIL_OBS_MUTATIONS:-1}" = 0 ] || args+=(--mutations)
python3 scripts/observability/check_static.py "${args[@]}" || failed=1

if [ "${VIGIL_OBS_LIVE:-1}" != 0 ]; then
  step "live: Prometheus scraping vigil demo"
  vigil="${VIGIL_BIN:-.build/debug/vigil}"
  if [ ! -x "$vigil" ]; then
    echo "   $vigil not built: swift build --product vigil"
    source scripts/setup.sh
    swift build --product vigil
  fi
  python3 scripts/observability/check_live.py --vigil "$vigil" || failed=1
fi

if [ "$failed" -ne 0 ]; then
  echo "check-observability: FAILED ($(( $(date +%s) - started )) s)" >&2
  exit 1
fi
echo "check-observability: ok ($(( $(date +%s) - started )) s)"
