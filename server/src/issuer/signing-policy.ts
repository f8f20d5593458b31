/**
 * What the issuer is willing to sign: key types and sizes, validity bounds, CA certificates, SAN
 * count. `checkRequest` parses and verifies the CSR and applies the policy; every refusal is a typed
 * error (bad input → InvalidArgumentError naming the request field, policy → PolicyError naming the
 * rule, an unpermitted CA → PermissionDeniedError). Durations above the maximum are clamped, not refused.
 */
import type { KeyAlgorithm } from '../attributes/certificate-spec.js';
import { InvalidArgumentError, PermissionDeniedError, quoteValue } from '../common/errors.js';
import { parseCsr, type ParsedCsr } from '../pki/csr.js';
import { isAscii } from '../pki/der.js';
import { EXTENSION_OIDS } from '../pki/extensions.js';
import { describeKeyShape, publicKeySpecOf, type KeyShape } from '../pki/keys.js';
import { decodeGeneralNames, NAME_OIDS, nameValues, type GeneralName } from '../pki/names.js';
import { DEFAULT_USAGES, resolveUsages, type ResolvedUsages } from '../pki/usages.js';
import { PolicyError } from './errors.js';

export interface SigningPolicy {
  allowedKeyAlgorithms: readonly KeyAlgorithm[];
  minRsaBits: number;
  minDurationSeconds: number;
  maxDurationSeconds: number;
  allowCA: boolean;
  /**
   * ALLOW_SYSTEM_SUBJECTS: whether a subject organization (O) or common name may start with
   * `system:`. Kubernetes reads O of a client certificate as groups and CN as the user name, so with
   * a CA the API server trusts, `O=system:masters` would be cluster-admin. Default false.
   */
  allowSystemSubjects: boolean;
  maxSans: number;
}

export const DEFAULT_SIGNING_POLICY: Readonly<SigningPolicy> = Object.freeze<SigningPolicy>({
  allowedKeyAlgorithms: Object.freeze<KeyAlgorithm[]>(['RSA', 'ECDSA', 'Ed25519']),
  minRsaBits: 2048,
  minDurationSeconds: 60,
  maxDurationSeconds: 30 * 24 * 3600,
  allowCA: false,
  allowSystemSubjects: false,
  maxSans: 100,
});

/** The fields of a SignCertificateRequest the policy looks at. */
export interface PolicyRequest {
  csrPem: string;
  /** `csrPem` already parsed (`parseCsr`), so that a request is parsed once; parsed here when absent. */
  csr?: ParsedCsr | undefined;
  durationSeconds: number;
  isCA: boolean;
  usages: readonly string[];
}

export interface CheckedRequest {
  csr: ParsedCsr;
  key: KeyShape;
  /** The SubjectAltNames requested in the CSR (DNS, IP, URI, email only). */
  sans: GeneralName[];
  usages: ResolvedUsages;
  /** The duration to issue for: the request's, clamped to `maxDurationSeconds`. */
  durationSeconds: number;
  /** Whether to issue a CA certificate: the request's flag, which only a policy with `allowCA` lets through. */
  isCA: boolean;
  /** Human-readable notes on what was changed (clamping), for the issuer's log. */
  notices: string[];
}

function requestedSans(csr: ParsedCsr): GeneralName[] {
  const names: GeneralName[] = [];
  for (const ext of csr.extensions.filter((e) => e.oid === EXTENSION_OIDS.subjectAltName)) {
    try {
      names.push(...decodeGeneralNames(ext.value));
    } catch {
      throw new InvalidArgumentError('csr_pem', 'the subjectAltName extension cannot be parsed');
    }
  }
  const other = names.find((n) => n.type === 'other');
  if (other) throw new InvalidArgumentError('csr_pem', `unsupported subjectAltName ${other.value}`);
  const bad = names.find((n) => n.type !== 'ip' && (n.value === '' || !isAscii(n.value)));
  if (bad)
    throw new InvalidArgumentError('csr_pem', `subjectAltName ${bad.type} must be non-empty printable ASCII`);
  return names;
}

function checkKey(policy: SigningPolicy, csr: ParsedCsr): KeyShape {
  let key: KeyShape;
  try {
    key = publicKeySpecOf(csr.publicKey, csr.spkiDer);
  } catch {
    throw new PolicyError(
      'allowedKeyAlgorithms',
      'the CSR key type is not supported (RSA, ECDSA P-256/384/521, Ed25519)',
    );
  }
  if (!policy.allowedKeyAlgorithms.includes(key.algorithm)) {
    const allowed = policy.allowedKeyAlgorithms.join(', ');
    throw new PolicyError(
      'allowedKeyAlgorithms',
      `${key.algorithm} keys are not allowed (allowed: ${allowed})`,
    );
  }
  if (key.algorithm === 'RSA' && key.size < policy.minRsaBits) {
    throw new PolicyError(
      'minRsaBits',
      `${describeKeyShape(key)} is below the minimum of ${policy.minRsaBits} bits`,
    );
  }
  return key;
}

function checkDuration(policy: SigningPolicy, seconds: number, notices: string[]): number {
  if (!Number.isSafeInteger(seconds) || seconds < policy.minDurationSeconds) {
    throw new InvalidArgumentError(
      'duration_seconds',
      `must be a whole number of seconds ≥ ${policy.minDurationSeconds}, got ${seconds}`,
    );
  }
  if (seconds <= policy.maxDurationSeconds) return seconds;
  notices.push(`duration ${seconds}s clamped to the policy maximum ${policy.maxDurationSeconds}s`);
  return policy.maxDurationSeconds;
}

/** Applies `policy` to a request; returns what to sign or throws the typed error described above. */
export function checkRequest(policy: SigningPolicy, req: PolicyRequest): CheckedRequest {
  const csr = req.csr ?? parseCsr(req.csrPem, 'csr_pem');
  if (!csr.signatureValid) {
    throw new InvalidArgumentError('csr_pem', 'the CSR signature does not verify with its own public key');
  }
  const key = checkKey(policy, csr);
  const sans = requestedSans(csr);
  if (sans.length > policy.maxSans) {
    throw new PolicyError(
      'maxSans',
      `${sans.length} subjectAltNames requested, at most ${policy.maxSans} allowed`,
    );
  }
  if (sans.length === 0 && csr.subjectIsEmpty) {
    throw new InvalidArgumentError('csr_pem', 'the CSR has neither a subject nor subjectAltNames');
  }
  if (req.isCA && !policy.allowCA) {
    throw new PermissionDeniedError(
      'is_ca: this issuer does not sign CA certificates (policy allowCA is false)',
    );
  }
  if (!policy.allowSystemSubjects) checkSystemSubject(csr);
  const usages = resolveUsages(req.usages.length > 0 ? req.usages : DEFAULT_USAGES, 'usages');
  const notices: string[] = [];
  const durationSeconds = checkDuration(policy, req.durationSeconds, notices);
  return { csr, key, sans, usages, durationSeconds, isCA: req.isCA, notices };
}

/** Kubernetes' reserved prefix of user and group names (system:masters, system:nodes, system:node:…). */
const SYSTEM_PREFIX = /^system:/i;

/** Refuses a subject whose O or CN Kubernetes would read as a `system:` group or user. */
function checkSystemSubject(csr: ParsedCsr): void {
  for (const [oid, label] of [
    [NAME_OIDS.organization, 'organization'],
    [NAME_OIDS.commonName, 'common name'],
  ] as const) {
    const bad = nameValues(csr.subject, oid).find((v) => SYSTEM_PREFIX.test(v.trim()));
    if (bad !== undefined) {
      throw new PermissionDeniedError(
        `csr_pem: subject ${label} ${quoteValue(bad)} starts with "system:", which Kubernetes reserves for its own users and groups; this issuer does not sign it (ALLOW_SYSTEM_SUBJECTS is false)`,
      );
    }
  }
}
