/**
 * Test support (unit and e2e): PKCS#10 requests with exactly the flaws a rule looks for, and
 * CertificateRequest objects around them. Built with the project's DER codec so a test can ask for
 * what the node's CSR builder never produces (a stray extension, a broken signature).
 */
import * as der from '../pki/der.js';
import {
  basicConstraintsExtension,
  extKeyUsageExtension,
  extension,
  keyUsageExtension,
  subjectAltNameExtension,
} from '../pki/extensions.js';
import { generateKey, keySpecOf, type KeyPair, type KeyShape } from '../pki/keys.js';
import { subjectNameDer, type GeneralName } from '../pki/names.js';
import { toPem } from '../pki/pem.js';
import { signWith, signatureSchemeOf } from '../pki/signing-keys.js';
import { EXTENDED_KEY_USAGE_OIDS, KeyUsageFlags } from '../pki/usages.js';
import type { CertificateRequest, IssuerRef } from './certificate-request.js';
import { SPIFFE_USAGES, type Rule } from './rules.js';
import { emptySubject } from '../attributes/certificate-spec.js';

export interface TestCsrOptions {
  /** Default ECDSA P-256. */
  key?: KeyShape;
  keys?: KeyPair;
  commonName?: string;
  sans?: GeneralName[];
  /** KeyUsage bits; default digital signature + key encipherment. */
  keyUsage?: number;
  /** EKU OIDs; default server auth + client auth. */
  ekus?: string[];
  isCA?: boolean;
  /** Extra raw Extension encodings. */
  extra?: Buffer[];
  breakSignature?: boolean;
}

export async function testCsr(o: TestCsrOptions = {}): Promise<string> {
  const keys = o.keys ?? (await generateKey(o.key ?? { algorithm: 'ECDSA', size: 256 }));
  const subject = subjectNameDer({
    commonName: o.commonName,
    ...emptySubject(),
  });
  const san = subjectAltNameExtension(o.sans ?? [], o.commonName === undefined);
  const extensions = [
    ...(san ? [san] : []),
    keyUsageExtension(o.keyUsage ?? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment),
    extKeyUsageExtension(
      o.ekus ?? [EXTENDED_KEY_USAGE_OIDS['server auth']!, EXTENDED_KEY_USAGE_OIDS['client auth']!],
    ),
    basicConstraintsExtension(o.isCA ?? false),
    ...(o.extra ?? []),
  ];
  const info = der.sequence(
    der.smallInteger(0),
    subject,
    keys.publicKey.export({ type: 'spki', format: 'der' }),
    der.context(
      0,
      true,
      der.sequence(der.oid('1.2.840.113549.1.9.14'), der.setOf(der.sequence(...extensions))),
    ),
  );
  const scheme = signatureSchemeOf(keySpecOf(keys.privateKey));
  const signature = signWith(keys.privateKey, scheme, info);
  if (o.breakSignature) signature[signature.length - 1]! ^= 0xff;
  return toPem(
    der.sequence(info, scheme.algorithmIdentifier, der.bitString(signature)),
    'CERTIFICATE REQUEST',
  );
}

/** A raw Extension (e.g. an unknown OID) for `TestCsrOptions.extra`. */
export function rawExtension(oid: string, value: Buffer = der.NULL): Buffer {
  return extension(oid, false, value);
}

export interface TestCrOptions {
  namespace: string;
  name: string;
  csrPem: string;
  issuerRef: IssuerRef;
  username?: string | undefined;
  duration?: string | undefined;
  usages?: string[] | undefined;
  isCA?: boolean | undefined;
}

/** A CertificateRequest as the node would create it (SPIFFE usages unless given). */
export function testCr(o: TestCrOptions): CertificateRequest {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'CertificateRequest',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      request: Buffer.from(o.csrPem).toString('base64'),
      issuerRef: { ...o.issuerRef },
      ...(o.duration === undefined ? {} : { duration: o.duration }),
      usages: o.usages ?? [...SPIFFE_USAGES],
      ...(o.isCA === undefined ? {} : { isCA: o.isCA }),
      ...(o.username === undefined ? {} : { username: o.username }),
    },
  };
}

/** Who a rule case's request claims to come from (spec.username). */
export type Requester = 'self' | 'other-namespace' | 'not-a-service-account';

export interface RuleCaseContext {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
  /** Namespace and service account of the `other-namespace` requester. */
  otherNamespace: string;
  otherServiceAccount: string;
}

/** The context both the unit table and the end-to-end suite run the rule cases in. */
export const RULE_CASE_CONTEXT: RuleCaseContext = {
  trustDomain: 'example.org',
  namespace: 'shop',
  serviceAccount: 'web',
  otherNamespace: 'bank',
  otherServiceAccount: 'teller',
};

export interface RuleCase {
  name: string;
  /** The rule that must deny it, or `approve`. */
  want: Rule | 'approve';
  csr?: (c: RuleCaseContext) => TestCsrOptions;
  /** Raw spec.request text instead of a CSR. */
  request?: string;
  /** spec.duration; default the enforced one; null = absent. */
  duration?: string | null;
  usages?: string[];
  isCA?: boolean;
  requester?: Requester;
}

const uri = (value: string): GeneralName => ({ type: 'uri', value });
const own = (c: RuleCaseContext): GeneralName[] => [
  uri(`spiffe://${c.trustDomain}/ns/${c.namespace}/sa/${c.serviceAccount}`),
];

/** A request that is correct but for its key. */
function keyCase(name: string, want: RuleCase['want'], key: TestCsrOptions['key']): RuleCase {
  return { name, want, csr: (c) => ({ sans: own(c), key }) };
}

/**
 * One case per rule (and the approval) for a policy of ECDSA-256/384 keys and a 1h duration. Used
 * by the unit tests of `decide` and by the e2e suite against the API server.
 */
export const RULE_CASES: readonly RuleCase[] = [
  { name: 'a correct SPIFFE request', want: 'approve', csr: (c) => ({ sans: own(c) }) },
  { name: 'spec.request is not a CSR', want: 'request-parse', request: 'not a certificate request' },
  {
    name: 'a CSR whose signature does not verify',
    want: 'request-signature',
    csr: (c) => ({ sans: own(c), breakSignature: true }),
  },
  { name: 'another duration', want: 'duration', duration: '2h', csr: (c) => ({ sans: own(c) }) },
  { name: 'no duration', want: 'duration', duration: null, csr: (c) => ({ sans: own(c) }) },
  { name: 'spec.isCA true', want: 'is-ca', isCA: true, csr: (c) => ({ sans: own(c) }) },
  { name: 'a CSR asking for a CA', want: 'is-ca', csr: (c) => ({ sans: own(c), isCA: true }) },
  {
    name: 'usages without client auth',
    want: 'usages',
    usages: ['digital signature', 'key encipherment', 'server auth'],
    csr: (c) => ({ sans: own(c) }),
  },
  {
    name: 'a CSR KeyUsage with cert sign',
    want: 'usages',
    csr: (c) => ({ sans: own(c), keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign }),
  },
  {
    name: 'a CSR ExtendedKeyUsage with code signing',
    want: 'usages',
    csr: (c) => ({ sans: own(c), ekus: [EXTENDED_KEY_USAGE_OIDS['code signing']!] }),
  },
  keyCase('an RSA key', 'key-algorithm', { algorithm: 'RSA', size: 2048 }),
  keyCase('an Ed25519 key', 'key-algorithm', { algorithm: 'Ed25519', size: 0 }),
  keyCase('an ECDSA P-521 key', 'key-size', { algorithm: 'ECDSA', size: 521 }),
  keyCase('an ECDSA P-384 key', 'approve', { algorithm: 'ECDSA', size: 384 }),
  { name: 'a common name', want: 'subject', csr: (c) => ({ sans: own(c), commonName: 'web' }) },
  {
    name: 'an unknown extension',
    want: 'extensions',
    csr: (c) => ({ sans: own(c), extra: [rawExtension('1.3.6.1.4.1.99999.1')] }),
  },
  {
    name: 'a DNS SAN besides the URI',
    want: 'sans',
    csr: (c) => ({ sans: [...own(c), { type: 'dns', value: 'web.example.org' }] }),
  },
  {
    name: 'an IP SAN besides the URI',
    want: 'sans',
    csr: (c) => ({ sans: [...own(c), { type: 'ip', value: '10.0.0.1' }] }),
  },
  {
    name: 'an email SAN besides the URI',
    want: 'sans',
    csr: (c) => ({ sans: [...own(c), { type: 'email', value: 'a@example.org' }] }),
  },
  {
    name: 'two URI SANs',
    want: 'uri-count',
    csr: (c) => ({ sans: [...own(c), uri(`spiffe://${c.trustDomain}/x`)] }),
  },
  { name: 'no SAN at all', want: 'uri-count', csr: () => ({}) },
  {
    name: 'a requester that is not a service account',
    want: 'username',
    requester: 'not-a-service-account',
    csr: (c) => ({ sans: own(c) }),
  },
  {
    name: 'a service account of another namespace',
    want: 'namespace',
    requester: 'other-namespace',
    csr: (c) => ({
      sans: [uri(`spiffe://${c.trustDomain}/ns/${c.otherNamespace}/sa/${c.otherServiceAccount}`)],
    }),
  },
  {
    name: 'a URI that is not a SPIFFE ID',
    want: 'spiffe-id',
    csr: () => ({ sans: [uri('https://example.org/web')] }),
  },
  {
    name: 'another trust domain',
    want: 'trust-domain',
    csr: (c) => ({ sans: [uri(`spiffe://evil.example/ns/${c.namespace}/sa/${c.serviceAccount}`)] }),
  },
  {
    name: "another service account's SPIFFE ID",
    want: 'identity',
    csr: (c) => ({ sans: [uri(`spiffe://${c.trustDomain}/ns/${c.namespace}/sa/admin`)] }),
  },
];

/** The spec.request (base64), duration, usages and isCA of a case. */
export async function ruleCaseSpec(
  rc: RuleCase,
  c: RuleCaseContext,
  enforcedDuration: string,
): Promise<{ request: string; duration?: string; usages: string[]; isCA?: boolean }> {
  const pem = rc.request ?? (await testCsr(rc.csr?.(c) ?? {}));
  const duration = rc.duration === null ? undefined : (rc.duration ?? enforcedDuration);
  return {
    request: Buffer.from(pem).toString('base64'),
    ...(duration === undefined ? {} : { duration }),
    usages: rc.usages ?? [...SPIFFE_USAGES],
    ...(rc.isCA === undefined ? {} : { isCA: rc.isCA }),
  };
}

/** spec.username of a case's requester. */
export function requesterUsername(rc: RuleCase, c: RuleCaseContext): string {
  switch (rc.requester ?? 'self') {
    case 'self':
      return `system:serviceaccount:${c.namespace}:${c.serviceAccount}`;
    case 'other-namespace':
      return `system:serviceaccount:${c.otherNamespace}:${c.otherServiceAccount}`;
    case 'not-a-service-account':
      return 'jane@example.org';
  }
}
