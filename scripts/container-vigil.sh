#!/usr/bin/env bash
# `vigil ARGS...` run inside the container image instead of from a local binary, so tools that start vigil
# as a child process (vigil-loadtest --vigil, scripts/container-test.sh) exercise the image:
#   podman run --rm --network host --user 10001:10001 --read-only IMAGE ARGS...
# A --model/--shadow-model file is bind-mounted read-only at the same path. The process is podman itself
# (exec), which passes SIGTERM/SIGINT on to vigil and exits with its status.
# Environment: VIGIL_IMAGE (localhost/vigil:latest), VIGIL_CONTAINER_NAME (vigil-<pid>),
# VIGIL_CONTAINER_USER (10001:10001), VIGIL_PODMAN_ARGS (extra podman run arguments, split on spaces).
set -euo pipefail

image=${VIGIL_IMAGE:-localhost/vigil:latest}
name=${VIGIL_CONTAINER_NAME:-vigil-$$}
podman_args=(--rm --name "$name" --network host --user "${VIGIL_CONTAINER_USER:-10001:10001}" --read-only
             --stop-timeout 30 --log-driver none)
mount_file() {
  local path
  path=$(realpath -e "$1") || { echo "container-vigil: no file $1" >&2; exit 1; }
  podman_args+=(-v "$path:$path:ro")
  args+=("$path")
}
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model|--shadow-model) args+=("$1"); mount_file "$2"; shift 2 ;;
    --model=*|--shadow-model=*) args+=("${1%%=*}"); mount_file "${1#*=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
# shellcheck disable=SC2206
[ -n "${VIGIL_PODMAN_ARGS:-}" ] && podman_args+=(${VIGIL_PODMAN_ARGS})
exec podman run "${podman_args[@]}" "$image" "${args[@]}"
