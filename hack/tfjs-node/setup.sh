#!/usr/bin/env bash
# `npm run setup:native`: installs @tensorflow/tfjs-node (native TensorFlow backend) into this
# checkout's node_modules without its install script, which downloads libtensorflow from a host
# that is unreachable here. Instead:
#   1. the TensorFlow C library comes from the PyPI wheel tensorflow-cpu (pinned below, sha256
#      checked): libtensorflow_cc.so.2 exports every TF_/TFE_ function the addon calls (the C API
#      is stable), libtensorflow_framework.so.2 beside it; both stripped, with the names the
#      package's install script and binding.gyp look for (.so, .so.2.9.1);
#   2. the headers the addon includes, taken from the wheel's include tree;
#   3. the addon (Node-API v8: one build loads on Node 20 and Node 24) built from source by the
#      package's own scripts/install.js (a local `tf-lib` in scripts/custom-binary.json makes it
#      build instead of fetch) with npm's bundled node-gyp against this Node's own headers.
# Everything built lands in a cache outside the clone, keyed by its inputs
# (${XDG_CACHE_HOME:-~/.cache}/digitserve/tfjs-node/<key>); node_modules gets symlinks to it, or
# copies with --copy (container images). Idempotent: a second run only re-links and checks.
# Needs: node_modules (npm ci), python3 with pip, make, a C++ compiler; strip (binutils) if present.
# In production installs set npm_config_omit=dev (or NODE_ENV=production) as for `npm ci`.
#
# Usage: hack/tfjs-node/setup.sh [--copy]
# Exit status: 0 when `require('@tensorflow/tfjs-node')` works afterwards; else non-zero with the
# reason on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

TFJS_NODE_VERSION=4.22.0          # must equal the project's @tensorflow/tfjs version
TF_VERSION=2.21.0                 # tensorflow-cpu wheel the C library comes from
# The wheel's libraries do not depend on the Python version; one file is pinned so its hash can be.
WHEEL_PY=3.11
WHEEL_PLATFORM=manylinux_2_27_x86_64
WHEEL_FILE=tensorflow_cpu-${TF_VERSION}-cp311-cp311-${WHEEL_PLATFORM}.whl
WHEEL_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
NAPI_BUILD=8                      # highest Node-API version in the package's binary.napi_versions

copy=false
for a in "$@"; do
  case "$a" in
    --copy) copy=true ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup:native: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { echo "setup:native: $*"; }
fail() { echo "setup:native: FAILED: $*" >&2; echo "setup:native: (without @tensorflow/tfjs-node the runtime uses the wasm backend)" >&2; exit 1; }

# ---- preconditions, each with the reason it fails
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || fail "only linux x86_64 is set up here (the pinned wheel is $WHEEL_PLATFORM), not $(uname -s)-$(uname -m)"
[ -d node_modules/@tensorflow/tfjs-core ] || fail "node_modules is not installed: run npm ci first"
core_version=$(node -p "require('./node_modules/@tensorflow/tfjs-core/package.json').version")
[ "$core_version" = "$TFJS_NODE_VERSION" ] || fail "@tensorflow/tfjs-core is $core_version, this script pins tfjs-node $TFJS_NODE_VERSION: change TFJS_NODE_VERSION in $0 with it"
CACHE=${TFJS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/digitserve/tfjs-node}
KEY=tfjs-node-${TFJS_NODE_VERSION}_tf-${TF_VERSION}_napi-v${NAPI_BUILD}_linux-x64
BUILT=$CACHE/$KEY
PKG=node_modules/@tensorflow/tfjs-node

# ---- 1. the JS package, without its install script (npm ci leaves it out: it is not in package.json)
installed=$(node -p "try { require('./$PKG/package.json').version } catch { '' }")
if [ "$installed" != "$TFJS_NODE_VERSION" ]; then
  say "npm install --no-save --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
  npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null \
    || fail "npm could not install @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
fi

# ---- 2. the C library, headers and addon, built once per key into the cache
build_into() { # $1: empty staging directory
  local stage=$1 wheel=$CACHE/wheels/$WHEEL_FILE
  command -v python3 >/dev/null || fail "python3 is missing (pip downloads the wheel; node-gyp needs it)"
  command -v make >/dev/null || fail "make is missing (node-gyp builds with it): apt-get install make"
  command -v "${CXX:-g++}" >/dev/null || fail "no C++ compiler (${CXX:-g++}): apt-get install g++"
  local nodedir=${npm_config_nodedir:-$(node -p 'require("path").dirname(require("path").dirname(process.execPath))')}
  [ -f "$nodedir/include/node/node_api.h" ] \
    || fail "no Node headers under $nodedir/include/node (node-gyp would download them from an unreachable host); set npm_config_nodedir to a Node prefix that has them"
  # npm's own node-gyp (npm run sets npm_config_node_gyp; else next to the npm on PATH)
  local node_gyp=${npm_config_node_gyp:-$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js}
  [ -f "$node_gyp" ] || fail "npm's bundled node-gyp was not found ($node_gyp); set npm_config_node_gyp to a node-gyp.js"

  if [ ! -f "$wheel" ] || ! echo "$WHEEL_SHA256  $wheel" | sha256sum -c --quiet - 2>/dev/null; then
    say "downloading $WHEEL_FILE from PyPI (274 MB, cached in $CACHE/wheels)"
    python3 -m pip --version >/dev/null 2>&1 || fail "pip is missing (python3 -m pip): apt-get install python3-pip"
    mkdir -p "$CACHE/wheels"
    local dl; dl=$(mktemp -d "$CACHE/wheels/.download.XXXXXX")
    echo "tensorflow-cpu==$TF_VERSION --hash=sha256:$WHEEL_SHA256" >"$dl/requirements.txt"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version "$WHEEL_PY" \
      --platform "$WHEEL_PLATFORM" --require-hashes -r "$dl/requirements.txt" -d "$dl" \
      || { rm -rf "$dl"; fail "pip download tensorflow-cpu==$TF_VERSION failed (is PyPI reachable?)"; }
    mv "$dl/$WHEEL_FILE" "$wheel" && rm -rf "$dl"
  fi

  say "unpacking the TensorFlow C library and headers (tensorflow-cpu $TF_VERSION)"
  mkdir -p "$stage/deps/lib" "$stage/deps/include" "$stage/pkg"
  # the package, to build in (small: no deps/ or lib/ yet); its requires resolve through NODE_PATH
  cp -R "$PKG/." "$stage/pkg/"
  rm -rf "$stage/pkg/deps" "$stage/pkg/lib" "$stage/pkg/build"
  # the libraries, and every header the addon's sources include, followed transitively
  python3 - "$wheel" "$stage/deps" "$stage/pkg/binding" <<'EOF' || fail "could not unpack the wheel"
import os, re, shutil, sys, zipfile
wheel, deps, binding = sys.argv[1:]
z = zipfile.ZipFile(wheel)
for lib in ('libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'):
    with z.open('tensorflow/' + lib) as src, open(os.path.join(deps, 'lib', lib), 'wb') as out:
        shutil.copyfileobj(src, out, 1 << 20)
prefix = 'tensorflow/include/'
have = {n[len(prefix):] for n in z.namelist() if n.startswith(prefix) and not n.endswith('/')}
include = re.compile(rb'^\s*#\s*include\s+"([^"]+)"', re.M)
todo = []
for f in os.listdir(binding):
    todo += [m.decode() for m in include.findall(open(os.path.join(binding, f), 'rb').read())]
done = set()
while todo:
    h = todo.pop()
    if h in done or h not in have:
        continue
    done.add(h)
    data = z.read(prefix + h)
    dest = os.path.join(deps, 'include', h)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    open(dest, 'wb').write(data)
    todo += [m.decode() for m in include.findall(data)]
if 'tensorflow/c/c_api.h' not in done or 'tensorflow/c/eager/c_api.h' not in done:
    sys.exit('the wheel lacks tensorflow/c/c_api.h or tensorflow/c/eager/c_api.h')
EOF
  if command -v strip >/dev/null; then
    strip --strip-unneeded "$stage"/deps/lib/*.so.2
  else
    say "strip (binutils) is missing: the libraries stay unstripped (~850 MB instead of ~635 MB)"
  fi
  # the names binding.gyp links (-ltensorflow -ltensorflow_framework) and scripts/install.js
  # checks (libtensorflow.so.2.9.1); at run time the addon asks for the libraries' own sonames
  ( cd "$stage/deps/lib"
    ln -s libtensorflow_cc.so.2 libtensorflow.so
    ln -s libtensorflow_cc.so.2 libtensorflow.so.2.9.1
    ln -s libtensorflow_framework.so.2 libtensorflow_framework.so
    ln -s libtensorflow_framework.so.2 libtensorflow_framework.so.2.9.1 )

  say "building the addon (node-gyp, Node headers from $nodedir)"
  ln -s ../deps "$stage/pkg/deps"
  echo '{ "tf-lib": "file://'"$BUILT"'/deps (local: from the tensorflow-cpu wheel, never downloaded)" }' >"$stage/pkg/scripts/custom-binary.json"
  ( cd "$stage/pkg" \
    && PATH="$ROOT/node_modules/.bin:$PATH" NODE_PATH="$ROOT/$PKG/node_modules:$ROOT/node_modules" npm_config_nodedir="$nodedir" npm_config_node_gyp="$node_gyp" \
      node scripts/install.js >"$stage/build.log" 2>&1 ) \
    || { tail -n 30 "$stage/build.log" >&2; fail "the addon did not build (log above)"; }
  [ -f "$stage/pkg/lib/napi-v$NAPI_BUILD/tfjs_binding.node" ] \
    || { tail -n 30 "$stage/build.log" >&2; fail "the build left no lib/napi-v$NAPI_BUILD/tfjs_binding.node"; }
  mv "$stage/pkg/lib" "$stage/lib"
  rm -rf "$stage/pkg"
}

if [ ! -f "$BUILT/.complete" ]; then
  mkdir -p "$CACHE"
  stage=$(mktemp -d "$CACHE/.$KEY.XXXXXX") && chmod 755 "$stage"
  trap 'rm -rf "$stage"' EXIT
  build_into "$stage"
  date -u +%FT%TZ >"$stage/.complete"
  rm -rf "$BUILT" && mv "$stage" "$BUILT"
  trap - EXIT
  say "built $BUILT ($(du -sh "$BUILT" | cut -f1))"
fi

# ---- 3. into node_modules: symlinks to the cache, or copies (--copy)
for d in deps lib; do
  rm -rf "${PKG:?}/$d"
  if $copy; then cp -R "$BUILT/$d" "$PKG/$d"; else ln -s "$BUILT/$d" "$PKG/$d"; fi
done
# a later `npm rebuild` of the package then builds against these libraries instead of downloading
echo '{ "tf-lib": "file://'"$BUILT"'/deps (local: hack/tfjs-node/setup.sh)" }' >"$PKG/scripts/custom-binary.json"

# ---- 4. check: the backend loads and computes (util shims as in runtime/engine/tfjs-node-compat.ts)
TF_VERSION=$TF_VERSION node -e '
const util = require("node:util");
util.isNullOrUndefined ??= (x) => x === null || x === undefined;
util.isArray ??= Array.isArray;
const tf = require("@tensorflow/tfjs-node");
if (tf.getBackend() !== "tensorflow") throw new Error("backend is " + tf.getBackend());
const y = tf.conv2d(tf.ones([1, 5, 5, 1]), tf.ones([3, 3, 1, 1]), 1, "valid");
const s = y.sum().dataSync()[0];
if (s !== 81) throw new Error("conv2d sum " + s + ", expected 81");
console.log("setup:native: @tensorflow/tfjs-node " + tf.version["tfjs-node"] + " works on Node " + process.version + " (TensorFlow " + tf.version.tfjs + " JS, C library " + process.env.TF_VERSION + ")");
' || fail "@tensorflow/tfjs-node is installed but does not load or compute (above)"
