#!/usr/bin/env bash
# `npm test`: everything CI checks. Static checks, the unit suite on Node 20 and Node 24,
# then the integration and end-to-end suites (which bring up the local control plane), then the
# operator fault tests on a plane of their own, then the user journey on a real node (each run
# even when an earlier suite failed; the first failure decides the exit code).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
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
echo "== integration and end-to-end tests"
integration=0
node node_modules/jest/bin/jest.js --selectProjects integration --ci --runInBand || integration=$?
echo "== operator fault tests (on a control plane of their own in .cluster/faults)"
faults=0
node node_modules/jest/bin/jest.js --selectProjects operator-faults --ci --runInBand --verbose || faults=$?
echo "== the images (npm run images: ghcr.io/digitserve/{runtime,operator}, the chart's defaults) for the journey"
journey=0
npm run images || journey=$?
echo "== the user journey on real pods (test/journey: a plane of its own in .cluster/journey with a real node)"
if [ "$journey" = 0 ]; then
  node node_modules/jest/bin/jest.js --selectProjects journey --ci --runInBand --verbose || journey=$?
fi
for rc in "$integration" "$faults" "$journey"; do [ "$rc" = 0 ] || exit "$rc"; done
