#!/usr/bin/env bash
# Checks the deployment files under deploy/ without a cluster and without a running systemd:
#
#   1. every manifest under deploy/kubernetes (subdirectories too) against the Kubernetes OpenAPI schemas, strictly
#      (an unknown or misspelt field is an error), for each version in VIGIL_KUBE_VERSIONS. The validator is the
#      PyPI package kubernetes-validate, which bundles the schemas of Kubernetes 1.25-1.37 and works offline; it is
#      installed into a virtualenv under ~/.cache on first use (about 100 MB, 1-2 min), then reused;
#   2. Vigil's own rules, which the schemas cannot express: no ':latest' or untagged images; every container with
#      CPU and memory requests, a memory limit and a locked-down securityContext; probes with sensible timeouts,
#      periods and thresholds, liveness on /healthz and readiness on /readyz; vigil serve as a StatefulSet whose
#      transactional id comes from the pod name; terminationGracePeriodSeconds above the shutdown bound; every
#      ConfigMap, Secret and volume claim that a pod names defined among the manifests; no hostPath;
#   3. `systemd-analyze verify` of deploy/systemd (no unknown or unparsable setting), and
#      `systemd-analyze security --offline=true` of vigil.service, vigil-train.service, vigil-backfill.service and vigil-console.service: the "Overall exposure
#      level" must be below VIGIL_SYSTEMD_MAX_EXPOSURE (3.0).
#
# Exits non-zero naming every violation. Usage: bash scripts/check-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSIONS=${VIGIL_KUBE_VERSIONS:-"1.33.0 1.37.0"}
VALIDATOR_VERSION=1.37.0
MAX_EXPOSURE=${VIGIL_SYSTEMD_MAX_EXPOSURE:-3.0}
VENV=${VIGIL_DEPLOY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/deploy-venv}

failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

# --- the validator --------------------------------------------------------------------------------------------------
if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$VALIDATOR_VERSION"; then
  echo "== installing kubernetes-validate $VALIDATOR_VERSION into $VENV"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$VALIDATOR_VERSION"
fi

mapfile -t manifests < <(find deploy/kubernetes -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
if [ ${#manifests[@]} -eq 0 ]; then
  fail "no manifests under deploy/kubernetes"
  exit 1
fi

# --- 1. schemas -----------------------------------------------------------------------------------------------------
for version in $KUBE_VERSIONS; do
  echo "== schemas: ${#manifests[@]} files against Kubernetes $version (strict)"
  if ! "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "${manifests[@]}"; then
    fail "manifests do not validate against Kubernetes $version"
  fi
done

# --- 2. Vigil's rules -----------------------------------------------------------------------------------------------
echo "== rules: images, resources, securityContext, probes, grace period, references"
if ! "$VENV/bin/python" - "${manifests[@]}" <<'PY'; then
import re
import sys

import yaml

SHUTDOWN_DEFAULT_MS = 20_000   # vigil serve --shutdown-timeout-ms
HTTP_PORT = 8686
CONSOLE_PORT = 8480

problems = []
docs = []
for path in sys.argv[1:]:
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if doc:
                docs.append((path, doc))

def name(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"

defined = {(d.get("kind"), d.get("metadata", {}).get("name")) for _, d in docs}
config_maps = {d["metadata"]["name"]: d.get("data", {}) or {} for _, d in docs if d.get("kind") == "ConfigMap"}

def pod_spec(doc):
    kind = doc.get("kind")
    spec = doc.get("spec", {}) or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return spec.get("template", {}).get("spec")
    if kind == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    if kind == "Pod":
        return spec
    return None

def env_of(container):
    """The container's environment: ConfigMaps it imports, then its own env (literal values only)."""
    env = {}
    for source in container.get("envFrom", []) or []:
        ref = source.get("configMapRef")
        if ref:
            env.update(config_maps.get(ref.get("name"), {}))
    for item in container.get("env", []) or []:
        if "value" in item:
            env[item["name"]] = item["value"]
    return env

def check_probe(where, kind, probe, ports, expected_port=HTTP_PORT):
    if probe is None:
        return
    for field in ("timeoutSeconds", "periodSeconds", "failureThreshold"):
        if field not in probe:
            problems.append(f"{where}: {kind} has no explicit {field}")
    timeout = probe.get("timeoutSeconds", 1)
    period = probe.get("periodSeconds", 10)
    threshold = probe.get("failureThreshold", 3)
    if not 1 <= timeout <= 5:
        problems.append(f"{where}: {kind} timeoutSeconds {timeout} outside 1-5 (the endpoint answers from memory and "
                        "gives a client 2 s)")
    if not 1 <= period <= 60:
        problems.append(f"{where}: {kind} periodSeconds {period} outside 1-60")
    if timeout > period:
        problems.append(f"{where}: {kind} timeoutSeconds {timeout} > periodSeconds {period}")
    if kind == "startupProbe":
        if not 30 <= period * threshold <= 600:
            problems.append(f"{where}: startupProbe allows {period * threshold} s, outside 30-600 s "
                            "(the start checks alone may take --startup-timeout-ms, 10 s)")
    else:
        if not 1 <= threshold <= 10:
            problems.append(f"{where}: {kind} failureThreshold {threshold} outside 1-10")
    if kind == "livenessProbe" and period * threshold < 20:
        problems.append(f"{where}: livenessProbe kills after {period * threshold} s of failures; at least 20 s")
    if kind == "livenessProbe" and probe.get("successThreshold", 1) != 1:
        problems.append(f"{where}: livenessProbe successThreshold must be 1")
    http = probe.get("httpGet")
    if http is not None:
        port = http.get("port")
        port = ports.get(port, port)
        if port != expected_port:
            problems.append(f"{where}: {kind} probes port {port}, not Vigil's {expected_port}")

def check_container(where, container, pod, is_serve):
    image = container.get("image", "")
    last = image.rsplit("/", 1)[-1]
    if "@" not in last:
        if ":" not in last:
            problems.append(f"{where}: image '{image}' has no tag (that is :latest)")
        elif last.rsplit(":", 1)[1] == "latest":
            problems.append(f"{where}: image '{image}' uses :latest")
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    for key in ("cpu", "memory"):
        if key not in requests:
            problems.append(f"{where}: no resources.requests.{key}")
    if "memory" not in limits:
        problems.append(f"{where}: no resources.limits.memory")
    sc = container.get("securityContext")
    psc = pod.get("securityContext") or {}
    if not sc:
        problems.append(f"{where}: no securityContext")
        sc = {}
    def either(key):
        return sc.get(key, psc.get(key))
    if either("runAsNonRoot") is not True:
        problems.append(f"{where}: runAsNonRoot is not true")
    uid = either("runAsUser")
    if not isinstance(uid, int) or uid == 0:
        problems.append(f"{where}: runAsUser must be a numeric non-root uid, got {uid!r}")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        problems.append(f"{where}: privileged")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problems.append(f"{where}: capabilities.drop does not contain ALL")
    if (sc.get("capabilities") or {}).get("add"):
        problems.append(f"{where}: adds capabilities")
    seccomp = (either("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append(f"{where}: seccompProfile.type is {seccomp!r}, not RuntimeDefault")

    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", []) or [] if p.get("name")}
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        # vigil console listens on its own port (50-vigil-console.yaml); every other container is vigil serve's.
        console = (container.get("args") or [None])[0] == "console"
        check_probe(where, kind, container.get(kind), ports, CONSOLE_PORT if console else HTTP_PORT)
    if is_serve:
        live, ready = container.get("livenessProbe"), container.get("readinessProbe")
        if not live or (live.get("httpGet") or {}).get("path") != "/healthz":
            problems.append(f"{where}: vigil serve needs a livenessProbe on /healthz (never /readyz: a Redis or "
                            "Kafka outage would restart every replica)")
        if not ready or (ready.get("httpGet") or {}).get("path") != "/readyz":
            problems.append(f"{where}: vigil serve needs a readinessProbe on /readyz")
        # The transactional id must come from the pod name, directly or through $(VAR) of a fieldRef.
        env = {e["name"]: e for e in container.get("env", []) or []}
        def from_pod_name(item, depth=0):
            if item is None or depth > 3:
                return False
            ref = ((item.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if ref == "metadata.name":
                return True
            return any(from_pod_name(env.get(v), depth + 1) for v in re.findall(r"\$\((\w+)\)", item.get("value", "")))
        if not from_pod_name(env.get("VIGIL_TRANSACTIONAL_ID")):
            problems.append(f"{where}: VIGIL_TRANSACTIONAL_ID is not derived from metadata.name")

for path, doc in docs:
    pod = pod_spec(doc)
    if pod is None:
        continue
    where_doc = f"{path}: {name(doc)}"
    containers = (pod.get("containers") or []) + (pod.get("initContainers") or [])
    serve = [c for c in pod.get("containers") or [] if (c.get("args") or [None])[0] == "serve"]
    if serve and doc.get("kind") != "StatefulSet":
        problems.append(f"{where_doc}: vigil serve must run as a StatefulSet (stable pod names are its stable "
                        f"transactional ids), not a {doc.get('kind')}")
    # Grace period: above the shutdown bound each container is configured with (default 20 s).
    grace = pod.get("terminationGracePeriodSeconds")
    bound_ms = max([int(env_of(c).get("VIGIL_SHUTDOWN_TIMEOUT_MS", SHUTDOWN_DEFAULT_MS)) for c in containers]
                   + [SHUTDOWN_DEFAULT_MS])
    if grace is None:
        problems.append(f"{where_doc}: no terminationGracePeriodSeconds")
    elif grace * 1000 <= bound_ms:
        problems.append(f"{where_doc}: terminationGracePeriodSeconds {grace} is not above the shutdown bound "
                        f"{bound_ms / 1000:g} s")
    # References: everything a pod names must be defined among the manifests.
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    claims = {t["metadata"]["name"] for t in (doc.get("spec", {}).get("volumeClaimTemplates") or [])}
    for v in volumes.values():
        if "hostPath" in v:
            problems.append(f"{where_doc}: volume {v['name']} is a hostPath")
        if "persistentVolumeClaim" in v:
            claim = v["persistentVolumeClaim"].get("claimName")
            if ("PersistentVolumeClaim", claim) not in defined:
                problems.append(f"{where_doc}: volume claim '{claim}' is not defined in deploy/kubernetes")
        if "configMap" in v and ("ConfigMap", v["configMap"].get("name")) not in defined:
            problems.append(f"{where_doc}: ConfigMap '{v['configMap'].get('name')}' is not defined")
        if "secret" in v and ("Secret", v["secret"].get("secretName")) not in defined:
            problems.append(f"{where_doc}: Secret '{v['secret'].get('secretName')}' is not defined")
    account = pod.get("serviceAccountName")
    if account and ("ServiceAccount", account) not in defined:
        problems.append(f"{where_doc}: ServiceAccount '{account}' is not defined")
    for c in containers:
        where = f"{where_doc} container {c.get('name')}"
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes and m.get("name") not in claims:
                problems.append(f"{where}: mounts '{m.get('name')}', which is no volume of the pod")
        for source in c.get("envFrom") or []:
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = source.get(key)
                if ref and (kind, ref.get("name")) not in defined:
                    problems.append(f"{where}: {kind} '{ref.get('name')}' is not defined")
        for item in c.get("env") or []:
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = (item.get("valueFrom") or {}).get(key)
                if ref and (kind, ref.get("name")) not in defined:
                    problems.append(f"{where}: {kind} '{ref.get('name')}' is not defined")
        check_container(where, c, pod, c in serve)

if not any((c.get("args") or [None])[0] == "serve"
           for _, d in docs if pod_spec(d) for c in pod_spec(d).get("containers") or []):
    problems.append("no manifest runs vigil serve")

for p in problems:
    print(f"  {p}", file=sys.stderr)
print(f"   {len(docs)} resources, {len(problems)} violations")
sys.exit(1 if problems else 0)
PY
  fail "manifests break the rules above"
fi

# --- 3. systemd -----------------------------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
  echo "== systemd: exposure of the units (systemd-analyze security --offline, $(systemd-analyze --version | head -1 | cut -d' ' -f1-2)), limit < $MAX_EXPOSURE"
  # Syntax first: an unknown or misspelt setting is only a warning to systemd ("ignoring"), and would silently
  # weaken the sandbox. The binary is not installed here, so its absence is the one complaint accepted.
  verify=$(cd deploy/systemd && systemd-analyze verify vigil.service vigil-train.service vigil-backfill.service vigil-console.service vigil-train.timer 2>&1 \
    | grep -v 'Command /usr/local/bin/vigil is not executable') || true
  if [ -n "$verify" ]; then
    printf '%s\n' "$verify" >&2
    fail "systemd-analyze verify complains about deploy/systemd"
  fi
  for unit in vigil.service vigil-train.service vigil-backfill.service vigil-console.service; do
    out=$(systemd-analyze security --offline=true --no-pager "deploy/systemd/$unit" 2>&1) || true
    level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' | tail -1)
    if [ -z "$level" ]; then
      printf '%s\n' "$out" >&2
      fail "$unit: systemd-analyze gave no exposure level"
    elif awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l < m) }'; then
      echo "   $unit: $level"
    else
      printf '%s\n' "$out" | grep '✗' | head -20 >&2 || true
      fail "$unit: exposure $level, not below $MAX_EXPOSURE"
    fi
  done
else
  echo "== systemd: systemd-analyze not installed, units not analysed" >&2
fi

if [ "$failed" -ne 0 ]; then
  echo "check-deploy: FAILED" >&2
  exit 1
fi
echo "check-deploy: ok"
