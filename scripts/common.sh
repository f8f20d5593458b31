# Sourced by the install and cluster scripts (`. "$(dirname "${BASH_SOURCE[0]}")/common.sh"`):
#   REPO   the checkout the sourcing script lives in
#   CACHE  its tool cache ($REPO/.cache), BIN the tools built there ($CACHE/bin)
#   log    one line on stderr, prefixed with the sourcing script's name: [install-kube] ...
#   cached NAME SPEC  true when $BIN/NAME is executable and its stamp $BIN/.NAME.version says SPEC
# shellcheck shell=bash
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO/.cache"
BIN="$CACHE/bin"

LOG_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)"
log() { printf '[%s] %s\n' "$LOG_NAME" "$*" >&2; }

cached() {
  [ -x "$BIN/$1" ] && [ -f "$BIN/.$1.version" ] && [ "$(cat "$BIN/.$1.version")" = "$2" ]
}
