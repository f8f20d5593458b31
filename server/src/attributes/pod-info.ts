/**
 * The pod identity and volume mode kubelet puts into the volume context (`csi.storage.k8s.io/*`),
 * present when the CSIDriver object has `podInfoOnMount: true`.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { PodInfo } from './certificate-spec.js';
import { checkDns1123Label, checkDns1123Subdomain } from './validators.js';

export const KUBELET_PREFIX = 'csi.storage.k8s.io/';

export const KubeletKey = {
  podName: 'csi.storage.k8s.io/pod.name',
  podNamespace: 'csi.storage.k8s.io/pod.namespace',
  podUid: 'csi.storage.k8s.io/pod.uid',
  serviceAccountName: 'csi.storage.k8s.io/serviceAccount.name',
  serviceAccountTokens: 'csi.storage.k8s.io/serviceAccount.tokens',
  ephemeral: 'csi.storage.k8s.io/ephemeral',
} as const;

/** Every key kubelet may add to the volume context; never user attributes. */
export const KUBELET_KEYS: ReadonlySet<string> = new Set(Object.values(KubeletKey));

const UID = /^[0-9a-f]+(-[0-9a-f]+)*$/;

function checkUid(value: string): string | undefined {
  if (value.length > 64 || !UID.test(value)) {
    return `must be a pod UID like 3f1c2a9e-8d4b-4c5e-9f0a-1b2c3d4e5f60, got ${quoteValue(value)}`;
  }
  return undefined;
}

const FIELDS: ReadonlyArray<{
  key: string;
  prop: keyof PodInfo;
  check: (value: string) => string | undefined;
}> = [
  { key: KubeletKey.podName, prop: 'name', check: checkDns1123Subdomain },
  { key: KubeletKey.podNamespace, prop: 'namespace', check: checkDns1123Label },
  { key: KubeletKey.podUid, prop: 'uid', check: checkUid },
  { key: KubeletKey.serviceAccountName, prop: 'serviceAccount', check: checkDns1123Subdomain },
];

/**
 * Reads the pod's name, namespace, UID and service account. A missing, empty or malformed key is
 * an InvalidArgumentError naming that key.
 */
export function parsePodInfo(volumeContext: Record<string, string>): PodInfo {
  const pod: PodInfo = { name: '', namespace: '', uid: '', serviceAccount: '' };
  for (const { key, prop, check } of FIELDS) {
    const value = volumeContext[key];
    if (value === undefined || value === '') {
      throw new InvalidArgumentError(
        key,
        'is missing from the volume context; the CSIDriver object must set podInfoOnMount: true',
      );
    }
    const reason = check(value);
    if (reason !== undefined) throw new InvalidArgumentError(key, reason);
    pod[prop] = value;
  }
  return pod;
}

/**
 * Returns true for an inline ephemeral volume (`csi.storage.k8s.io/ephemeral: "true"`); otherwise
 * throws InvalidArgumentError, since this driver serves no persistent volumes.
 */
export function isEphemeral(volumeContext: Record<string, string>): true {
  const value = volumeContext[KubeletKey.ephemeral];
  if (value === 'true') return true;
  const got = value === undefined ? 'it is missing' : `got ${quoteValue(value)}`;
  throw new InvalidArgumentError(
    KubeletKey.ephemeral,
    `only inline ephemeral volumes (a csi volume in the pod spec) are supported, not PersistentVolumes; ` +
      `must be "true", ${got} (the CSIDriver object needs volumeLifecycleModes: [Ephemeral] and podInfoOnMount: true)`,
  );
}
