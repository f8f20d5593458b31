/**
 * The demo role as a newcomer runs it (`bin/csi-cert-driver demo`), on a free loopback port, for the
 * API and dashboard suites: started in a temporary directory, its printed dashboard URL parsed, and
 * stopped with SIGTERM (which unpublishes every volume).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  driverCommand,
  ensureBuilt,
  PINNED_NODE,
  REPO_ROOT,
  DRIVER_ENTRY_OVERRIDE,
} from '../support/repo.js';
import { waitFor } from '../support/wait.js';

export interface RunningDemo {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

function newest(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
}

/** Builds the server (support/repo.ts) and the dashboard when either is missing or older than its sources. */
export function ensureDashboardBuilt(): void {
  ensureBuilt();
  if (DRIVER_ENTRY_OVERRIDE) return;
  const index = join(REPO_ROOT, 'dist', 'dashboard', 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const inputs = [
    'dashboard/src',
    'dashboard/index.html',
    'dashboard/vite.config.ts',
    'server/src/api/contract',
  ];
  if (inputs.some((p) => newest(join(REPO_ROOT, p)) > built)) {
    execFileSync(PINNED_NODE, ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 180_000 });
  }
}

export async function startDemo(): Promise<RunningDemo> {
  ensureDashboardBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'ccd-e2e-demo-'));
  const { file, args } = driverCommand('demo');
  const child: ChildProcess = spawn(
    file,
    [...args, `--demo-dir=${dir}`, '--api-listen-addr=127.0.0.1:0', '--log-level=warn'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = await waitFor(
    'the demo to print its dashboard URL',
    () => {
      if (exited) throw new Error(`demo exited:\n${out}`);
      return /dashboard:\s+(http:\/\/[^\s/]+)\//.exec(out)?.[1];
    },
    { timeoutMs: 60_000 },
  );
  return {
    url,
    dir,
    output: () => out,
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** GET `path` as JSON; the body text is kept in `bodies` for the secret scan. */
export async function getJson<T>(demo: RunningDemo, path: string, bodies?: string[]): Promise<T> {
  const res = await fetch(`${demo.url}${path}`);
  const text = await res.text();
  bodies?.push(text);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
