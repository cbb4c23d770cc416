#!/usr/bin/env bash
# `npm run images [-- --registry PREFIX]`: builds the runtime, operator and converter images from
# Dockerfile.runtime, Dockerfile.operator and Dockerfile.converter on a private Docker engine, with base images made
# locally (no registry: mmdebstrap + Node from the npm registry), saves them as tarballs and writes
# .images/images.json = [{"ref": ..., "tar": ...}], then loads them into the real node when the
# cluster CLI can (`tsx hack/cluster/cli.ts load-images`). See docs/images.md.
#
#   --registry PREFIX   tag PREFIX/runtime:<version>, PREFIX/operator:<version>, PREFIX/converter:<version>
#                       (default ghcr.io/digitserve; <version> = package.json's version)
#   --native            also the native TensorFlow variant of the runtime, PREFIX/runtime:<version>-native
#                       (Dockerfile.runtime with TFJS_NODE=true, context from runtime-native/context.sh;
#                       needs hack/tfjs-node/setup.sh's built cache: `npm run setup:native` first)
#   --bases-only        make and import the base images, build nothing
#   --no-load           do not run load-images
# Environment: DIGITSERVE_BUILD_CA = a PEM bundle the build stages trust (default: the CAs added
# in /usr/local/share/ca-certificates, e.g. a TLS-intercepting proxy's); empty file = none.
set -euo pipefail
shopt -s inherit_errexit
IMAGES_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$IMAGES_DIR/../.." && pwd)
CACHE_ROOT=${DIGITSERVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/digitserve}

log() { echo "images: $*" >&2; }
die() { echo "images: error: $*" >&2; exit 1; }

# shellcheck source=hack/images/versions.env
. "$IMAGES_DIR/versions.env"
# shellcheck source=hack/images/converter/versions.env
. "$IMAGES_DIR/converter/versions.env"
# shellcheck source=hack/images/engine.sh
. "$IMAGES_DIR/engine.sh"
# shellcheck source=hack/images/bases.sh
. "$IMAGES_DIR/bases.sh"

REGISTRY=ghcr.io/digitserve
BASES_ONLY=0
NATIVE=0
LOAD=1
while [ $# -gt 0 ]; do
  case $1 in
    --registry) REGISTRY=${2:?--registry needs a prefix}; shift 2 ;;
    --registry=*) REGISTRY=${1#*=}; shift ;;
    --native) NATIVE=1; shift ;;
    --bases-only) BASES_ONLY=1; shift ;;
    --no-load) LOAD=0; shift ;;
    *) die "unknown argument $1 (see the header of hack/images/build.sh)" ;;
  esac
done
REGISTRY=${REGISTRY%/}
VERSION=$(node -p "require('$REPO/package.json').version")
OUT=$REPO/.images

# one build at a time per machine: builds share the engine, and the script may stop it
lock_engine() {
  mkdir -p "$CACHE_ROOT/docker"
  exec 9>"$CACHE_ROOT/docker/build.lock"
  flock 9
}

build_ca_bundle() { # prints the path of the extra CA bundle for the build stages, or nothing
  local out=$CACHE_ROOT/images/build-ca.pem
  mkdir -p "$(dirname "$out")"
  if [ -n "${DIGITSERVE_BUILD_CA+x}" ]; then
    [ -s "${DIGITSERVE_BUILD_CA}" ] && cp "$DIGITSERVE_BUILD_CA" "$out" && echo "$out"
    return 0
  fi
  local crts=(/usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt)
  local f found=0
  : >"$out"
  for f in "${crts[@]}"; do [ -s "$f" ] && { cat "$f"; echo; } >>"$out" && found=1; done
  [ "$found" = 1 ] && echo "$out"
  return 0
}

build_image() { # $1 = name (runtime|operator), $2 = build image, $3 = runtime base
  local ref=$REGISTRY/$1:$VERSION start=$SECONDS
  log "building $ref from Dockerfile.$1"
  (cd "$REPO" && DOCKER_BUILDKIT=0 nice -n 10 "$DOCKER_CLI" build --network host --quiet \
    --build-arg "NODE_IMAGE=$2" --build-arg "RUNTIME_IMAGE=$3" \
    -f "Dockerfile.$1" -t "$ref" . >/dev/null)
  log "built $ref in $((SECONDS - start)) s: $(image_size "$ref") MB"
}

# the converter's build context is assembled apart (hack/images/converter/context.sh): the
# repository's .dockerignore serves the other two images
build_converter() { # $1 = python build image, $2 = python runtime base
  local ref=$REGISTRY/converter:$VERSION start=$SECONDS ctx=$CACHE_ROOT/images/converter-context
  log "building $ref from Dockerfile.converter"
  bash "$IMAGES_DIR/converter/context.sh" "$ctx"
  DOCKER_BUILDKIT=0 nice -n 10 "$DOCKER_CLI" build --network host --quiet \
    --build-arg "PYTHON_BUILD_IMAGE=$1" --build-arg "PYTHON_RUNTIME_IMAGE=$2" -t "$ref" "$ctx" >/dev/null
  log "built $ref in $((SECONDS - start)) s: $(image_size "$ref") MB"
}

# The native variant: the runtime's Dockerfile with TFJS_NODE=true on a context that carries
# hack/tfjs-node/setup.sh's built cache (runtime-native/context.sh), so its build stage compiles
# and downloads nothing but the npm package; its build stages share the runtime's layers.
NATIVE_CTX=$CACHE_ROOT/images/runtime-native-context
native_context() { # before anything is built, so a missing cache fails the run at once
  local cached
  cached=$(bash "$IMAGES_DIR/runtime-native/context.sh" "$NATIVE_CTX")
  [ "$cached" = built ] || die "--native needs the native TensorFlow build cached by hack/tfjs-node/setup.sh (found: $cached): run 'npm run setup:native' first"
}

build_runtime_native() { # $1 = build image, $2 = runtime base
  local ref=$REGISTRY/runtime:$VERSION-native start=$SECONDS ctx=$NATIVE_CTX
  log "building $ref from Dockerfile.runtime with TFJS_NODE=true"
  DOCKER_BUILDKIT=0 nice -n 10 "$DOCKER_CLI" build --network host --quiet \
    --build-arg "NODE_IMAGE=$1" --build-arg "RUNTIME_IMAGE=$2" --build-arg TFJS_NODE=true -t "$ref" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "built $ref in $((SECONDS - start)) s: $(image_size "$ref") MB"
}

image_size() { echo $(( $(docker_cli image inspect -f '{{.Size}}' "$1") / 1000000 )); }

save_images() {
  mkdir -p "$OUT"
  local name ref entries=() names=(runtime operator converter)
  if [ "$NATIVE" = 1 ]; then names+=(runtime-native); else rm -f "$OUT/runtime-native.tar"; fi
  for name in "${names[@]}"; do
    case $name in runtime-native) ref=$REGISTRY/runtime:$VERSION-native ;; *) ref=$REGISTRY/$name:$VERSION ;; esac
    log "docker save $ref -> $OUT/$name.tar"
    docker_cli save -o "$OUT/$name.tar.tmp" "$ref" && mv "$OUT/$name.tar.tmp" "$OUT/$name.tar"
    entries+=("{\"ref\": \"$ref\", \"tar\": \"$OUT/$name.tar\", \"sizeBytes\": $(docker_cli image inspect -f '{{.Size}}' "$ref")}")
  done
  local IFS=,
  echo "[${entries[*]}]" | node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0,"utf8")),null,2)+"\n")' >"$OUT/images.json"
  log "wrote $OUT/images.json"
}

# what the images were built from, for the tests (test/images/ca-absent.test.ts)
write_build_info() { # $1 = build image, $2 = runtime base, $3 = extra CA bundle or empty
  node -e 'const [b, r, c] = process.argv.slice(1); process.stdout.write(JSON.stringify({ buildImage: b, runtimeBase: r, buildCa: c || null }, null, 2) + "\n")' \
    "$1" "$2" "$3" >"$OUT/build.json"
}

load_images() {
  if [ "$LOAD" = 0 ]; then return; fi
  if grep -qs "load-images" "$REPO"/hack/cluster/*.ts; then
    (cd "$REPO" && node_modules/.bin/tsx hack/cluster/cli.ts load-images)
  else
    log "hack/cluster/cli.ts has no load-images yet: images not loaded into a node"
  fi
}

main() {
  local start=$SECONDS
  lock_engine
  trap engine_stop EXIT
  engine_start
  local build_base runtime_base build_image ca
  build_base=$(build_base_image)
  runtime_base=$(runtime_base_image)
  ca=$(build_ca_bundle)
  build_image=$(build_image_with_ca "$build_base" "$ca")
  log "bases ready in $((SECONDS - start)) s: build $build_image, runtime $runtime_base${ca:+ (build stages trust $ca)}"
  if [ "$BASES_ONLY" = 1 ]; then return; fi
  if [ "$NATIVE" = 1 ]; then native_context; fi
  build_image runtime "$build_image" "$runtime_base"
  if [ "$NATIVE" = 1 ]; then build_runtime_native "$build_image" "$runtime_base"; fi
  build_image operator "$build_image" "$runtime_base"
  local python_build python_runtime
  python_build=$(build_image_with_ca "$(python_build_base_image)" "$ca")
  python_runtime=$(python_runtime_base_image)
  build_converter "$python_build" "$python_runtime"
  save_images
  write_build_info "$build_image" "$runtime_base" "$ca"
  engine_stop
  trap - EXIT
  load_images
  log "done in $((SECONDS - start)) s"
}

main
