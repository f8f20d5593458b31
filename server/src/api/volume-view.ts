/**
 * The one serializer from persisted volume state to API responses. Every field is copied by name:
 * nothing of `VolumeState` reaches the wire by spreading, so a PKCS#12 password, a key or a token
 * added to the state later cannot leak through the API by accident.
 */
import type {
  CertificateDetails,
  HistoryEntry,
  RequestedCertificate,
  VolumeDetails,
  VolumeStateName,
  VolumeSummary,
} from '@csi-cert-driver/api-contract';
import type { CertificateInfo } from '../pki/certificate-info.js';
import type { VolumeState } from '../volumes/volume-state.js';
import { DEFAULT_RENEW_FRACTION } from '../volumes/renewal-policy.js';

/** A volume kubelet keeps failing to publish: no state exists on the node, nothing is mounted. */
export interface PublishFailure {
  volumeId: string;
  targetPath: string;
  pod: { namespace: string; name: string; uid: string; serviceAccount: string };
  error: string;
}

export const REDACTED = '[REDACTED]';
const SECRET_ATTRIBUTE = /(pkcs12-password|password|token)s?$/i;

/** Volume attributes with every password or token value replaced by "[REDACTED]". */
export function redactAttributes(attributes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) out[k] = SECRET_ATTRIBUTE.test(k) ? REDACTED : v;
  return out;
}

/**
 * The state an operator sees, most urgent first: failed (expired, no certificate, or renewals
 * failing), renewing (first issue, renewal running or due), expiring soon (inside the renewal
 * window with auto-renew off), healthy. `until` is the first instant at which the answer can change
 * with nothing but time passing (Infinity: only a new state changes it).
 */
export function deriveState(
  s: VolumeState,
  now: number,
  busy: boolean,
): { state: VolumeStateName; reason: string; until: number } {
  if (s.phase === 'publishing') {
    return { state: 'renewing', reason: 'issuing the first certificate', until: Infinity };
  }
  const cert = s.certificate;
  if (!cert) return { state: 'failed', reason: 'published without a certificate', until: Infinity };
  const notAfter = Date.parse(cert.notAfter);
  if (notAfter <= now) {
    return { state: 'failed', reason: `certificate expired at ${cert.notAfter}`, until: Infinity };
  }
  const until = notAfter;
  if (s.failures > 0) {
    return {
      until,
      state: 'failed',
      reason: `${s.failures} renewal attempt${s.failures === 1 ? '' : 's'} failed (${s.lastError ?? 'unknown error'}); current certificate valid until ${cert.notAfter}`,
    };
  }
  if (busy) return { state: 'renewing', reason: 'renewal in progress', until };
  const auto = !s.spec.disableAutoRenew;
  const renewAt = auto && s.nextRenewalAt ? Date.parse(s.nextRenewalAt) : Infinity;
  if (renewAt <= now) return { state: 'renewing', reason: `renewal due since ${s.nextRenewalAt}`, until };
  const notBefore = Date.parse(cert.notBefore);
  const window =
    s.spec.renewBeforeSeconds !== undefined
      ? s.spec.renewBeforeSeconds * 1000
      : (notAfter - notBefore) * DEFAULT_RENEW_FRACTION;
  if (notAfter - now <= window) {
    return {
      until,
      state: 'expiring',
      reason: auto
        ? `inside its renewal window; expires at ${cert.notAfter}`
        : `auto-renew is off; expires at ${cert.notAfter}`,
    };
  }
  return {
    until: Math.min(renewAt, notAfter - window),
    state: 'healthy',
    reason:
      auto && s.nextRenewalAt
        ? `renews at ${s.nextRenewalAt}`
        : `auto-renew is off; expires at ${cert.notAfter}`,
  };
}

function issuerOf(s: VolumeState): string {
  const i = s.spec.issuer;
  return i.name === undefined ? 'built-in' : `${i.kind}.${i.group}/${i.name}`;
}

function filesOf(s: VolumeState): VolumeSummary['files'] {
  const f = s.spec.files;
  return {
    certificate: f.certificate,
    privateKey: f.privateKey,
    ...(f.ca !== undefined ? { ca: f.ca } : {}),
    ...(f.pkcs12 !== undefined ? { pkcs12: f.pkcs12 } : {}),
  };
}

/** One list row for a persisted volume. */
export function toSummary(s: VolumeState, now: number, busy: boolean): VolumeSummary {
  return summaryWithExpiry(s, now, busy).summary;
}

/** One list row and the instant it goes stale by time alone (see deriveState). */
export function summaryWithExpiry(
  s: VolumeState,
  now: number,
  busy: boolean,
): { summary: VolumeSummary; until: number } {
  const { state, reason, until } = deriveState(s, now, busy);
  let renewals = 0;
  let lastRenewalAt: string | undefined;
  for (const e of s.history) {
    if (e.kind === 'renew' && e.outcome === 'success') {
      renewals++;
      lastRenewalAt = e.at;
    }
  }
  const c = s.certificate;
  const summary: VolumeSummary = {
    volumeId: s.volumeId,
    nodeId: s.nodeId,
    pod: {
      namespace: s.pod.namespace,
      name: s.pod.name,
      uid: s.pod.uid,
      serviceAccount: s.pod.serviceAccount,
    },
    targetPath: s.targetPath,
    phase: s.phase,
    state,
    stateReason: reason,
    issuer: issuerOf(s),
    files: filesOf(s),
    ...(c
      ? {
          certificate: {
            serialHex: c.serialHex,
            notBefore: c.notBefore,
            notAfter: c.notAfter,
            issuedAt: c.issuedAt,
          },
        }
      : {}),
    ...(s.nextRenewalAt && !s.spec.disableAutoRenew ? { nextRenewalAt: s.nextRenewalAt } : {}),
    autoRenew: !s.spec.disableAutoRenew,
    failures: s.failures,
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    renewals,
    ...(lastRenewalAt ? { lastRenewalAt } : {}),
    createdAt: s.createdAt,
  };
  return { summary, until };
}

/** A list row for a volume whose publish keeps failing (no state on the node). */
export function publishFailureSummary(f: PublishFailure, nodeId: string, since: string): VolumeSummary {
  return {
    volumeId: f.volumeId,
    nodeId,
    pod: {
      namespace: f.pod.namespace,
      name: f.pod.name,
      uid: f.pod.uid,
      serviceAccount: f.pod.serviceAccount,
    },
    targetPath: f.targetPath,
    phase: 'publish-failing',
    state: 'failed',
    stateReason: `publish failing, kubelet retries: ${f.error}`,
    issuer: 'built-in',
    files: { certificate: '', privateKey: '' },
    autoRenew: false,
    failures: 1,
    lastError: f.error,
    renewals: 0,
    createdAt: since,
  };
}

function requestedOf(s: VolumeState): RequestedCertificate {
  const sp = s.spec;
  return {
    ...(sp.subject.commonName !== undefined ? { commonName: sp.subject.commonName } : {}),
    dnsNames: [...sp.dnsNames],
    ipAddresses: [...sp.ipAddresses],
    uris: [...sp.uris],
    emailAddresses: [...sp.emailAddresses],
    usages: [...sp.usages],
    isCA: sp.isCA,
    durationSeconds: sp.durationSeconds,
    ...(sp.renewBeforeSeconds !== undefined ? { renewBeforeSeconds: sp.renewBeforeSeconds } : {}),
    key: { algorithm: sp.key.algorithm, size: sp.key.size, encoding: sp.key.encoding },
    reusePrivateKey: sp.reusePrivateKey,
    pkcs12: sp.files.pkcs12 !== undefined,
    ...(sp.fsGroup !== undefined ? { fsGroup: sp.fsGroup } : {}),
  };
}

export function certificateDetailsOf(i: CertificateInfo): CertificateDetails {
  return {
    subject: i.subject,
    ...(i.commonName !== undefined ? { commonName: i.commonName } : {}),
    dnsNames: i.dnsNames,
    ipAddresses: i.ipAddresses,
    uris: i.uris,
    emails: i.emails,
    issuer: i.issuer,
    serialHex: i.serialHex,
    notBefore: i.notBefore.toISOString(),
    notAfter: i.notAfter.toISOString(),
    keyAlgorithm: i.keyAlgorithm,
    keySize: i.keySize,
    sha256Fingerprint: i.sha256Fingerprint,
    isCA: i.isCA,
    usages: i.usages,
  };
}

function historyOf(s: VolumeState): HistoryEntry[] {
  return s.history.map((e) => ({
    at: e.at,
    kind: e.kind,
    outcome: e.outcome,
    ...(e.serialHex !== undefined ? { serialHex: e.serialHex } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
  }));
}

/** The details of a persisted volume; `cert` is what the certificate file says, when it could be read. */
export function toDetails(
  s: VolumeState,
  now: number,
  busy: boolean,
  cert: { info: CertificateInfo } | { error: string },
): VolumeDetails {
  return {
    ...toSummary(s, now, busy),
    ...('info' in cert
      ? { certificateDetails: certificateDetailsOf(cert.info) }
      : { certificateError: cert.error }),
    requested: requestedOf(s),
    attributes: redactAttributes(s.attributes),
    history: historyOf(s),
  };
}

/** The details of a volume whose publish keeps failing. */
export function publishFailureDetails(f: PublishFailure, nodeId: string, since: string): VolumeDetails {
  return {
    ...publishFailureSummary(f, nodeId, since),
    certificateError: 'no certificate: the volume was never published',
    attributes: {},
    history: [{ at: since, kind: 'publish', outcome: 'failure', error: f.error }],
  };
}
