#!/usr/bin/env bash
# Benchmarks: builds dist/ (what bin/csi-cert-driver runs), then runs one benchmark of bench/.
#
#   scripts/bench.sh [name] [args...]
#
# name picks bench/<name>.bench.ts; the default is `publish` (issue 2: publish latency over the real
# CSI socket, the node and the issuer as separate processes, next to an openssl-CLI baseline; needs
# root for the tmpfs mounts, and openssl). Arguments go to the benchmark, for `publish`:
#   --quick            small N, a smoke run
#   --json <file>      also write every number as JSON
#   --disk-state       state on /tmp (disk) instead of tmpfs, for a driver deployed without node.stateTmpfs
# `cluster-pod-start` (issue 14, root): pod start with our volume against an emptyDir on the cluster of
# scripts/cluster.sh, and the node pod's memory; --pods N, --json <file>.
# Reports are Markdown on stdout, progress on stderr; exit status 0 unless something crashed.
# Results and how to read them: docs/benchmarks.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

name=publish
if [ $# -gt 0 ] && [[ "$1" =~ ^[a-z][a-z0-9-]*$ ]]; then
  name="$1"
  shift
fi
file="bench/$name.bench.ts"
if [ ! -f "$file" ]; then
  echo "bench: no $file; available: $(cd bench && ls -- *.bench.ts | sed 's/\.bench\.ts$//' | tr '\n' ' ')" >&2
  exit 2
fi
if [ "$name" = cluster-pod-start ] && [ "$(id -u)" != 0 ]; then
  echo "bench: cluster-pod-start needs root: it runs (or reuses) the cluster of scripts/cluster.sh" >&2
  exit 2
fi
if [ "$name" = publish ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: publish needs root: the node role mounts a tmpfs per volume" >&2
    exit 2
  fi
  command -v openssl >/dev/null || { echo "bench: publish needs openssl for its baseline" >&2; exit 2; }
fi

export PATH="$root/node_modules/.bin:$PATH"
npm run --silent build >&2
exec npx tsx "$file" "$@"
