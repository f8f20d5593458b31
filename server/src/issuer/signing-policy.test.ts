import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, PermissionDeniedError, type DomainError } from '../common/errors.js';
import { buildCsr } from '../pki/csr.js';
import { openssl, opensslCsr, testSpec, withFiles } from '../pki/testing/openssl.js';
import { PolicyError } from './errors.js';
import {
  checkRequest,
  DEFAULT_SIGNING_POLICY,
  type PolicyRequest,
  type SigningPolicy,
} from './signing-policy.js';
import { makeCsr, signRequest } from './testing/ca-fixtures.js';

async function rsa1024Csr(): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return buildCsr(testSpec(), { privateKey, publicKey });
}

function tamper(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.indexOf(Buffer.from('web-0'))] = 0x78;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

interface RejectCase {
  name: string;
  req: () => Promise<PolicyRequest>;
  policy?: Partial<SigningPolicy>;
  errorClass: abstract new (...args: never[]) => DomainError;
  /** InvalidArgumentError: the field; PolicyError: the rule. */
  names?: string;
}

const ok = async (o: Partial<PolicyRequest> = {}): Promise<PolicyRequest> => ({
  ...signRequest((await makeCsr()).csrPem),
  ...o,
});

const rejections: RejectCase[] = [
  {
    name: 'garbage CSR',
    req: () => ok({ csrPem: 'nope' }),
    errorClass: InvalidArgumentError,
    names: 'csr_pem',
  },
  {
    name: 'tampered CSR',
    req: async () => ok({ csrPem: tamper((await makeCsr()).csrPem) }),
    errorClass: InvalidArgumentError,
    names: 'csr_pem',
  },
  {
    name: 'RSA when only ECDSA is allowed',
    req: async () => ok({ csrPem: (await makeCsr({}, { algorithm: 'RSA', size: 2048 })).csrPem }),
    policy: { allowedKeyAlgorithms: ['ECDSA'] },
    errorClass: PolicyError,
    names: 'allowedKeyAlgorithms',
  },
  {
    name: 'RSA below the configured minimum',
    req: async () => ok({ csrPem: (await makeCsr({}, { algorithm: 'RSA', size: 2048 })).csrPem }),
    policy: { minRsaBits: 3072 },
    errorClass: PolicyError,
    names: 'minRsaBits',
  },
  {
    name: 'RSA 1024 under the default policy',
    req: async () => ok({ csrPem: await rsa1024Csr() }),
    errorClass: PolicyError,
    names: 'minRsaBits',
  },
  {
    name: 'a secp256k1 key',
    req: async () =>
      ok({
        csrPem: await opensslCsr(
          ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
          'subjectAltName=DNS:x',
        ),
      }),
    errorClass: PolicyError,
    names: 'allowedKeyAlgorithms',
  },
  {
    name: 'duration 0',
    req: () => ok({ durationSeconds: 0 }),
    errorClass: InvalidArgumentError,
    names: 'duration_seconds',
  },
  {
    name: 'duration below the minimum',
    req: () => ok({ durationSeconds: 59 }),
    errorClass: InvalidArgumentError,
    names: 'duration_seconds',
  },
  {
    name: 'fractional duration',
    req: () => ok({ durationSeconds: 90.5 }),
    errorClass: InvalidArgumentError,
    names: 'duration_seconds',
  },
  {
    name: 'too many SANs',
    req: async () => ok({ csrPem: (await makeCsr({ dnsNames: ['a', 'b', 'c'] })).csrPem }),
    policy: { maxSans: 2 },
    errorClass: PolicyError,
    names: 'maxSans',
  },
  { name: 'a CA when CAs are not allowed', req: () => ok({ isCA: true }), errorClass: PermissionDeniedError },
  {
    name: 'an unknown usage',
    req: () => ok({ usages: ['everything'] }),
    errorClass: InvalidArgumentError,
    names: 'usages',
  },
  {
    name: 'neither subject nor SANs',
    req: async () =>
      ok({
        csrPem: (await makeCsr({ subject: { ...testSpec().subject, commonName: undefined }, dnsNames: [] }))
          .csrPem,
      }),
    errorClass: InvalidArgumentError,
    names: 'csr_pem',
  },
  {
    name: 'an otherName SAN',
    req: async () =>
      ok({
        csrPem: await opensslCsr(['-newkey', 'ed25519'], 'subjectAltName=DNS:x,otherName:1.2.3.4;UTF8:x'),
      }),
    errorClass: InvalidArgumentError,
    names: 'csr_pem',
  },
];

describe('checkRequest', () => {
  it.each(rejections)('rejects $name', async ({ req, policy, errorClass, names }) => {
    const request = await req();
    let err: unknown;
    try {
      checkRequest({ ...DEFAULT_SIGNING_POLICY, ...policy }, request);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(errorClass);
    if (err instanceof InvalidArgumentError) expect(err.field).toBe(names);
    if (err instanceof PolicyError) expect(err.rule).toBe(names);
  });

  it('accepts a good request and keeps its duration', async () => {
    const checked = checkRequest(DEFAULT_SIGNING_POLICY, await ok({ durationSeconds: 7200 }));
    expect(checked.durationSeconds).toBe(7200);
    expect(checked.notices).toEqual([]);
    expect(checked.key).toEqual({ algorithm: 'ECDSA', size: 256 });
    expect(checked.sans).toEqual([{ type: 'dns', value: 'web-0' }]);
  });

  it('clamps a duration above the maximum and says so', async () => {
    const checked = checkRequest(DEFAULT_SIGNING_POLICY, await ok({ durationSeconds: 90 * 86400 }));
    expect(checked.durationSeconds).toBe(DEFAULT_SIGNING_POLICY.maxDurationSeconds);
    expect(checked.notices).toEqual([`duration 7776000s clamped to the policy maximum 2592000s`]);
  });

  it('accepts a CA when the policy allows it, and the CA flag survives the check', async () => {
    const policy = { ...DEFAULT_SIGNING_POLICY, allowCA: true };
    expect(checkRequest(policy, await ok({ isCA: true })).isCA).toBe(true);
    expect(checkRequest(policy, await ok({ isCA: false })).isCA).toBe(false);
  });

  const catchDomain = (fn: () => unknown): DomainError => {
    try {
      fn();
    } catch (e) {
      return e as DomainError;
    }
    throw new Error('expected a refusal');
  };
  const subject = (o: { organizations?: string[]; commonName?: string }) => ({
    commonName: o.commonName ?? 'web-0.default.svc.cluster.local',
    organizations: o.organizations ?? [],
    organizationalUnits: [],
    countries: [],
    provinces: [],
    localities: [],
    streetAddresses: [],
    postalCodes: [],
  });

  it.each([
    { name: 'O=system:masters', s: { organizations: ['system:masters'] } },
    { name: 'O=system:nodes among others', s: { organizations: ['acme', 'system:nodes'] } },
    { name: 'O=SYSTEM:Masters (any case)', s: { organizations: ['SYSTEM:Masters'] } },
    { name: 'CN=system:node:worker-1', s: { commonName: 'system:node:worker-1' } },
    { name: 'CN=system:kube-controller-manager', s: { commonName: 'system:kube-controller-manager' } },
  ])('refuses $name with PERMISSION_DENIED by default, signs it when allowed', async ({ s: subj }) => {
    const { csrPem } = await makeCsr({ subject: subject(subj) });
    const req = { csrPem, durationSeconds: 3600, isCA: false, usages: ['client auth'] };
    const err = catchDomain(() => checkRequest(DEFAULT_SIGNING_POLICY, req));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toMatch(/system:.*ALLOW_SYSTEM_SUBJECTS/);
    expect(checkRequest({ ...DEFAULT_SIGNING_POLICY, allowSystemSubjects: true }, req).csr).toBeDefined();
  });

  // Subjects only OpenSSL makes here: BMPString values (string_mask) and a multi-valued RDN.
  it.each([
    {
      name: 'CN=system:masters as a BMPString',
      subj: '/CN=system:masters',
      mask: 'MASK:0x800',
      multi: false,
    },
    {
      name: 'O=system:masters inside a multi-valued RDN',
      subj: '/CN=web+O=system:masters',
      mask: 'utf8only',
      multi: true,
    },
  ])('refuses $name (subject made by openssl)', async ({ subj, mask, multi }) => {
    const csrPem = await withFiles(
      { 'req.cnf': `[req]\ndistinguished_name = dn\nstring_mask = ${mask}\n[dn]\n` },
      async (p) => {
        const r = await openssl(
          ...['req', '-new', '-config', p['req.cnf'] as string, '-newkey', 'ec', '-pkeyopt'],
          ...['ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', subj],
          ...(multi ? ['-multivalue-rdn'] : []),
        );
        if (r.code !== 0) throw new Error(r.stderr);
        return r.stdout;
      },
    );
    const req = { csrPem, durationSeconds: 3600, isCA: false, usages: ['client auth'] };
    const err = catchDomain(() => checkRequest(DEFAULT_SIGNING_POLICY, req));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toMatch(/'system:masters' starts with "system:"/);
  });

  it.each([
    { name: 'O=acme', s: { organizations: ['acme'] } },
    { name: 'O=systems-team (no colon)', s: { organizations: ['systems-team'] } },
    { name: 'O=team:system: (not a prefix)', s: { organizations: ['team:system:'] } },
  ])('signs $name', async ({ s: subj }) => {
    const { csrPem } = await makeCsr({ subject: subject(subj) });
    const req = { csrPem, durationSeconds: 3600, isCA: false, usages: ['client auth'] };
    expect(checkRequest(DEFAULT_SIGNING_POLICY, req).csr).toBeDefined();
  });

  it('applies cert-manager default usages when none are requested', async () => {
    expect(checkRequest(DEFAULT_SIGNING_POLICY, await ok({ usages: [] })).usages).toEqual({
      keyUsage: 5,
      extendedKeyUsages: [],
    });
  });
});
