#!/usr/bin/env bash
# Builds grpcurl (github.com/fullstorydev/grpcurl, from the Go module proxy) once into
# ~/.cache/digitserve/bin/grpcurl-<version>/ and prints the binary's path. Idempotent and safe
# under concurrent use (built under a lock into a temporary directory, renamed into place).
#   "$(bash hack/grpcurl.sh)" -plaintext localhost:8081 list
set -euo pipefail
version=v1.9.4
dir=${DIGITSERVE_CACHE:-$HOME/.cache/digitserve}/bin/grpcurl-$version
if [ ! -x "$dir/grpcurl" ]; then
  command -v go >/dev/null || { echo "grpcurl.sh: needs Go (sudo bash hack/install-prereqs.sh)" >&2; exit 1; }
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  if [ ! -x "$dir/grpcurl" ]; then
    tmp=$(mktemp -d "$dir.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "grpcurl.sh: building grpcurl $version into $dir" >&2
    GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version" >&2
    mv "$tmp" "$dir"
    trap - EXIT
  fi
fi
echo "$dir/grpcurl"
