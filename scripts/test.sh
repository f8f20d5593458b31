#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, builds, checks, tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
export PATH="$root/node_modules/.bin:$root/.cache/bin:$PATH"
export NX_DAEMON=false NX_NO_CLOUD=true

echo "==> build";           npm run --silent build
echo "==> format";          npx prettier --check . --log-level warn
echo "==> lint";            npx nx show projects >/dev/null  # caches the project graph the boundary rule reads
                            npx eslint . --max-warnings=0
                            npx eslint -c dashboard/eslint.config.mjs --max-warnings=0 dashboard  # browser code, React hooks
echo "==> typecheck";       npx tsc -p tsconfig.json --noEmit
echo "==> unit tests";      npx vitest run --project unit
echo "==> end-to-end tests"; npx vitest run --project e2e
echo "==> all tests passed"
