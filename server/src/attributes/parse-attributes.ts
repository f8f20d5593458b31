/**
 * Volume attributes → CertificateSpec: the one place where attributes are parsed, defaulted and
 * validated. Every rejection is an InvalidArgumentError naming the attribute's full key as written.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { CertificateSpec, IssuerRef, PodInfo } from './certificate-spec.js';
import { ATTRIBUTE_PREFIX, type AttributeName } from './attribute-table.js';
import { collectAttributes, type RawAttributes } from './collect.js';
import { formatDuration, parseDurationSeconds } from './duration.js';
import { parseFiles, parseFsGroup, type FileNameCheck } from './files.js';
import { parseIdentity } from './identity.js';
import { resolveKeyUsages } from './key-usages.js';
import { parseKeySpec } from './key-spec.js';
import { applySpiffeMode, checkSpiffeAttributes, type SpiffeMode } from './spiffe-mode.js';
import { NOT_EMPTY, checkDns1123Subdomain, parseBool } from './validators.js';

export const DEFAULT_ISSUER_KIND = 'Issuer';
export const DEFAULT_ISSUER_GROUP = 'cert-manager.io';
/** 7 days (primary spec). */
export const DEFAULT_DURATION_SECONDS = 168 * 3600;
export const MIN_DURATION_SECONDS = 60;
/** One year (365 days). */
export const MAX_DURATION_SECONDS = 8760 * 3600;

export interface ParseVolumeAttributesInput {
  /** The CSI volume context: our attributes, kubelet's `csi.storage.k8s.io/*` keys, anything else. */
  volumeContext: Record<string, string>;
  pod: PodInfo;
  /** Cluster DNS domain for the default common name, e.g. `cluster.local`. */
  clusterDomain: string;
  /** CSI `volume_mount_group`; `fs-group` overrides it; '' means unset. */
  volumeMountGroup?: string | undefined;
  /** The node platform's file name rules; returns a reason when a name is not allowed. */
  checkFileName: FileNameCheck;
  /** SPIFFE mode (spiffe-mode.ts): identity attributes are refused and the SVID shape is imposed. */
  spiffe?: SpiffeMode | undefined;
}

/**
 * Parses, defaults and validates a volume's attributes. Throws InvalidArgumentError naming the
 * offending attribute (its full key as written) on the first problem found.
 */
export function parseVolumeAttributes(input: ParseVolumeAttributesInput): CertificateSpec {
  const raw = collectAttributes(input.volumeContext);
  if (input.spiffe) checkSpiffeAttributes(raw, input.spiffe);
  const isCA = parseFlag(raw, 'is-ca');
  const key = parseKeySpec(raw);
  const identity = parseIdentity({ raw, pod: input.pod, clusterDomain: input.clusterDomain });
  const usages = raw.get('key-usages');
  const durationSeconds = parseDuration(raw);
  const { files, pkcs12Password } = parseFiles(raw, input.checkFileName);
  const spec: CertificateSpec = {
    issuer: parseIssuer(raw),
    ...identity,
    usages: resolveKeyUsages({
      field: usages?.key ?? '',
      text: usages?.value,
      algorithm: key.algorithm,
      isCA,
    }),
    isCA,
    durationSeconds,
    renewBeforeSeconds: parseRenewBefore(raw, durationSeconds),
    key,
    reusePrivateKey: parseFlag(raw, 'reuse-private-key'),
    disableAutoRenew: parseFlag(raw, 'disable-auto-renew'),
    files,
    pkcs12Password,
    fsGroup: parseFsGroup(raw, input.volumeMountGroup),
  };
  return input.spiffe ? applySpiffeMode(spec, raw, input.pod, input.spiffe) : spec;
}

function parseFlag(raw: RawAttributes, name: AttributeName): boolean {
  const attr = raw.get(name);
  return attr !== undefined && parseBool(attr.key, attr.value);
}

const KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

function parseIssuer(raw: RawAttributes): IssuerRef {
  const name = raw.get('issuer-name');
  const kind = raw.get('issuer-kind');
  const group = raw.get('issuer-group');
  if (name === undefined) {
    const stray = kind ?? group;
    if (stray !== undefined) {
      throw new InvalidArgumentError(stray.key, `requires ${ATTRIBUTE_PREFIX}issuer-name`);
    }
    return { kind: DEFAULT_ISSUER_KIND, group: DEFAULT_ISSUER_GROUP };
  }
  if (name.value === '') throw new InvalidArgumentError(name.key, 'must not be empty');
  const nameReason = checkDns1123Subdomain(name.value);
  if (nameReason !== undefined) throw new InvalidArgumentError(name.key, nameReason);

  const groupValue = group?.value ?? DEFAULT_ISSUER_GROUP;
  if (group !== undefined) {
    const reason = group.value === '' ? NOT_EMPTY : checkDns1123Subdomain(group.value);
    if (reason !== undefined) throw new InvalidArgumentError(group.key, reason);
  }
  const kindValue = kind?.value ?? DEFAULT_ISSUER_KIND;
  if (kind !== undefined) {
    if (groupValue === DEFAULT_ISSUER_GROUP && kindValue !== 'Issuer' && kindValue !== 'ClusterIssuer') {
      throw new InvalidArgumentError(
        kind.key,
        `must be Issuer or ClusterIssuer for group ${DEFAULT_ISSUER_GROUP}, got ${quoteValue(kindValue)}`,
      );
    }
    if (!KIND.test(kindValue)) {
      throw new InvalidArgumentError(
        kind.key,
        `must be a Kubernetes kind like VaultIssuer, got ${quoteValue(kindValue)}`,
      );
    }
  }
  return { name: name.value, kind: kindValue, group: groupValue };
}

function parseDuration(raw: RawAttributes): number {
  const attr = raw.get('duration');
  if (attr === undefined) return DEFAULT_DURATION_SECONDS;
  return parseDurationSeconds(attr.key, attr.value, { min: MIN_DURATION_SECONDS, max: MAX_DURATION_SECONDS });
}

function parseRenewBefore(raw: RawAttributes, durationSeconds: number): number | undefined {
  const attr = raw.get('renew-before');
  if (attr === undefined) return undefined;
  const seconds = parseDurationSeconds(attr.key, attr.value, { min: 1, max: MAX_DURATION_SECONDS });
  if (seconds >= durationSeconds) {
    throw new InvalidArgumentError(
      attr.key,
      `must be less than the duration (${formatDuration(durationSeconds)}), got ${quoteValue(attr.value)}`,
    );
  }
  return seconds;
}
