import { describe, expect, it } from 'vitest';
import { FailedPreconditionError } from '../common/errors.js';
import type { KeyShape } from '../pki/keys.js';
import { encodePrivateKey } from '../pki/keys.js';
import { testSpec, withFiles, openssl } from '../pki/testing/openssl.js';
import { CertificateAuthority } from './certificate-authority.js';
import { DEFAULT_SIGNING_POLICY } from './signing-policy.js';
import { CLOCK_SKEW_MS, randomSerial, signCsr, type SignedCertificate } from './signer.js';
import { makeCsr, makeTestCa, signRequest, type TestCa } from './testing/ca-fixtures.js';

const NOW = new Date();
const S = (ms: number): number => Math.floor(ms / 1000) * 1000;

async function loadCa(ca: TestCa, bundle = ca.certPem): Promise<CertificateAuthority> {
  return CertificateAuthority.load({ certPem: bundle, keyPem: ca.keyPem });
}

/** `openssl verify` of the leaf against the trust bundle (and the chain as untrusted intermediates), plus its text. */
async function inspect(
  signed: SignedCertificate,
  keyPem: string,
): Promise<{ verify: string; text: string; keyMatches: boolean }> {
  const files = {
    'leaf.pem': signed.certificatePem,
    'ca.pem': signed.caBundlePem,
    'chain.pem': signed.chainPem || signed.caBundlePem,
    'key.pem': keyPem,
  };
  return withFiles(files, async (p) => {
    const verify = await openssl(
      'verify',
      '-CAfile',
      p['ca.pem'] as string,
      '-untrusted',
      p['chain.pem'] as string,
      p['leaf.pem'] as string,
    );
    const text = await openssl(
      'x509',
      '-in',
      p['leaf.pem'] as string,
      '-noout',
      '-text',
      '-serial',
      '-startdate',
      '-enddate',
    );
    const certKey = await openssl('x509', '-in', p['leaf.pem'] as string, '-noout', '-pubkey');
    const ownKey = await openssl('pkey', '-in', p['key.pem'] as string, '-pubout');
    return {
      verify: `${verify.stdout}${verify.stderr}`,
      text: text.stdout,
      keyMatches: certKey.stdout === ownKey.stdout && ownKey.code === 0,
    };
  });
}

const EC = (size: 256 | 384 | 521): KeyShape => ({ algorithm: 'ECDSA', size });
const RSA_2048: KeyShape = { algorithm: 'RSA', size: 2048 };
const ED25519: KeyShape = { algorithm: 'Ed25519', size: 0 };

const combos: { ca: KeyShape; leaf: KeyShape; sigAlg: string }[] = [
  { ca: EC(256), leaf: EC(256), sigAlg: 'ecdsa-with-SHA256' },
  { ca: EC(384), leaf: RSA_2048, sigAlg: 'ecdsa-with-SHA384' },
  { ca: EC(521), leaf: ED25519, sigAlg: 'ecdsa-with-SHA512' },
  { ca: RSA_2048, leaf: EC(384), sigAlg: 'sha256WithRSAEncryption' },
  { ca: ED25519, leaf: EC(521), sigAlg: 'ED25519' },
];

describe('signCsr', () => {
  it.each(combos)(
    '$ca.algorithm $ca.size CA signs a $leaf.algorithm $leaf.size CSR',
    async ({ ca: caKey, leaf, sigAlg }) => {
      const ca = await loadCa(await makeTestCa({ key: caKey }));
      const spec = {
        dnsNames: ['web-0', 'web-0.default.svc'],
        ipAddresses: ['10.0.0.7', '2001:db8::7'],
        uris: ['spiffe://td/ns/default/sa/web'],
      };
      const { csrPem, keys } = await makeCsr(spec, leaf);
      const usages = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
      const signed = await signCsr(
        ca,
        DEFAULT_SIGNING_POLICY,
        signRequest(csrPem, { durationSeconds: 7200, usages }),
        NOW,
      );
      const { verify, text, keyMatches } = await inspect(signed, encodePrivateKey(keys.privateKey, 'PKCS8'));

      expect(verify).toMatch(/leaf\.pem: OK/);
      expect(keyMatches).toBe(true);
      expect(text).toContain(`Signature Algorithm: ${sigAlg}`);
      expect(text).toContain('Subject: CN = web-0.default.svc.cluster.local');
      expect(text).toContain(
        'DNS:web-0, DNS:web-0.default.svc, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:7, URI:spiffe://td/ns/default/sa/web',
      );
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
      expect(text).toMatch(
        /Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication\n/,
      );
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/Subject Key Identifier/);
      expect(text).toMatch(/Authority Key Identifier/);
      expect(text).toContain(`serial=${signed.serialHex.toUpperCase()}`);
      const notBefore = new Date(/notBefore=(.*)/.exec(text)?.[1] ?? '');
      const notAfter = new Date(/notAfter=(.*)/.exec(text)?.[1] ?? '');
      expect(notBefore).toEqual(signed.notBefore);
      expect(notAfter).toEqual(signed.notAfter);
      expect(signed.notBefore.getTime()).toBe(S(NOW.getTime() - CLOCK_SKEW_MS));
      expect(signed.notAfter.getTime()).toBe(S(NOW.getTime() + 7200_000));
      expect(signed.chainPem).toBe('');
      expect(signed.notices).toEqual([]);
    },
  );

  it('issues from an intermediate: chain holds it, the bundle holds the root', async () => {
    const root = await makeTestCa({ commonName: 'root', key: { algorithm: 'RSA', size: 2048 } });
    const mid = await makeTestCa({ commonName: 'intermediate', parent: root });
    const ca = await loadCa(mid, `${mid.certPem}${root.certPem}`);
    const { csrPem, keys } = await makeCsr();
    const signed = await signCsr(ca, DEFAULT_SIGNING_POLICY, signRequest(csrPem), NOW);
    expect(signed.chainPem).toBe(mid.certPem);
    expect(signed.caBundlePem).toBe(root.certPem);
    const { verify, text } = await inspect(signed, encodePrivateKey(keys.privateKey, 'PKCS8'));
    expect(verify).toMatch(/leaf\.pem: OK/);
    expect(text).toContain('Issuer: CN = intermediate');
  });

  it('caps notAfter at the CA expiry and clamps long durations, with notices', async () => {
    const ca = await loadCa(await makeTestCa({ notAfter: new Date(NOW.getTime() + 3600_000) }));
    const signed = await signCsr(
      ca,
      DEFAULT_SIGNING_POLICY,
      signRequest((await makeCsr()).csrPem, { durationSeconds: 90 * 86400 }),
      NOW,
    );
    expect(signed.notAfter.getTime()).toBe(S(ca.notAfter.getTime()));
    expect(signed.notices).toHaveLength(2);
  });

  it('refuses to sign once the CA has expired', async () => {
    const ca = await loadCa(await makeTestCa({ notAfter: new Date(NOW.getTime() + 3600_000) }));
    const later = new Date(NOW.getTime() + 2 * 3600_000);
    const err = await signCsr(ca, DEFAULT_SIGNING_POLICY, signRequest((await makeCsr()).csrPem), later).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(FailedPreconditionError);
  });

  it('issues a CA certificate when policy and request both allow it', async () => {
    const ca = await loadCa(await makeTestCa());
    const { csrPem, keys } = await makeCsr();
    const policy = { ...DEFAULT_SIGNING_POLICY, allowCA: true };
    const signed = await signCsr(
      ca,
      policy,
      signRequest(csrPem, { isCA: true, usages: ['digital signature'] }),
      NOW,
    );
    const { text, verify } = await inspect(signed, encodePrivateKey(keys.privateKey, 'PKCS8'));
    expect(verify).toMatch(/OK/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign/);
  });

  it('ignores what the CSR asks for beyond subject and SANs', async () => {
    const ca = await loadCa(await makeTestCa());
    const { csrPem, keys } = await makeCsr({ isCA: true, usages: ['cert sign', 'code signing'] });
    const signed = await signCsr(
      ca,
      DEFAULT_SIGNING_POLICY,
      signRequest(csrPem, { usages: ['client auth'] }),
      NOW,
    );
    const { text } = await inspect(signed, encodePrivateKey(keys.privateKey, 'PKCS8'));
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/Extended Key Usage: \s+TLS Web Client Authentication\n/);
    expect(text).not.toMatch(/Key Usage: critical/);
  });

  it('marks SANs critical when the subject is empty', async () => {
    const ca = await loadCa(await makeTestCa());
    const { csrPem, keys } = await makeCsr({ subject: { ...testSpec().subject, commonName: undefined } });
    const signed = await signCsr(ca, DEFAULT_SIGNING_POLICY, signRequest(csrPem), NOW);
    const { text, verify } = await inspect(signed, encodePrivateKey(keys.privateKey, 'PKCS8'));
    expect(verify).toMatch(/OK/);
    expect(text).toMatch(/Subject Alternative Name: critical\s+DNS:web-0/);
  });

  it('draws every serial from fresh random bytes across refills of its pool', () => {
    const serials = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const serial = randomSerial();
      expect(serial).toHaveLength(16);
      expect(serial[0]! & 0x80).toBe(0);
      expect(serial[0]).not.toBe(0);
      serials.add(serial.toString('hex'));
    }
    expect(serials.size).toBe(1_000);
  });

  it('uses unique, positive 16-byte serials', async () => {
    const ca = await loadCa(await makeTestCa());
    const { csrPem } = await makeCsr();
    const serials = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { serialHex } = await signCsr(ca, DEFAULT_SIGNING_POLICY, signRequest(csrPem), NOW);
      expect(serialHex).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(serialHex.startsWith('00')).toBe(false);
      serials.add(serialHex);
    }
    expect(serials.size).toBe(200);
  });
});
