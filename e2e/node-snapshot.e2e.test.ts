/**
 * The node role from its startup snapshot (docs/adr/0026-node-role-from-a-startup-snapshot.md), as
 * `bin/csi-cert-driver node` starts it on Linux: the process runs `node --snapshot-blob
 * dist/node-snapshot.blob`, serves CSI, publishes a key pair OpenSSL verifies, loads the REST API
 * on its first request and recovers its volumes after a restart. Then, on a private copy of the
 * install, every way a blob can be unusable: the launcher makes a new one when dist/ is writable
 * and otherwise starts dist/main.mjs; a node never fails to start because of the snapshot.
 *
 * The node collects its garbage every 50 ms (a `--require` preload, which a start from a snapshot
 * runs): a function of the snapshot first compiled after a collection is where a blob built without
 * V8's code cache broke (Node's FileHandle close, "kFd is not defined", ADR 26), and without the
 * preload whether a collection came before the REST API's first request was a matter of timing.
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
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverProcess } from './support/driver-process.js';
import { codeName, harnessPerSuite, type Harness } from './support/harness.js';
import { mountsAt } from './support/host.js';
import { waitForNodeReady } from './support/node-ready.js';
import { opensslOk, verifyChain } from './support/openssl.js';
import { BIN, PINNED_NODE, REPO_ROOT } from './support/repo.js';

const run = promisify(execFile);

/** The command line of a running process, one argument per entry. */
const cmdline = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

/** What a node process was started from: its snapshot blob, or dist/main.mjs. */
function startedFrom(pid: number): string {
  const args = cmdline(pid);
  const blob = args.indexOf('--snapshot-blob');
  if (blob >= 0) return `snapshot ${args[blob + 1]}`;
  return args.find((a) => a.endsWith('main.mjs')) ?? args.join(' ');
}

/** A preload that makes the node collect its garbage every 50 ms (with --expose-gc); it notes each pid it ran in. */
const gcDir = mkdtempSync(join(tmpdir(), 'ccd-snap-gc-'));
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
    suite: 'node-snapshot',
    // The Dockerfile's ENV, with the API on as the chart runs the node.
    nodeSettings: {
      NODE_ENV: 'production',
      NODE_OPTIONS: `--max-semi-space-size=2 --expose-gc --require ${gcPreload}`,
      MALLOC_ARENA_MAX: '2',
      API_LISTEN_ADDR: '127.0.0.1:0',
      LOG_LEVEL: 'info',
    },
  },
  (started) => (h = started),
);

describe.runIf(process.platform === 'linux')('the node role from its startup snapshot', () => {
  const vol = { current: undefined as ReturnType<Harness['newVolume']> | undefined };

  it('runs from dist/node-snapshot.blob', () => {
    expect(startedFrom(h.node!.pid)).toBe(`snapshot ${join(REPO_ROOT, 'dist', 'node-snapshot.blob')}`);
    // The preload that collects garbage ran in it.
    expect(readFileSync(gcRanIn, 'utf8').split('\n')).toContain(String(h.node!.pid));
  });

  it('publishes a key pair OpenSSL verifies against the CA', async () => {
    const v = h.newVolume();
    vol.current = v;
    const r = await h.publish(v);
    expect(codeName(r.code), r.details).toBe('OK');
    const verified = await verifyChain(join(v.targetPath, 'ca.crt'), join(v.targetPath, 'tls.crt'));
    expect(verified.ok, verified.output).toBe(true);
    const certKey = await opensslOk(['x509', '-in', join(v.targetPath, 'tls.crt'), '-pubkey', '-noout']);
    const key = await opensslOk(['pkey', '-in', join(v.targetPath, 'tls.key'), '-pubout']);
    expect(certKey).toBe(key);
  });

  it('loads the REST API on its first request and answers it', async () => {
    const url = /"url":"(http:\/\/[^"]+)"[^\n]*API serving/.exec(h.node!.logText())?.[1];
    expect(url).toBeDefined();
    const res = await fetch(`${url}/api/v1/node`);
    expect(res.status, h.node!.tail()).toBe(200);
    expect(((await res.json()) as { nodeId: string }).nodeId).toBe(h.nodeId);
    // The dashboard's files, read from dist/dashboard when the API loaded.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const volumes = await fetch(`${url}/api/v1/volumes`);
    expect(volumes.status).toBe(200);
    expect(JSON.stringify(await volumes.json())).toContain(vol.current!.volumeId);
    expect((await fetch(`${url}/api/v1/node`, { method: 'POST' })).status).toBe(405);
  });

  it('recovers the volume after a SIGKILL and a start from the snapshot', async () => {
    await h.restartNode();
    expect(startedFrom(h.node!.pid)).toMatch(/^snapshot /);
    const recovered = h.node!.logLines().find((l) => l.msg === 'state recovered');
    expect(recovered?.recovered).toBe(1);
    // The recovered volume is the node's: it unpublishes it, mount and files gone.
    const r = await h.unpublish(vol.current!);
    expect(codeName(r.code), r.details).toBe('OK');
    expect(mountsAt(vol.current!.targetPath)).toEqual([]);
    expect(existsSync(join(vol.current!.targetPath, 'tls.key'))).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('an unusable blob', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccd-snap-'));
  const app = join(dir, 'app');
  const dist = join(app, 'dist');
  const blob = join(dist, 'node-snapshot.blob');
  const pristine = join(dir, 'pristine');
  let starts = 0;

  beforeAll(() => {
    // A copy of the install: bin/, dist/ (with the repository's blob and key), the rest linked.
    mkdirSync(join(app, 'bin'), { recursive: true });
    copyFileSync(BIN, join(app, 'bin', 'csi-cert-driver'));
    cpSync(join(REPO_ROOT, 'dist'), dist, { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'));
    symlinkSync(join(REPO_ROOT, 'proto'), join(app, 'proto'));
    mkdirSync(pristine);
    for (const f of ['node-snapshot.blob', 'node-snapshot.blob.key', 'node-snapshot.sha256'])
      copyFileSync(join(dist, f), join(pristine, f));
  });
  afterAll(async () => {
    await run('umount', [dist]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the copy's node, waits for Probe ready, returns what it started from and its log; stops it. */
  async function startCopy(env: Record<string, string> = {}): Promise<{ from: string; log: string }> {
    const n = ++starts;
    const endpoint = `unix://${join(dir, `csi-${n}.sock`)}`;
    const proc = new DriverProcess({
      role: 'node',
      cwd: dir,
      logFile: join(h.logDir, `copy-node-${n}.log`),
      command: { file: join(app, 'bin', 'csi-cert-driver'), args: ['node'] },
      settings: {
        CSI_ENDPOINT: endpoint,
        NODE_ID: `copy-${n}`,
        CERT_SERVICE_ADDR: h.issuerAddr,
        CERT_BASE_PATH: join(dir, `base-${n}`),
        KUBELET_ROOT_DIR: join(dir, 'kubelet'),
        API_LISTEN_ADDR: 'off',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    try {
      await waitForNodeReady(proc, endpoint);
      return { from: startedFrom(proc.pid), log: proc.logText() };
    } finally {
      await proc.stop();
    }
  }

  const keyOf = (): string => readFileSync(`${blob}.key`, 'utf8');
  const nodeVersion = async (): Promise<string> => (await run(PINNED_NODE, ['--version'])).stdout.trim();

  const MAIN = join(dist, 'main.mjs');
  const SNAPSHOT = `snapshot ${blob}`;
  const cases: {
    name: string;
    spoil: () => void;
    readOnly: boolean;
    env?: Record<string, string>;
    from: string;
    then?: (log: string) => Promise<void>;
  }[] = [
    {
      name: 'none yet, dist/ writable: one is made and used',
      spoil: () => rmSync(blob),
      readOnly: false,
      from: SNAPSHOT,
      then: async () => expect(keyOf()).toContain(`node ${await nodeVersion()} `),
    },
    {
      name: 'made by another node version, dist/ writable: a new one is made and used',
      spoil: () => writeFileSync(`${blob}.key`, keyOf().replace(/^node v\S+/, 'node v22.0.0')),
      readOnly: false,
      from: SNAPSHOT,
      then: async () => expect(keyOf()).toMatch(new RegExp(`^node ${await nodeVersion()} `)),
    },
    {
      name: 'truncated, dist/ read-only: dist/main.mjs',
      spoil: () => truncateSync(blob, 4096),
      readOnly: true,
      from: MAIN,
    },
    {
      name: 'made from another bundle, dist/ read-only: dist/main.mjs',
      spoil: () => writeFileSync(join(dist, 'node-snapshot.sha256'), `${'0'.repeat(64)}\n`),
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
      name: 'current, but an --import in NODE_OPTIONS (not run from a snapshot): dist/main.mjs',
      spoil: () => writeFileSync(join(dir, 'hook.mjs'), "process.stderr.write('HOOK LOADED\\n');\n"),
      readOnly: false,
      env: { NODE_OPTIONS: `--import=${join(dir, 'hook.mjs')}` },
      from: MAIN,
      then: async (log) => expect(log).toContain('HOOK LOADED'),
    },
    {
      name: 'current, but GRPC_TRACE set (read as grpc-js loads): the snapshot hands over to dist/main.mjs',
      spoil: () => undefined,
      readOnly: false,
      env: { GRPC_TRACE: 'server', GRPC_VERBOSITY: 'DEBUG' },
      from: SNAPSHOT,
      then: async (log) => {
        expect(log).toContain(`GRPC_TRACE is set, which a package reads as it loads; starting from ${MAIN}`);
        // grpc-js's own trace lines: the variable took effect.
        expect(log).toMatch(/\| server \| \(\d+\) Server constructed/);
      },
    },
  ];

  it.each(cases)('$name', { timeout: 60_000 }, async (c) => {
    for (const f of ['node-snapshot.blob', 'node-snapshot.blob.key', 'node-snapshot.sha256'])
      copyFileSync(join(pristine, f), join(dist, f));
    c.spoil();
    if (c.readOnly) {
      await run('mount', ['--bind', dist, dist]);
      await run('mount', ['-o', 'remount,bind,ro', dist]);
    }
    try {
      const { from, log } = await startCopy(c.env);
      expect(from).toBe(c.from);
      await c.then?.(log);
    } finally {
      if (c.readOnly) await run('umount', [dist]);
    }
    expect(existsSync(join(dist, 'main.mjs'))).toBe(true);
  });
});
