#!/usr/bin/env bash
# `npm test`: everything CI checks, one function per step, in this order:
#   prerequisites (installed as root, else checked: hack/install-prereqs.sh), static checks, the
#   unit suite on Node 20 and Node 24, the integration and end-to-end suites (which bring up the
#   local control plane), the operator fault tests on a plane of their own (run even when the
#   integration suite failed), then both images (`npm run images`), the image tests and the user
#   journey on real pods (test/journey: a plane of its own in .cluster/journey with a real node).
# A failed step fails the run; the steps after the integration suite still run.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules"
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

integration_tests() {
  echo "== integration and end-to-end tests"
  jest --selectProjects integration --ci --runInBand
}

fault_tests() {
  echo "== operator fault tests (on a control plane of their own in .cluster/faults)"
  jest --selectProjects operator-faults --ci --runInBand --verbose
}

build_images() {
  echo "== images (npm run images: bases made locally, private Docker engine)"
  NODE_OPTIONS= bash hack/images/build.sh
}

image_tests() {
  echo "== image tests (the images just built, read-only and non-root)"
  jest --selectProjects images --ci --runInBand
}

journey_tests() {
  echo "== the user journey on real pods (test/journey: a plane with a real node in .cluster/journey)"
  jest --selectProjects journey --ci --runInBand --verbose
}

prerequisites
static_checks
binaries
unit_tests
failed=0
integration_tests || failed=1
fault_tests || failed=1
if build_images; then
  image_tests || failed=1
  journey_tests || failed=1
else
  failed=1
fi
exit "$failed"
