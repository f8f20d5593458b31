import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../common/logger.js';
import { certificatePems } from '../pki/pem.js';
import { CertificateAuthority } from './certificate-authority.js';
import { CaRotation } from './ca-rotation.js';
import {
  FileRotationStore,
  ROTATION_STATE_FILE,
  type RotationRecord,
  type RotationStore,
} from './ca-rotation-store.js';
import { CLOCK_SKEW_MS } from './signer.js';
import { makeTestCa, type TestCa } from './testing/ca-fixtures.js';

const HOUR = 3600_000;
const MAX_LEAF_S = 3600;

let rootA: TestCa;
let rootB: TestCa;
let caA: CertificateAuthority;
let caB: CertificateAuthority;
let dir: string;

beforeAll(async () => {
  rootA = await makeTestCa({ commonName: 'root A' });
  rootB = await makeTestCa({ commonName: 'root B' });
  caA = await CertificateAuthority.load({ certPem: rootA.certPem, keyPem: rootA.keyPem });
  caB = await CertificateAuthority.load({ certPem: rootB.certPem, keyPem: rootB.keyPem });
  dir = await mkdtemp(join(tmpdir(), 'ca-rotation-state-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.useRealTimers();
});

const subjects = (bundle: string) =>
  certificatePems(bundle).map((p) =>
    p.trim() === rootA.certPem.trim() ? 'A' : p.trim() === rootB.certPem.trim() ? 'B' : '?',
  );

/** An in-memory store: the last record saved, and every save. */
class MemoryStore implements RotationStore {
  saved: RotationRecord[] = [];
  load() {
    return Promise.resolve(this.saved.at(-1));
  }
  save(r: RotationRecord) {
    this.saved.push(structuredClone(r));
    return Promise.resolve();
  }
}

function logLines(): { lines: () => { msg: string }[]; logger: ReturnType<typeof createLogger> } {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const logger = createLogger({ level: 'info', role: 'test', destination: out });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string }),
  };
}

function start(initial: CertificateAuthority, store: RotationStore, restored?: RotationRecord) {
  const log = logLines();
  const r = new CaRotation({
    initial,
    activate: () => undefined,
    delayMs: 30_000,
    maxLeafSeconds: MAX_LEAF_S,
    logger: log.logger,
    store,
    restored,
  });
  return { r, log };
}

/** Starts on CA A, proposes B, lets 30 s pass, then stops and waits for the save. */
async function rotateAToBAndStop(store: MemoryStore): Promise<void> {
  const first = start(caA, store).r;
  first.propose(caB);
  vi.advanceTimersByTime(30_000);
  first.stop();
  await first.flush();
}

describe('CaRotation across a restart', () => {
  it('keeps publishing the retired CA until its last leaf expired, then drops it and saves that', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryStore();
    await rotateAToBAndStop(store);
    const retiredUntil = Date.now() + MAX_LEAF_S * 1000 + CLOCK_SKEW_MS;
    expect(store.saved.at(-1)).toMatchObject({
      active: { certificate: caB.certificate.toString('pem') },
      retired: [{ until: new Date(retiredUntil).toISOString() }],
    });

    vi.advanceTimersByTime(10 * 60_000); // the issuer is down for ten minutes
    const { r } = start(caB, store, await store.load());
    expect(subjects(r.bundlePem())).toEqual(['B', 'A']);
    expect(r.status().retired).toEqual([
      {
        subject: 'CN=root A',
        notAfter: caA.notAfter.toISOString(),
        trustedUntil: new Date(retiredUntil).toISOString(),
      },
    ]);
    vi.advanceTimersByTime(retiredUntil - Date.now() + 20);
    expect(subjects(r.bundlePem())).toEqual(['B']);
    await r.flush();
    expect(store.saved.at(-1)?.retired).toEqual([]);
    r.stop();
  });

  it.each([
    {
      name: 'the CA files changed while the issuer was stopped',
      pending: false,
      msg: 'the CA changed while the issuer was stopped; the previous CA stays trusted until its last certificate expires',
    },
    {
      name: 'the issuer restarted during the rotation delay',
      pending: true,
      msg: 'restarted during the rotation delay: the new CA signs now (the previous key is gone); the previous CA stays trusted',
    },
  ])('retires the CA that signed before the restart when $name', async ({ pending, msg }) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryStore();
    const first = start(caA, store).r;
    if (pending) first.propose(caB);
    expect(first.status().pending !== undefined).toBe(pending);
    first.stop();
    await first.flush();

    const { r, log } = start(caB, store, await store.load());
    expect(subjects(r.bundlePem())).toEqual(['B', 'A']);
    expect(r.status().retired[0]?.trustedUntil).toBe(
      new Date(Date.now() + MAX_LEAF_S * 1000 + CLOCK_SKEW_MS).toISOString(),
    );
    expect(log.lines().map((l) => l.msg)).toContain(msg);
    await r.flush();
    expect(store.saved.at(-1)).toMatchObject({ active: { bundle: caB.caBundlePem }, pending: undefined });
    expect(store.saved.at(-1)?.retired).toHaveLength(1);
    r.stop();
  });

  it('restores nothing that has expired, and nothing when the same CA comes back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryStore();
    await rotateAToBAndStop(store);
    vi.advanceTimersByTime(2 * HOUR);
    const later = start(caB, store, await store.load()).r;
    expect(subjects(later.bundlePem())).toEqual(['B']);
    later.stop();

    const same = new MemoryStore();
    const a1 = start(caA, same).r;
    a1.stop();
    await a1.flush();
    const a2 = start(caA, same, await same.load()).r;
    expect(subjects(a2.bundlePem())).toEqual(['A']);
    expect(a2.status().retired).toEqual([]);
    a2.stop();
  });
});

describe('FileRotationStore', () => {
  it('round-trips a record through CA_STATE_DIR, certificates only', async () => {
    const store = new FileRotationStore(join(dir, 'state'));
    expect(await store.load()).toBeUndefined();
    const r = start(caA, store).r;
    r.propose(caB);
    r.activatePending();
    r.stop();
    await r.flush();
    const text = await readFile(join(dir, 'state', ROTATION_STATE_FILE), 'utf8');
    expect(text).not.toMatch(/PRIVATE KEY/);
    const rec = await store.load();
    expect(rec?.active.bundle).toBe(caB.caBundlePem);
    expect(rec?.retired.map((x) => x.bundle)).toEqual([caA.caBundlePem]);
    const again = start(caB, store, rec).r;
    expect(subjects(again.bundlePem())).toEqual(['B', 'A']);
    again.stop();
  });

  it.each([
    { name: 'not JSON', text: '{', want: /JSON|Unexpected|Expected/ },
    { name: 'another version', text: '{"version":2,"retired":[]}', want: /version/ },
    {
      name: 'a retired entry without a certificate',
      text: JSON.stringify({
        version: 1,
        active: { certificate: 'x', bundle: 'x' },
        retired: [],
      }),
      want: /active\.certificate/,
    },
  ])('rejects a record that is $name, naming the file', async ({ text, want }) => {
    const d = await mkdtemp(join(dir, 'bad-'));
    await writeFile(join(d, ROTATION_STATE_FILE), text);
    const err = await new FileRotationStore(d).load().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(join(d, ROTATION_STATE_FILE));
    expect((err as Error).message).toMatch(want);
  });
});
