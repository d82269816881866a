"""Runs a real Prometheus against a running Vigil and evaluates everything in deploy/observability/ through
Prometheus's HTTP API:

- Vigil: `vigil demo` (librdkafka's mock cluster in-process, a throwaway redis-server, generated traffic; it prints
  its metrics port), or an already running Vigil with --target HOST:PORT;
- Prometheus: the `prometheus` binary on 127.0.0.1 (a free port), temporary storage, scrape and rule evaluation
  every second, the rule file loaded;
- then: every rule is loaded and evaluated by Prometheus without error (/api/v1/rules health "ok"); every rule
  expression and every dashboard expression (Grafana's variables replaced) is answered by /api/v1/query without
  error; no alert annotation fails to expand; and every metric name the rules and the dashboard read is in the
  scraped data, so a renamed metric is caught. Names Vigil exports only in some states (below) are reported, not
  failed.

Usage: python3 scripts/observability/check_live.py [--vigil PATH] [--target HOST:PORT] [--warmup SECONDS]
Exits 1 naming every problem."""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from observability import (ROOT, RULES, dashboard_expressions, exported_name, label_names_used, load_dashboard,
                           load_rules, metric_names)

# Exported only in some states; absent from a scrape is no error.
CONDITIONAL = {
    "vigil_shadow_model_info": "only while a shadow model is set",
    "vigil_merchant_risk_snapshot_age_seconds": "only while a merchant-risk snapshot is served (the demo serves none)",
    "vigil_kafka_errors_total": "a series per librdkafka error, none before the first error",
}
# The labels each labelled metric must carry (the names in the lead's list for issue 15); every label an expression
# groups, matches or joins on must be one of these or a target's (job, instance) or a histogram's le.
LABELS = {
    "vigil_transactions_total": {"verdict"}, "vigil_dlq_total": {"reason"}, "vigil_kafka_errors_total": {"error"},
    "vigil_consumer_lag": {"topic", "partition"}, "vigil_event_time_lag_seconds": {"topic", "partition"},
    "vigil_not_ready": {"cause"}, "vigil_model_info": {"version"}, "vigil_shadow_model_info": {"version"},
    "vigil_mode_info": {"mode"}, "vigil_feature_catalog_info": {"catalog"}, "vigil_merchant_risk_info": {"version"},
    "vigil_build_info": {"version"}, "vigil_kafka_broker_up": {"broker"}, "vigil_kafka_broker_rtt_seconds": {"broker"},
    "vigil_stage_seconds_bucket": {"stage", "le"}, "vigil_redis_round_trip_seconds_bucket": {"operation", "le"},
    "vigil_end_to_end_latency_seconds_bucket": {"le"}, "vigil_batch_records_bucket": {"le"},
}
TARGET_LABELS = {"job", "instance", "le", "alertname", "alertstate"}
# Made by Prometheus, not scraped.
PROMETHEUS_MADE = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}

problems = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base, path, **params):
    url = f"{base}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:  # 400/422 carry the error in the body
        return json.loads(e.read())


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"check-live: timed out after {timeout} s waiting for {what}")


def start_demo(vigil, seconds, work):
    """`vigil demo` with its output in work/demo.log; returns (process, metrics host:port)."""
    log = open(work / "demo.log", "w")
    proc = subprocess.Popen([vigil, "demo", "--seconds", str(seconds), "--output-dir", "", "--rate", "500"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    found = {}

    def drain():
        for line in proc.stdout:
            log.write(line)
            m = re.search(r"Metrics at http://([\d.]+:\d+)/metrics", line)
            if m and "target" not in found:
                found["target"] = m.group(1)
        log.flush()
    threading.Thread(target=drain, daemon=True).start()
    target = wait_for("the demo's metrics port (its line 'Metrics at http://...')", lambda: found.get("target"), 60)
    return proc, target


def start_prometheus(target, work):
    port = free_port()
    config = work / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "vigil", "static_configs": [{"targets": [target]}]}],
    }))
    log = open(work / "prometheus.log", "w")
    proc = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_for("Prometheus to be ready", lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200, 30)
    return proc, base


def stop(proc, sig):
    if proc and proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def check(base, warmup):
    def target_up():
        targets = get(base, "/api/v1/targets")["data"]["activeTargets"]
        return targets and all(t["health"] == "up" for t in targets)
    wait_for("the Vigil target to be scraped", target_up, 30)
    time.sleep(warmup)  # rate() over 1m needs two samples; a few more make the demo's counters move

    rules = load_rules()
    recorded = {r["record"] for r in rules if "record" in r}
    loaded = {}
    for group in get(base, "/api/v1/rules")["data"]["groups"]:
        for r in group["rules"]:
            loaded[r["name"]] = r
    for rule in rules:
        name = rule.get("alert") or rule.get("record")
        r = loaded.get(name)
        if r is None:
            problems.append(f"rule {name}: not loaded by Prometheus")
        elif r.get("health") != "ok" or r.get("lastError"):
            problems.append(f"rule {name}: health {r.get('health')!r}, error {r.get('lastError')!r}")
        elif r.get("lastEvaluation", "").startswith("0001-"):
            problems.append(f"rule {name}: never evaluated")

    uses = {}  # metric name -> where it is read
    answered = empty = 0

    uses_exprs = []

    def query(where, expr):
        nonlocal answered, empty
        uses_exprs.append(expr)
        reply = get(base, "/api/v1/query", query=expr)
        if reply.get("status") != "success":
            problems.append(f"{where}: Prometheus answered {reply.get('errorType')}: {reply.get('error')} for {expr!r}")
            return
        answered += 1
        if not reply["data"]["result"]:
            empty += 1
        for w in reply.get("warnings") or []:
            problems.append(f"{where}: warning {w}")
        for name in metric_names(expr):
            uses.setdefault(name, []).append(where)

    for rule in rules:
        query(f"rule {rule.get('alert') or rule.get('record')}", rule["expr"])
    for where, expr in dashboard_expressions(load_dashboard()):
        query(f"dashboard {where}", expr)

    scraped = set(get(base, "/api/v1/label/__name__/values")["data"])
    missing, conditional = {}, {}
    for name, where in sorted(uses.items()):
        if name in recorded or name in PROMETHEUS_MADE or name in scraped:
            continue
        (conditional if exported_name(name) in CONDITIONAL or name in CONDITIONAL else missing)[name] = where

    # Labels: every label an expression names is known, and every scraped series of a labelled metric has its labels.
    known = TARGET_LABELS.union(*LABELS.values())
    for name in sorted(label_names_used(uses_exprs) - known):
        problems.append(f"label {name!r} is read by an expression but not in check_live.LABELS")
    for name, labels in sorted(LABELS.items()):
        if name not in scraped:
            continue
        for series in get(base, "/api/v1/series", **{"match[]": name})["data"]:
            lacking = labels - series.keys()
            if lacking:
                problems.append(f"metric {name}: series {series} has no label {', '.join(sorted(lacking))}")
                break

    for alert in get(base, "/api/v1/alerts")["data"]["alerts"]:
        for key, text in alert.get("annotations", {}).items():
            if "error expanding template" in text or "<no value>" in text:
                problems.append(f"alert {alert['labels'].get('alertname')}: annotation {key} does not expand: {text}")
    active = sorted({f"{a['labels']['alertname']} ({a['state']})" for a in get(base, "/api/v1/alerts")["data"]["alerts"]})

    print(f"   {len(rules)} rules loaded and evaluated; {answered} expressions answered ({empty} with no series yet)")
    print(f"   alerts active on this Vigil: {', '.join(active) or 'none'}")
    for name, where in conditional.items():
        print(f"   not in this scrape, exported only in some states ({CONDITIONAL.get(exported_name(name)) or CONDITIONAL.get(name)}): {name}")
    for name, where in missing.items():
        shown = ", ".join(sorted(set(where))[:4]) + (f" and {len(set(where)) - 4} more" if len(set(where)) > 4 else "")
        problems.append(f"metric {name} is not in Vigil's /metrics; read by {shown}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vigil", default=os.environ.get("VIGIL_BIN", str(ROOT / ".build/debug/vigil")))
    parser.add_argument("--target", help="scrape this running Vigil (HOST:PORT) instead of starting `vigil demo`")
    parser.add_argument("--warmup", type=float, default=15, help="seconds of scraping before the checks")
    args = parser.parse_args()
    demo = prometheus = None
    with tempfile.TemporaryDirectory(prefix="vigil-observability-") as tmp:
        work = Path(tmp)
        try:
            if args.target:
                target = args.target
            else:
                if not os.access(args.vigil, os.X_OK):
                    raise SystemExit(f"check-live: no vigil binary at {args.vigil} (build it, or pass --vigil)")
                demo, target = start_demo(args.vigil, int(args.warmup) + 60, work)
            print(f"   Vigil's metrics at {target}" + (" (vigil demo)" if demo else ""))
            prometheus, base = start_prometheus(target, work)
            check(base, args.warmup)
        except BaseException:
            for log in ("demo.log", "prometheus.log"):
                if (work / log).exists():
                    print(f"--- {log} (last lines)", file=sys.stderr)
                    print("".join((work / log).read_text().splitlines(True)[-20:]), file=sys.stderr)
            raise
        finally:
            stop(prometheus, signal.SIGTERM)
            stop(demo, signal.SIGINT)
    if problems:
        print(f"check-live: {len(problems)} problems:", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
