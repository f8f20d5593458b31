#!/usr/bin/env bash
# Runs the Windows build of Node.js (installed by scripts/install-wine.sh) under Wine:
#   scripts/wine-node.sh <script.mjs> [args...]
# A Linux path /x/y given as the script is passed as Z:\x\y. node.exe gets FILES, not pipes, as
# stdout/stderr (Wine's console handling of pipes loses output); they are printed afterwards and
# node.exe's exit code is propagated. Env: WINE_NODE_TIMEOUT (seconds, default 300), WINE_NODE_OUT
# (keep stdout/stderr in this directory instead of a temporary one).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_EXE="$REPO/.cache/node-win/node.exe"
export WINEPREFIX="${WINEPREFIX:-$REPO/.cache/wineprefix}"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree=;mshtml=;winex11.drv=;winewayland.drv="
unset DISPLAY WAYLAND_DISPLAY

if [ $# -lt 1 ]; then
  echo 'usage: scripts/wine-node.sh <script.mjs> [args...]' >&2
  exit 2
fi
if [ ! -f "$NODE_EXE" ] || [ ! -f "$WINEPREFIX/.csi-cert-driver-ready" ]; then
  echo "wine-node: $NODE_EXE or the wine prefix is missing; run scripts/install-wine.sh first" >&2
  exit 2
fi

if command -v wine64 >/dev/null 2>&1; then
  WINE="$(command -v wine64)"
elif [ -x /usr/lib/wine/wine64 ]; then
  WINE=/usr/lib/wine/wine64
else
  WINE="$(command -v wine)"
fi

# Linux absolute path -> Wine's Z: drive (Z:\ maps the Linux root).
to_win() {
  case "$1" in
    /*) printf 'Z:%s' "${1//\//\\}" ;;
    *) printf '%s' "$1" ;;
  esac
}

script="$1"
shift
case "$script" in
  /*) ;;
  -*) ;;
  *) [ -e "$script" ] && script="$(cd "$(dirname "$script")" && pwd)/$(basename "$script")" ;;
esac

if [ -n "${WINE_NODE_OUT:-}" ]; then
  out_dir="$WINE_NODE_OUT"
  mkdir -p "$out_dir"
else
  out_dir="$(mktemp -d)"
  trap 'rm -rf "$out_dir"' EXIT
fi

rc=0
timeout --kill-after=10 "${WINE_NODE_TIMEOUT:-300}" \
  "$WINE" "$NODE_EXE" "$(to_win "$script")" "$@" \
  >"$out_dir/stdout.txt" 2>"$out_dir/stderr.txt" </dev/null || rc=$?

tr -d '\r' <"$out_dir/stdout.txt"
tr -d '\r' <"$out_dir/stderr.txt" >&2
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "wine-node: node.exe timed out after ${WINE_NODE_TIMEOUT:-300}s" >&2
fi
exit "$rc"
