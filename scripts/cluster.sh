#!/usr/bin/env bash
# A single-node Kubernetes cluster on this Linux machine from real parts, with the product installed
# through its Helm chart. No Docker, no registry: every image is built here and imported.
#
#   scripts/cluster.sh up       bring the node up (idempotent: an up cluster is left as it is)
#   scripts/cluster.sh down     tear everything down, also from a half-up or crashed state
#   scripts/cluster.sh status   components and their pids, the node, the pods, the kubeconfig
#   scripts/cluster.sh kubectl ARGS...   kubectl with the cluster's admin kubeconfig
#
# What it touches at the edges (all of it undone by `down`):
#   - a network namespace $CLUSTER_NETNS with a veth pair: the host side gets $HOST_IP, the node
#     side $NODE_IP (kubelet refuses a loopback node IP). Every cluster process runs in it through
#     `nsenter --net` only (the host's mount namespace is shared, so kubelet, containerd and the
#     driver see each other's mounts). Pods get a bridge (cni0) inside it; no default route, so pod
#     traffic stays inside. The API server is reached from the host at https://$NODE_IP:6443.
#   - processes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd, kubelet,
#     kube-proxy, each a process-group leader with a pid file; pods run in cgroups `kubepods` under
#     every cgroup v1 controller.
#   - mounts: kubelet's root (/var/lib/kubelet) and the chart's certBasePath (/var/lib/csi-certs)
#     are bound onto themselves and made rshared (`/` is private here; the driver's Bidirectional
#     mounts need shared ones); containerd's and the pods' mounts under them.
#   - sysctls kubelet rewrites (vm.overcommit_memory, kernel.panic, ...): saved before, restored.
#   - state, logs (logs/NAME.log), PKI, configs under $CLUSTER_DIR (default /var/lib/csi-cert-cluster);
#     `down` removes all of it but logs/.
# Needs root and scripts/install-kube.sh (kube binaries, CoreDNS, containerd, CNI plugins) and
# scripts/build-images.sh (the product, pause, workload and CoreDNS images); `up` runs both.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CLUSTER_DIR="${CLUSTER_DIR:-/var/lib/csi-cert-cluster}"
CLUSTER_NETNS="${CLUSTER_NETNS:-csi-cert-cluster}"
NODE_NAME="${CLUSTER_NODE_NAME:-csi-node}"
HOST_IP=10.213.0.1
NODE_IP=10.213.0.2
POD_CIDR=10.214.0.0/24
SERVICE_CIDR=10.215.0.0/24
API_SERVICE_IP=10.215.0.1
DNS_SERVICE_IP=10.215.0.10
VETH_HOST=csicc-host
VETH_NODE=csicc-node
KUBELET_DIR=/var/lib/kubelet
CERT_BASE=/var/lib/csi-certs
RELEASE=csi-cert-driver
RELEASE_NS=csi-cert-driver
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
COREDNS_IMAGE="localhost/coredns:$COREDNS_VERSION"
PAUSE_IMAGE=localhost/pause:3.10
PRODUCT_REPOSITORY=localhost/csi-cert-driver
PRODUCT_TAG=dev
# The sysctls kubelet sets at start (its kernel tunables), restored by `down`.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# Start order; `down` stops in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

PKI="$CLUSTER_DIR/pki"
LOGS="$CLUSTER_DIR/logs"
PIDS="$CLUSTER_DIR/pids"
RUN="$CLUSTER_DIR/run"
MARKS="$CLUSTER_DIR/marks"
CONTAINERD_SOCK="$RUN/containerd.sock"
KUBECONFIG_ADMIN="$CLUSTER_DIR/admin.kubeconfig"

die() { log "$*"; exit 1; }

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
in_netns() { nsenter --net="/run/netns/$CLUSTER_NETNS" -- "$@"; }

# mark NAME / marked NAME: one-word facts `up` records for `down` (what existed before).
mark() { mkdir -p "$MARKS" && touch "$MARKS/$1"; }
marked() { [ -e "$MARKS/$1" ]; }

# ---------------------------------------------------------------------------------------------
# Prerequisites

ensure_tools() {
  [ "$(id -u)" -eq 0 ] || die 'needs root'
  bash "$REPO/scripts/install-kube.sh" etcd kube-apiserver kube-node coredns node-packages kubectl
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl helm coredns; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing"
  done
}

# The images: product, pause, workload from scripts/build-images.sh, CoreDNS packaged from its
# static binary. build-images.sh keeps what is current (and builds dist/ when it is stale).
ensure_images() {
  local images="$REPO/build/images"
  bash "$REPO/scripts/build-images.sh" all >/dev/null
  if [ ! -f "$images/coredns.tar" ] || [ "$BIN/coredns" -nt "$images/coredns.tar" ]; then
    bash "$REPO/scripts/build-images.sh" static "$COREDNS_IMAGE" "$BIN/coredns" >/dev/null
  fi
}

# ---------------------------------------------------------------------------------------------
# PKI: one CA signs every serving and client certificate; a separate key signs service-account tokens.

# cert NAME CN [O] [SANS]: $PKI/NAME.{key,crt} signed by the cluster CA (kept when present).
cert() {
  local name="$1" cn="$2" org="${3:-}" sans="${4:-}" subj
  [ -f "$PKI/$name.crt" ] && return 0
  subj="/CN=$cn"
  [ -n "$org" ] && subj="/O=$org$subj"
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  chmod 0600 "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo 'basicConstraints=critical,CA:FALSE'
    echo 'keyUsage=critical,digitalSignature,keyEncipherment'
    echo 'extendedKeyUsage=serverAuth,clientAuth'
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

write_pki() {
  mkdir -p "$PKI" && chmod 0700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 30 \
      -subj '/CN=csi-cert-cluster CA' -addext 'basicConstraints=critical,CA:TRUE' \
      -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
    chmod 0600 "$PKI/ca.key"
  fi
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null && chmod 0600 "$PKI/sa.key"
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  cert apiserver kube-apiserver '' \
    "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert admin admin system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  cert kube-proxy system:kube-proxy
  cert kubelet "system:node:$NODE_NAME" system:nodes
  cert kubelet-serving "$NODE_NAME" '' "IP:$NODE_IP,DNS:$NODE_NAME"
}

# kubeconfig NAME: $CLUSTER_DIR/NAME.kubeconfig with the client certificate $PKI/NAME.{crt,key}.
kubeconfig() {
  local name="$1"
  put "$CLUSTER_DIR/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: csi-cert-cluster
    cluster:
      server: https://$NODE_IP:6443
      certificate-authority: $PKI/ca.crt
users:
  - name: $name
    user:
      client-certificate: $PKI/$name.crt
      client-key: $PKI/$name.key
contexts:
  - name: $name@csi-cert-cluster
    context: { cluster: csi-cert-cluster, user: $name }
current-context: $name@csi-cert-cluster
EOF
  chmod 0600 "$CLUSTER_DIR/$name.kubeconfig"
}

# ---------------------------------------------------------------------------------------------
# Host setup: network namespace, shared mounts, sysctls

setup_netns() {
  if [ ! -e "/run/netns/$CLUSTER_NETNS" ]; then
    [ -d /run/netns ] || mark created-run-netns
    mountpoint -q /run/netns 2>/dev/null || mark run-netns-not-mounted
    ip netns add "$CLUSTER_NETNS"
  fi
  if ! ip link show "$VETH_HOST" >/dev/null 2>&1; then
    ip link add "$VETH_HOST" type veth peer name "$VETH_NODE"
    ip link set "$VETH_NODE" netns "$CLUSTER_NETNS"
    ip addr add "$HOST_IP/30" dev "$VETH_HOST"
    ip link set "$VETH_HOST" up
    in_netns ip addr add "$NODE_IP/30" dev "$VETH_NODE"
    in_netns ip link set "$VETH_NODE" up
    in_netns ip link set lo up
  fi
  # Per network namespace: the node routes between the pod bridge and itself, nowhere else.
  in_netns sysctl -qw net.ipv4.ip_forward=1
  in_netns sysctl -qw net.ipv4.conf.all.route_localnet=1
  # Pods never reach the host through the veth pair.
  in_netns iptables -C FORWARD -o "$VETH_NODE" -j DROP 2>/dev/null ||
    in_netns iptables -I FORWARD -o "$VETH_NODE" -j DROP
}

# shared_bind DIR: DIR bound onto itself and made rshared (mount events propagate between kubelet,
# containerd and the driver's Bidirectional mounts).
shared_bind() {
  local dir="$1" tag
  tag="$(echo "$dir" | tr / _)"
  if [ ! -e "$dir" ]; then
    mkdir -p "$dir"
    mark "created$tag"
  fi
  if ! mountpoint -q "$dir"; then
    mount --bind "$dir" "$dir"
    mark "bound$tag"
  fi
  mount --make-rshared "$dir"
}

save_sysctls() {
  [ -f "$CLUSTER_DIR/sysctls.saved" ] && return 0
  local key
  for key in "${KUBELET_SYSCTLS[@]}"; do
    printf '%s=%s\n' "$key" "$(sysctl -n "$key")"
  done >"$CLUSTER_DIR/sysctls.saved.new"
  mv "$CLUSTER_DIR/sysctls.saved.new" "$CLUSTER_DIR/sysctls.saved"
}

restore_sysctls() {
  [ -f "$CLUSTER_DIR/sysctls.saved" ] || return 0
  local line
  while IFS= read -r line; do
    sysctl -qw "$line" || log "could not restore $line"
  done <"$CLUSTER_DIR/sysctls.saved"
  rm -f "$CLUSTER_DIR/sysctls.saved"
}

# ---------------------------------------------------------------------------------------------
# Configuration files

# put FILE: writes stdin to FILE only when it differs (kube-proxy exits when its config changes,
# so a second `up` must leave the running components' files alone).
put() {
  local file="$1"
  cat >"$file.new"
  if cmp -s "$file.new" "$file"; then rm -f "$file.new"; else mv -f "$file.new" "$file"; fi
}

write_configs() {
  mkdir -p "$CLUSTER_DIR/cni/net.d" "$CLUSTER_DIR/cni/ipam" "$CLUSTER_DIR/pod-logs" "$RUN"
  put "$CLUSTER_DIR/containerd.toml" <<EOF
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "$CLUSTER_DIR/containerd/state"
oom_score = 0
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # No CAP_SYS_RESOURCE here: a negative oom_score_adj fails, so clamp it instead.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CLUSTER_DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni/net.d"
EOF
  put "$CLUSTER_DIR/cni/net.d/10-csi-cert-cluster.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "csi-cert-cluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CLUSTER_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  # Pods with dnsPolicy Default (CoreDNS) get this: no upstream resolver exists here.
  printf 'nameserver %s\n' "$DNS_SERVICE_IP" | put "$CLUSTER_DIR/resolv.conf"
  put "$CLUSTER_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 and no systemd; no CAP_SYS_RESOURCE for a negative oom_score_adj.
failCgroupV1: false
cgroupDriver: cgroupfs
oomScoreAdj: 0
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization:
  mode: Webhook
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: cluster.local
resolvConf: $CLUSTER_DIR/resolv.conf
podLogsDir: $CLUSTER_DIR/pod-logs
rotateCertificates: false
serializeImagePulls: false
# Every image is imported, none can be pulled again: never garbage-collect them, never evict on disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
EOF
  put "$CLUSTER_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
hostnameOverride: $NODE_NAME
clientConnection:
  kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig
# Service traffic is masqueraded, so replies between pods on one bridge come back through the
# node's conntrack without br_netfilter.
iptables:
  masqueradeAll: true
# Leave the host-wide conntrack table size and timeouts alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
  local name
  for name in admin controller-manager scheduler kube-proxy kubelet; do kubeconfig "$name"; done
}

# ---------------------------------------------------------------------------------------------
# Processes

pid_of() {
  local file="$PIDS/$1.pid" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# start NAME BIN ARGS...: runs BIN in the network namespace as its own session and process-group
# leader (setsid does not fork here: a background job of a script is not a group leader), logging
# to logs/NAME.log; its pid in pids/NAME.pid. A running NAME is left alone.
start() {
  local name="$1"
  shift
  if pid_of "$name" >/dev/null; then return 0; fi
  mkdir -p "$PIDS" "$LOGS"
  setsid nsenter --net="/run/netns/$CLUSTER_NETNS" -- "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!)"
}

# wait_for WHAT SECONDS CMD...: retries CMD every half second; fails with the component's log tail.
wait_for() {
  local what="$1" seconds="$2" deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "$what not ready after ${seconds}s"
      [ -f "$LOGS/$what.log" ] && tail -n 30 "$LOGS/$what.log" >&2
      return 1
    fi
    if [ -f "$PIDS/$what.pid" ] && ! pid_of "$what" >/dev/null; then
      log "$what exited"
      tail -n 30 "$LOGS/$what.log" >&2
      return 1
    fi
    sleep 0.5
  done
}

start_control_plane() {
  start etcd "$BIN/etcd" --name=csi-cert-cluster --data-dir="$CLUSTER_DIR/etcd" \
    --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster=csi-cert-cluster=http://127.0.0.1:2380 --log-level=warn
  wait_for etcd 60 in_netns curl -fsS http://127.0.0.1:2379/health
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --advertise-address="$NODE_IP" \
    --secure-port=6443 --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --enable-admission-plugins=NodeRestriction --profiling=false --v=1
  wait_for kube-apiserver 180 kubectl_admin get --raw /readyz
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$CLUSTER_DIR/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --allocate-node-cidrs=false --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false --v=1
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$CLUSTER_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig="$CLUSTER_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig="$CLUSTER_DIR/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
}

start_node() {
  start containerd containerd --config "$CLUSTER_DIR/containerd.toml"
  wait_for containerd 60 ctr --address "$CONTAINERD_SOCK" version
  import_images
  start kubelet "$BIN/kubelet" --config="$CLUSTER_DIR/kubelet.yaml" \
    --kubeconfig="$CLUSTER_DIR/kubelet.kubeconfig" --root-dir="$KUBELET_DIR" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
  start kube-proxy "$BIN/kube-proxy" --config="$CLUSTER_DIR/kube-proxy.yaml" --v=1
  wait_for kubelet 120 kubectl_admin get node "$NODE_NAME"
  kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null
}

import_images() {
  local tar
  for tar in "$REPO"/build/images/*.tar; do
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$tar" >/dev/null
  done
  log "images: $(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
}

# ---------------------------------------------------------------------------------------------
# In-cluster add-ons: CoreDNS, the product

install_coredns() {
  sed -e "s#@DNS_SERVICE_IP@#$DNS_SERVICE_IP#" -e "s#@COREDNS_IMAGE@#$COREDNS_IMAGE#" \
    "$REPO/scripts/cluster/coredns.yaml" | kubectl_admin apply -f - >/dev/null
  kubectl_admin -n kube-system rollout status deployment/coredns --timeout=180s >/dev/null
}

install_product() {
  if "$BIN/helm" --kubeconfig "$KUBECONFIG_ADMIN" status "$RELEASE" -n "$RELEASE_NS" >/dev/null 2>&1; then
    return 0
  fi
  "$BIN/helm" --kubeconfig "$KUBECONFIG_ADMIN" install "$RELEASE" "$REPO/charts/csi-cert-driver" \
    --namespace "$RELEASE_NS" --create-namespace \
    --set image.repository="$PRODUCT_REPOSITORY" --set image.tag="$PRODUCT_TAG" \
    --set image.pullPolicy=Never "$@" --wait --timeout 5m >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Teardown: each step works from any half-up state and is a no-op when done.

# stop GRACE NAME...: SIGTERM to each running component's process group, then SIGKILL to those
# still running after GRACE seconds; their pid files are removed.
stop() {
  local grace="$1" name pid pids=() i alive
  shift
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      log "stopping $name (pid $pid)"
    fi
  done
  for i in $(seq 1 $((grace * 4))); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && break
    if [ "$i" -eq $((grace * 4)) ]; then
      for pid in "${alive[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
    fi
    sleep 0.25
  done
  for name in "$@"; do rm -f "$PIDS/$name.pid"; done
}

# The pods' processes (every pid in a kubepods cgroup) and containerd's shims for this cluster.
kill_pods() {
  local pids pass
  for pass in 1 2 3 4 5 6 7 8 9 10; do
    pids="$(cat /sys/fs/cgroup/*/kubepods/cgroup.procs /sys/fs/cgroup/*/kubepods/*/cgroup.procs \
      /sys/fs/cgroup/*/kubepods/*/*/cgroup.procs /sys/fs/cgroup/*/kubepods/*/*/*/cgroup.procs \
      2>/dev/null | sort -u || true)"
    pids="$pids $(shim_pids)"
    [ -z "${pids// /}" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.3
    [ "$pass" -eq 10 ] && log "pods still running: $pids"
  done
}

# containerd-shim-runc-v2 processes started by this cluster's containerd (its socket on their
# command line), found by pid. comm filters out the grep itself, whose arguments hold the socket too.
shim_pids() {
  local f pid
  grep -las -- "$CONTAINERD_SOCK" /proc/[0-9]*/cmdline | while IFS= read -r f; do
    pid="${f#/proc/}" && pid="${pid%/cmdline}"
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in containerd-shim*) echo "$pid" ;; esac
  done || true
}

remove_cgroups() {
  local dir
  for dir in /sys/fs/cgroup/*/kubepods; do
    [ -d "$dir" ] || continue
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$dir" ] && log "could not remove $dir"
  done
  return 0
}

# unmount_under DIR: every mount at or below DIR, deepest first.
unmount_under() {
  local dir="$1" mp
  awk -v dir="$dir" '$5 == dir || index($5, dir "/") == 1 { print length($5), $5 }' /proc/self/mountinfo |
    sort -rn | cut -d' ' -f2- | while IFS= read -r mp; do
    mp="$(printf '%b' "$mp")" # mountinfo writes a space as \040
    umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "could not unmount $mp"
  done
}

remove_bind() {
  local dir="$1" tag
  tag="$(echo "$dir" | tr / _)"
  unmount_under "$dir"
  if marked "created$tag"; then rm -rf "$dir"; fi
}

teardown_netns() {
  if [ -e "/run/netns/$CLUSTER_NETNS" ]; then
    ip netns del "$CLUSTER_NETNS"
  fi
  ip link del "$VETH_HOST" 2>/dev/null || true
  if marked run-netns-not-mounted && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    umount /run/netns 2>/dev/null || true
    if marked created-run-netns; then rmdir /run/netns 2>/dev/null || true; fi
  fi
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  ensure_tools
  ensure_images
  mkdir -p "$CLUSTER_DIR" "$LOGS" "$PIDS" "$RUN" && chmod 0700 "$CLUSTER_DIR"
  if [ -e "$KUBELET_DIR" ] && ! marked "created$(echo "$KUBELET_DIR" | tr / _)" &&
    [ -n "$(ls -A "$KUBELET_DIR" 2>/dev/null)" ]; then
    die "$KUBELET_DIR exists and is not this cluster's: is another kubelet on this machine?"
  fi
  save_sysctls
  setup_netns
  shared_bind "$KUBELET_DIR"
  shared_bind "$CERT_BASE"
  write_pki
  write_configs
  start_control_plane
  start_node
  install_coredns
  install_product "$@"
  log "up: export KUBECONFIG=$KUBECONFIG_ADMIN"
}

cmd_down() {
  [ "$(id -u)" -eq 0 ] || die 'needs root'
  if pid_of kube-apiserver >/dev/null && [ -f "$KUBECONFIG_ADMIN" ]; then
    # No --wait: the pods' processes, mounts and cgroups are removed below, not by kubelet.
    timeout 60 "$BIN/helm" --kubeconfig "$KUBECONFIG_ADMIN" uninstall "$RELEASE" -n "$RELEASE_NS" \
      >/dev/null 2>&1 || true
  fi
  # kubelet first, so that it restarts no container while the pods are killed.
  stop 10 kubelet kube-proxy
  kill_pods
  # The control plane's data is removed below: no need to wait for graceful shutdowns.
  stop 3 "${COMPONENTS[@]}"
  kill_pods
  remove_cgroups
  unmount_under "$CLUSTER_DIR"
  remove_bind "$KUBELET_DIR"
  remove_bind "$CERT_BASE"
  teardown_netns
  restore_sysctls
  if [ -d "$CLUSTER_DIR" ]; then
    find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 ! -name logs ! -name marks -exec rm -rf {} +
    rm -rf "$MARKS"
  fi
  log "down (logs kept in $LOGS)"
}

cmd_status() {
  local name pid up=0
  printf '%-24s %s\n' COMPONENT PID
  for name in "${COMPONENTS[@]}"; do
    if pid="$(pid_of "$name")"; then
      printf '%-24s %s\n' "$name" "$pid"
      up=$((up + 1))
    else
      printf '%-24s %s\n' "$name" '-'
    fi
  done
  echo
  if [ "$up" -eq 0 ]; then
    echo 'cluster is down'
    return 3
  fi
  echo "kubeconfig: $KUBECONFIG_ADMIN   (export KUBECONFIG=$KUBECONFIG_ADMIN)"
  echo "logs:       $LOGS"
  echo
  kubectl_admin get nodes -o wide 2>&1 || true
  echo
  kubectl_admin get pods -A -o wide 2>&1 || true
  [ "$up" -eq ${#COMPONENTS[@]} ]
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    kubectl) kubectl_admin "$@" ;;
    *)
      echo "usage: $0 up [helm --set ...]|down|status|kubectl ARGS..." >&2
      exit 2
      ;;
  esac
}

main "$@"
