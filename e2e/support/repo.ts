/**
 * Where the repository and the built binary are, and a build step that runs only when the bundle is
 * missing or older than its sources, so `npx vitest run --project e2e` works straight after a clone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'csi-cert-driver');
export const DIST = join(REPO_ROOT, 'dist', 'main.mjs');
/** The project's pinned Node 22 (the `node` dev dependency); the machine's own node as a fallback. */
export const PINNED_NODE = existsSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'))
  ? join(REPO_ROOT, 'node_modules', '.bin', 'node')
  : process.execPath;
export const CSI_SANITY = join(REPO_ROOT, '.cache', 'bin', 'csi-sanity');
/**
 * E2E_DRIVER_ENTRY=/path/main.mjs runs that bundle instead of dist/main.mjs (on the pinned Node, no
 * build): for checking that the suites fail against a deliberately broken build.
 */
export const DRIVER_ENTRY_OVERRIDE = process.env.E2E_DRIVER_ENTRY || undefined;

/** The command that runs one role of the driver. */
export function driverCommand(role: string): { file: string; args: string[] } {
  if (DRIVER_ENTRY_OVERRIDE)
    return { file: PINNED_NODE, args: ['--enable-source-maps', DRIVER_ENTRY_OVERRIDE, role] };
  return { file: BIN, args: [role] };
}

/** Inputs of `scripts/build.mjs`: a change to any of them makes dist stale. */
const BUILD_INPUTS = [
  'server/src',
  'platform/linux/src',
  'platform/windows/src',
  'proto',
  'scripts/build.mjs',
  'scripts/node-snapshot-bundle.mjs',
];

function newestMtime(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when dist/main.mjs is missing or older than any source file. */
export function distIsStale(): boolean {
  const built = statSync(DIST, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return BUILD_INPUTS.some((p) => newestMtime(join(REPO_ROOT, p)) > built);
}

/**
 * Runs `npm run build` (i.e. `node scripts/build.mjs` on the pinned Node) when dist is stale, and
 * makes the roles' startup snapshots (`bin/csi-cert-driver --build-snapshot`, ADR 26)
 * after a build or when one is missing, so that a suite's first node start does not make it.
 * Synchronous and idempotent; a build failure throws with esbuild's output. Nothing happens with
 * E2E_DRIVER_ENTRY set.
 */
export function ensureBuilt(): void {
  if (DRIVER_ENTRY_OVERRIDE) return;
  const built = distIsStale();
  if (built)
    execFileSync(PINNED_NODE, ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
  const missing = ['node', 'issuer'].some((r) => !existsSync(join(REPO_ROOT, 'dist', `${r}-snapshot.blob`)));
  if (process.platform === 'linux' && (built || missing))
    execFileSync(BIN, ['--build-snapshot'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
}
