import { describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../issuer/certificate-authority.js';
import { makeCsr, makeTestCa, signRequest } from '../issuer/testing/ca-fixtures.js';
import { signCsr } from '../issuer/signer.js';
import { DEFAULT_SIGNING_POLICY } from '../issuer/signing-policy.js';
import { certificateExtensions } from './certificate-extensions.js';
import { describeCertificate } from './certificate-info.js';
import { firstPemBlock } from './pem.js';
import { KEY_USAGE_FLAGS, resolveUsages } from './usages.js';

/** The same facts through @peculiar/x509 (describeCertificate), the reference reader. */
function reference(pem: string) {
  const info = describeCertificate(pem);
  const flags = resolveUsages(info.usages.filter((u) => u in KEY_USAGE_FLAGS)).keyUsage;
  return {
    sans: [
      ...info.dnsNames.map((value) => ({ type: 'dns', value })),
      ...info.ipAddresses.map((value) => ({ type: 'ip', value })),
      ...info.uris.map((value) => ({ type: 'uri', value })),
      ...info.emails.map((value) => ({ type: 'email', value })),
    ],
    keyUsage: flags,
    isCA: info.isCA,
  };
}

describe('certificateExtensions', () => {
  it.each([
    { name: 'a CA (keyCertSign, cRLSign, cA)', make: async () => (await makeTestCa()).certPem },
    { name: 'a CA without KeyUsage', make: async () => (await makeTestCa({ keyUsage: null })).certPem },
    {
      name: 'a leaf with DNS, IP, URI and email SANs and three usages',
      make: async () => {
        const ca = await makeTestCa();
        const authority = await CertificateAuthority.load({ certPem: ca.certPem, keyPem: ca.keyPem });
        const { csrPem } = await makeCsr({
          dnsNames: ['web-0', 'web-0.default'],
          ipAddresses: ['10.0.0.7', 'fd00::7'],
          uris: ['spiffe://cluster.local/ns/default/sa/web'],
          emailAddresses: ['web@example.org'],
        });
        const policy = { ...DEFAULT_SIGNING_POLICY, maxSans: 10 };
        return (
          await signCsr(
            authority,
            policy,
            signRequest(csrPem, { usages: ['signing', 'key agreement', 'client auth'] }),
          )
        ).certificatePem;
      },
    },
  ])('reads $name as @peculiar/x509 does', async ({ make }) => {
    const pem = await make();
    const got = certificateExtensions(firstPemBlock(pem, 'CERTIFICATE'));
    const want = reference(pem);
    expect(got.isCA).toBe(want.isCA);
    expect(got.keyUsage).toBe(want.keyUsage);
    expect([...got.sans].sort((a, b) => a.value.localeCompare(b.value))).toEqual(
      [...want.sans].sort((a, b) => a.value.localeCompare(b.value)),
    );
    expect(got.extendedKeyUsages).toEqual(
      describeCertificate(pem).usages.includes('client auth') ? ['1.3.6.1.5.5.7.3.2'] : [],
    );
  });
});
