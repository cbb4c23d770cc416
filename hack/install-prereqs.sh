#!/usr/bin/env bash
# Everything outside node_modules that `npm test` (hack/test.sh runs this first) and `npm run
# images` need. Idempotent: whatever is already there is skipped, and apt runs only when a package
# is missing. As root it installs; otherwise (or with --check) it only checks, and names what is
# missing and the one command that installs it.
#
#   what                       used by                                    from
#   Fashion-MNIST              OOD evaluation tests                       apt dataset-fashion-mnist
#   Chromium                   the page test                              apt chromium
#   promtool                   alert-rule tests                           apt prometheus
#   openssl                    the local control plane's certificates    apt openssl
#   Go >= 1.24                 building the control plane (hack/cluster)  Go toolchain module (below)
#   Docker engine (dockerd)    npm run images, the image tests            apt docker.io
#   mmdebstrap                 the locally made base images               apt mmdebstrap
#   containerd, runc           the real node (cluster:up --real-node)     apt containerd runc
#   CNI plugins                the real node's pod network                apt containernetworking-plugins
#   iptables, conntrack, ip    the real node's kube-proxy and netns       apt iptables conntrack iproute2
#   gcc + static libc          the real node's pause image (pause.c)      apt gcc libc6-dev
#   python3 + pip, make, g++   native TensorFlow (npm run setup:native)   apt python3-pip make g++
#   python3 venv               tritonclient tests (hack/python/venv.sh)   apt python3-venv
set -euo pipefail
CHECK_ONLY=0
[ "${1:-}" = --check ] && CHECK_ONLY=1
[ "$(id -u)" = 0 ] || CHECK_ONLY=1

# The Go toolchain, when no go >= 1.24 is on PATH: Debian bookworm's golang is too old, so it comes
# from the Go module proxy as the golang.org/toolchain module (what `GOTOOLCHAIN` downloads itself).
GO_VERSION=1.26.8
GO_ROOT=/usr/local/go

need=()       # apt packages to install
missing=()    # human-readable names of what is missing
have() { command -v "$1" >/dev/null 2>&1; }
want() { missing+=("$1"); [ -n "${2:-}" ] && need+=("$2"); return 0; }

[ -d /usr/share/datasets/fashion-mnist ] || want Fashion-MNIST dataset-fashion-mnist
have chromium || want Chromium chromium
have promtool || want promtool prometheus
have openssl || want openssl openssl
have dockerd || want "Docker engine" docker.io
have mmdebstrap || want mmdebstrap mmdebstrap
have containerd || want containerd containerd
have runc || [ -x /usr/sbin/runc ] || want runc runc
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || want "CNI plugins" containernetworking-plugins
have iptables || want iptables iptables
have conntrack || want conntrack conntrack
have ip || want iproute2 iproute2
have gcc || want gcc gcc
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || want "static libc" libc6-dev
{ have python3 && python3 -m pip --version >/dev/null 2>&1; } || want "python3 with pip" python3-pip
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want "python3 venv" python3-venv
have make || want make make
have g++ || want g++ g++

go_ok() {
  local go=${1:-go} v
  v=$("$go" env GOVERSION 2>/dev/null) || return 1
  [[ $v =~ ^go([0-9]+)\.([0-9]+) ]] && { [ "${BASH_REMATCH[1]}" -gt 1 ] || [ "${BASH_REMATCH[2]}" -ge 24 ]; }
}
go_missing=0
if ! go_ok; then
  if go_ok "$GO_ROOT/bin/go" && [ "$CHECK_ONLY" = 0 ]; then ln -sf "$GO_ROOT/bin/go" /usr/local/bin/go
  else go_missing=1; missing+=("Go >= 1.24"); fi
fi

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

if [ "$CHECK_ONLY" = 1 ]; then
  echo "missing prerequisites: ${missing[*]}" >&2
  echo "install them with:  sudo bash hack/install-prereqs.sh" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ] || [ "$go_missing" = 1 ]; then
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq
fi
if [ "$go_missing" = 1 ]; then
  have unzip || need+=(unzip)
  have curl || need+=(curl)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ "$go_missing" = 1 ]; then
  tmp=$(mktemp -d)
  mod="golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64"
  curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
  unzip -q "$tmp/go.zip" -d "$tmp"
  rm -rf "$GO_ROOT" && mv "$tmp/$mod" "$GO_ROOT" && chmod +x "$GO_ROOT"/bin/* "$GO_ROOT"/pkg/tool/*/*
  rm -rf "$tmp"
  ln -sf "$GO_ROOT/bin/go" /usr/local/bin/go
  ln -sf "$GO_ROOT/bin/gofmt" /usr/local/bin/gofmt
fi
