#!/usr/bin/env bash
# Assembles the build context of the native runtime image (Dockerfile.runtime with
# --build-arg TFJS_NODE=true) in DIR: hack/images/build.sh --native calls it; so can a plain
# `docker build` elsewhere (bash hack/images/runtime-native/context.sh /tmp/ctx && docker build
# --build-arg TFJS_NODE=true /tmp/ctx). The repository's own context would do too, but without the
# cache below, so the build stage would download the 274 MB wheel and compile the addon itself.
#   Dockerfile, package.json, package-lock.json, tsconfig*.json, runtime/, operator/,
#   models/mnist-cnn/          what Dockerfile.runtime COPYs from the repository (.dockerignore's list)
#   hack/tfjs-node/setup.sh    the project's setup, run by the build stage with --copy
#   hack/tfjs-node/cache/      hack/tfjs-node/setup.sh's cache (~/.cache/digitserve/tfjs-node),
#                              hard-linked: the complete build for setup.sh's pinned versions (the
#                              addon and the stripped TensorFlow libraries) when there is one, else
#                              the pinned tensorflow-cpu wheel when that is cached
# Prints what it put in the cache: "built", "wheel" or "none".
# Usage: context.sh DIR   (DIR is emptied first)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
out=${1:?usage: context.sh DIR}
# setup.sh's pins, cache directory and cache key, read from the script itself
# (the plain assignments up to KEY=, comments dropped)
eval "$(sed -n '1,/^KEY=/p' "$REPO/hack/tfjs-node/setup.sh" | grep -E '^(TFJS_NODE_VERSION|TF_VERSION|WHEEL_PLATFORM|WHEEL_FILE|NAPI_BUILD|CACHE|KEY)=' | sed 's/[[:space:]]*#.*//')"
: "${KEY:?no KEY= in hack/tfjs-node/setup.sh}" "${CACHE:?no CACHE= in hack/tfjs-node/setup.sh}" "${WHEEL_FILE:?no WHEEL_FILE= in hack/tfjs-node/setup.sh}"

rm -rf "$out" && mkdir -p "$out/models" "$out/hack/tfjs-node/cache"
cp "$REPO/Dockerfile.runtime" "$out/Dockerfile"
cp "$REPO/package.json" "$REPO/package-lock.json" "$REPO/tsconfig.json" "$REPO/tsconfig.build.json" "$out/"
cp -R "$REPO/runtime" "$REPO/operator" "$out/"
cp -R "$REPO/models/mnist-cnn" "$out/models/"
find "$out/runtime" "$out/operator" "$out/models" \( -name '*.map' -o -name '*.log' \) -delete
cp "$REPO/hack/tfjs-node/setup.sh" "$out/hack/tfjs-node/"
# hard links (the cache is on the same filesystem here), else copies
link() { cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"; }
if [ -f "$CACHE/$KEY/.complete" ]; then
  link "$CACHE/$KEY" "$out/hack/tfjs-node/cache/$KEY"
  rm -f "$out/hack/tfjs-node/cache/$KEY/build.log"
  echo built
elif [ -s "$CACHE/wheels/$WHEEL_FILE" ]; then
  mkdir -p "$out/hack/tfjs-node/cache/wheels"
  link "$CACHE/wheels/$WHEEL_FILE" "$out/hack/tfjs-node/cache/wheels/"
  echo wheel
else
  echo none
fi
