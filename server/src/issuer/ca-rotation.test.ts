import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../common/logger.js';
import { certificatePems, joinPem } from '../pki/pem.js';
import { CertificateAuthority } from './certificate-authority.js';
import { watchCaFiles } from './ca-file-watcher.js';
import { CaRotation } from './ca-rotation.js';
import { CLOCK_SKEW_MS } from './signer.js';
import { makeTestCa, type TestCa } from './testing/ca-fixtures.js';

const HOUR = 3600_000;
const logger = createLogger({ level: 'silent', role: 'test', destination: new PassThrough() });

let rootA: TestCa;
let rootB: TestCa;
let interA: TestCa;
let caA: CertificateAuthority;
let caB: CertificateAuthority;
let caInterA: CertificateAuthority;
let shortLivedA: CertificateAuthority;

beforeAll(async () => {
  rootA = await makeTestCa({ commonName: 'root A' });
  rootB = await makeTestCa({ commonName: 'root B' });
  interA = await makeTestCa({ commonName: 'intermediate A', parent: rootA });
  const shortA = await makeTestCa({ commonName: 'short A', notAfter: new Date(Date.now() + 2 * HOUR) });
  caA = await CertificateAuthority.load({ certPem: rootA.certPem, keyPem: rootA.keyPem });
  caB = await CertificateAuthority.load({ certPem: rootB.certPem, keyPem: rootB.keyPem });
  caInterA = await CertificateAuthority.load({
    certPem: joinPem([interA.certPem, rootA.certPem]),
    keyPem: interA.keyPem,
  });
  shortLivedA = await CertificateAuthority.load({ certPem: shortA.certPem, keyPem: shortA.keyPem });
});

afterEach(() => {
  vi.useRealTimers();
});

const subjects = (bundle: string) =>
  certificatePems(bundle).map((p) =>
    p.trim() === rootA.certPem.trim() ? 'A' : p.trim() === rootB.certPem.trim() ? 'B' : '?',
  );

function rotation(initial: CertificateAuthority, delayMs: number, maxLeafSeconds = 24 * 3600) {
  const activated: CertificateAuthority[] = [];
  const bundles: string[] = [];
  const r = new CaRotation({
    initial,
    activate: (ca) => activated.push(ca),
    delayMs,
    maxLeafSeconds,
    logger,
    onBundleChange: (b) => bundles.push(b),
  });
  return { r, activated, bundles };
}

describe('CaRotation', () => {
  it('trusts a new CA first, signs with it after the delay, keeps the old one until its last leaf expired', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { r, activated, bundles } = rotation(caA, 30_000, 3600);
    expect(subjects(r.bundlePem())).toEqual(['A']);

    r.propose(caB);
    expect(subjects(r.bundlePem())).toEqual(['B', 'A']);
    expect(activated).toEqual([]);
    expect(bundles).toHaveLength(1);
    expect(r.status().pending?.subject).toBe('CN=root B');

    vi.advanceTimersByTime(29_999);
    expect(activated).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(activated).toEqual([caB]);
    expect(subjects(r.bundlePem())).toEqual(['B', 'A']);
    expect(r.status()).toMatchObject({
      active: { subject: 'CN=root B' },
      retired: [{ subject: 'CN=root A' }],
    });

    vi.advanceTimersByTime(3600_000 + CLOCK_SKEW_MS - 1);
    expect(subjects(r.bundlePem())).toEqual(['B', 'A']);
    vi.advanceTimersByTime(20);
    expect(subjects(r.bundlePem())).toEqual(['B']);
    expect(bundles.map(subjects)).toEqual([['B', 'A'], ['B']]);
    r.stop();
  });

  it('drops the old CA at its own expiry when that comes before its last leaf would', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { r } = rotation(shortLivedA, 0, 30 * 24 * 3600);
    r.propose(caB);
    expect(r.status().retired[0]?.trustedUntil).toBe(shortLivedA.notAfter.toISOString());
    vi.advanceTimersByTime(2 * HOUR + 1000);
    expect(r.status().retired).toEqual([]);
    r.stop();
  });

  it('ignores the CA already in use and switches at once to a CA under a root already trusted', () => {
    const { r, activated, bundles } = rotation(caA, 60_000);
    r.propose(caA);
    expect(activated).toEqual([]);
    r.propose(caInterA);
    expect(activated).toEqual([caInterA]);
    expect(bundles).toEqual([]);
    expect(subjects(r.bundlePem())).toEqual(['A']);
    r.stop();
  });

  it('a newer proposal replaces a pending one; activatePending switches now', () => {
    const { r, activated } = rotation(caA, 60_000);
    r.propose(caB);
    r.propose(shortLivedA);
    expect(r.status().pending?.subject).toBe('CN=short A');
    r.activatePending();
    expect(activated).toEqual([shortLivedA]);
    r.stop();
  });
});

describe('watchCaFiles', () => {
  it('hands over a changed valid CA once and ignores an invalid change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ca-watch-'));
    const certFile = join(dir, 'ca.crt');
    const keyFile = join(dir, 'ca.key');
    await writeFile(certFile, rootA.certPem);
    await writeFile(keyFile, rootA.keyPem);
    const seen: string[] = [];
    const w = await watchCaFiles({
      certFile,
      keyFile,
      intervalMs: 60_000,
      logger,
      onChange: (ca) => seen.push(ca.certificate.subject),
    });
    try {
      await w.check();
      expect(seen).toEqual([]);
      await writeFile(certFile, rootB.certPem); // key not yet replaced: does not load
      await w.check();
      expect(seen).toEqual([]);
      await writeFile(keyFile, rootB.keyPem);
      await w.check();
      await w.check();
      expect(seen).toEqual(['CN=root B']);
    } finally {
      w.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
