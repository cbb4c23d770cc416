#!/usr/bin/env bash
# `npm test`: everything CI checks, one function per step, in this order:
#   prerequisites (installed as root, else checked: hack/install-prereqs.sh), static checks, the
#   unit suite on Node 20 and Node 24, native TensorFlow set up (hack/tfjs-node/setup.sh) and the
#   engine tests on it (Node 20 and 24), third-party clients (tritonclient) against the runtime and
#   foreign Keras/SavedModel models imported (npm run import) and served,
#   the integration and end-to-end suites (which bring up the local control plane), the operator
#   fault tests on a plane of their own (run even when the integration suite failed), then the
#   images (`npm run images -- --native`: the native runtime variant too) and the image tests,
#   then the real-pod (journey) tests on a plane with a real kubelet node that runs those images.
# A failed step fails the run; the steps after the integration suite still run.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
# The suites run on the default image's backend (wasm) whether or not tfjs-node is installed; the
# engine tests run again on native TensorFlow in their own step (SKIP_NATIVE=1 skips it).
export TFJS_BACKEND="${TFJS_BACKEND:-wasm}"
jest() { node node_modules/jest/bin/jest.js "$@"; }

prerequisites() {
  echo "== prerequisites (hack/install-prereqs.sh)"
  bash hack/install-prereqs.sh
}

static_checks() {
  echo "== type-check and lint"
  npx tsc -p tsconfig.json --noEmit
  npx eslint .
}

binaries() {
  echo "== binaries the chart tests need (helm, kubectl; built once, then cached)"
  NODE_OPTIONS= node_modules/.bin/tsx hack/cluster/cli.ts build
}

unit_tests() {
  echo "== unit tests on $(node --version)"
  jest --selectProjects unit --ci
  if [ "${SKIP_NODE24:-}" != 1 ]; then
    echo "== unit tests on Node 24"
    npx -y node@24 node_modules/jest/bin/jest.js --selectProjects unit --ci
  fi
}

native_tests() {
  echo "== native TensorFlow backend: npm run setup:native, then the engine tests on it"
  if [ "${SKIP_NATIVE:-}" = 1 ]; then echo "SKIP_NATIVE=1: native TensorFlow neither set up nor tested"; return 0; fi
  bash hack/tfjs-node/setup.sh || { echo "native TensorFlow setup FAILED (SKIP_NATIVE=1 skips this step)" >&2; return 1; }
  # one Node-API build serves both Node versions
  local rc=0
  native_run "$(command -v node)" || rc=1
  if [ "${SKIP_NODE24:-}" != 1 ]; then
    native_run "$(npx -y node@24 -p process.execPath)" || rc=1
  fi
  return "$rc"
}

# The unit-native project on one Node binary. Jest runs these in band (one process), so a crash of
# native code kills the run: that happened once in CI (SIGSEGV on Node 24 as the first test file
# loaded TensorFlow, at 6708db1; 0 crashes in 26 runs of the same project on Node 24 here since, most beside a training run).
# Its cause, found since: two native engine workers in one process race on tfjs-node's unlocked set of attribute
# names (engine-pool.test.ts started two); the pool refuses a second native worker now (docs/performance.md).
# A run that dies by a signal prints the native backtrace (core dump + gdb, where both exist) and
# is run once more, saying so; a second crash, or any failed test, fails the step.
native_run() {
  local node=$1 status=0 attempt
  for attempt in 1 2; do
    status=0
    (ulimit -c unlimited 2>/dev/null; exec "$node" node_modules/jest/bin/jest.js --selectProjects unit-native --ci) || status=$?
    [ "$status" -lt 128 ] && return "$status"
    echo "== unit-native on $("$node" --version) DIED by signal $((status - 128)) (attempt $attempt): a crash in native code, not a failed test" >&2
    if [ -f core ]; then
      if command -v gdb > /dev/null; then gdb -batch -ex 'bt 40' "$node" core 2>&1 | grep -E '^#' | head -40 >&2; fi
      rm -f core
    fi
  done
  return 1
}

client_tests() {
  echo "== third-party clients: tritonclient over HTTP and gRPC; Keras/SavedModel import (Python environments from hack/python/venv.sh)"
  jest --selectProjects clients --ci
}

integration_tests() {
  echo "== integration and end-to-end tests"
  jest --selectProjects integration --ci --runInBand
}

fault_tests() {
  echo "== operator fault tests (on a control plane of their own in .cluster/faults)"
  jest --selectProjects operator-faults --ci --runInBand --verbose
}

# the native runtime image too (--native: from the cache native_tests' setup filled), unless SKIP_NATIVE=1
build_images() {
  echo "== images (npm run images: bases made locally, private Docker engine)"
  if [ "${SKIP_NATIVE:-}" = 1 ]; then NODE_OPTIONS= bash hack/images/build.sh; else NODE_OPTIONS= bash hack/images/build.sh --native; fi
}

image_tests() {
  echo "== image tests (the images just built, read-only and non-root)"
  if [ "${SKIP_NATIVE:-}" = 1 ]; then
    echo "SKIP_NATIVE=1: no native runtime image built, test/images/runtime-native.test.ts left out"
    jest --selectProjects images --ci --runInBand --testPathIgnorePatterns '/node_modules/' 'runtime-native\.test\.ts$'
  else
    jest --selectProjects images --ci --runInBand
  fi
}

journey_tests() {
  echo "== real pods: journey tests (a control plane with a real node, in .cluster/journey)"
  jest --selectProjects journey --ci --runInBand --verbose
}

prerequisites
static_checks
binaries
unit_tests
failed=0
native_tests || failed=1
client_tests || failed=1
integration_tests || failed=1
fault_tests || failed=1
if build_images; then
  image_tests || failed=1
  journey_tests || failed=1
else
  failed=1
fi
exit "$failed"
