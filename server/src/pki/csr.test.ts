import { describe, expect, it } from 'vitest';
import type { KeySpec } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import { buildCsr, parseCsr } from './csr.js';
import { EXTENSION_OIDS } from './extensions.js';
import { encodePrivateKey, generateKey } from './keys.js';
import { decodeGeneralNames } from './names.js';
import { opensslCsr, opensslOn, testSpec } from './testing/openssl.js';
import { x509 } from './x509.js';

/** OpenSSL 3.0's `req -verify` exits 0 even on failure; only its message tells. */
async function opensslVerifiesCsr(pem: string): Promise<boolean> {
  const r = await opensslOn(pem, 'req', '-in', '{}', '-verify', '-noout');
  return r.code === 0 && `${r.stdout}${r.stderr}`.includes('self-signature verify OK');
}

const keyCases: { key: Pick<KeySpec, 'algorithm' | 'size'>; sigAlg: string }[] = [
  { key: { algorithm: 'RSA', size: 2048 }, sigAlg: 'sha256WithRSAEncryption' },
  { key: { algorithm: 'ECDSA', size: 256 }, sigAlg: 'ecdsa-with-SHA256' },
  { key: { algorithm: 'ECDSA', size: 384 }, sigAlg: 'ecdsa-with-SHA384' },
  { key: { algorithm: 'ECDSA', size: 521 }, sigAlg: 'ecdsa-with-SHA512' },
  { key: { algorithm: 'Ed25519', size: 0 }, sigAlg: 'ED25519' },
];

const fullSpec = testSpec({
  subject: {
    commonName: 'web-0.default.svc',
    organizations: ['Acme, Inc.', 'Ünïcode GmbH'],
    organizationalUnits: ['platform'],
    countries: ['DE'],
    provinces: ['Bavaria'],
    localities: ['Munich'],
    streetAddresses: ['Main St 1'],
    postalCodes: ['80331'],
    serialNumber: 'SN-42',
  },
  dnsNames: ['web-0', '*.web.default.svc'],
  ipAddresses: ['10.0.0.7', '2001:db8::1', '::ffff:192.0.2.1'],
  uris: ['spiffe://cluster.local/ns/default/sa/web'],
  emailAddresses: ['ops@example.com'],
  usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
});

describe('buildCsr', () => {
  it.each(keyCases)(
    '$key.algorithm $key.size: openssl verifies it and sees every field',
    async ({ key, sigAlg }) => {
      const keys = await generateKey(key);
      const pem = await buildCsr(fullSpec, keys);
      expect(await opensslVerifiesCsr(pem)).toBe(true);
      const { stdout } = await opensslOn(
        pem,
        'req',
        '-in',
        '{}',
        '-noout',
        '-text',
        '-nameopt',
        'RFC2253,-esc_msb',
      );
      expect(stdout).toContain(
        'Subject: serialNumber=SN-42,CN=web-0.default.svc,OU=platform,O=Ünïcode GmbH,O=Acme\\, Inc.,postalCode=80331,street=Main St 1,L=Munich,ST=Bavaria,C=DE',
      );
      expect(stdout).toContain(
        'DNS:web-0, DNS:*.web.default.svc, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201, URI:spiffe://cluster.local/ns/default/sa/web, email:ops@example.com',
      );
      expect(stdout).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
      expect(stdout).toMatch(
        /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/,
      );
      expect(stdout).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(stdout).toContain(`Signature Algorithm: ${sigAlg}`);
      expect(await new x509.Pkcs10CertificateRequest(pem).verify()).toBe(true);
    },
  );

  it.each([
    { name: 'CA request', spec: testSpec({ isCA: true, usages: ['cert sign'] }), want: /CA:TRUE/ },
    { name: 'default usages', spec: testSpec({ usages: [] }), want: /Digital Signature, Key Encipherment/ },
    {
      name: 'empty subject makes SAN critical',
      spec: testSpec({ subject: { ...testSpec().subject, commonName: undefined } }),
      want: /Subject Alternative Name: critical/,
    },
  ])('$name', async ({ spec, want }) => {
    const pem = await buildCsr(spec, await generateKey({ algorithm: 'ECDSA', size: 256 }));
    expect((await opensslOn(pem, 'req', '-in', '{}', '-noout', '-text')).stdout).toMatch(want);
  });

  it.each([
    { name: 'bad IP', spec: testSpec({ ipAddresses: ['10.0.0.256'] }), field: 'csi.k8s.cert-driver/ip-sans' },
    {
      name: 'IDN not punycoded',
      spec: testSpec({ dnsNames: ['bücher.de'] }),
      field: 'csi.k8s.cert-driver/dns-names',
    },
    { name: 'unknown usage', spec: testSpec({ usages: ['world domination'] }), field: 'usages' },
  ])('rejects $name with InvalidArgumentError($field)', async ({ spec, field }) => {
    const err = await buildCsr(spec, await generateKey({ algorithm: 'ECDSA', size: 256 })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });
});

describe('parseCsr', () => {
  it('reads back what buildCsr wrote', async () => {
    const keys = await generateKey({ algorithm: 'ECDSA', size: 256 });
    const csr = parseCsr(await buildCsr(fullSpec, keys));
    expect(csr.signatureValid).toBe(true);
    expect(csr.subjectIsEmpty).toBe(false);
    expect(csr.spkiDer.equals(keys.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(csr.extensions.map((e) => [e.oid, e.critical])).toEqual([
      [EXTENSION_OIDS.subjectAltName, false],
      [EXTENSION_OIDS.keyUsage, true],
      [EXTENSION_OIDS.extKeyUsage, false],
      [EXTENSION_OIDS.basicConstraints, true],
    ]);
    const san = csr.extensions[0]?.value as Buffer;
    expect(decodeGeneralNames(san).map((n) => `${n.type}:${n.value}`)).toEqual([
      'dns:web-0',
      'dns:*.web.default.svc',
      'ip:10.0.0.7',
      'ip:2001:db8::1',
      'ip:::ffff:c000:201',
      'uri:spiffe://cluster.local/ns/default/sa/web',
      'email:ops@example.com',
    ]);
  });

  it('builds the same request from a pair that carries its SPKI DER and shape (pooled keys)', async () => {
    const keys = await generateKey({ algorithm: 'ECDSA', size: 384 });
    const carried = {
      ...keys,
      spkiDer: keys.publicKey.export({ type: 'spki', format: 'der' }),
      shape: { algorithm: 'ECDSA', size: 384 } as const,
    };
    const csr = parseCsr(await buildCsr(fullSpec, carried));
    expect(csr.signatureValid).toBe(true);
    expect(csr.spkiDer.equals(carried.spkiDer)).toBe(true);
    expect(await opensslVerifiesCsr(await buildCsr(fullSpec, carried))).toBe(true);
  });

  it.each([
    { name: 'RSA', args: ['-newkey', 'rsa:2048'] },
    { name: 'EC P-384', args: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'] },
    { name: 'Ed25519', args: ['-newkey', 'ed25519'] },
  ])('accepts a CSR made by openssl ($name)', async ({ args }) => {
    const san = 'subjectAltName=DNS:x,IP:10.1.2.3';
    const pem = await opensslCsr(args, san);
    const csr = parseCsr(pem);
    expect(csr.signatureValid).toBe(true);
    const ext = csr.extensions.find((e) => e.oid === EXTENSION_OIDS.subjectAltName);
    expect(decodeGeneralNames(ext?.value as Buffer)).toEqual([
      { type: 'dns', value: 'x' },
      { type: 'ip', value: '10.1.2.3' },
    ]);
  });

  it('reports a tampered request as an invalid signature', async () => {
    const keys = await generateKey({ algorithm: 'ECDSA', size: 256 });
    const pem = await buildCsr(testSpec(), keys);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.indexOf(Buffer.from('web-0'))] = 'x'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(parseCsr(tampered).signatureValid).toBe(false);
    expect(await opensslVerifiesCsr(tampered)).toBe(false);
  });

  it.each([
    { name: 'no PEM block', pem: 'hello' },
    { name: 'a certificate instead', pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' },
    {
      name: 'truncated DER',
      pem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIBCgKCAQEA\n-----END CERTIFICATE REQUEST-----\n',
    },
    {
      name: 'bad base64',
      pem: '-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n',
    },
  ])('rejects $name with InvalidArgumentError(csr_pem)', ({ pem }) => {
    expect(() => parseCsr(pem)).toThrow(InvalidArgumentError);
    try {
      parseCsr(pem);
    } catch (e) {
      expect((e as InvalidArgumentError).field).toBe('csr_pem');
    }
  });

  it('keeps the private key out of the CSR', async () => {
    const keys = await generateKey({ algorithm: 'RSA', size: 2048 });
    const pem = await buildCsr(testSpec(), keys);
    const keyDer = encodePrivateKey(keys.privateKey, 'PKCS8')
      .replace(/-----[^-]+-----|\s/g, '')
      .slice(100, 140);
    expect(pem.replace(/\s/g, '')).not.toContain(keyDer);
  });
});
