/**
 * The driver under test as separate processes, started through `bin/csi-cert-driver` exactly as an
 * operator would: the issuer role and the node role, logging at `warn`; their output is kept in memory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CsiClient } from '../../server/src/demo/csi-client.js';
import { generateDevCa } from '../../server/src/issuer/index.js';
import { freeLoopbackPort } from '../../e2e/support/ports.js';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export class DriverProcess {
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Everything the process wrote to stdout and stderr (small at LOG_LEVEL=warn). */
  private output = '';

  private constructor(
    readonly role: string,
    readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer): void => {
      if (this.output.length < 4_000_000) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // 'close' comes after the output streams ended, so the last words are collected by then.
    child.on('close', (code, signal) => (this.exited = { code, signal }));
  }

  /** Starts `bin/csi-cert-driver <role>` with `env` added to this process's environment. */
  static start(repoRoot: string, role: string, env: Record<string, string>): DriverProcess {
    const child = spawn(path.join(repoRoot, 'bin', 'csi-cert-driver'), [role], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new DriverProcess(role, child);
  }

  /**
   * Starts `<nodeBinary> <args>` with exactly `env` (nothing inherited): for running dist/main.mjs as
   * an image does, without bin/csi-cert-driver's `--enable-source-maps`.
   */
  static spawn(role: string, nodeBinary: string, args: string[], env: Record<string, string>): DriverProcess {
    const child = spawn(nodeBinary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new DriverProcess(role, child);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.role}: not started`);
    return this.child.pid;
  }

  /** Throws, with the end of the log, when the process has exited. */
  assertAlive(): void {
    if (this.exited === undefined) return;
    throw new Error(
      `${this.role} exited (code ${this.exited.code}, signal ${this.exited.signal}); log:\n${this.logTail()}`,
    );
  }

  logTail(lines = 20): string {
    return this.logLines().slice(-lines).join('\n') || '(no output)';
  }

  /** Lines the process wrote (at LOG_LEVEL=warn: warnings and errors only). */
  logLines(): string[] {
    return this.output.split('\n').filter((l) => l.trim() !== '');
  }

  /** CPU time (user + system, including reaped children) consumed so far, in milliseconds. */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm field: state(0) … utime(11) stime(12) cutime(13) cstime(14).
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return (ticks * 1000) / CLK_TCK;
  }

  /** Resident set size in MiB. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return kb / 1024;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exited !== undefined || this.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

/** Where a process listens: a unix socket path or a TCP host and port. */
export type ListenTarget = { path: string } | { host: string; port: number };

export const describeTarget = (t: ListenTarget): string =>
  'path' in t ? `unix://${t.path}` : `${t.host}:${t.port}`;

/**
 * Calls `check` every 50 ms until it answers true; throws `${role}: ${what} after N ms` (and the log
 * tail when `withLog`) once `timeoutMs` passed, or as soon as `proc` exits.
 */
async function pollUntil(
  proc: DriverProcess,
  o: { what: string; timeoutMs: number; withLog?: boolean },
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    proc.assertAlive();
    if (await check()) return;
    if (Date.now() > deadline) {
      const log = o.withLog ? `\n${proc.logTail()}` : '';
      throw new Error(`${proc.role}: ${o.what} after ${o.timeoutMs} ms${log}`);
    }
    await sleep(50);
  }
}

/** Resolves once something accepts connections at `target`; throws when `proc` exits first. */
export function waitForListening(
  proc: DriverProcess,
  target: ListenTarget,
  timeoutMs = 30_000,
): Promise<void> {
  return pollUntil(
    proc,
    { what: `${describeTarget(target)} not accepting connections`, timeoutMs },
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(target);
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
  );
}

/** Resolves once the node answers Probe with ready=true. */
export function waitForProbe(proc: DriverProcess, client: CsiClient, timeoutMs = 30_000): Promise<void> {
  return pollUntil(proc, { what: 'not ready', timeoutMs, withLog: true }, async () => {
    const res = await client
      .call<{ ready?: { value?: boolean } }>('Identity', 'Probe')
      .catch(() => undefined);
    return res?.ready?.value === true;
  });
}

/**
 * `bin/csi-cert-driver issuer` with a fresh dev CA under `dir/ca`, on a free loopback port, without
 * caller authentication; resolves once it listens.
 */
export async function startIssuer(
  repoRoot: string,
  dir: string,
): Promise<{ proc: DriverProcess; addr: string }> {
  const ca = await generateDevCa({ dir: path.join(dir, 'ca') });
  const port = await freeLoopbackPort();
  const proc = DriverProcess.start(repoRoot, 'issuer', {
    LOG_LEVEL: 'warn',
    LISTEN_ADDR: `127.0.0.1:${port}`,
    CA_CERT_FILE: ca.certFile,
    CA_KEY_FILE: ca.keyFile,
    ISSUER_AUTH: 'none',
  });
  await waitForListening(proc, { host: '127.0.0.1', port });
  return { proc, addr: `127.0.0.1:${port}` };
}
