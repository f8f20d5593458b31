import { describe, expect, it } from 'vitest';
import type { CertificateRequest } from './certificate-request.js';
import { parseKeyPolicy, type KeyPolicy } from './key-policy.js';
import { RULES, decide, type ApproverPolicy } from './rules.js';
import {
  RULE_CASE_CONTEXT,
  RULE_CASES,
  requesterUsername,
  ruleCaseSpec,
  testCr,
  testCsr,
} from './testing.js';

const keys = parseKeyPolicy('ECDSA-256,ECDSA-384') as KeyPolicy;
const POLICY: ApproverPolicy = {
  issuerRef: { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
  trustDomain: 'example.org',
  durationSeconds: 3600,
  keys,
};
const CTX = RULE_CASE_CONTEXT;

async function crOf(i: number): Promise<CertificateRequest> {
  const rc = RULE_CASES[i]!;
  const spec = await ruleCaseSpec(rc, CTX, '1h');
  return {
    metadata: { name: 'cr', namespace: CTX.namespace },
    spec: { ...spec, issuerRef: { ...POLICY.issuerRef }, username: requesterUsername(rc, CTX) },
  };
}

describe('decide', () => {
  it.each(RULE_CASES.map((rc, i) => ({ ...rc, i })))('$name → $want', async ({ i, want }) => {
    const d = decide(await crOf(i), POLICY);
    if (want === 'approve') {
      expect(d).toMatchObject({ action: 'approve', spiffeId: 'spiffe://example.org/ns/shop/sa/web' });
    } else {
      expect(d).toMatchObject({ action: 'deny', rule: want });
      expect(d.action === 'deny' && d.message).toMatch(new RegExp(`^Denied by rule ${want}: `));
    }
  });

  it('has a case that denies by every rule', () => {
    const covered = new Set(RULE_CASES.map((c) => c.want));
    expect(RULES.filter((r) => !covered.has(r))).toEqual([]);
  });

  it('accepts a duration spelled differently (60m = 1h) and usages in another order', async () => {
    const csrPem = await testCsr({ sans: [{ type: 'uri', value: 'spiffe://example.org/ns/shop/sa/web' }] });
    const cr = testCr({
      namespace: 'shop',
      name: 'x',
      csrPem,
      issuerRef: { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      username: 'system:serviceaccount:shop:web',
      duration: '60m',
      usages: ['client auth', 'server auth', 'key encipherment', 'digital signature'],
    });
    expect(decide(cr, POLICY).action).toBe('approve');
    expect(
      decide({ ...cr, spec: { ...cr.spec, usages: [...cr.spec!.usages!, 'server auth'] } }, POLICY),
    ).toMatchObject({
      rule: 'usages',
    });
  });

  it('cuts a denial message that quotes a huge value', async () => {
    const cr = await crOf(0);
    const d = decide({ ...cr, spec: { ...cr.spec, username: 'x'.repeat(5000) } }, POLICY);
    expect(d).toMatchObject({ action: 'deny', rule: 'username' });
    expect(d.action === 'deny' && d.message.length).toBe(1024);
  });

  it.each([
    { name: 'another issuer name', ref: { name: 'other', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
    {
      name: 'an Issuer of the same name',
      ref: { name: 'spiffe-ca', kind: 'Issuer', group: 'cert-manager.io' },
    },
    { name: 'another group', ref: { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'example.org' } },
  ])('ignores a request for $name', async ({ ref }) => {
    const cr = await crOf(0);
    expect(decide({ ...cr, spec: { ...cr.spec, issuerRef: ref } }, POLICY)).toEqual({
      action: 'ignore',
      why: 'other-issuer',
    });
  });

  it('treats an empty issuerRef kind as Issuer and an empty group as cert-manager.io', async () => {
    const cr = await crOf(0);
    const policy = { ...POLICY, issuerRef: { name: 'spiffe-ca', kind: 'Issuer', group: 'cert-manager.io' } };
    expect(decide({ ...cr, spec: { ...cr.spec, issuerRef: { name: 'spiffe-ca' } } }, policy).action).toBe(
      'approve',
    );
  });

  it.each(['Approved', 'Denied'])('leaves a request already %s alone, even a bad one', async (type) => {
    const cr = await crOf(1);
    const decided = { ...cr, status: { conditions: [{ type, status: 'True' as const, reason: 'someone' }] } };
    expect(decide(decided, POLICY)).toEqual({ action: 'ignore', why: 'already-decided' });
  });
});

describe('parseKeyPolicy', () => {
  it.each([
    ['ECDSA-256', { ecdsaSizes: [256], ed25519: false }],
    ['RSA-3072, Ed25519', { ecdsaSizes: [], rsaMinBits: 3072, ed25519: true }],
  ])('%s', (text, want) => expect(parseKeyPolicy(text)).toEqual(want));

  it.each(['', 'ECDSA-255', 'RSA-1024', 'RSA-2048,RSA-4096', 'DSA-2048'])('refuses %j', (text) =>
    expect(typeof parseKeyPolicy(text)).toBe('string'),
  );
});
