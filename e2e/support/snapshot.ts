/**
 * What the startup-snapshot suites (node-snapshot, issuer-snapshot; ADR 26) share: which entry a
 * process started from, a preload that collects garbage every 50 ms, the image's environment, and
 * the table of unusable blobs run for a role on a private copy of the install (bin/, dist/; the
 * rest linked to the repository's), each case started through the launcher `bin/csi-cert-driver`.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverProcess } from './driver-process.js';
import { opensslOk, verifyChain } from './openssl.js';
import type { Harness } from './harness.js';
import { waitForNodeReady } from './node-ready.js';
import { freeLoopbackPort } from './ports.js';
import { BIN, REPO_ROOT } from './repo.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** A role the launcher starts from a snapshot of its own. */
export type SnapshotRole = 'node' | 'issuer';

/**
 * What a running process was started from: `snapshot <blob>` when its command line has
 * `--snapshot-blob`, else the `main.mjs` it runs (the whole command line when neither).
 */
export function startedFrom(pid: number): string {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const blob = args.indexOf('--snapshot-blob');
  if (blob >= 0) return `snapshot ${args[blob + 1]}`;
  return args.find((a) => a.endsWith('main.mjs')) ?? args.join(' ');
}

/**
 * When a running process started, in seconds since the epoch (10 ms precision): its start in clock
 * ticks after boot (/proc/<pid>/stat, field 22; 100 ticks a second on Linux) plus the boot time.
 */
export function processStartedAt(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: field 3 is first.
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  return boot + ticks / 100;
}

/** A `--require` preload that collects garbage every 50 ms and notes each pid it ran in. */
export interface GcPreload {
  /** The preload's file (needs `--expose-gc` next to its `--require`). */
  readonly file: string;
  /** The pids of the processes it ran in, as decimal strings (none yet: empty). */
  ranIn(): string[];
}

/**
 * Writes a {@link GcPreload} into a temporary folder and registers an `afterAll` that removes it;
 * call it at a suite's top level. A start from a snapshot runs `--require` preloads too.
 */
export function gcOftenPreload(): GcPreload {
  const dir = mkdtempSync(join(tmpdir(), 'ccd-snap-gc-'));
  const file = join(dir, 'gc-often.cjs');
  const pids = join(dir, 'pids');
  writeFileSync(
    file,
    `require('node:fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n');\n` +
      'setInterval(() => globalThis.gc(), 50).unref();\n',
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    file,
    ranIn: () => (existsSync(pids) ? readFileSync(pids, 'utf8').split('\n').filter(Boolean) : []),
  };
}

/** The Dockerfile's ENV, with `gc` preloaded (and `--expose-gc` for it) in NODE_OPTIONS. */
export function imageEnv(gc: GcPreload): Record<string, string> {
  return {
    NODE_ENV: 'production',
    NODE_OPTIONS: `--max-semi-space-size=2 --expose-gc --require ${gc.file}`,
    MALLOC_ARENA_MAX: '2',
  };
}

/** The paths of a private copy of the install, as a case sees them. */
export interface InstallCopy {
  /** The temporary folder: the copy in app/, sockets, state, and files a case writes. */
  readonly dir: string;
  /** The copy's bin/csi-cert-driver. */
  readonly launcher: string;
  readonly dist: string;
  /** dist/<role>-snapshot.blob (its key is `${blob}.key`). */
  readonly blob: string;
  /** What a process started from the copy's dist/main.mjs reports (see {@link startedFrom}). */
  readonly main: string;
  /** What a process started from the copy's blob reports. */
  readonly snapshot: string;
}

/** One way a role's blob can be unusable, and what the launcher must then start. */
export interface UnusableBlobCase {
  name: string;
  /** Spoils the copy's snapshot files, which were just restored to the repository's. */
  spoil: () => void;
  /** dist/ bind-mounted read-only for the start, so that no new blob can be made. */
  readOnly: boolean;
  /** Settings over the role's defaults. */
  env?: Record<string, string>;
  /** `copy.snapshot` or `copy.main`. */
  from: string;
  /** Further checks once the process served, given its log. */
  then?: (log: string) => void | Promise<void>;
}

/** The cases both roles share: a blob of another bundle on a read-only dist/, the switch, GRPC_TRACE. */
function sharedCases(role: SnapshotRole, copy: InstallCopy): UnusableBlobCase[] {
  return [
    {
      name: 'made from another bundle, dist/ read-only: dist/main.mjs',
      spoil: () => writeFileSync(join(copy.dist, `${role}-snapshot.sha256`), `${'0'.repeat(64)}\n`),
      readOnly: true,
      from: copy.main,
    },
    {
      name: 'current, but CSI_CERT_DRIVER_SNAPSHOT=off: dist/main.mjs',
      spoil: () => undefined,
      readOnly: false,
      env: { CSI_CERT_DRIVER_SNAPSHOT: 'off' },
      from: copy.main,
    },
    {
      name: 'current, but GRPC_TRACE set (read as grpc-js loads): the snapshot hands over to dist/main.mjs',
      spoil: () => undefined,
      readOnly: false,
      env: { GRPC_TRACE: 'server', GRPC_VERBOSITY: 'DEBUG' },
      from: copy.snapshot,
      then: (log) => {
        expect(log).toContain(
          `GRPC_TRACE is set, which a package reads as it loads; starting from ${copy.main}`,
        );
        // grpc-js's own trace lines: the variable took effect.
        expect(log).toMatch(/\| server \| \(\d+\) Server constructed/);
      },
    },
  ];
}

/** Where and how one start of the copy runs. */
interface CopyStart {
  h: Harness;
  copy: InstallCopy;
  /** Numbers the start's socket, state and log. */
  n: number;
  env: Record<string, string>;
}

/** A started process of the copy and a wait that resolves once it serves (throws when it exits first). */
interface CopyProcess {
  proc: DriverProcess;
  serving: () => Promise<void>;
}

/** The copy's node (its issuer: the harness's; API off), serving once it answers Probe ready. */
function nodeCopy({ h, copy, n, env }: CopyStart): CopyProcess {
  const endpoint = `unix://${join(copy.dir, `csi-${n}.sock`)}`;
  const proc = new DriverProcess({
    role: 'node',
    cwd: copy.dir,
    logFile: join(h.logDir, `copy-node-${n}.log`),
    command: { file: copy.launcher, args: ['node'] },
    settings: {
      CSI_ENDPOINT: endpoint,
      NODE_ID: `copy-${n}`,
      CERT_SERVICE_ADDR: h.issuerAddr,
      CERT_BASE_PATH: join(copy.dir, `base-${n}`),
      KUBELET_ROOT_DIR: join(copy.dir, 'kubelet'),
      API_LISTEN_ADDR: 'off',
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  return { proc, serving: () => waitForNodeReady(proc, endpoint) };
}

/** The copy's issuer (the harness's CA, no client auth), serving once it logs its listen address. */
async function issuerCopy({ h, copy, n, env }: CopyStart): Promise<CopyProcess> {
  const port = await freeLoopbackPort();
  const proc = new DriverProcess({
    role: 'issuer',
    cwd: copy.dir,
    logFile: join(h.logDir, `copy-issuer-${n}.log`),
    command: { file: copy.launcher, args: ['issuer'] },
    settings: {
      LISTEN_ADDR: `127.0.0.1:${port}`,
      CA_CERT_FILE: h.caCert,
      CA_KEY_FILE: h.caKey,
      ISSUER_AUTH: 'none',
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  const serving = async (): Promise<void> => {
    await waitFor(
      'the copy’s issuer to serve',
      () => {
        proc.assertAlive();
        return proc.logText().includes(`"listen":"127.0.0.1:${port}"`) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  };
  return { proc, serving };
}

const START: Record<SnapshotRole, (s: CopyStart) => CopyProcess | Promise<CopyProcess>> = {
  node: nodeCopy,
  issuer: issuerCopy,
};

/** Starts the copy's `role`, waits until it serves, returns what it started from and its log; stops it. */
async function startCopy(role: SnapshotRole, s: CopyStart): Promise<{ from: string; log: string }> {
  const { proc, serving } = await START[role](s);
  try {
    await serving();
    return { from: startedFrom(proc.pid), log: proc.logText() };
  } finally {
    await proc.stop();
  }
}

/**
 * Registers the describe block `an unusable <role> blob`: a private copy of the install made before
 * it (removed after it, dist/ unmounted first should a case have left it mounted), and one test per
 * case — `roleCases(copy)` followed by the cases both roles share. Each test restores the blob, its
 * key and its bundle hash to the repository's, spoils them, starts the role through the copy's
 * launcher (dist/ read-only when the case says so), and expects it to serve from `from` with
 * dist/main.mjs still in place. Linux only, like the snapshot.
 */
export function describeUnusableBlob(
  role: SnapshotRole,
  harness: () => Harness,
  roleCases: (copy: InstallCopy) => UnusableBlobCase[],
): void {
  describe.runIf(process.platform === 'linux')(`an unusable ${role} blob`, () => {
    const dir = mkdtempSync(join(tmpdir(), `ccd-snap-${role}-`));
    const app = join(dir, 'app');
    const dist = join(app, 'dist');
    const blob = join(dist, `${role}-snapshot.blob`);
    const launcher = join(app, 'bin', 'csi-cert-driver');
    const main = join(dist, 'main.mjs');
    const copy: InstallCopy = { dir, launcher, dist, blob, main, snapshot: `snapshot ${blob}` };
    const pristine = join(dir, 'pristine');
    const files = [`${role}-snapshot.blob`, `${role}-snapshot.blob.key`, `${role}-snapshot.sha256`];
    let starts = 0;

    beforeAll(() => {
      mkdirSync(join(app, 'bin'), { recursive: true });
      copyFileSync(BIN, launcher);
      cpSync(join(REPO_ROOT, 'dist'), dist, { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'));
      symlinkSync(join(REPO_ROOT, 'proto'), join(app, 'proto'));
      mkdirSync(pristine);
      for (const f of files) copyFileSync(join(dist, f), join(pristine, f));
    });
    afterAll(async () => {
      await run('umount', [dist]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it.each([...roleCases(copy), ...sharedCases(role, copy)])('$name', { timeout: 60_000 }, async (c) => {
      for (const f of files) copyFileSync(join(pristine, f), join(dist, f));
      c.spoil();
      if (c.readOnly) {
        await run('mount', ['--bind', dist, dist]);
        await run('mount', ['-o', 'remount,bind,ro', dist]);
      }
      try {
        const { from, log } = await startCopy(role, { h: harness(), copy, n: ++starts, env: c.env ?? {} });
        expect(from).toBe(c.from);
        await c.then?.(log);
      } finally {
        if (c.readOnly) await run('umount', [dist]);
      }
      expect(existsSync(copy.main)).toBe(true);
    });
  });
}

/**
 * Checks a published volume with OpenSSL: `tls.crt` chains to the volume's own `ca.crt` and holds
 * `tls.key`'s public key. Returns the certificate's path for further checks.
 */
export async function expectVerifiedPair(targetPath: string): Promise<string> {
  const crt = join(targetPath, 'tls.crt');
  const verified = await verifyChain(join(targetPath, 'ca.crt'), crt);
  expect(verified.ok, verified.output).toBe(true);
  const certKey = await opensslOk(['x509', '-in', crt, '-pubkey', '-noout']);
  const key = await opensslOk(['pkey', '-in', join(targetPath, 'tls.key'), '-pubout']);
  expect(certKey).toBe(key);
  return crt;
}
