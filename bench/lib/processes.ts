/**
 * The driver under test as separate processes, started through `bin/csi-cert-driver` exactly as an
 * operator would (the end-to-end suites' `DriverProcess`), logging at `warn` to `<dir>/logs/`.
 */
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateDevCa } from '../../server/src/issuer/index.js';
import { DriverProcess, type Role } from '../../e2e/support/driver-process.js';
import { freeLoopbackPort } from '../../e2e/support/ports.js';
import { REPO_ROOT } from '../../e2e/support/repo.js';

export { DriverProcess } from '../../e2e/support/driver-process.js';

let started = 0;

/**
 * Starts one driver process with exactly `settings` (plus PATH and LC_ALL) as its environment; its log
 * is `<dir>/logs/<role>-<n>.log`, its working directory `cwd` (default the repository).
 */
export function startDriver(o: {
  dir: string;
  role: Role;
  settings: Record<string, string>;
  command?: { file: string; args: string[] };
  cwd?: string;
}): DriverProcess {
  const logs = path.join(o.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  return new DriverProcess({
    role: o.role,
    settings: o.settings,
    command: o.command,
    cwd: o.cwd ?? REPO_ROOT,
    logFile: path.join(logs, `${o.role}-${++started}.log`),
  });
}

/** The non-empty lines a process logged (at LOG_LEVEL=warn: warnings and errors only). */
export const logLinesOf = (proc: DriverProcess): string[] =>
  proc
    .logText()
    .split('\n')
    .filter((l) => l.trim() !== '');

/** Where a process listens: a unix socket path or a TCP host and port. */
export type ListenTarget = { path: string } | { host: string; port: number };

export const describeTarget = (t: ListenTarget): string =>
  'path' in t ? `unix://${t.path}` : `${t.host}:${t.port}`;

const accepts = (target: ListenTarget): Promise<boolean> =>
  new Promise<boolean>((resolve) => {
    const s = connect(target);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/**
 * Resolves once something accepts connections at `target`, polling every 50 ms; throws as soon as
 * `proc` exits (with its log) or after `timeoutMs`.
 */
export async function waitForListening(
  proc: DriverProcess,
  target: ListenTarget,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    proc.assertAlive();
    if (await accepts(target)) return;
    if (Date.now() > deadline)
      throw new Error(
        `${proc.role}: ${describeTarget(target)} not accepting connections after ${timeoutMs} ms`,
      );
    await sleep(50);
  }
}

/**
 * `bin/csi-cert-driver issuer` with a fresh dev CA under `dir/<caDir>` (default `ca`; none when
 * `settings` name CA_SECRET_NAME), on a free loopback port, without caller authentication unless `settings` say otherwise; resolves once it
 * listens.
 */
export async function startIssuer(
  dir: string,
  o: { caDir?: string; settings?: Record<string, string> } = {},
): Promise<{ proc: DriverProcess; addr: string }> {
  // With CA_SECRET_NAME in `settings` the CA comes from that Secret (the chart's way), not from files.
  const caFiles = o.settings?.CA_SECRET_NAME
    ? {}
    : await generateDevCa({ dir: path.join(dir, o.caDir ?? 'ca') }).then((ca) => ({
        CA_CERT_FILE: ca.certFile,
        CA_KEY_FILE: ca.keyFile,
      }));
  const port = await freeLoopbackPort();
  const proc = startDriver({
    dir,
    role: 'issuer',
    settings: {
      LOG_LEVEL: 'warn',
      LISTEN_ADDR: `127.0.0.1:${port}`,
      ...caFiles,
      ISSUER_AUTH: 'none',
      ...o.settings,
    },
  });
  await waitForListening(proc, { host: '127.0.0.1', port });
  return { proc, addr: `127.0.0.1:${port}` };
}
