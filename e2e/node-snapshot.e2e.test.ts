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
import { existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codeName, harnessPerSuite, type Harness } from './support/harness.js';
import { mountsAt } from './support/host.js';
import { PINNED_NODE, REPO_ROOT } from './support/repo.js';
import {
  expectVerifiedPair,
  describeUnusableBlob,
  gcOftenPreload,
  imageEnv,
  processStartedAt,
  startedFrom,
} from './support/snapshot.js';

const run = promisify(execFile);

const gc = gcOftenPreload();

let h: Harness;
harnessPerSuite(
  {
    suite: 'node-snapshot',
    // The Dockerfile's ENV, with the API on as the chart runs the node.
    nodeSettings: { ...imageEnv(gc), API_LISTEN_ADDR: '127.0.0.1:0', LOG_LEVEL: 'info' },
  },
  (started) => (h = started),
);

describe.runIf(process.platform === 'linux')('the node role from its startup snapshot', () => {
  const vol = { current: undefined as ReturnType<Harness['newVolume']> | undefined };

  it('runs from dist/node-snapshot.blob', () => {
    expect(startedFrom(h.node!.pid)).toBe(`snapshot ${join(REPO_ROOT, 'dist', 'node-snapshot.blob')}`);
    // The preload that collects garbage ran in it.
    expect(gc.ranIn()).toContain(String(h.node!.pid));
  });

  it('publishes a key pair OpenSSL verifies against the CA', async () => {
    const v = h.newVolume();
    vol.current = v;
    const r = await h.publish(v);
    expect(codeName(r.code), r.details).toBe('OK');
    await expectVerifiedPair(v.targetPath);
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

  it('reports its own start as process_start_time_seconds, not when the blob was built', async () => {
    // prom-client's own value is fixed when its module is evaluated: while the blob was built. A
    // start at least 3 s after the blob was written tells the two apart.
    const builtAt = statSync(join(REPO_ROOT, 'dist', 'node-snapshot.blob')).mtimeMs / 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, (builtAt + 3) * 1000 - Date.now())));
    await h.restartNode();
    expect(startedFrom(h.node!.pid)).toMatch(/^snapshot /);
    const url = [...h.node!.logText().matchAll(/"url":"(http:\/\/[^"]+)"[^\n]*API serving/g)].at(-1)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const values = [...text.matchAll(/^process_start_time_seconds (\S+)$/gm)].map((m) => Number(m[1]));
    expect(values, text).toHaveLength(1);
    expect(values[0]).toBeGreaterThan(builtAt + 2);
    // Whole seconds, rounded.
    expect(Math.abs(values[0]! - processStartedAt(h.node!.pid))).toBeLessThanOrEqual(1);
  });
});

const nodeVersion = async (): Promise<string> => (await run(PINNED_NODE, ['--version'])).stdout.trim();

// The node's own cases; the cases both roles share follow them (support/snapshot.ts).
describeUnusableBlob(
  'node',
  () => h,
  ({ dir, blob, main, snapshot }) => {
    const keyOf = (): string => readFileSync(`${blob}.key`, 'utf8');
    const hook = join(dir, 'hook.mjs');
    return [
      {
        name: 'none yet, dist/ writable: one is made and used',
        spoil: () => rmSync(blob),
        readOnly: false,
        from: snapshot,
        then: async () => expect(keyOf()).toContain(`node ${await nodeVersion()} `),
      },
      {
        name: 'made by another node version, dist/ writable: a new one is made and used',
        spoil: () => writeFileSync(`${blob}.key`, keyOf().replace(/^node v\S+/, 'node v22.0.0')),
        readOnly: false,
        from: snapshot,
        then: async () => expect(keyOf()).toMatch(new RegExp(`^node ${await nodeVersion()} `)),
      },
      {
        name: 'truncated, dist/ read-only: dist/main.mjs',
        spoil: () => truncateSync(blob, 4096),
        readOnly: true,
        from: main,
      },
      {
        name: 'current, but an --import in NODE_OPTIONS (not run from a snapshot): dist/main.mjs',
        spoil: () => writeFileSync(hook, "process.stderr.write('HOOK LOADED\\n');\n"),
        readOnly: false,
        env: { NODE_OPTIONS: `--import=${hook}` },
        from: main,
        then: (log) => expect(log).toContain('HOOK LOADED'),
      },
    ];
  },
);
