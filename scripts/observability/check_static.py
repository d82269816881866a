"""Checks deploy/observability/ without a running Prometheus (promtool only):

- the rule file: every alert has a severity, a summary, a description, a `for` (or is listed below as firing at
  once), a runbook_url naming its own heading in docs/alerts.md; every alert has unit tests that show it firing;
- the dashboard: unique panel ids, a grid position inside 24 columns and no two panels overlapping, every panel and
  target on the `${datasource}` variable, the variables job/instance/datasource defined, every expression (targets
  and annotations, Grafana's variables replaced) accepted by `promtool check rules`;
- with --mutations, that the unit tests can fail: for each alert, once with its expression never true and once
  always true, the tests naming that alert must fail.

Usage: python3 scripts/observability/check_static.py [--mutations]. Exits 1 naming every problem."""
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from observability import (ALERTS_DOC, RULES, TESTS, dashboard_expressions, dashboard_panels, load_dashboard,
                           load_rules, markdown_anchors)

# Alerts without `for`: their expression already looks back over a window (increase over 15 minutes).
FIRE_AT_ONCE = {"VigilModelRefused"}
SEVERITIES = {"critical", "warning", "info"}

problems = []


def check_rules():
    rules = load_rules()
    anchors = markdown_anchors(ALERTS_DOC.read_text()) if ALERTS_DOC.exists() else set()
    if not ALERTS_DOC.exists():
        problems.append(f"{ALERTS_DOC.relative_to(RULES.parents[2])} does not exist")
    tests = {p: p.read_text() for p in sorted(TESTS.glob("*.yml"))}
    alerts = [r for r in rules if "alert" in r]
    names = [r["alert"] for r in alerts]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"alert {name} is defined {names.count(name)} times")
    for rule in alerts:
        name = rule["alert"]
        labels, annotations = rule.get("labels") or {}, rule.get("annotations") or {}
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"{name}: severity {labels.get('severity')!r} is not one of {sorted(SEVERITIES)}")
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{name}: no {key} annotation")
        if "for" not in rule and name not in FIRE_AT_ONCE:
            problems.append(f"{name}: no `for` duration")
        url = annotations.get("runbook_url", "")
        expected = f"docs/alerts.md#{name.lower()}"
        if url != expected:
            problems.append(f"{name}: runbook_url {url!r}, expected {expected!r}")
        if name.lower() not in anchors:
            problems.append(f"{name}: docs/alerts.md has no heading '{name}'")
        firing = f'alertname="{name}", alertstate="firing"'
        if not any(f"ALERTS{{{firing}," in text or f"'ALERTS{{{firing}" in text for text in tests.values()):
            problems.append(f"{name}: no unit test in {TESTS.name}/ expects it firing")
    for rule in rules:
        if "record" in rule and ":" not in rule["record"]:
            problems.append(f"recording rule {rule['record']}: name without the level:metric:operations colons")
    return alerts


def check_dashboard():
    dashboard = load_dashboard()
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("dashboard: no variable 'datasource' of type datasource for prometheus")
    for name in ("job", "instance"):
        v = variables.get(name)
        if not v:
            problems.append(f"dashboard: no variable '{name}'")
        elif (v.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"dashboard: variable '{name}' not on ${{datasource}}")
    if not dashboard.get("uid") or not dashboard.get("title"):
        problems.append("dashboard: no uid or title")
    ids, cells = set(), {}
    for panel in dashboard_panels(dashboard):
        where = f"panel '{panel.get('title')}'"
        if panel.get("id") in ids:
            problems.append(f"{where}: id {panel.get('id')} used twice")
        ids.add(panel.get("id"))
        pos = panel.get("gridPos") or {}
        if not all(k in pos for k in ("x", "y", "w", "h")) or pos["x"] + pos["w"] > 24:
            problems.append(f"{where}: gridPos {pos} missing or wider than 24 columns")
            continue
        for dx in range(pos["w"]):
            for dy in range(pos["h"]):
                cell = (pos["x"] + dx, pos["y"] + dy)
                if cell in cells:
                    problems.append(f"{where} overlaps panel '{cells[cell]}'")
                    break
                cells[cell] = panel.get("title")
            else:
                continue
            break
        if panel.get("type") == "row":
            continue
        if (panel.get("datasource") or {}).get("uid") != "${datasource}":
            problems.append(f"{where}: datasource {panel.get('datasource')!r}, not ${{datasource}}")
        if not panel.get("description"):
            problems.append(f"{where}: no description")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problems.append(f"{where}: refIds {refs} not unique")
        for t in targets:
            if (t.get("datasource") or {}).get("uid") != "${datasource}":
                problems.append(f"{where} target {t.get('refId')}: datasource not ${{datasource}}")
            if not t.get("expr"):
                problems.append(f"{where} target {t.get('refId')}: no expr")
    expressions = dashboard_expressions(dashboard)
    # promtool parses each expression as a recording rule's: all in one file, then one by one to name a refused one.
    def refused(exprs):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "dashboard-expressions.yml"
            path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
                {"record": f"dashboard:expression_{i}", "expr": e} for i, (_, e) in enumerate(exprs)]}]}))
            result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
            return None if result.returncode == 0 else (result.stdout + result.stderr).strip().splitlines()[-1]
    if refused(expressions):
        for where, expr in expressions:
            error = refused([(where, expr)])
            if error:
                problems.append(f"dashboard {where}: promtool refuses {expr!r}: {error}")
    return len(expressions)


def check_mutations(alerts):
    """Each alert's tests must fail when its expression is replaced by one never true, and by one always true."""
    tests = {p: p.read_text() for p in sorted(TESTS.glob("*.yml"))}
    source = yaml.safe_load(RULES.read_text())
    def survives(name, mutant, files):
        with tempfile.TemporaryDirectory() as tmp:
            doc = yaml.safe_load(yaml.safe_dump(source))
            for group in doc["groups"]:
                for r in group["rules"]:
                    if r.get("alert") == name:
                        r["expr"] = mutant
            (Path(tmp) / RULES.name).write_text(yaml.safe_dump(doc))
            (Path(tmp) / "tests").mkdir()
            copies = []
            for p in files:
                copy = Path(tmp) / "tests" / p.name
                copy.write_text(p.read_text())
                copies.append(str(copy))
            return subprocess.run(["promtool", "test", "rules", *copies], capture_output=True).returncode == 0
    jobs = []
    for rule in alerts:
        name = rule["alert"]
        files = [p for p, text in tests.items() if f'"{name}"' in text]
        for mutant, what in (("vector(1) == 0", "never true"), ("vector(1)", "always true")):
            jobs.append((name, mutant, what, files))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for (name, mutant, what, _), alive in zip(jobs, pool.map(lambda j: survives(j[0], j[1], j[3]), jobs)):
            if alive:
                problems.append(f"{name}: the unit tests still pass with its expression {what} ({mutant})")
    return len(alerts) * 2


def main():
    alerts = check_rules()
    n = check_dashboard()
    print(f"   rules: {len(alerts)} alerts checked; dashboard: {sum(1 for _ in dashboard_panels(load_dashboard()))} "
          f"panels, {n} expressions parsed by promtool")
    if "--mutations" in sys.argv:
        m = check_mutations(alerts)
        survivors = sum("still pass" in p for p in problems)
        print(f"   mutations: {m} mutated rule files (each alert never and always true), {m - survivors} caught by "
              "the unit tests")
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
