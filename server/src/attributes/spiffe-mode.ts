/**
 * SPIFFE mode (SPIFFE_TRUST_DOMAIN on the node): every volume's certificate is the SVID of the pod's
 * service account, as csi-driver-spiffe issues it: one URI SAN `spiffe://<td>/ns/<ns>/sa/<sa>`, an
 * empty subject, an ECDSA key, fixed usages and the configured duration. Attributes that would
 * change any of that are refused with INVALID_ARGUMENT naming the attribute; attributes about where
 * and how the files are written (fs-group, file names, PKCS#12, key encoding), which issuer signs,
 * and renewal stay allowed.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { AttributeName } from './attribute-table.js';
import { emptySubject, type CertificateSpec, type PodInfo } from './certificate-spec.js';
import type { RawAttributes } from './collect.js';
import { formatDuration } from './duration.js';

export interface SpiffeMode {
  trustDomain: string;
  /** SPIFFE_CERTIFICATE_DURATION: every certificate's duration. */
  durationSeconds: number;
  /** SPIFFE_KEY_SIZE: the ECDSA curve size (256, 384 or 521). */
  ecdsaSize: number;
}

/** The usages of every SVID (and the only ones the approver accepts), in cert-manager's spelling. */
export const SPIFFE_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'] as const;

/** Attributes a volume may still set in SPIFFE mode; every other one of ours is refused. */
export const SPIFFE_ALLOWED_ATTRIBUTES: readonly AttributeName[] = [
  'issuer-name',
  'issuer-kind',
  'issuer-group',
  'fs-group',
  'certificate-file',
  'privatekey-file',
  'ca-file',
  'pkcs12-enable',
  'pkcs12-filename',
  'pkcs12-password',
  'key-encoding',
  'renew-before',
  'disable-auto-renew',
  'reuse-private-key',
];

export function spiffeIdOf(trustDomain: string, pod: Pick<PodInfo, 'namespace' | 'serviceAccount'>): string {
  return `spiffe://${trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}`;
}

/** Throws InvalidArgumentError naming the first attribute (full key) that SPIFFE mode fixes itself. */
export function checkSpiffeAttributes(raw: RawAttributes, mode: SpiffeMode): void {
  for (const [name, attr] of raw) {
    if (!SPIFFE_ALLOWED_ATTRIBUTES.includes(name)) {
      throw new InvalidArgumentError(
        attr.key,
        `is not allowed in SPIFFE mode: the driver sets the identity (spiffe://${mode.trustDomain}/ns/<namespace>/sa/<service account>), key type, usages and duration itself`,
      );
    }
  }
}

/** The spec parsed from the allowed attributes, with SPIFFE mode's identity, key, usages and duration. */
export function applySpiffeMode(
  spec: CertificateSpec,
  raw: RawAttributes,
  pod: PodInfo,
  mode: SpiffeMode,
): CertificateSpec {
  const renewBefore = raw.get('renew-before');
  if (renewBefore !== undefined && (spec.renewBeforeSeconds ?? 0) >= mode.durationSeconds) {
    throw new InvalidArgumentError(
      renewBefore.key,
      `must be less than the SPIFFE certificate duration (${formatDuration(mode.durationSeconds)}), got ${quoteValue(renewBefore.value)}`,
    );
  }
  return {
    ...spec,
    subject: {
      ...emptySubject(),
    },
    dnsNames: [],
    ipAddresses: [],
    uris: [spiffeIdOf(mode.trustDomain, pod)],
    emailAddresses: [],
    usages: [...SPIFFE_USAGES],
    isCA: false,
    durationSeconds: mode.durationSeconds,
    key: { algorithm: 'ECDSA', size: mode.ecdsaSize, encoding: spec.key.encoding },
  };
}
