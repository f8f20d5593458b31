/** Shared fixtures for this folder's tests (imported only by `*.test.ts`). */
import { InvalidArgumentError } from '../common/errors.js';
import { ATTRIBUTE_PREFIX } from './attribute-table.js';
import type { CertificateSpec, PodInfo } from './certificate-spec.js';
import { parseVolumeAttributes, type ParseVolumeAttributesInput } from './parse-attributes.js';

export const P = ATTRIBUTE_PREFIX;

export const POD: PodInfo = {
  name: 'web-0',
  namespace: 'shop',
  uid: '3f1c2a9e-8d4b-4c5e-9f0a-1b2c3d4e5f60',
  serviceAccount: 'web-sa',
};

/** Attribute names without '/' get our prefix; full keys are kept. */
export function prefixed(attrs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k.includes('/') ? k : P + k, v]));
}

export function parse(
  attrs: Record<string, string>,
  extra: Partial<Omit<ParseVolumeAttributesInput, 'volumeContext'>> = {},
): CertificateSpec {
  return parseVolumeAttributes({
    volumeContext: prefixed(attrs),
    pod: POD,
    clusterDomain: 'cluster.local',
    checkFileName: () => undefined,
    ...extra,
  });
}

/** Runs `fn` and returns the InvalidArgumentError it throws; fails if it throws nothing or something else. */
export function catchInvalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidArgumentError) return e;
    throw e;
  }
  throw new Error('expected an InvalidArgumentError, but nothing was thrown');
}
