/**
 * The approver's policy as a pure function: a CertificateRequest in, `ignore`, `approve` or `deny`
 * (with the rule that failed and a message naming it) out. The rules are csi-driver-spiffe's
 * evaluator's plus key algorithm and size, and a namespace check upstream leaves to cert-manager's
 * webhook. The first failing rule, in RULES order, decides.
 */
import { parseCsr, type ParsedCsr } from '../pki/csr.js';
import * as der from '../pki/der.js';
import { EXTENSION_OIDS } from '../pki/extensions.js';
import { describeKeyShape, keySpecOf } from '../pki/keys.js';
import { decodeGeneralNames, type GeneralName } from '../pki/names.js';
import { EXTENDED_KEY_USAGE_OIDS, KeyUsageFlags } from '../pki/usages.js';
import { parseGoDuration } from '../attributes/duration.js';
import { formatDuration } from '../attributes/duration.js';
import { SPIFFE_USAGES } from '../attributes/spiffe-mode.js';
import { decisionOf, targetsIssuer, type CertificateRequest, type IssuerRef } from './certificate-request.js';
import { checkKey, describeKeyPolicy, type KeyPolicy } from './key-policy.js';

/** Every rule, in the order they are checked. */
export const RULES = [
  'request-parse',
  'request-signature',
  'duration',
  'is-ca',
  'usages',
  'key-algorithm',
  'key-size',
  'subject',
  'extensions',
  'sans',
  'uri-count',
  'username',
  'namespace',
  'spiffe-id',
  'trust-domain',
  'identity',
] as const;
export type Rule = (typeof RULES)[number];

/** The usages a SPIFFE SVID request must list, no more and no fewer: the ones SPIFFE mode requests. */
export { SPIFFE_USAGES };

export interface ApproverPolicy {
  issuerRef: IssuerRef;
  trustDomain: string;
  /** The enforced spec.duration, in seconds. */
  durationSeconds: number;
  keys: KeyPolicy;
}

export type Decision =
  | { action: 'ignore'; why: 'other-issuer' | 'already-decided' }
  | { action: 'approve'; spiffeId: string; message: string }
  | { action: 'deny'; rule: Rule; message: string };

class RuleFailure extends Error {
  constructor(
    readonly rule: Rule,
    detail: string,
  ) {
    super(detail);
  }
}

function fail(rule: Rule, detail: string): never {
  throw new RuleFailure(rule, detail);
}

/** The condition message of a denial: names the rule first. */
export function denialMessage(rule: Rule, detail: string): string {
  const text = `Denied by rule ${rule}: ${detail}`;
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

/** Messages quote request values (URIs, usernames); they are cut to this many characters. */
export const MAX_MESSAGE = 1024;

/** Decides one CertificateRequest. Never throws: any failure to read the request is a denial. */
export function decide(cr: CertificateRequest, policy: ApproverPolicy): Decision {
  if (!targetsIssuer(cr, policy.issuerRef)) return { action: 'ignore', why: 'other-issuer' };
  if (decisionOf(cr) !== undefined) return { action: 'ignore', why: 'already-decided' };
  try {
    const spiffeId = evaluate(cr, policy);
    return { action: 'approve', spiffeId, message: `Approved: ${spiffeId} meets every SPIFFE rule` };
  } catch (e) {
    if (e instanceof RuleFailure) {
      return { action: 'deny', rule: e.rule, message: denialMessage(e.rule, e.message) };
    }
    return { action: 'deny', rule: 'request-parse', message: denialMessage('request-parse', String(e)) };
  }
}

function readCsr(request: string | undefined): ParsedCsr {
  if (!request) fail('request-parse', 'spec.request is empty');
  const pem = Buffer.from(request, 'base64').toString('latin1');
  try {
    return parseCsr(pem, 'spec.request');
  } catch {
    fail('request-parse', 'spec.request is not a base64 PEM PKCS#10 certificate request');
  }
}

function checkDuration(duration: string | undefined, enforced: number): void {
  const want = formatDuration(enforced);
  if (duration === undefined) fail('duration', `spec.duration must be ${want}, got none`);
  let nanos: bigint;
  try {
    nanos = parseGoDuration('spec.duration', duration);
  } catch {
    fail('duration', `spec.duration must be ${want}, got '${duration}'`);
  }
  if (nanos !== BigInt(enforced) * 1_000_000_000n)
    fail('duration', `spec.duration must be ${want}, got '${duration}'`);
}

/** Whether the sets are equal, ignoring order and case (as cert-manager's EqualKeyUsagesUnsorted). */
function sameUsages(got: readonly string[], want: readonly string[]): boolean {
  const g = new Set(got.map((u) => u.trim().toLowerCase()));
  return g.size === want.length && got.length === want.length && want.every((u) => g.has(u));
}

const ALLOWED_KEY_USAGE_BITS = KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment;
const ALLOWED_EKUS = new Set([
  EXTENDED_KEY_USAGE_OIDS['server auth'],
  EXTENDED_KEY_USAGE_OIDS['client auth'],
]);
const ALLOWED_EXTENSIONS = new Set<string>([
  EXTENSION_OIDS.subjectAltName,
  EXTENSION_OIDS.keyUsage,
  EXTENSION_OIDS.extKeyUsage,
  EXTENSION_OIDS.basicConstraints,
]);

function keyUsageBits(value: Buffer): number {
  const bits = der.readOnly(value, der.TAG.BIT_STRING).value.subarray(1);
  let flags = 0;
  for (let bit = 0; bit < bits.length * 8; bit++) {
    if ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) flags |= 1 << bit;
  }
  return flags;
}

function basicConstraintsIsCA(value: Buffer): boolean {
  const [first] = der.readChildren(der.readOnly(value, der.TAG.SEQUENCE).value);
  return first?.tag === der.TAG.BOOLEAN && first.value[0] !== 0;
}

/** Checks the CSR's own extensions: only SAN, KeyUsage, ExtendedKeyUsage, BasicConstraints(cA false). */
function checkCsrExtensions(csr: ParsedCsr): GeneralName[] {
  const names: GeneralName[] = [];
  for (const ext of csr.extensions) {
    if (!ALLOWED_EXTENSIONS.has(ext.oid)) fail('extensions', `the CSR requests extension ${ext.oid}`);
    try {
      if (ext.oid === EXTENSION_OIDS.keyUsage) {
        const extra = keyUsageBits(ext.value) & ~ALLOWED_KEY_USAGE_BITS;
        if (extra)
          fail(
            'usages',
            `the CSR's KeyUsage has bits beyond digital signature and key encipherment (0x${extra.toString(16)})`,
          );
      } else if (ext.oid === EXTENSION_OIDS.extKeyUsage) {
        for (const t of der.readChildren(der.readOnly(ext.value, der.TAG.SEQUENCE).value)) {
          const oid = der.decodeOid(t);
          if (!ALLOWED_EKUS.has(oid))
            fail(
              'usages',
              `the CSR's ExtendedKeyUsage has ${oid}; only server auth and client auth are allowed`,
            );
        }
      } else if (ext.oid === EXTENSION_OIDS.basicConstraints) {
        if (basicConstraintsIsCA(ext.value))
          fail('is-ca', 'the CSR requests a CA certificate (BasicConstraints cA=true)');
      } else {
        names.push(...decodeGeneralNames(ext.value));
      }
    } catch (e) {
      if (e instanceof RuleFailure) throw e;
      fail('extensions', `the CSR's extension ${ext.oid} cannot be parsed`);
    }
  }
  return names;
}

/** `spiffe://<td>/<path>`: returns the trust domain, or fails `spiffe-id` with the reason. */
function spiffeTrustDomain(uri: string): string {
  const m = /^spiffe:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(uri);
  if (!m) fail('spiffe-id', `URI SAN "${uri}" is not a SPIFFE ID (spiffe://<trust-domain>/<path>)`);
  const [, td = '', path = ''] = m;
  if (!/^[a-z0-9._-]+$/.test(td))
    fail('spiffe-id', `URI SAN "${uri}" has an invalid trust domain (lower-case a-z, 0-9, '.', '-', '_')`);
  const segments = path.split('/').slice(1);
  if (segments.length === 0 || segments.some((s) => !/^[A-Za-z0-9._-]+$/.test(s) || s === '.' || s === '..'))
    fail(
      'spiffe-id',
      `URI SAN "${uri}" has an invalid path (non-empty segments of A-Z, a-z, 0-9, '.', '-', '_')`,
    );
  return td;
}

/** Runs every rule; returns the approved SPIFFE ID or throws the first RuleFailure. */
function evaluate(cr: CertificateRequest, policy: ApproverPolicy): string {
  const spec = cr.spec ?? {};
  const csr = readCsr(spec.request);
  if (!csr.signatureValid) fail('request-signature', "the CSR's signature does not verify with its own key");
  checkDuration(spec.duration, policy.durationSeconds);
  if (spec.isCA === true) fail('is-ca', 'spec.isCA must be false');
  if (!sameUsages(spec.usages ?? [], SPIFFE_USAGES))
    fail(
      'usages',
      `spec.usages must be exactly [${SPIFFE_USAGES.join(', ')}], got [${(spec.usages ?? []).join(', ')}]`,
    );

  let key;
  try {
    key = keySpecOf(csr.publicKey);
  } catch {
    fail('key-algorithm', `the CSR key type is not allowed (allowed: ${describeKeyPolicy(policy.keys)})`);
  }
  const keyRule = checkKey(policy.keys, key);
  if (keyRule)
    fail(keyRule, `${describeKeyShape(key)} is not allowed (allowed: ${describeKeyPolicy(policy.keys)})`);

  if (!csr.subjectIsEmpty) fail('subject', 'the CSR subject must be empty (no common name or other fields)');
  const names = checkCsrExtensions(csr);
  const other = names.find((n) => n.type !== 'uri');
  if (other) fail('sans', `only a URI SAN is allowed; the CSR has ${other.type} SAN "${other.value}"`);
  if (names.length !== 1) fail('uri-count', `exactly one URI SAN is required, the CSR has ${names.length}`);
  const uri = names[0]!.value;

  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(spec.username ?? '');
  if (!m)
    fail(
      'username',
      `spec.username must be a service account (system:serviceaccount:<ns>:<sa>), got "${spec.username ?? ''}"`,
    );
  const [, saNamespace = '', saName = ''] = m;
  const namespace = cr.metadata?.namespace ?? '';
  if (saNamespace !== namespace)
    fail(
      'namespace',
      `service account namespace "${saNamespace}" is not the request's namespace "${namespace}"`,
    );

  const td = spiffeTrustDomain(uri);
  if (td !== policy.trustDomain)
    fail('trust-domain', `trust domain "${td}" is not the configured "${policy.trustDomain}"`);
  const want = `spiffe://${policy.trustDomain}/ns/${saNamespace}/sa/${saName}`;
  if (uri !== want) fail('identity', `URI SAN "${uri}" is not the requester's SPIFFE ID ${want}`);
  return want;
}
