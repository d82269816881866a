#!/usr/bin/env bash
# Makes rootful podman work on this machine (Debian bookworm, as root) without any container registry:
#   1. apt: podman buildah debootstrap runc
#   2. /etc/containers/containers.conf: runtime runc (crun fails on this machine's cgroup v1 mix) and explicit
#      default ulimits
#   3. a base image localhost/debian:bookworm made with debootstrap from the mirror apt already uses
#   4. podman-compose (PyPI) in a virtualenv, linked as /usr/local/bin/podman-compose
# Safe to run again: every step that is already done is skipped (the base image is built once).
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "error: run as root (rootful podman)" >&2; exit 1; }
BASE_IMAGE=${VIGIL_BASE_IMAGE:-localhost/debian:bookworm}
STATE_DIR=${VIGIL_CONTAINER_STATE:-/var/lib/vigil-container}
CONF=/etc/containers/containers.conf
MARK="# written by vigil scripts/container-setup.sh"
mkdir -p "$STATE_DIR"

# 1. packages
source "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"
ensure_packages podman buildah debootstrap runc

# 2. containers.conf
if [ ! -f "$CONF" ] || head -1 "$CONF" | grep -qxF "$MARK"; then
  want=$(cat <<CONF_EOF
$MARK
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
CONF_EOF
)
  if [ "$(cat "$CONF" 2>/dev/null)" != "$want" ]; then
    echo "== writing $CONF (runtime runc, default ulimits)"
    mkdir -p "$(dirname "$CONF")"
    printf '%s\n' "$want" >"$CONF"
  else
    echo "== $CONF: already set"
  fi
elif grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONF" && grep -q '^[[:space:]]*default_ulimits' "$CONF"; then
  echo "== $CONF (not ours) already has runtime runc and default_ulimits"
else
  echo "error: $CONF exists and was not written by this script; add under [containers]" >&2
  echo '  default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' >&2
  echo 'and under [engine]  runtime = "runc"' >&2
  exit 1
fi

# 3. base image from debootstrap, using the Debian mirror apt is configured with
if podman image exists "$BASE_IMAGE"; then
  echo "== base image $BASE_IMAGE: present"
else
  mirror=$(grep -rhoE '^(URIs:[[:space:]]*|deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
             /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | head -1 || true)
  mirror=${VIGIL_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
  tarball="$STATE_DIR/debian-bookworm-minbase-slim.tar"
  if [ ! -s "$tarball" ]; then
    root="$STATE_DIR/debootstrap-bookworm"
    rm -rf "$root"
    echo "== debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1 \
      || { tail -20 "$STATE_DIR/debootstrap.log" >&2; exit 1; }
    # Slim like Docker Hub's debian:bookworm-slim: no documentation, manual pages or translations, now or from
    # packages installed later (a copyright file per package stays).
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM_EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
SLIM_EOF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* "$root"/usr/share/lintian/* \
           "$root"/usr/share/linda/* "$root"/usr/share/locale/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  echo "== podman import $tarball as $BASE_IMAGE"
  podman import --quiet "$tarball" "$BASE_IMAGE" >/dev/null
fi

# 4. podman-compose
if command -v podman-compose >/dev/null 2>&1; then
  echo "== podman-compose: $(command -v podman-compose)"
else
  venv="$STATE_DIR/podman-compose-venv"
  echo "== pip install podman-compose (into $venv)"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q podman-compose
  ln -sf "$venv/bin/podman-compose" /usr/local/bin/podman-compose
fi

echo "== podman ready: runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), base image $BASE_IMAGE"
