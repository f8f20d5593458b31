import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessIssuer } from '../../test/support/in-process-issuer.js';
import { numberedPublishRequest } from '../../test/support/publish-requests.js';
import { createLogger } from '../common/logger.js';
import { makeTestCa } from '../issuer/testing/ca-fixtures.js';
import { FakePlatform } from '../platform/fake-platform.js';
import { generateKey } from '../pki/keys.js';
import { joinPem } from '../pki/pem.js';
import { opensslPkcs12Info } from '../pki/pkcs12.test-support.js';
import { FileStateStore } from '../volumes/file-state-store.js';
import { VolumeManager } from '../volumes/volume-manager.js';
import { BundleDistributor } from './bundle-distributor.js';
import { fileTrustSource, TrustBundle, type TrustSource } from './trust-bundle.js';
import { TrustingIssuer } from '../issuer-client/trusting-issuer.js';

const P = 'csi.k8s.cert-driver/';
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

interface Setup {
  dir: string;
  platform: FakePlatform;
  manager: VolumeManager;
  trust: TrustBundle;
  distributor: BundleDistributor;
  source: { bundle: string; fail: boolean };
  issuer: InProcessIssuer;
  store: FileStateStore;
  logs: string[];
}

let s: Setup;

async function setup(source?: TrustSource): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'trust-'));
  const platform = new FakePlatform();
  const issuer = await InProcessIssuer.create();
  const store = new FileStateStore(join(dir, 'state'));
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => logs.push(c.toString()));
  const logger = createLogger({ level: 'debug', role: 'test', destination: stream });
  const src = { bundle: issuer.ca.caBundlePem, fail: false };
  const trust = new TrustBundle(
    source ?? {
      kind: 'issuer',
      describe: 'test issuer',
      fetch: async () => {
        if (src.fail) throw new Error('issuer unreachable');
        return src.bundle;
      },
    },
    logger,
  );
  await trust.refresh();
  const ref: { distributor?: BundleDistributor } = {};
  const manager = new VolumeManager({
    platform,
    issuer: new TrustingIssuer(issuer, trust),
    store,
    keys: { get: (k) => generateKey(k) },
    logger,
    nodeId: 'n1',
    clusterDomain: 'cluster.local',
    volumeSizeBytes: 1 << 20,
    onChange: (id, st) => ref.distributor?.track(id, st),
  });
  const distributor = new BundleDistributor({
    trust,
    volumes: manager.lifecycle,
    store,
    logger,
    retryMs: 50,
  });
  ref.distributor = distributor;
  return { dir, platform, manager, trust, distributor, source: src, issuer, store, logs };
}

afterEach(async () => {
  s.distributor.stop();
  s.trust.stop();
  await rm(s.dir, { recursive: true, force: true });
});

describe('BundleDistributor', () => {
  beforeEach(async () => {
    s = await setup();
  });

  it('rewrites ca.crt of every volume on a bundle change, keeping key and certificate bytes', async () => {
    const variants: Record<string, string>[] = [
      {},
      { [`${P}pkcs12-enable`]: 'true', [`${P}pkcs12-password`]: 'changeit' },
      { [`${P}fs-group`]: '3000', [`${P}key-algorithm`]: 'RSA' },
      { [`${P}ca-file`]: 'trust.pem' },
    ];
    for (let i = 0; i < 12; i++)
      await s.manager.publish(numberedPublishRequest(i, variants[i % variants.length]));
    const before = new Map([...s.platform.volumes].map(([id, v]) => [id, new Map(v.files)]));
    expect(s.distributor.size).toBe(12);

    const other = await makeTestCa({ commonName: 'next root' });
    s.source.bundle = joinPem([other.certPem, s.issuer.ca.caBundlePem]);
    expect(await s.trust.refresh()).toBe(true);
    await s.distributor.distribute();
    const want = s.trust.current()!;
    expect(want).toContain(other.certPem.trim());

    for (const [id, v] of s.platform.volumes) {
      const old = before.get(id)!;
      const caName = v.files.has('trust.pem') ? 'trust.pem' : 'ca.crt';
      expect(text(v.files.get(caName)?.data), id).toBe(want);
      expect(Buffer.from(v.files.get('tls.key')!.data).equals(Buffer.from(old.get('tls.key')!.data))).toBe(
        true,
      );
      expect(text(v.files.get('tls.crt')?.data)).toBe(text(old.get('tls.crt')?.data));
      for (const [name, f] of v.files) expect(f.mode, `${id}/${name}`).toBe(old.get(name)?.mode);
    }
    expect(s.distributor.stats()).toMatchObject({ rewrites: 12, failures: 0, lagging: 0 });

    const p12 = s.platform.volumes.get('vol-1')!.files.get('keystore.p12')!.data;
    expect(Buffer.from(p12).equals(Buffer.from(before.get('vol-1')!.get('keystore.p12')!.data))).toBe(false);
    const dir = await mkdtemp(join(tmpdir(), 'p12-'));
    await writeFile(join(dir, 'k.p12'), p12);
    const info = await opensslPkcs12Info(join(dir, 'k.p12'), 'changeit');
    await rm(dir, { recursive: true });
    expect(info.code, info.out).toBe(0);
    expect(info.out).toContain(other.certPem.trim());

    await s.distributor.distribute();
    expect(s.distributor.stats().rewrites).toBe(12);
  });

  it('leaves a volume without a ca file or keystore alone', async () => {
    await s.manager.publish(numberedPublishRequest(1, { [`${P}ca-file`]: '' }));
    const files = s.platform.volumes.get('vol-1')!.files;
    s.source.bundle = joinPem([(await makeTestCa()).certPem]);
    await s.trust.refresh();
    await s.distributor.distribute();
    expect(s.platform.volumes.get('vol-1')!.files).toBe(files);
  });

  it('retries a volume that is busy or whose write failed, and drops one that vanished', async () => {
    for (let i = 0; i < 3; i++) await s.manager.publish(numberedPublishRequest(i));
    let release!: () => void;
    const held = s.manager.lifecycle.withLock('vol-0', () => new Promise<void>((r) => (release = r)));
    s.platform.failNext = { op: 'writeFiles', error: new Error('ENOSPC: no space left on device') };
    await s.store.delete('vol-2'); // unpublished behind our back
    s.source.bundle = joinPem([(await makeTestCa()).certPem]);
    await s.trust.refresh(); // starts a distribution; this call waits for it
    await s.distributor.distribute();
    expect(s.distributor.stats().failures).toBe(1);
    expect(s.distributor.stats().lagging).toBe(1); // vol-0, still busy
    expect(s.distributor.size).toBe(2);
    release();
    await held;
    const deadline = Date.now() + 5000;
    while (s.distributor.stats().lagging > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const want = s.trust.current();
    expect(text(s.platform.volumes.get('vol-0')!.files.get('ca.crt')?.data)).toBe(want);
    expect(text(s.platform.volumes.get('vol-1')!.files.get('ca.crt')?.data)).toBe(want);
    expect(s.logs.join('')).toContain('could not rewrite ca.crt; will retry');
  });

  it('stops tracking an unpublished volume', async () => {
    await s.manager.publish(numberedPublishRequest(1));
    await s.manager.unpublish({ volumeId: 'vol-1', targetPath: numberedPublishRequest(1).targetPath });
    expect(s.distributor.size).toBe(0);
  });
});

describe('TrustBundle', () => {
  it('keeps the bundle in use when a refresh fails, and merges a rotated issuer bundle into new volumes', async () => {
    s = await setup();
    const before = s.trust.current();
    s.source.fail = true;
    expect(await s.trust.refresh()).toBe(false);
    expect(s.trust.current()).toBe(before);
    expect(s.logs.join('')).toContain('trust bundle refresh failed');

    s.source.fail = false;
    const rotated = joinPem([(await makeTestCa({ commonName: 'rotated' })).certPem]);
    const merged = s.trust.resolve(rotated);
    expect(merged).toContain(rotated.trim());
    expect(merged).toContain(before!.trim());
  });

  it('resolves each bundle the issuer sends to its normalized form, also when they alternate', async () => {
    s = await setup();
    const ours = s.trust.current()!;
    const other = joinPem([(await makeTestCa({ commonName: 'other' })).certPem]);
    const messy = `# the issuer's bundle, twice\n${ours}\n${ours}`;
    const merged = joinPem([other, ours]);
    for (const [sent, want] of [
      [ours, ours],
      [messy, ours],
      [messy, ours],
      [other, merged],
      [ours, ours],
      ['no certificate here', ours],
      [other, merged],
    ] as const) {
      expect(s.trust.resolve(sent)).toBe(want);
    }
  });

  it('a bundle file wins over what the issuer sends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trust-file-'));
    const file = join(dir, 'bundle.pem');
    const fileCa = await makeTestCa({ commonName: 'spiffe root' });
    await writeFile(file, `# comment\n${fileCa.certPem}`);
    s = await setup(fileTrustSource(file));
    await s.manager.publish(numberedPublishRequest(1));
    expect(text(s.platform.volumes.get('vol-1')!.files.get('ca.crt')?.data)).toBe(fileCa.certPem);
    const next = await makeTestCa({ commonName: 'spiffe root 2' });
    await writeFile(file, joinPem([fileCa.certPem, next.certPem]));
    expect(await s.trust.refresh()).toBe(true);
    await s.distributor.distribute();
    expect(text(s.platform.volumes.get('vol-1')!.files.get('ca.crt')?.data)).toBe(
      joinPem([fileCa.certPem, next.certPem]),
    );
    await rm(dir, { recursive: true, force: true });
  });
});
