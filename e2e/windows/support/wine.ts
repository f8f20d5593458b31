/**
 * Wine for the end-to-end suites: whether it is installed, the environment every Windows process
 * gets, how Windows paths map to Linux paths (`C:\x` is `$WINEPREFIX/drive_c/x`, `Z:\x` is `/x`),
 * esbuild bundles for the Windows node.exe, and one-shot runs of such a bundle through
 * scripts/wine-node.sh (node.exe gets files, not pipes, as stdout/stderr).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../support/repo.js';
import type { RunnerPlan, RunnerResult } from '../wine/runner-protocol.js';

export const NODE_EXE = join(REPO_ROOT, '.cache', 'node-win', 'node.exe');
export const WINEPREFIX = join(REPO_ROOT, '.cache', 'wineprefix');
const PREFIX_READY = join(WINEPREFIX, '.csi-cert-driver-ready');
const WINE_NODE_SH = join(REPO_ROOT, 'scripts', 'wine-node.sh');
const WINE_CANDIDATES = ['/usr/bin/wine64', '/usr/lib/wine/wine64', '/usr/bin/wine'];

/** The wine loader, or undefined when Wine is not installed. */
export const WINE = WINE_CANDIDATES.find((p) => existsSync(p));

/** True when Wine, the Windows node.exe and a prepared prefix exist (scripts/install-wine.sh). */
export const wineReady = WINE !== undefined && existsSync(NODE_EXE) && existsSync(PREFIX_READY);
export const WINE_SKIP_REASON =
  'Wine or the Windows node.exe is not installed: run `bash scripts/install-wine.sh`';

/**
 * The environment of every Windows process: headless, quiet, our prefix; nothing else leaks in.
 * A UTF-8 locale: Wine encodes file names in the Unix locale's charset, and under `C` a name like
 * `schlüssel.pem` cannot be created at all (ENOENT).
 */
export function wineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    LC_ALL: 'C.UTF-8',
    WINEPREFIX,
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree=;mshtml=;winex11.drv=;winewayland.drv=',
    ...extra,
  };
}

/**
 * NODE_OPTIONS for a Windows node.exe that talks to a kube-apiserver under Wine: loads
 * `wine-keepalive-shim.mjs`. Under Wine 8, TCP keep-alive set on a socket that is still connecting
 * fails the connect (`UNKNOWN`), and undici (client-node's HTTP client) does that on every
 * connection; the shim defers it until connected. A test workaround, not part of the product.
 */
export const WINE_KEEPALIVE_NODE_OPTIONS = `--import=file:///Z:${join(REPO_ROOT, 'e2e', 'windows', 'support', 'wine-keepalive-shim.mjs')}`;

/** The Linux directory behind a Wine drive letter (from the prefix's dosdevices links). */
function driveRoot(letter: string): string {
  const link = join(WINEPREFIX, 'dosdevices', `${letter.toLowerCase()}:`);
  if (!existsSync(link)) throw new Error(`Wine drive ${letter}: is not mapped in ${WINEPREFIX}`);
  return realpathSync(link);
}

/** `C:\a\b` (or `\\?\C:\a\b`) → the Linux path Wine stores it at. */
export function linuxPathOf(windowsPath: string): string {
  const path = windowsPath.replace(/^\\\\\?\\/, '');
  const m = /^([A-Za-z]):[\\/](.*)$/.exec(path);
  if (!m) throw new Error(`'${windowsPath}' is not a drive-letter path`);
  const root = driveRoot(m[1]!);
  const rest = m[2]!.split(/[\\/]/).filter((s) => s !== '');
  return rest.length === 0 ? root : join(root, ...rest);
}

/** A Linux absolute path → the same file on Wine's Z: drive. */
export const onZ = (linuxPath: string): string => `Z:${linuxPath.replaceAll('/', '\\')}`;

/**
 * Bundles `entry` into `outDir/<name>.mjs` for the Windows node.exe: everything inlined (no
 * node_modules lookups through Z:), a real `require` for CommonJS grpc-js, and the repository's
 * proto/ copied next to it, where the product's proto lookup (walking up from the module) finds it.
 */
export async function bundleForWindows(entry: string, outDir: string, name: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'silent',
  });
  cpSync(join(REPO_ROOT, 'proto'), join(outDir, 'proto'), { recursive: true });
  return outfile;
}

export interface RunnerRun {
  result: RunnerResult;
  exitCode: number;
  ms: number;
}

/**
 * Writes `plan` to `<workDir>/<label>.plan.json`, runs the runner bundle with the Windows node.exe
 * and returns what it wrote to `<label>.result.json`. Throws with node.exe's output when it wrote nothing.
 */
export async function runRunner(
  bundle: string,
  plan: RunnerPlan,
  workDir: string,
  label: string,
): Promise<RunnerRun> {
  const planFile = join(workDir, `${label}.plan.json`);
  const resultFile = join(workDir, `${label}.result.json`);
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  const start = Date.now();
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'bash',
      [WINE_NODE_SH, bundle, onZ(planFile), onZ(resultFile)],
      {
        env: wineEnv({ WINE_NODE_TIMEOUT: '280' }),
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  if (!existsSync(resultFile)) {
    throw new Error(`the runner wrote no result (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  }
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as RunnerResult;
  return { result, exitCode: out.code, ms: Date.now() - start };
}
