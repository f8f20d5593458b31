/**
 * Builds CertVolumeStatus objects as a node writes them, for the cluster view's tests, e2e suites and
 * benchmark. Not used by the product.
 */
import {
  CVS_API_VERSION,
  CVS_KIND,
  labelValue,
  MANAGED_BY,
  NODE_LABEL,
  POD_LABEL,
  POD_UID_LABEL,
  statusObjectName,
  type CertVolumeStatusObject,
} from '../kube/status/status-object.js';

export interface FakeVolume {
  namespace: string;
  pod: string;
  node: string;
  /** Seconds relative to `now`. */
  notBefore?: number;
  notAfter?: number;
  nextRenewal?: number | undefined;
  last?: { at: number; kind?: 'Issue' | 'Renew'; outcome: 'Success' | 'Failure'; error?: string };
  failures?: number;
  issuer?: CertVolumeStatusObject['status']['issuer'];
  serial?: string;
  volumeId?: string;
  ready?: { status: 'True' | 'False'; reason: string };
}

/**
 * A volume that is fine: issued an hour ago, valid for 23 more hours, renewal planned in 18, its
 * last operation a success. `extra` overrides any field.
 */
export const healthyVolume = (
  namespace: string,
  pod: string,
  node: string,
  extra: Partial<FakeVolume> = {},
): FakeVolume => ({
  namespace,
  pod,
  node,
  notBefore: -3600,
  notAfter: 23 * 3600,
  nextRenewal: 18 * 3600,
  last: { at: -3600, outcome: 'Success' },
  ...extra,
});

const rfc = (now: number, s: number) =>
  new Date(Math.floor(now / 1000 + s) * 1000).toISOString().replace('.000Z', 'Z');

export function fakeStatusObject(f: FakeVolume, now = Date.now()): CertVolumeStatusObject {
  const volumeId = f.volumeId ?? `csi-${f.namespace}-${f.pod}`;
  const uid = `uid-${f.namespace}-${f.pod}`.slice(0, 63);
  const last = f.last ?? { at: f.notBefore ?? -60, outcome: 'Success' as const };
  const failed = last.outcome === 'Failure';
  const expired = f.notAfter !== undefined && f.notAfter <= 0;
  const ready = f.ready ?? {
    status: expired ? ('False' as const) : ('True' as const),
    reason: expired ? 'Expired' : failed ? 'RenewalFailing' : last.kind === 'Renew' ? 'Renewed' : 'Issued',
  };
  return {
    apiVersion: CVS_API_VERSION,
    kind: CVS_KIND,
    metadata: {
      name: statusObjectName(f.pod, volumeId),
      namespace: f.namespace,
      labels: {
        ...MANAGED_BY,
        [NODE_LABEL]: labelValue(f.node),
        [POD_LABEL]: labelValue(f.pod),
        [POD_UID_LABEL]: labelValue(uid),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: f.pod, uid }],
    },
    status: {
      node: f.node,
      pod: { name: f.pod, uid, serviceAccount: 'default' },
      volumeId,
      targetPath: `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/tls/mount`,
      issuer: f.issuer ?? { type: 'BuiltIn' },
      ...(f.notAfter !== undefined
        ? {
            serialNumber: f.serial ?? '0a1b2c3d',
            notBefore: rfc(now, f.notBefore ?? -60),
            notAfter: rfc(now, f.notAfter),
          }
        : {}),
      ...(f.nextRenewal !== undefined ? { nextRenewal: rfc(now, f.nextRenewal) } : {}),
      lastRenewal: {
        time: rfc(now, last.at),
        kind: last.kind ?? 'Issue',
        outcome: last.outcome,
        ...(last.error ? { error: last.error } : {}),
      },
      consecutiveFailures: f.failures ?? (failed ? 1 : 0),
      conditions: [
        { type: 'Ready', status: ready.status, reason: ready.reason, lastTransitionTime: rfc(now, last.at) },
      ],
    },
  };
}
