#!/usr/bin/env bash
# Creates (once) a Python virtual environment for a pinned requirements file and prints its path.
#   bash hack/python/venv.sh hack/python/requirements-clients.txt   ->  ~/.cache/digitserve/python/<hash>
# The directory is keyed by the sha256 of the requirements file and the interpreter's version, so
# a changed pin makes a new environment and an unchanged one is reused. Safe under concurrent use:
# creation runs under an exclusive lock, into a temporary directory renamed into place only once
# every package installed (a half-made environment is never seen, a failed one is retried next time).
# VENV_PIP_ARGS (optional, space-separated) is appended to that one `pip install`: e.g. the path of a
# wheel of a pinned version already on disk, so pip installs that file instead of downloading it.
# A requirements file with the line `# pip: --no-deps` is installed with --no-deps (it must then list
# the complete environment; hack/python/requirements-convert.txt says why it does).
set -euo pipefail
req=${1:?usage: venv.sh REQUIREMENTS_FILE}
[ -f "$req" ] || { echo "venv.sh: no such requirements file: $req" >&2; exit 2; }
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "venv.sh: $python not found (sudo bash hack/install-prereqs.sh)" >&2; exit 1; }
pyver=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
key=$( { cat "$req"; echo "python $pyver"; } | sha256sum | cut -c1-16)
root=${DIGITSERVE_CACHE:-$HOME/.cache/digitserve}/python
dir=$root/$key
mkdir -p "$root"
if [ ! -x "$dir/bin/python" ]; then
  exec 9>"$dir.lock"
  flock 9
  if [ ! -x "$dir/bin/python" ]; then
    tmp=$(mktemp -d "$dir.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "venv.sh: creating $dir (python $pyver, $req)" >&2
    "$python" -m venv "$tmp"
    # pip is told where the environment will live only through the interpreter it runs; scripts'
    # shebangs would name $tmp, so everything is called as `$dir/bin/python -m ...` afterwards
    read -r -a extra <<<"${VENV_PIP_ARGS:-}"
    if grep -qx '# pip: --no-deps' "$req"; then extra+=(--no-deps); fi
    "$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --require-virtualenv -r "$req" "${extra[@]}" >&2
    mv "$tmp" "$dir"
    trap - EXIT
  fi
  flock -u 9
fi
echo "$dir"
