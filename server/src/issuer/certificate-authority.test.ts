import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FailedPreconditionError } from '../common/errors.js';
import { openssl, withFiles, withTempDir } from '../pki/testing/openssl.js';
import {
  CaCertificate,
  CertificateAuthority,
  loadCertificateAuthorityFromFiles,
} from './certificate-authority.js';
import { ConfigError } from './errors.js';
import { makeTestCa } from './testing/ca-fixtures.js';
import { KeyUsageFlags } from '../pki/usages.js';

const HOUR = 3600_000;

async function loadError(certPem: string, keyPem: string): Promise<ConfigError> {
  const err = await CertificateAuthority.load({ certPem, keyPem }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect(err).toBeInstanceOf(FailedPreconditionError);
  return err as ConfigError;
}

describe('CertificateAuthority.load', () => {
  it.each([
    {
      name: 'ECDSA P-256 PKCS8',
      key: { algorithm: 'ECDSA' as const, size: 256 },
      encoding: 'PKCS8' as const,
    },
    { name: 'ECDSA P-384 SEC1', key: { algorithm: 'ECDSA' as const, size: 384 }, encoding: 'PKCS1' as const },
    { name: 'RSA 2048 PKCS1', key: { algorithm: 'RSA' as const, size: 2048 }, encoding: 'PKCS1' as const },
    { name: 'Ed25519 PKCS8', key: { algorithm: 'Ed25519' as const, size: 0 }, encoding: 'PKCS8' as const },
  ])('loads a $name root', async ({ key, encoding }) => {
    const root = await makeTestCa({ key, encoding });
    const ca = await CertificateAuthority.load({ certPem: root.certPem, keyPem: root.keyPem });
    expect(ca.keyShape).toEqual(key);
    expect(ca.chainPem).toBe('');
    expect(ca.caBundlePem).toBe(root.certPem);
    expect(ca.keyIdentifier).toHaveLength(20);
  });

  it('loads a CA made by openssl (RSA, traditional PKCS#1 key, no keyUsage)', async () => {
    await withTempDir(async (dir) => {
      const [crt, key] = [join(dir, 'ca.crt'), join(dir, 'ca.key')];
      await openssl('genrsa', '-traditional', '-out', key, '2048');
      const r = await openssl(
        'req',
        '-x509',
        '-new',
        '-key',
        key,
        '-out',
        crt,
        '-days',
        '30',
        '-subj',
        '/CN=ossl CA',
      );
      expect(r.code).toBe(0);
      const ca = await loadCertificateAuthorityFromFiles(crt, key);
      expect(ca.certificate.subject).toBe('CN=ossl CA');
      expect(ca.keyShape).toEqual({ algorithm: 'RSA', size: 2048 });
    });
  });

  it('splits an intermediate bundle into chain and trust bundle', async () => {
    const root = await makeTestCa({ commonName: 'root' });
    const mid = await makeTestCa({
      commonName: 'intermediate',
      parent: root,
      key: { algorithm: 'ECDSA', size: 384 },
    });
    const ca = await CertificateAuthority.load({
      certPem: `${mid.certPem}${root.certPem}`,
      keyPem: mid.keyPem,
    });
    expect(ca.chainPem).toBe(mid.certPem);
    expect(ca.caBundlePem).toBe(root.certPem);
    expect(ca.certificate.subject).toBe('CN=intermediate');
  });

  it.each([
    {
      name: 'no certificate',
      make: async () => ({ certPem: '', keyPem: (await makeTestCa()).keyPem }),
      want: /contains no CERTIFICATE/,
      setting: 'CA_CERT_FILE',
    },
    {
      name: 'a broken certificate',
      make: async () => ({
        certPem: '-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n',
        keyPem: (await makeTestCa()).keyPem,
      }),
      want: /certificate 1 is not valid X.509/,
      setting: 'CA_CERT_FILE',
    },
    {
      name: 'a key that is no key',
      make: async () => ({ certPem: (await makeTestCa()).certPem, keyPem: 'secret garbage' }),
      want: /not an unencrypted PEM private key/,
      setting: 'CA_KEY_FILE',
    },
    {
      name: 'a key of another CA',
      make: async () => ({ certPem: (await makeTestCa()).certPem, keyPem: (await makeTestCa()).keyPem }),
      want: /does not match the public key/,
      setting: 'CA_KEY_FILE',
    },
    {
      name: 'a leaf certificate',
      make: () => makeTestCa({ isCA: false }),
      want: /is not a CA certificate/,
      setting: 'CA_CERT_FILE',
    },
    {
      name: 'a CA without keyCertSign',
      make: () => makeTestCa({ keyUsage: KeyUsageFlags.digitalSignature }),
      want: /lacks keyCertSign/,
      setting: 'CA_CERT_FILE',
    },
    {
      name: 'an expired CA',
      make: () =>
        makeTestCa({ notBefore: new Date(Date.now() - 48 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
      want: /expired at/,
      setting: 'CA_CERT_FILE',
    },
    {
      name: 'a CA valid only from tomorrow',
      make: () => makeTestCa({ notBefore: new Date(Date.now() + 24 * HOUR) }),
      want: /is not valid before/,
      setting: 'CA_CERT_FILE',
    },
    {
      name: 'a bundle in root-first order',
      make: async () => {
        const root = await makeTestCa({ commonName: 'root' });
        const mid = await makeTestCa({ commonName: 'mid', parent: root });
        return { certPem: `${root.certPem}${mid.certPem}`, keyPem: root.keyPem };
      },
      want: /is not issued by certificate 2/,
      setting: 'CA_CERT_FILE',
    },
  ])('rejects $name naming $setting', async ({ make, setting, want }) => {
    const { certPem, keyPem } = await make();
    const err = await loadError(certPem, keyPem);
    expect(err.setting).toBe(setting);
    expect(err.message.startsWith(`${setting}: `)).toBe(true);
    expect(err.message).toMatch(want);
    expect(err.message).not.toContain('PRIVATE KEY');
  });

  it('names the file setting when a file cannot be read', async () => {
    await withTempDir(async (dir) => {
      const root = await makeTestCa();
      await writeFile(join(dir, 'ca.key'), root.keyPem);
      const err = await loadCertificateAuthorityFromFiles(
        join(dir, 'missing.crt'),
        join(dir, 'ca.key'),
      ).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).setting).toBe('CA_CERT_FILE');
      expect((err as Error).message).toContain('ENOENT');
    });
  });
});

describe('CaCertificate reads what openssl reads', () => {
  it.each([
    {
      name: 'a multi-RDN RSA CA with keyUsage',
      subj: '/C=DE/O=acme, inc/CN=rsa CA',
      key: ['-newkey', 'rsa:2048'],
      ku: 'critical,keyCertSign,cRLSign',
    },
    {
      name: 'an ECDSA CA without keyUsage',
      subj: '/CN=ec CA',
      key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      ku: undefined,
    },
    {
      name: 'a CA whose keyUsage lacks keyCertSign',
      subj: '/CN=no sign',
      key: ['-newkey', 'ed25519'],
      ku: 'digitalSignature',
    },
  ])('$name', async ({ subj, key, ku }) => {
    await withTempDir(async (dir) => {
      const crt = join(dir, 'ca.crt');
      const made = await openssl(
        ...['req', '-x509', '-nodes', ...key, '-keyout', join(dir, 'ca.key'), '-out', crt],
        ...['-days', '30', '-subj', subj, '-addext', 'basicConstraints=critical,CA:TRUE'],
        ...(ku ? ['-addext', `keyUsage=${ku}`] : []),
      );
      expect(made.code, made.stderr).toBe(0);
      const text = await openssl(
        ...['x509', '-in', crt, '-noout', '-nameopt', 'RFC2253', '-subject', '-startdate', '-enddate'],
        ...['-ext', 'subjectKeyIdentifier,keyUsage,basicConstraints'],
      );
      const line = (prefix: string) =>
        text.stdout
          .split('\n')
          .find((l) => l.startsWith(prefix))
          ?.slice(prefix.length);
      const cert = CaCertificate.parse(await readFile(crt, 'utf8'));
      // RFC 2253 lists the RDNs last first, escaping the comma.
      const rdns = (line('subject=') ?? '').split(/(?<!\\),/).reverse();
      expect(cert.subject).toBe(rdns.join(', '));
      expect(cert.notBefore).toEqual(new Date(line('notBefore=') ?? ''));
      expect(cert.notAfter).toEqual(new Date(line('notAfter=') ?? ''));
      const skiHex = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/
        .exec(text.stdout)?.[1]
        ?.replaceAll(':', '');
      expect(cert.subjectKeyIdentifier()?.toString('hex').toUpperCase()).toBe(skiHex);
      expect(cert.isCA).toBe(/CA:TRUE/.test(text.stdout));
      const usage = cert.keyUsage();
      expect(usage === undefined).toBe(!/Key Usage/.test(text.stdout));
      expect(((usage ?? 0) & KeyUsageFlags.keyCertSign) !== 0).toBe(/Certificate Sign/.test(text.stdout));
      expect(cert.isSelfSigned()).toBe(true);
      expect(cert.toString('pem')).toBe(await readFile(crt, 'utf8'));
    });
  });

  it('tells which certificate issued which, as openssl verify does', async () => {
    const root = await makeTestCa({ commonName: 'root' });
    const other = await makeTestCa({ commonName: 'root' });
    const mid = await makeTestCa({ commonName: 'mid', parent: root });
    const [r, o, m] = [root, other, mid].map((c) => CaCertificate.parse(c.certPem)) as [
      CaCertificate,
      CaCertificate,
      CaCertificate,
    ];
    expect(m.isIssuedBy(r)).toBe(true);
    expect(m.isIssuedBy(o)).toBe(false); // same name, another key
    expect(r.isIssuedBy(m)).toBe(false);
    expect(m.isSelfSigned()).toBe(false);
    const verify = await withFiles({ 'root.pem': root.certPem, 'mid.pem': mid.certPem }, (p) =>
      openssl('verify', '-CAfile', p['root.pem'] as string, p['mid.pem'] as string),
    );
    expect(verify.code, verify.stderr).toBe(0);
  });
});
