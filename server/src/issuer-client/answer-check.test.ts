import { describe, expect, it } from 'vitest';
import { thrownBy } from '../common/testing.js';
import { CertificateAuthority } from '../issuer/certificate-authority.js';
import { makeTestCa } from '../issuer/testing/ca-fixtures.js';
import { signCsr } from '../issuer/signer.js';
import { DEFAULT_SIGNING_POLICY } from '../issuer/signing-policy.js';
import { buildCsr } from '../pki/csr.js';
import {
  basicConstraintsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  subjectAltNameExtension,
} from '../pki/extensions.js';
import { generateKey, type KeyPair } from '../pki/keys.js';
import { subjectNameDer, type GeneralName } from '../pki/names.js';
import { joinPem } from '../pki/pem.js';
import { testSpec } from '../pki/testing/openssl.js';
import { EXTENDED_KEY_USAGE_OIDS, KeyUsageFlags } from '../pki/usages.js';
import { checkIssuerAnswer, IssuerAnswerError } from './answer-check.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';
import { VerifyingIssuer } from './verifying-issuer.js';

const HOUR = 3600_000;
const spec = testSpec();
const pod = { name: 'web-0', namespace: 'default', uid: 'uid-1', serviceAccount: 'web' };

/** The cluster CA, a rogue CA, the pod's key and another one, and a request with the pod's key. */
async function fixtures() {
  const caPem = await makeTestCa({ commonName: 'cluster CA' });
  const ca = await CertificateAuthority.load({ certPem: caPem.certPem, keyPem: caPem.keyPem });
  const r = await makeTestCa({ commonName: 'rogue CA' });
  const rogue = await CertificateAuthority.load({ certPem: r.certPem, keyPem: r.keyPem });
  const keys = await generateKey({ algorithm: 'ECDSA', size: 256 });
  const other = await generateKey({ algorithm: 'ECDSA', size: 256 });
  const req: SignRequest = {
    csrPem: await buildCsr(spec, keys),
    pod,
    nodeId: 'n1',
    volumeId: 'vol-1',
    durationSeconds: 3600,
    isCA: false,
    usages: spec.usages,
  };
  return { caPem, ca, rogue, keys, other, req };
}
const { caPem, ca, rogue, keys, other, req } = await fixtures();

/** A leaf like the issuer's, with one property changed. */
interface Leaf {
  by?: () => CertificateAuthority;
  key?: () => KeyPair;
  commonName?: string;
  sans?: GeneralName[];
  keyUsage?: number;
  ekus?: string[];
  isCA?: boolean;
  notBefore?: number;
  notAfter?: number;
}

function leaf(o: Leaf = {}): SignedCertificate {
  const signer = (o.by ?? (() => ca))();
  const spki = (o.key ?? (() => keys))().publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const san = subjectAltNameExtension(o.sans ?? [{ type: 'dns', value: 'web-0' }], false);
  const der = signer.signCertificate({
    serial: Buffer.from([1, 2, 3]),
    subjectDer: subjectNameDer({ ...spec.subject, commonName: o.commonName ?? spec.subject.commonName }),
    spkiDer: spki,
    notBefore: new Date(o.notBefore ?? now - 60_000),
    notAfter: new Date(o.notAfter ?? now + HOUR),
    extensions: [
      basicConstraintsExtension(o.isCA ?? false),
      keyUsageExtension(o.keyUsage ?? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment),
      extKeyUsageExtension(o.ekus ?? [EXTENDED_KEY_USAGE_OIDS['server auth']!]),
      ...(san ? [san] : []),
    ],
  });
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  return {
    certificatePem: pem,
    chainPem: signer.chainPem,
    caBundlePem: signer.caBundlePem,
    serialHex: '010203',
    notBefore: new Date(now),
    notAfter: new Date(now + HOUR),
  };
}

describe('checkIssuerAnswer', () => {
  it.each<{ name: string; leaf: Leaf; want?: string }>([
    { name: 'good', leaf: {} },
    { name: 'key mismatch', leaf: { key: () => other }, want: 'public key' },
    { name: 'wrong CA', leaf: { by: () => rogue }, want: 'chain' },
    { name: 'wrong SAN', leaf: { sans: [{ type: 'dns', value: 'evil.example' }] }, want: 'subjectAltNames' },
    {
      name: 'extra SAN',
      leaf: {
        sans: [
          { type: 'dns', value: 'web-0' },
          { type: 'ip', value: '10.0.0.1' },
        ],
      },
      want: 'subjectAltNames',
    },
    { name: 'wrong CN', leaf: { commonName: 'kube-apiserver' }, want: 'subject' },
    { name: 'extra EKU', leaf: { ekus: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] }, want: 'usages' },
    {
      name: 'extra key usage bit',
      leaf: {
        keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | KeyUsageFlags.keyCertSign,
      },
      want: 'usages',
    },
    { name: 'CA flag not asked for', leaf: { isCA: true }, want: 'CA flag' },
    { name: 'too long validity', leaf: { notAfter: Date.now() + 3 * HOUR }, want: 'validity' },
    {
      name: 'expired',
      leaf: { notBefore: Date.now() - 3 * HOUR, notAfter: Date.now() - HOUR },
      want: 'validity',
    },
    { name: 'not yet valid', leaf: { notBefore: Date.now() + HOUR }, want: 'validity' },
  ])('$name', ({ leaf: o, want }) => {
    const run = () => checkIssuerAnswer({ req, signed: leaf(o), anchorsPem: ca.caBundlePem });
    if (want === undefined) {
      expect(run).not.toThrow();
      return;
    }
    const err = thrownBy(run, IssuerAnswerError);
    expect(err.mismatch).toBe(want);
    expect(err.code).toBe(13);
    expect(err.message).not.toContain('BEGIN');
  });

  it('accepts what the issuer really signs, through an intermediate too', async () => {
    const root = await makeTestCa({ commonName: 'root' });
    const mid = await makeTestCa({ commonName: 'intermediate', parent: root });
    const midCa = await CertificateAuthority.load({
      certPem: joinPem([mid.certPem, root.certPem]),
      keyPem: mid.keyPem,
    });
    for (const [signer, anchors] of [
      [ca, ca.caBundlePem],
      [midCa, root.certPem],
    ] as const) {
      const signed = await signCsr(signer, DEFAULT_SIGNING_POLICY, req);
      expect(() => checkIssuerAnswer({ req, signed, anchorsPem: anchors })).not.toThrow();
    }
    // Without the intermediate in the chain the leaf does not reach the root.
    const signed = await signCsr(midCa, DEFAULT_SIGNING_POLICY, req);
    expect(() =>
      checkIssuerAnswer({ req, signed: { ...signed, chainPem: '' }, anchorsPem: root.certPem }),
    ).toThrow(/does not chain/);
  });
});

/** An issuer that answers with whatever the test sets. */
class ScriptedIssuer implements Issuer {
  constructor(public answer: () => SignedCertificate) {}
  async sign(): Promise<SignedCertificate> {
    return this.answer();
  }
  async caBundle(): Promise<string> {
    return '';
  }
  close(): void {}
}

describe('VerifyingIssuer', () => {
  function anchors(initial: string | undefined, source: () => string) {
    const a = {
      bundle: initial,
      refreshes: 0,
      current: () => a.bundle,
      refresh: async () => {
        a.refreshes++;
        const next = source();
        const changed = next !== a.bundle;
        a.bundle = next;
        return changed;
      },
    };
    return a;
  }

  it("writes the held bundle, never the answer's own, even when the answer appends a CA", async () => {
    const signed = leaf();
    const extra = joinPem([ca.caBundlePem, rogue.caBundlePem]);
    const a = anchors(ca.caBundlePem, () => ca.caBundlePem);
    const out = await new VerifyingIssuer(
      new ScriptedIssuer(() => ({ ...signed, caBundlePem: extra })),
      a,
    ).sign(req);
    expect(out.caBundlePem).toBe(ca.caBundlePem);
    expect(a.refreshes).toBe(0);
  });

  it('accepts a rotated CA once the bundle source has it, and refuses a CA the source does not vouch for', async () => {
    const rotated = joinPem([caPem.certPem, rogue.caBundlePem]);
    let source = ca.caBundlePem;
    const a = anchors(ca.caBundlePem, () => source);
    const issuer = new VerifyingIssuer(new ScriptedIssuer(() => leaf({ by: () => rogue })), a);
    await expect(issuer.sign(req)).rejects.toThrow(/does not chain to the node's trust bundle/);
    expect(a.refreshes).toBe(1);
    source = rotated; // the issuer published the new CA in GetCABundle (ADR 0007)
    const out = await issuer.sign(req);
    expect(out.caBundlePem).toBe(rotated);
    expect(a.refreshes).toBe(2);
  });

  it('with no bundle held it fetches one first, and is UNAVAILABLE while there is none', async () => {
    const a = anchors(undefined, () => ca.caBundlePem);
    await expect(new VerifyingIssuer(new ScriptedIssuer(() => leaf()), a).sign(req)).resolves.toBeDefined();
    const none = { current: () => undefined, refresh: async () => false };
    await expect(new VerifyingIssuer(new ScriptedIssuer(() => leaf()), none).sign(req)).rejects.toMatchObject(
      {
        code: 14,
      },
    );
  });

  it('without anchors (cert-manager mode) checks the chain against the CA the answer names', async () => {
    const good = new VerifyingIssuer(new ScriptedIssuer(() => leaf()));
    await expect(good.sign(req)).resolves.toBeDefined();
    const lying = new VerifyingIssuer(
      new ScriptedIssuer(() => ({ ...leaf({ by: () => rogue }), caBundlePem: ca.caBundlePem })),
    );
    await expect(lying.sign(req)).rejects.toThrow(IssuerAnswerError);
    const wrongKey = new VerifyingIssuer(
      new ScriptedIssuer(() => ({ ...leaf({ key: () => other }), caBundlePem: '' })),
    );
    await expect(wrongKey.sign(req)).rejects.toThrow(/public key/);
  });
});
