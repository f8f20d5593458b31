import { createPrivateKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeHarness, type NodeHarness } from '../../test/support/node-harness.js';
import { haveJava, javaCheckKeystores, opensslPkcs12Info } from './pkcs12.test-support.js';
import { prefixed } from '../attributes/test-helpers.js';
import { withTempDir } from './testing/openssl.js';

let h: NodeHarness;
beforeAll(async () => {
  h = await startNodeHarness();
});
afterAll(async () => {
  await h.stop();
});

function files(volumeId: string) {
  const v = h.platform.volumes.get(volumeId);
  if (!v) throw new Error(`volume ${volumeId} not published`);
  return v.files;
}

describe('PKCS#12 in a published volume', () => {
  it('writes the keystore next to the PEM files, holding the same key and chain, with the key file mode', async () => {
    await h.publish({
      volumeId: 'p12-a',
      attributes: prefixed({
        'pkcs12-enable': 'true',
        'pkcs12-password': 'changeit',
        'key-algorithm': 'RSA',
        'key-size': '2048',
        'fs-group': '2000',
      }),
    });
    const f = files('p12-a');
    expect([...f.keys()].sort()).toEqual(['ca.crt', 'keystore.p12', 'tls.crt', 'tls.key']);
    expect(f.get('keystore.p12')?.mode).toBe(f.get('tls.key')?.mode);
    expect(f.get('keystore.p12')?.mode).toBe(0o440);
    const keyPkcs8 = createPrivateKey(Buffer.from(f.get('tls.key')!.data))
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
      .trim();
    await withTempDir(async (dir) => {
      const file = join(dir, 'keystore.p12');
      await writeFile(file, f.get('keystore.p12')!.data);
      const r = await opensslPkcs12Info(file, 'changeit');
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(keyPkcs8);
      expect(r.out).toContain(Buffer.from(f.get('tls.crt')!.data).toString().trim());
      expect(r.out).toContain(Buffer.from(f.get('ca.crt')!.data).toString().trim());
      if (haveJava) {
        const [j] = await javaCheckKeystores([{ file, password: 'changeit' }]);
        expect(j).toMatchObject({ ok: true, alias: 'certificate', algorithm: 'RSA', signs: true });
      }
    });
  }, 60_000);

  it('honours pkcs12-filename and an absent password (empty), and is 0400 without an fs-group', async () => {
    await h.publish({
      volumeId: 'p12-b',
      attributes: prefixed({ 'pkcs12-enable': 'true', 'pkcs12-filename': 'store.pfx' }),
    });
    const f = files('p12-b');
    expect(f.has('keystore.p12')).toBe(false);
    expect(f.get('store.pfx')?.mode).toBe(0o400);
    await withTempDir(async (dir) => {
      const file = join(dir, 'store.pfx');
      await writeFile(file, f.get('store.pfx')!.data);
      const r = await opensslPkcs12Info(file, '');
      expect(r.code, r.out).toBe(0);
    });
  });

  it('is absent unless pkcs12-enable is true, and its password never reaches the logs', async () => {
    await h.publish({ volumeId: 'p12-c' });
    expect(files('p12-c').has('keystore.p12')).toBe(false);
    expect(h.logs()).not.toContain('changeit');
  });
});
