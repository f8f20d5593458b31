#!/usr/bin/env bash
# Runs the whole product on this machine: dev CA, issuer, node driver, a simulated kubelet.
# Installs and builds what it needs first. Extra arguments go to `csi-cert-driver demo`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh --demo
npm run --silent build
exec bin/csi-cert-driver demo "$@"
