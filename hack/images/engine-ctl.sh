#!/usr/bin/env bash
# The image tests' engine (test/images/setup.ts): `start` makes the private Docker engine of
# hack/images/engine.sh answer (reusing a running one) and prints `started <DOCKER_HOST>` or
# `reused <DOCKER_HOST>`; `stop` stops the daemon recorded in its pidfile (only call it after a
# `start` that said `started`).
set -euo pipefail
shopt -s inherit_errexit
IMAGES_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${DIGITSERVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/digitserve}
log() { echo "images: $*" >&2; }
die() { echo "images: error: $*" >&2; exit 1; }
# shellcheck source=hack/images/engine.sh
. "$IMAGES_DIR/engine.sh"

case ${1:-} in
  start)
    engine_start
    if [ -n "$ENGINE_STARTED_PID" ]; then disown "$ENGINE_STARTED_PID"; echo "started $DOCKER_HOST"; else echo "reused $DOCKER_HOST"; fi ;;
  stop)
    ENGINE_STARTED_PID=$(cat "$ENGINE_RUN/dockerd.pid" 2>/dev/null || true)
    engine_stop ;;
  *) die "usage: engine-ctl.sh start|stop" ;;
esac
