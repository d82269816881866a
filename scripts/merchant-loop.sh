#!/usr/bin/env bash
# Issue 11's end-to-end merchant-risk loop at a chosen size (docs/retraining.md, "Merchant risk: the loop"): runs the
# XCTest MerchantRiskLoopTests (real Pipeline, librdkafka mock cluster, real redis-server) with its VIGIL_LOOP_*
# settings and prints the figures. Without arguments it runs the larger size recorded in docs/retraining.md.
#
#   scripts/merchant-loop.sh                         # 400,000 messages over 60 days, label delay 3 d
#   VIGIL_LOOP_LABEL_DELAY_DAYS=7 scripts/merchant-loop.sh
#   VIGIL_LOOP_MESSAGES=150000 VIGIL_LOOP_DAYS=56 VIGIL_LOOP_TRAIN_DAY=42 scripts/merchant-loop.sh   # the test's size
#
# Settings (environment; defaults of this script, the test's own defaults in brackets):
#   VIGIL_LOOP_MESSAGES 400000 [150000]   VIGIL_LOOP_DAYS 60 [56]   VIGIL_LOOP_TRAIN_DAY 44 [42]
#   VIGIL_LOOP_FIRST_SNAPSHOT_DAY [14]    VIGIL_LOOP_LABEL_DELAY_DAYS [3]   VIGIL_LOOP_CARDS [10000]
#   VIGIL_LOOP_COUNTRIES [DE]             VIGIL_LOOP_COMPROMISED_FRACTION [0.02]   VIGIL_LOOP_SEED [42]
#   VIGIL_LOOP_MATURITY_DAYS [10]         VIGIL_LOOP_L2 [1]   VIGIL_LOOP_BLOCK_PRECISION [0.9]
#   VIGIL_LOOP_SUMMARIES=1 also prints both training summaries.
# The assertions are the test's: a run at another size that misses one reports it as a test failure after the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
export VIGIL_LOOP_MESSAGES="${VIGIL_LOOP_MESSAGES:-400000}"
export VIGIL_LOOP_DAYS="${VIGIL_LOOP_DAYS:-60}"
export VIGIL_LOOP_TRAIN_DAY="${VIGIL_LOOP_TRAIN_DAY:-44}"
swift build --build-tests >&2
swift test --skip-build --disable-swift-testing --filter MerchantRiskLoopTests 2>&1 | grep -v AUTOCREATE
