#!/usr/bin/env bash
# Builds the images of the real-node suite without a container engine, as OCI image-layout archives
# that `ctr -n k8s.io images import <archive>` names and unpacks:
#   build/images/csi-cert-driver.tar  localhost/csi-cert-driver:dev  the Dockerfile's image, assembled
#   build/images/pause.tar            localhost/pause:3.10           a static pause binary, alone
#   build/images/workload.tar         localhost/workload:dev         busybox (static) + openssl
# Usage: scripts/build-images.sh [all|product|pause|workload]
#        scripts/build-images.sh static <ref> <static-binary> [entrypoint args...]
#          one static binary as a single-layer image: build/images/<last path part of ref, no tag>.tar
# Prints `<ref> <archive>` per image built.
#
# The product image has the content the Dockerfile promises (its final stage): a Debian bookworm
# minbase root file system slimmed as the -slim images (no docs, man pages, locales), the `node`
# user 1000:1000 of node:bookworm-slim, the pinned Node 22 at /usr/local/bin/node (the version must
# equal the Dockerfile's ARG NODE_VERSION), /app with production node_modules, dist/ (with the node
# role's startup snapshot, made by that same node binary), bin/csi-cert-driver, proto/ and
# package.json; ENV, USER, WORKDIR, ENTRYPOINT, CMD and LABEL are read from the Dockerfile. dist/ must
# be built (`npm run build`); a missing or older-than-sources dist/ is an error.
#
# Layers are uncompressed tars written with fixed owners and mtimes. The base root file system, the
# production node_modules (by package.json + package-lock.json hash), the pause binary and the
# workload's Debian packages are cached in .cache/images/ with version stamps; a repeated build
# re-tars only dist/, proto/ and package.json. Needs root (debootstrap, chroot, file owners),
# debootstrap, gcc with static glibc, tar, npm, apt-get (scripts/bootstrap.sh installs them).
# BUILD_IMAGES_CACHE=<dir> uses another cache directory (e.g. to time a cold build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${BUILD_IMAGES_CACHE:-$root/.cache/images}"
out="$root/build/images"
node="$root/node_modules/.bin/node"
export LC_ALL=C

# Bump a recipe number when what goes into a cached piece changes (its stamp then no longer matches).
BASE_RECIPE=1
NODE_MODULES_RECIPE=1
PAUSE_RECIPE=1
WORKLOAD_RECIPE=3
SUITE=bookworm

log() { echo "==> $*" >&2; }
die() {
  echo "build-images: $*" >&2
  exit 1
}

# tar of a directory's contents as an image layer: sorted, mtime 0, pax headers without atime/ctime;
# owners are kept numerically unless `--owner=0 --group=0` is passed in extra arguments.
layer_tar() {
  local dir="$1" dest="$2"
  shift 2
  tar --create --file="$dest.tmp" --directory="$dir" --sort=name --numeric-owner --mtime=@0 \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --xattrs-exclude='*' "$@" $(cd "$dir" && LC_ALL=C ls -A)
  sha256sum "$dest.tmp" | cut -d' ' -f1 >"$dest.sha256"
  mv "$dest.tmp" "$dest"
}

# rm -rf of a build tree, refused while anything is mounted below it (debootstrap mounts /proc and
# /sys into its target and unmounts them when it exits, also on failure).
remove_tree() {
  if awk -v t="$1/" 'index($5 "/", t) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    die "something is still mounted under $1; unmount it, then run again"
  fi
  rm -rf "$1"
}

# Is <stamp file> present and equal to <expected>?
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# The Debian mirror apt is configured with (deb822 or one-line sources), else deb.debian.org.
debian_mirror() {
  local m
  m="${DEBIAN_MIRROR:-}"
  if [ -z "$m" ]; then
    m="$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / '"$SUITE"'( |$)/ && u != "" { print u; exit }' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  fi
  if [ -z "$m" ]; then
    m="$(awk '$1 == "deb" && $3 == "'"$SUITE"'" { print $2; exit }' /etc/apt/sources.list \
      /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# Base layer: debootstrap --variant=minbase, slimmed as debian:bookworm-slim, plus the `node` user
# and group (1000:1000, home /home/node, shell /bin/bash) that node:bookworm-slim adds.
build_base() {
  local mirror stamp tree
  mirror="$(debian_mirror)"
  stamp="$SUITE minbase $mirror recipe $BASE_RECIPE"
  stamp_ok "$cache/.base.version" "$stamp" && [ -f "$cache/base.tar" ] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/bootstrap.sh installs it)"
  log "base: debootstrap --variant=minbase $SUITE from $mirror"
  tree="$cache/base.tree"
  remove_tree "$tree"
  mkdir -p "$tree/etc/dpkg/dpkg.cfg.d"
  # The -slim images' dpkg excludes, written before the packages are unpacked so they apply.
  cat >"$tree/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As the debian -slim images: no documentation, man pages, info pages, locales.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  debootstrap --variant=minbase --merged-usr "$SUITE" "$tree" "$mirror" >"$cache/base.log" 2>&1 ||
    die "debootstrap failed; see $cache/base.log"
  chroot "$tree" groupadd --gid 1000 node
  chroot "$tree" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  slim_tree "$tree"
  layer_tar "$tree" "$cache/base.tar"
  remove_tree "$tree"
  echo "$stamp" >"$cache/.base.version"
}

# Removes what the -slim images do not ship and what belongs to the host or the build.
slim_tree() {
  local t="$1"
  find "$t/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$t/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$t"/usr/share/{groff,info,linda,lintian,locale,man}/*
  rm -rf "$t"/var/lib/apt/lists/* "$t"/var/cache/apt/* "$t"/var/cache/debconf/*-old \
    "$t"/var/lib/dpkg/*-old "$t"/var/cache/ldconfig/aux-cache "$t"/tmp/* "$t"/var/tmp/* "$t"/run/*
  find "$t/var/log" -type f -delete
  find "$t/dev" -mindepth 1 -delete
  # The runtime provides these; debootstrap copied the host's.
  rm -f "$t/etc/resolv.conf" "$t/etc/hostname"
  if [ -f "$t/etc/machine-id" ]; then : >"$t/etc/machine-id"; fi
}


# Writes build/images/<name>.tar from layer tars and config options (scripts/oci-image.mjs) and
# prints `<ref> <archive>`.
write_image() {
  local ref="$1" name="$2"
  shift 2
  "$node" "$root/scripts/oci-image.mjs" --out "$out/$name.tar" --ref "$ref" "$@"
  echo "$ref $out/$name.tar"
}

# pause: scripts/images/pause.c built with gcc -static, the image's only file (/pause).
image_pause() {
  local src="$root/scripts/images/pause.c" stamp tree
  command -v gcc >/dev/null || die "gcc is missing (scripts/bootstrap.sh installs it)"
  stamp="recipe $PAUSE_RECIPE $(sha256sum <"$src" | cut -d' ' -f1) gcc $(gcc -dumpfullversion)"
  if ! stamp_ok "$cache/.pause.version" "$stamp" || [ ! -f "$cache/pause.tar" ]; then
    log "pause: gcc -static"
    tree="$(mktemp -d "$cache/pause.XXXXXX")"
    gcc -static -O2 -s -Wall -Wextra -Werror -o "$tree/pause" "$src"
    layer_tar "$tree" "$cache/pause.tar" --owner=0 --group=0
    rm -rf "$tree"
    echo "$stamp" >"$cache/.pause.version"
  fi
  write_image localhost/pause:3.10 pause --config '{"Entrypoint":["/pause"]}' \
    --layer "$cache/pause.tar=pause (static, scripts/images/pause.c)"
}

# workload: Debian's busybox-static (a shell and the coreutils applets) and openssl with the
# libraries it loads (libssl3, libc6), unpacked from the packages apt downloads, docs removed.
WORKLOAD_PACKAGES=(busybox-static openssl libssl3 libc6)
image_workload() {
  local stamp tree dl p v versions=()
  for p in "${WORKLOAD_PACKAGES[@]}"; do
    v="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }' || true)"
    [ -n "$v" ] && [ "$v" != "(none)" ] || break
    versions+=("$p=$v")
  done
  stamp="recipe $WORKLOAD_RECIPE ${versions[*]}"
  if [ ${#versions[@]} -ne ${#WORKLOAD_PACKAGES[@]} ]; then
    # apt's lists are unreadable (never fetched, or apt-get update is replacing them right now).
    [ -f "$cache/workload.tar" ] || die "no apt candidate for $p (run apt-get update)"
    log "workload: apt-cache has no candidate for $p; using the cached layer"
    stamp="$(cat "$cache/.workload.version")"
    versions=(${stamp#recipe * })
  elif ! stamp_ok "$cache/.workload.version" "$stamp" || [ ! -f "$cache/workload.tar" ]; then
    log "workload: ${versions[*]}"
    tree="$(mktemp -d "$cache/workload.XXXXXX")"
    dl="$tree.debs"
    mkdir -p "$dl"
    (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "${versions[@]}") ||
      die "apt-get download ${versions[*]} failed"
    for p in "$dl"/*.deb; do dpkg-deb -x "$p" "$tree"; done
    rm -rf "$dl" "$tree/usr/share" "$tree/usr/lib/x86_64-linux-gnu/gconv" "$tree/usr/bin/c_rehash"
    # One symlink per busybox applet, at the path busybox gives it.
    "$tree/bin/busybox" --list-full | while read -r p; do
      [ -e "$tree/$p" ] || [ -L "$tree/$p" ] || {
        mkdir -p "$tree/$(dirname "$p")"
        ln -s /bin/busybox "$tree/$p"
      }
    done
    rm -f "$tree/linuxrc"
    mkdir -p "$tree/etc" "$tree/root" "$tree/proc" "$tree/sys" "$tree/dev" "$tree/home"
    install -d -m 1777 "$tree/tmp"
    chmod 0700 "$tree/root"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tree/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$tree/etc/group"
    layer_tar "$tree" "$cache/workload.tar" --owner=0 --group=0
    rm -rf "$tree"
    echo "$stamp" >"$cache/.workload.version"
  fi
  write_image localhost/workload:dev workload \
    --config '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}' \
    --layer "$cache/workload.tar=workload: ${versions[*]}"
}

# The Node version the Dockerfile pins (ARG NODE_VERSION=...).
dockerfile_node_version() {
  sed -n 's/^ARG NODE_VERSION=\([0-9.]*\)$/\1/p' "$root/Dockerfile" | head -n1
}

# /usr/local/bin/node: the pinned Node 22 of node_modules/node, which must be the Dockerfile's.
build_node_layer() {
  local bin="$root/node_modules/node/bin/node" want have stamp tree
  want="$(dockerfile_node_version)"
  [ -n "$want" ] || die "no ARG NODE_VERSION=<x.y.z> in the Dockerfile"
  [ -x "$bin" ] || die "$bin is missing (npm ci installs the pinned Node)"
  have="$("$bin" --version)"
  [ "$have" = "v$want" ] || die "node_modules/node is $have but the Dockerfile pins NODE_VERSION=$want"
  stamp="node $have $(stat -c %s "$bin") recipe 1"
  stamp_ok "$cache/.node.version" "$stamp" && [ -f "$cache/node.tar" ] && return 0
  log "product: node $have layer"
  tree="$(mktemp -d "$cache/node.XXXXXX")"
  install -D -m 0755 "$bin" "$tree/usr/local/bin/node"
  layer_tar "$tree" "$cache/node.tar" --owner=0 --group=0
  rm -rf "$tree"
  echo "$stamp" >"$cache/.node.version"
}

# /app/node_modules: `npm ci --omit=dev --ignore-scripts` (as the Dockerfile's deps stage) in a
# staging directory, cached by the hash of package.json and package-lock.json.
build_node_modules_layer() {
  local hash stamp stage
  hash="$(cat "$root/package.json" "$root/package-lock.json" | sha256sum | cut -d' ' -f1)"
  stamp="lock $hash recipe $NODE_MODULES_RECIPE"
  stamp_ok "$cache/.node_modules.version" "$stamp" && [ -f "$cache/node_modules.tar" ] && return 0
  log "product: npm ci --omit=dev"
  stage="$(mktemp -d "$cache/node_modules.XXXXXX")"
  mkdir -p "$stage/app"
  cp "$root/package.json" "$root/package-lock.json" "$stage/app/"
  (cd "$stage/app" && PATH="$root/node_modules/node/bin:$PATH" npm ci --omit=dev --no-audit --no-fund \
    --ignore-scripts --loglevel=error >&2) || die "npm ci --omit=dev failed"
  rm "$stage/app/package.json" "$stage/app/package-lock.json"
  layer_tar "$stage" "$cache/node_modules.tar" --owner=0 --group=0
  rm -rf "$stage"
  echo "$stamp" >"$cache/.node_modules.version"
}

# dist/ must exist and be newer than the sources scripts/build.mjs bundles; else `npm run build`.
ensure_dist() {
  local inputs=(server/src platform/linux/src platform/windows/src proto dashboard scripts/build.mjs
    scripts/node-snapshot-bundle.mjs)
  if [ -f "$root/dist/main.mjs" ] &&
    [ -z "$(cd "$root" && find "${inputs[@]}" -newer dist/main.mjs -not -path '*/node_modules/*' -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  log "product: dist/ missing or older than the sources: npm run build"
  (cd "$root" && PATH="$root/node_modules/.bin:$PATH" npm run --silent build >&2) || die "npm run build failed"
}

# product: base + node + node_modules + (dist/, bin/csi-cert-driver, proto/, package.json) of this checkout, with the
# Dockerfile's ENV, LABEL, USER, WORKDIR, ENTRYPOINT and CMD; PATH and NODE_VERSION as the
# node:<version>-bookworm-slim base sets them.
image_product() {
  local app
  build_base
  build_node_layer
  build_node_modules_layer
  ensure_dist
  # The roles' startup snapshots, made by node_modules/node: the binary the node layer ships.
  log "product: node and issuer role startup snapshots"
  "$root/bin/csi-cert-driver" --build-snapshot || die "building dist/<role>-snapshot.blob failed"
  app="$(mktemp -d "$cache/app.XXXXXX")"
  mkdir -p "$app/app/bin"
  cp -a "$root/dist" "$root/proto" "$root/package.json" "$app/app/"
  cp -a "$root/bin/csi-cert-driver" "$app/app/bin/"
  layer_tar "$app" "$cache/app.tar" --owner=0 --group=0
  rm -rf "$app"
  write_image localhost/csi-cert-driver:dev csi-cert-driver --dockerfile "$root/Dockerfile" \
    --config "{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"NODE_VERSION=$(dockerfile_node_version)\"]}" \
    --layer "$cache/base.tar=debootstrap --variant=minbase $SUITE, slimmed; user node 1000:1000" \
    --layer "$cache/node.tar=/usr/local/bin/node $(dockerfile_node_version)" \
    --layer "$cache/node_modules.tar=COPY --from=deps /app/node_modules node_modules" \
    --layer "$cache/app.tar=COPY dist (with the node role's snapshot), bin/csi-cert-driver, proto, package.json"
}

# static <ref> <binary> [args...]: the binary alone at /<its file name>, the entrypoint with args.
image_static() {
  local ref="$1" bin="$2" name base tree entry
  shift 2
  [ -f "$bin" ] && [ -x "$bin" ] || die "$bin is not an executable file"
  if readelf -l "$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    die "$bin is dynamically linked; a static binary is needed"
  fi
  name="${ref##*/}"
  name="${name%%[:@]*}"
  [[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "cannot name an archive after $ref"
  [[ "$ref" =~ :[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || die "$ref needs a tag"
  base="$(basename "$bin")"
  tree="$(mktemp -d "$cache/static.XXXXXX")"
  install -m 0755 "$bin" "$tree/$base"
  layer_tar "$tree" "$cache/static-$name.tar" --owner=0 --group=0
  rm -rf "$tree"
  entry="$("$node" -e 'console.log(JSON.stringify({ Entrypoint: process.argv.slice(1) }))' "/$base" "$@")"
  write_image "$ref" "$name" --config "$entry" --layer "$cache/static-$name.tar=$base (static)"
  rm -f "$cache/static-$name.tar" "$cache/static-$name.tar.sha256"
}

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-1}"
}

main() {
  umask 022
  local target="${1:-all}"
  case "$target" in
    -h | --help) usage 0 ;;
    all | product | pause | workload | static) ;;
    *) usage 1 ;;
  esac
  [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, file owners in the layers)"
  [ -x "$node" ] || node="$(command -v node)"
  mkdir -p "$cache" "$out"
  # One build at a time per cache (the cluster scripts and the tests may both call this).
  exec 9>"$cache/.lock"
  flock 9
  case "$target" in
    all)
      image_pause
      image_workload
      image_product
      ;;
    product) image_product ;;
    pause) image_pause ;;
    workload) image_workload ;;
    static)
      shift
      [ $# -ge 2 ] || usage 1
      image_static "$@"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
