"""What the observability checks share: the rule file, the dashboard, their PromQL expressions, and the metric
names those expressions read."""
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/observability/vigil-alerts.yml"
DASHBOARD = ROOT / "deploy/observability/vigil-dashboard.json"
TESTS = ROOT / "deploy/observability/tests"
ALERTS_DOC = ROOT / "docs/alerts.md"

# Grafana's variables, replaced by values Prometheus accepts: every job and instance, a 1-minute rate window.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m", "${__rate_interval}": "1m", "$__interval": "1m", "${__interval}": "1m",
    "$__range": "1h", "$job": ".+", "${job}": ".+", "$instance": ".+", "${instance}": ".+",
}


def load_rules():
    """Every rule of the rule file, each a dict with its group's name added as `group`."""
    doc = yaml.safe_load(RULES.read_text())
    rules = []
    for group in doc["groups"]:
        for rule in group["rules"]:
            rules.append(dict(rule, group=group["name"]))
    return rules


def load_dashboard():
    return json.loads(DASHBOARD.read_text())


def dashboard_panels(dashboard):
    """Every panel, those inside collapsed rows too."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", []) or []


def dashboard_expressions(dashboard):
    """(where, expression with Grafana's variables replaced) for every panel target and annotation query."""
    out = []
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []) or []:
            if "expr" in target:
                out.append((f"panel '{panel.get('title')}' target {target.get('refId')}", grafana_to_promql(target["expr"])))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            out.append((f"annotation '{annotation.get('name')}'", grafana_to_promql(annotation["expr"])))
    return out


def grafana_to_promql(expr):
    for variable in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(variable, GRAFANA_VARIABLES[variable])
    return expr


# PromQL words that look like metric names: keywords, aggregations, functions are followed by "(" and skipped.
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless",
             "inf", "nan", "atan2", "start", "end", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
             "count_values", "bottomk", "topk", "quantile"}
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def metric_names(expr):
    """The metric names an expression selects (recording rule names included), as written."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # string literals
    s = re.sub(r"\{[^}]*\}", "{}", s)                                               # label matchers
    s = re.sub(r"\[[^\]]*\]", "[]", s)                                              # ranges, subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", s)  # label lists
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def exported_name(name):
    """The name a metric family shows in the exposition: a histogram's _bucket/_sum/_count belong to its family."""
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def markdown_anchors(text):
    """GitHub's anchors for the headings of a Markdown text."""
    anchors = set()
    for line in text.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            title = m.group(1).strip().lower()
            title = re.sub(r"[^\w\- ]", "", title)
            anchors.add(title.replace(" ", "-"))
    return anchors


def label_names_used(exprs):
    """Every label name the expressions match on (selectors), group by, or join on."""
    names = set()
    for expr in exprs:
        s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
        for m in re.finditer(r"\{([^}]*)\}", s):
            names.update(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", m.group(1)))
        for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", s):
            names.update(n.strip() for n in m.group(1).split(",") if n.strip())
    return names
