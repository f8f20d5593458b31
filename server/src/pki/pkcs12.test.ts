import { createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../issuer/certificate-authority.js';
import { signCsr } from '../issuer/signer.js';
import { DEFAULT_SIGNING_POLICY } from '../issuer/signing-policy.js';
import { makeCsr, makeTestCa, signRequest } from '../issuer/testing/ca-fixtures.js';
import type { KeyShape } from './keys.js';
import { joinPem } from './pem.js';
import { encodePkcs12, pkcs12Kdf } from './pkcs12.js';
import { haveJava, javaCheckKeystores, keytoolList, opensslPkcs12Info } from './pkcs12.test-support.js';
import { withTempDir } from './testing/openssl.js';

interface Fixture {
  name: string;
  key: KeyShape;
  password: string;
}

const fixtures: Fixture[] = [
  { name: 'rsa2048', key: { algorithm: 'RSA', size: 2048 }, password: 'changeit' },
  { name: 'p256-empty', key: { algorithm: 'ECDSA', size: 256 }, password: '' },
  { name: 'p384', key: { algorithm: 'ECDSA', size: 384 }, password: 'pa$$ "w0rd" \\ ;' },
  { name: 'p521', key: { algorithm: 'ECDSA', size: 521 }, password: 's3cret' },
  { name: 'ed25519', key: { algorithm: 'Ed25519', size: 0 }, password: 'changeit' },
];

/** Root → intermediate CA → leaf, like a real cluster CA; the keystore carries all three. */
async function issue(key: KeyShape) {
  const root = await makeTestCa({ commonName: 'p12 root' });
  const intermediate = await makeTestCa({ commonName: 'p12 intermediate', parent: root });
  const ca = await CertificateAuthority.load({
    certPem: joinPem([intermediate.certPem, root.certPem]),
    keyPem: intermediate.keyPem,
  });
  const { csrPem, keys } = await makeCsr({}, key);
  const signed = await signCsr(ca, DEFAULT_SIGNING_POLICY, signRequest(csrPem));
  return {
    keys,
    certificatesPem: joinPem([signed.certificatePem, signed.chainPem, signed.caBundlePem]),
    leafPem: signed.certificatePem,
  };
}

describe('encodePkcs12', () => {
  const built: (Fixture & { der: Buffer; leafPem: string; keyPkcs8: string })[] = [];

  beforeAll(async () => {
    for (const f of fixtures) {
      const { keys, certificatesPem, leafPem } = await issue(f.key);
      const der = encodePkcs12({ privateKey: keys.privateKey, certificatesPem, password: f.password });
      const keyPkcs8 = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      built.push({ ...f, der, leafPem, keyPkcs8 });
    }
  });

  it.each(fixtures.map((f) => f.name))(
    '%s: openssl verifies the MAC and recovers the same key',
    async (name) => {
      const b = built.find((x) => x.name === name)!;
      await withTempDir(async (dir) => {
        const file = join(dir, 'keystore.p12');
        await writeFile(file, b.der);
        const r = await opensslPkcs12Info(file, b.password);
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain('MAC: sha256, Iteration 2048');
        expect(r.out).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC');
        expect(r.out).toContain('friendlyName: certificate');
        expect(r.out).toContain(b.keyPkcs8.trim());
        expect(r.out).toContain(b.leafPem.trim());
        expect(r.out.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
      });
    },
  );

  it('openssl reads a non-ASCII password (Java refuses any non-ASCII PKCS#12 password)', async () => {
    const b = built[0]!;
    const { createPrivateKey } = await import('node:crypto');
    const der = encodePkcs12({
      privateKey: createPrivateKey(b.keyPkcs8),
      certificatesPem: b.leafPem,
      password: 'pä$$wörd ✓',
    });
    await withTempDir(async (dir) => {
      const file = join(dir, 'keystore.p12');
      await writeFile(file, der);
      const r = await opensslPkcs12Info(file, 'pä$$wörd ✓');
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain(b.keyPkcs8.trim());
    });
  });

  it('openssl refuses a wrong password', async () => {
    const b = built[0]!;
    await withTempDir(async (dir) => {
      const file = join(dir, 'keystore.p12');
      await writeFile(file, b.der);
      const r = await opensslPkcs12Info(file, 'wrong');
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/mac verify/i);
    });
  });

  it.skipIf(!haveJava)(
    'Java loads every store, recovers each key and signs with it',
    async () => {
      await withTempDir(async (dir) => {
        const stores = [];
        for (const b of built) {
          const file = join(dir, `${b.name}.p12`);
          await writeFile(file, b.der);
          stores.push({ file, password: b.password });
        }
        const results = await javaCheckKeystores(stores);
        for (const [i, r] of results.entries()) {
          expect(r, fixtures[i]!.name).toMatchObject({
            ok: true,
            alias: 'certificate',
            chainLength: 3,
            signs: true,
          });
        }
        const wrong = await javaCheckKeystores([{ file: stores[0]!.file, password: 'wrong' }]);
        expect(wrong[0]?.ok).toBe(false);
      });
    },
    120_000,
  );

  it.skipIf(!haveJava)(
    'keytool lists one PrivateKeyEntry, also with an empty password',
    async () => {
      const b = built.find((x) => x.password === '')!;
      await withTempDir(async (dir) => {
        const file = join(dir, 'keystore.p12');
        await writeFile(file, b.der);
        const r = await keytoolList(file, '');
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain('Your keystore contains 1 entry');
        expect(r.out).toContain('Entry type: PrivateKeyEntry');
        expect(r.out).toContain('Certificate chain length: 3');
      });
    },
    60_000,
  );

  it('takes a fresh MAC salt each time and refuses a bundle without a certificate', async () => {
    const b = built[1]!;
    const { createPrivateKey } = await import('node:crypto');
    const privateKey = createPrivateKey(b.keyPkcs8);
    const one = encodePkcs12({ privateKey, certificatesPem: b.leafPem, password: '' });
    const two = encodePkcs12({ privateKey, certificatesPem: b.leafPem, password: '' });
    expect(one.equals(two)).toBe(false);
    expect(createPublicKey(privateKey).type).toBe('public');
    expect(() => encodePkcs12({ privateKey, certificatesPem: '', password: '' })).toThrow(/no certificate/);
  });
});

describe('pkcs12Kdf', () => {
  it('derives the MAC key OpenSSL derives (checked through openssl accepting our MACs) deterministically', () => {
    const salt = Buffer.from('0102030405060708', 'hex');
    const a = pkcs12Kdf('changeit', salt, 3, 2048, 32);
    expect(a).toHaveLength(32);
    expect(pkcs12Kdf('changeit', salt, 3, 2048, 32).equals(a)).toBe(true);
    expect(pkcs12Kdf('changeit', salt, 1, 2048, 32).equals(a)).toBe(false);
    expect(pkcs12Kdf('', salt, 3, 1, 40)).toHaveLength(40);
  });
});
