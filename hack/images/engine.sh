# Sourced by hack/images/build.sh: a private Docker engine (Debian's docker.io) for the image builds.
# Socket and exec root under /run/digitserve-docker, data root (layer cache) under
# ~/.cache/digitserve/docker so it survives fresh clones. No bridge, no iptables: builds and
# containers use the host network (`--network host`). A daemon already answering on the socket is
# reused and left running; one this script started is stopped by engine_stop. The daemon runs
# under `nice -n 10`, so the builds it runs (RUN steps, npm ci, tsc) do too.

DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}   # Debian's client matches its 20.10 daemon (legacy builder without buildx)
ENGINE_RUN=${DIGITSERVE_DOCKER_RUN:-/run/digitserve-docker}
ENGINE_DATA=${DIGITSERVE_DOCKER_DATA:-$CACHE_ROOT/docker/data}
export DOCKER_HOST="unix://$ENGINE_RUN/docker.sock"
ENGINE_STARTED_PID=

docker_cli() { "$DOCKER_CLI" "$@"; }

engine_alive() { docker_cli version >/dev/null 2>&1; }

engine_start() {
  if engine_alive; then log "reusing the Docker engine on $DOCKER_HOST"; return; fi
  command -v dockerd >/dev/null || die "dockerd is missing: run 'sudo bash hack/install-prereqs.sh' (installs docker.io)"
  mkdir -p "$ENGINE_RUN" "$ENGINE_DATA"
  log "starting dockerd (socket $DOCKER_HOST, data root $ENGINE_DATA, log $ENGINE_RUN/dockerd.log)"
  nice -n 10 dockerd --host "$DOCKER_HOST" --data-root "$ENGINE_DATA" --exec-root "$ENGINE_RUN/exec" \
    --pidfile "$ENGINE_RUN/dockerd.pid" --bridge=none --iptables=false --ip-masq=false \
    --storage-driver=overlay2 >"$ENGINE_RUN/dockerd.log" 2>&1 &
  ENGINE_STARTED_PID=$!
  local i
  for i in $(seq 1 120); do
    engine_alive && return
    kill -0 "$ENGINE_STARTED_PID" 2>/dev/null || { tail -n 20 "$ENGINE_RUN/dockerd.log" >&2; die "dockerd exited"; }
    sleep 1
  done
  tail -n 20 "$ENGINE_RUN/dockerd.log" >&2
  die "dockerd did not answer on $DOCKER_HOST within 120 s"
}

engine_stop() {
  [ -n "$ENGINE_STARTED_PID" ] || return 0
  log "stopping the dockerd this script started (pid $ENGINE_STARTED_PID)"
  kill -TERM "$ENGINE_STARTED_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do kill -0 "$ENGINE_STARTED_PID" 2>/dev/null || break; sleep 1; done
  kill -KILL "$ENGINE_STARTED_PID" 2>/dev/null || true
  # dockerd leaves its default network namespace mounted here; nothing else uses it
  umount "$ENGINE_RUN/exec/netns/default" 2>/dev/null || true
  ENGINE_STARTED_PID=
}
