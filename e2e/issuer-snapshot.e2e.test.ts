/**
 * The issuer role from its startup snapshot (docs/adr/0026-node-role-from-a-startup-snapshot.md), as
 * `bin/csi-cert-driver issuer` starts it on Linux: the process runs `node --snapshot-blob
 * dist/issuer-snapshot.blob` (NestJS, grpc-js and the issuer's modules evaluated when the blob was
 * built; its settings and CA read at the start), serves the issuer's gRPC API and signs the node's
 * CSR into a certificate OpenSSL verifies against the CA. Then, on a private copy of the install,
 * the blob unusable: remade when dist/ is writable, else dist/main.mjs; CSI_CERT_DRIVER_SNAPSHOT=off
 * and a variable grpc-js reads as it loads also start dist/main.mjs. The issuer never fails to start
 * because of the snapshot.
 *
 * The issuer collects its garbage every 50 ms (a `--require` preload, which a start from a snapshot
 * runs): a function of the snapshot first compiled after a collection is where a blob built without
 * V8's code cache broke for the node (Node's FileHandle close, ADR 26); the issuer reads its CA
 * files with fs/promises after that.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverProcess } from './support/driver-process.js';
import { codeName, harnessPerSuite, type Harness } from './support/harness.js';
import { opensslOk, verifyChain } from './support/openssl.js';
import { freeLoopbackPort } from './support/ports.js';
import { BIN, REPO_ROOT } from './support/repo.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);

/** What a process was started from: its snapshot blob, or dist/main.mjs. */
function startedFrom(pid: number): string {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const blob = args.indexOf('--snapshot-blob');
  if (blob >= 0) return `snapshot ${args[blob + 1]}`;
  return args.find((a) => a.endsWith('main.mjs')) ?? args.join(' ');
}

/** A preload that makes the process collect its garbage every 50 ms (with --expose-gc); it notes each pid it ran in. */
const gcDir = mkdtempSync(join(tmpdir(), 'ccd-issnap-gc-'));
const gcPreload = join(gcDir, 'gc-often.cjs');
const gcRanIn = join(gcDir, 'pids');
writeFileSync(
  gcPreload,
  `require('node:fs').appendFileSync(${JSON.stringify(gcRanIn)}, process.pid + '\\n');\n` +
    'setInterval(() => globalThis.gc(), 50).unref();\n',
);
afterAll(() => rmSync(gcDir, { recursive: true, force: true }));

let h: Harness;
harnessPerSuite(
  {
    suite: 'issuer-snapshot',
    // The Dockerfile's ENV.
    issuerSettings: {
      NODE_ENV: 'production',
      NODE_OPTIONS: `--max-semi-space-size=2 --expose-gc --require ${gcPreload}`,
      MALLOC_ARENA_MAX: '2',
    },
  },
  (started) => (h = started),
);

describe.runIf(process.platform === 'linux')('the issuer role from its startup snapshot', () => {
  it('runs from dist/issuer-snapshot.blob', () => {
    expect(startedFrom(h.issuer!.pid)).toBe(`snapshot ${join(REPO_ROOT, 'dist', 'issuer-snapshot.blob')}`);
    expect(readFileSync(gcRanIn, 'utf8').split('\n')).toContain(String(h.issuer!.pid));
  });

  it('signs the node’s CSR: a key pair OpenSSL verifies against the CA', async () => {
    const v = h.newVolume();
    const r = await h.publish(v);
    expect(codeName(r.code), r.details).toBe('OK');
    const verified = await verifyChain(join(v.targetPath, 'ca.crt'), join(v.targetPath, 'tls.crt'));
    expect(verified.ok, verified.output).toBe(true);
    const certKey = await opensslOk(['x509', '-in', join(v.targetPath, 'tls.crt'), '-pubkey', '-noout']);
    const key = await opensslOk(['pkey', '-in', join(v.targetPath, 'tls.key'), '-pubout']);
    expect(certKey).toBe(key);
    const issuer = await opensslOk(['x509', '-in', join(v.targetPath, 'tls.crt'), '-issuer', '-noout']);
    const ca = await opensslOk(['x509', '-in', h.caCert, '-subject', '-noout']);
    expect(issuer.replace(/^issuer=/, '')).toBe(ca.replace(/^subject=/, ''));
    expect(startedFrom(h.issuer!.pid)).toMatch(/^snapshot /);
  });
});

describe.runIf(process.platform === 'linux')('an unusable issuer blob', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccd-issnap-'));
  const app = join(dir, 'app');
  const dist = join(app, 'dist');
  const blob = join(dist, 'issuer-snapshot.blob');
  const pristine = join(dir, 'pristine');
  const FILES = ['issuer-snapshot.blob', 'issuer-snapshot.blob.key', 'issuer-snapshot.sha256'];
  let starts = 0;

  beforeAll(() => {
    // A copy of the install: bin/, dist/ (with the repository's blob and key), the rest linked.
    mkdirSync(join(app, 'bin'), { recursive: true });
    copyFileSync(BIN, join(app, 'bin', 'csi-cert-driver'));
    cpSync(join(REPO_ROOT, 'dist'), dist, { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'));
    symlinkSync(join(REPO_ROOT, 'proto'), join(app, 'proto'));
    mkdirSync(pristine);
    for (const f of FILES) copyFileSync(join(dist, f), join(pristine, f));
  });
  afterAll(async () => {
    await run('umount', [dist]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the copy's issuer, waits until it logs that it serves, returns what it started from and its log; stops it. */
  async function startCopy(env: Record<string, string> = {}): Promise<{ from: string; log: string }> {
    const n = ++starts;
    const port = await freeLoopbackPort();
    const proc = new DriverProcess({
      role: 'issuer',
      cwd: dir,
      logFile: join(h.logDir, `copy-issuer-${n}.log`),
      command: { file: join(app, 'bin', 'csi-cert-driver'), args: ['issuer'] },
      settings: {
        LISTEN_ADDR: `127.0.0.1:${port}`,
        CA_CERT_FILE: h.caCert,
        CA_KEY_FILE: h.caKey,
        ISSUER_AUTH: 'none',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    try {
      await waitFor(
        'the copy’s issuer to serve',
        () => {
          proc.assertAlive();
          return proc.logText().includes(`"listen":"127.0.0.1:${port}"`) ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      return { from: startedFrom(proc.pid), log: proc.logText() };
    } finally {
      await proc.stop();
    }
  }

  const MAIN = join(dist, 'main.mjs');
  const SNAPSHOT = `snapshot ${blob}`;
  const cases: {
    name: string;
    spoil: () => void;
    readOnly: boolean;
    env?: Record<string, string>;
    from: string;
    then?: (log: string) => void;
  }[] = [
    {
      name: 'truncated, dist/ writable: a new one is made and used',
      spoil: () => truncateSync(blob, 4096),
      readOnly: false,
      from: SNAPSHOT,
      then: () => expect(readFileSync(`${blob}.key`, 'utf8')).toMatch(/ blob [1-9]\d{6,}\n$/),
    },
    {
      name: 'made from another bundle, dist/ read-only: dist/main.mjs',
      spoil: () => writeFileSync(join(dist, 'issuer-snapshot.sha256'), `${'0'.repeat(64)}\n`),
      readOnly: true,
      from: MAIN,
    },
    {
      name: 'current, but CSI_CERT_DRIVER_SNAPSHOT=off: dist/main.mjs',
      spoil: () => undefined,
      readOnly: false,
      env: { CSI_CERT_DRIVER_SNAPSHOT: 'off' },
      from: MAIN,
    },
    {
      name: 'current, but GRPC_TRACE set (read as grpc-js loads): the snapshot hands over to dist/main.mjs',
      spoil: () => undefined,
      readOnly: false,
      env: { GRPC_TRACE: 'server', GRPC_VERBOSITY: 'DEBUG' },
      from: SNAPSHOT,
      then: (log) => {
        expect(log).toContain(`GRPC_TRACE is set, which a package reads as it loads; starting from ${MAIN}`);
        expect(log).toMatch(/\| server \| \(\d+\) Server constructed/);
      },
    },
  ];

  it.each(cases)('$name', { timeout: 60_000 }, async (c) => {
    for (const f of FILES) copyFileSync(join(pristine, f), join(dist, f));
    c.spoil();
    if (c.readOnly) {
      await run('mount', ['--bind', dist, dist]);
      await run('mount', ['-o', 'remount,bind,ro', dist]);
    }
    try {
      const { from, log } = await startCopy(c.env);
      expect(from).toBe(c.from);
      c.then?.(log);
    } finally {
      if (c.readOnly) await run('umount', [dist]);
    }
  });
});
