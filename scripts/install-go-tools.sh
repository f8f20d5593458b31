#!/usr/bin/env bash
# Builds the Go test tools the project pins into $REPO/.cache/bin, idempotently:
#   csi-sanity   (kubernetes-csi/csi-test) - CSI conformance suite run against our socket.
# A tool is rebuilt only when its binary or its stamp file (.cache/bin/.NAME.version, holding
# MODULE@VERSION) is missing or names another version. Needs `go` on PATH and the Go module proxy.
# Add a tool with one more `go_tool NAME MODULE/PATH/TO/CMD@VERSION` line in main().
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
BIN="${GO_TOOLS_BIN:-$BIN}"
# Go's own module and build caches stay where `go env` puts them (outside the work tree), so a
# fresh clone on the same machine, as CI uses, rebuilds from cache without downloading again.
export CGO_ENABLED="${CGO_ENABLED:-0}"

CSI_SANITY_VERSION="${CSI_SANITY_VERSION:-v5.6.0}"

# go_tool NAME MODULE@VERSION: installs the command MODULE (a main package path) at VERSION as
# $BIN/NAME. A cached binary with a matching stamp is kept; anything else is rebuilt.
go_tool() {
  local name="$1" spec="$2"
  local stamp="$BIN/.$name.version"
  if cached "$name" "$spec"; then
    log "$name cached ($spec)"
    return
  fi
  log "building $name from $spec"
  mkdir -p "$BIN"
  local tmp
  tmp="$(mktemp -d "$BIN/.build.XXXXXX")"
  # `go install` names the binary after the last path element, so build into a scratch GOBIN
  # and move it into place only once it exists: an interrupted build never leaves a stale stamp.
  if ! GOBIN="$tmp" go install "$spec"; then
    rm -rf "$tmp"
    log "go install $spec failed"
    exit 1
  fi
  local built
  built="$tmp/$(basename "${spec%@*}")"
  if [ ! -x "$built" ]; then
    log "go install $spec produced no $(basename "$built")"
    rm -rf "$tmp"
    exit 1
  fi
  mv -f "$built" "$BIN/$name"
  rm -rf "$tmp"
  echo "$spec" >"$stamp"
}

main() {
  if ! command -v go >/dev/null 2>&1; then
    log 'go is not on PATH'
    exit 1
  fi
  local start=$SECONDS
  go_tool csi-sanity "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_SANITY_VERSION"
  log "tools ready in $BIN (took $((SECONDS - start))s)"
}

# Sourced (by install-kube.sh) only for go_tool; run directly it builds the tools above.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
