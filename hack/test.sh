#!/usr/bin/env bash
# `npm test`: everything CI checks. Static checks, the unit suite on Node 20 and Node 24, native
# TensorFlow set up (hack/tfjs-node/setup.sh) and the engine tests on it (Node 20 and 24), then
# the integration and end-to-end suites (which bring up the local control plane), then the
# operator fault tests on a plane of their own (run even when the integration suite failed).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
# The suites run on the default image's backend (wasm) whether or not tfjs-node is installed; the
# engine tests run again on native TensorFlow in their own step below (SKIP_NATIVE=1 skips it).
export TFJS_BACKEND="${TFJS_BACKEND:-wasm}"
echo "== type-check and lint"
npx tsc -p tsconfig.json --noEmit
npx eslint .
echo "== binaries the chart tests need (helm, kubectl; built once, then cached)"
NODE_OPTIONS= node_modules/.bin/tsx hack/cluster/cli.ts build
echo "== unit tests on $(node --version)"
node node_modules/jest/bin/jest.js --selectProjects unit --ci
if [ "${SKIP_NODE24:-}" != 1 ]; then
  echo "== unit tests on Node 24"
  npx -y node@24 node_modules/jest/bin/jest.js --selectProjects unit --ci
fi
echo "== native TensorFlow backend: npm run setup:native, then the engine tests on it"
native=0
if [ "${SKIP_NATIVE:-}" = 1 ]; then
  echo "SKIP_NATIVE=1: native TensorFlow neither set up nor tested"
elif bash hack/tfjs-node/setup.sh; then
  # one Node-API build serves both Node versions
  node node_modules/jest/bin/jest.js --selectProjects unit-native --ci || native=$?
  if [ "${SKIP_NODE24:-}" != 1 ]; then
    npx -y node@24 node_modules/jest/bin/jest.js --selectProjects unit-native --ci || native=$?
  fi
else
  native=$?
fi
echo "== integration and end-to-end tests"
integration=0
node node_modules/jest/bin/jest.js --selectProjects integration --ci --runInBand || integration=$?
echo "== operator fault tests (on a control plane of their own in .cluster/faults)"
node node_modules/jest/bin/jest.js --selectProjects operator-faults --ci --runInBand --verbose
if [ "$native" != 0 ]; then
  echo "native TensorFlow backend: FAILED (setup or engine tests above; SKIP_NATIVE=1 skips this step)" >&2
  [ "$integration" != 0 ] || integration=$native
fi
exit "$integration"
