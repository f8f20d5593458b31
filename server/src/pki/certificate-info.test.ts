import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { certificateMatchesKey, describeCertificate } from './certificate-info.js';
import { decodePrivateKey, generateKey } from './keys.js';
import { openssl, opensslOn, withTempDir } from './testing/openssl.js';

/** A self-signed certificate and key made by the openssl CLI: an independent producer for our parser. */
async function opensslCert(
  keyArgs: string[],
  extra: string[] = [],
): Promise<{ certPem: string; keyPem: string }> {
  return withTempDir(async (dir) => {
    const [crt, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
    const subj = '/C=DE/O=Acme/CN=web-0.default.svc';
    const r = await openssl(
      'req',
      '-x509',
      '-new',
      ...keyArgs,
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '2',
      '-subj',
      subj,
      ...extra,
    );
    if (r.code !== 0) throw new Error(r.stderr);
    return { certPem: await readFile(crt, 'utf8'), keyPem: await readFile(key, 'utf8') };
  });
}

describe('describeCertificate', () => {
  it.each([
    { name: 'RSA 2048', keyArgs: ['-newkey', 'rsa:2048'], algorithm: 'RSA', size: 2048 },
    {
      name: 'EC P-384',
      keyArgs: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      algorithm: 'ECDSA',
      size: 384,
    },
    { name: 'Ed25519', keyArgs: ['-newkey', 'ed25519'], algorithm: 'Ed25519', size: 0 },
  ])('describes an openssl certificate ($name)', async ({ keyArgs, algorithm, size }) => {
    const { certPem, keyPem } = await opensslCert(keyArgs, [
      '-addext',
      'subjectAltName=DNS:web-0,DNS:web-0.default.svc,IP:10.0.0.7,IP:2001:db8::1,URI:spiffe://td/ns/default/sa/web,email:ops@example.com',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext',
      'extendedKeyUsage=serverAuth,clientAuth',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
    ]);
    const info = describeCertificate(certPem);
    const fingerprint = (await opensslOn(certPem, 'x509', '-in', '{}', '-noout', '-fingerprint', '-sha256'))
      .stdout;
    const serial = (await opensslOn(certPem, 'x509', '-in', '{}', '-noout', '-serial')).stdout;
    expect(info).toMatchObject({
      subject: 'C=DE, O=Acme, CN=web-0.default.svc',
      commonName: 'web-0.default.svc',
      issuer: 'C=DE, O=Acme, CN=web-0.default.svc',
      dnsNames: ['web-0', 'web-0.default.svc'],
      ipAddresses: ['10.0.0.7', '2001:db8::1'],
      uris: ['spiffe://td/ns/default/sa/web'],
      emails: ['ops@example.com'],
      keyAlgorithm: algorithm,
      keySize: size,
      isCA: false,
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    });
    expect(fingerprint.trim()).toBe(`sha256 Fingerprint=${info.sha256Fingerprint}`);
    expect(serial.trim().toLowerCase()).toBe(
      `serial=${info.serialHex.padStart(serial.trim().length - 7, '0')}`,
    );
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(2 * 24 * 3600 * 1000);
    expect(certificateMatchesKey(certPem, decodePrivateKey(keyPem))).toBe(true);
  });

  it('reports a CA as such', async () => {
    const { certPem } = await opensslCert(
      ['-newkey', 'ed25519'],
      ['-addext', 'basicConstraints=critical,CA:TRUE'],
    );
    expect(describeCertificate(certPem).isCA).toBe(true);
  });

  it('rejects a non-certificate naming the field', () => {
    const bad = '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n';
    expect(() => describeCertificate(bad, 'tls.crt')).toThrow(InvalidArgumentError);
    try {
      describeCertificate('nothing', 'tls.crt');
    } catch (e) {
      expect((e as InvalidArgumentError).field).toBe('tls.crt');
    }
  });
});

describe('certificateMatchesKey', () => {
  it.each([
    { name: 'another key of the same type', key: { algorithm: 'ECDSA' as const, size: 256 } },
    { name: 'a key of another type', key: { algorithm: 'Ed25519' as const, size: 0 } },
  ])('is false for $name', async ({ key }) => {
    const { certPem } = await opensslCert(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const other = await generateKey(key);
    expect(certificateMatchesKey(certPem, other.privateKey)).toBe(false);
  });
});
