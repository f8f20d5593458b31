/**
 * A volume's state as a CertVolumeStatus object (deploy/crds/certvolumestatuses.csi-cert-driver.io.yaml):
 * a stable DNS-1123 name derived from pod and volume, in the pod's namespace, owned by the pod,
 * labelled with node and pod. Pure functions: no API calls. Nothing here holds key material or
 * tokens (VolumeState holds neither).
 */
import { safeText } from '../../common/safe-text.js';
import { createHash } from 'node:crypto';
import type { VolumeState } from '../../volumes/volume-state.js';

export const CVS_GROUP = 'csi-cert-driver.io';
export const CVS_VERSION = 'v1alpha1';
export const CVS_API_VERSION = `${CVS_GROUP}/${CVS_VERSION}`;
export const CVS_KIND = 'CertVolumeStatus';
export const CVS_PLURAL = 'certvolumestatuses';
export const NODE_LABEL = `${CVS_GROUP}/node`;
export const POD_LABEL = `${CVS_GROUP}/pod`;
export const POD_UID_LABEL = `${CVS_GROUP}/pod-uid`;
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'csi-cert-driver' };

const MAX_NAME = 253;
const MAX_LABEL = 63;
const MAX_ERROR = 1024;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string | undefined;
  lastTransitionTime: string;
}

export interface CertVolumeStatusBody {
  node: string;
  pod: { name: string; uid: string; serviceAccount?: string | undefined };
  volumeId: string;
  targetPath?: string | undefined;
  issuer: { type: 'BuiltIn' | 'CertManager'; name?: string; kind?: string; group?: string };
  serialNumber?: string | undefined;
  notBefore?: string | undefined;
  notAfter?: string | undefined;
  nextRenewal?: string | undefined;
  lastRenewal?:
    { time: string; kind: 'Issue' | 'Renew'; outcome: 'Success' | 'Failure'; error?: string } | undefined;
  consecutiveFailures: number;
  conditions: Condition[];
}

export interface CertVolumeStatusObject {
  apiVersion: typeof CVS_API_VERSION;
  kind: typeof CVS_KIND;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: { apiVersion: 'v1'; kind: 'Pod'; name: string; uid: string }[];
    resourceVersion?: string;
  };
  status: CertVolumeStatusBody;
}

function hash(s: string, chars: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, chars);
}

/**
 * `<pod>-<10 hex of sha256(volumeId)>`: stable across restarts, unique per volume, at most 253
 * characters and a DNS-1123 subdomain (a pod name is one; a cut one loses trailing '-' and '.').
 */
export function statusObjectName(podName: string, volumeId: string): string {
  const suffix = hash(volumeId, 10);
  const head = podName
    .toLowerCase()
    .slice(0, MAX_NAME - suffix.length - 1)
    .replace(/[^a-z0-9]+$/, '');
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(head) ? `${head}-${suffix}` : `volume-${suffix}`;
}

/** `v` when it is a valid label value, else `h-` and 40 hex of its sha256 (node and pod names may be 253 long). */
export function labelValue(v: string): string {
  return v.length <= MAX_LABEL && LABEL_VALUE.test(v) ? v : `h-${hash(v, 40)}`;
}

/** The label selector of one node's objects. */
export function nodeSelector(nodeId: string): string {
  return `${NODE_LABEL}=${labelValue(nodeId)}`;
}

/** `Ready`: the volume holds a certificate that is valid now; the reason says how it got there. */
function readyCondition(state: VolumeState, now: Date): Omit<Condition, 'lastTransitionTime'> {
  const cert = state.certificate;
  const last = state.history[state.history.length - 1];
  if (!cert) return { type: 'Ready', status: 'False', reason: 'Pending', message: 'no certificate yet' };
  if (Date.parse(cert.notAfter) <= now.getTime()) {
    return { type: 'Ready', status: 'False', reason: 'Expired', message: state.lastError };
  }
  if (last?.outcome === 'failure') {
    return { type: 'Ready', status: 'True', reason: 'RenewalFailing', message: state.lastError };
  }
  return { type: 'Ready', status: 'True', reason: last?.kind === 'renew' ? 'Renewed' : 'Issued' };
}

/** Keeps the earlier transition time when a condition's status did not change. */
function withTransition(
  c: Omit<Condition, 'lastTransitionTime'>,
  previous: Condition[],
  now: Date,
): Condition {
  const before = previous.find((p) => p.type === c.type);
  const at = before && before.status === c.status ? before.lastTransitionTime : now.toISOString();
  const out: Condition = { ...c, lastTransitionTime: at };
  if (out.message === undefined) delete out.message;
  else out.message = safeText(out.message, MAX_ERROR);
  return out;
}

/** Seconds precision, as the API server stores date-time: equal values compare equal after a round trip. */
function rfc3339(iso: string | undefined): string | undefined {
  return iso === undefined
    ? undefined
    : new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface StatusObjectInput {
  state: VolumeState;
  /** Conditions of the object as last written, to keep transition times. */
  previous?: Condition[] | undefined;
  now?: Date;
}

/** The whole object for a volume. */
export function statusObject({
  state,
  previous = [],
  now = new Date(),
}: StatusObjectInput): CertVolumeStatusObject {
  const { pod, spec, certificate: cert } = state;
  const last = state.history[state.history.length - 1];
  const issuer: CertVolumeStatusBody['issuer'] =
    spec.issuer.name === undefined
      ? { type: 'BuiltIn' }
      : { type: 'CertManager', name: spec.issuer.name, kind: spec.issuer.kind, group: spec.issuer.group };
  const status: CertVolumeStatusBody = {
    node: state.nodeId,
    pod: { name: pod.name, uid: pod.uid, serviceAccount: pod.serviceAccount || undefined },
    volumeId: state.volumeId,
    targetPath: state.targetPath,
    issuer,
    serialNumber: cert?.serialHex.toLowerCase(),
    notBefore: rfc3339(cert?.notBefore),
    notAfter: rfc3339(cert?.notAfter),
    nextRenewal: rfc3339(state.nextRenewalAt),
    lastRenewal: last && {
      time: rfc3339(last.at)!,
      kind: last.kind === 'renew' ? 'Renew' : 'Issue',
      outcome: last.outcome === 'success' ? 'Success' : 'Failure',
      ...(last.error ? { error: safeText(last.error, MAX_ERROR) } : {}),
    },
    consecutiveFailures: state.failures,
    conditions: [withTransition(readyCondition(state, now), previous, now)],
  };
  return {
    apiVersion: CVS_API_VERSION,
    kind: CVS_KIND,
    metadata: {
      name: statusObjectName(pod.name, state.volumeId),
      namespace: pod.namespace,
      labels: {
        ...MANAGED_BY,
        [NODE_LABEL]: labelValue(state.nodeId),
        [POD_LABEL]: labelValue(pod.name),
        [POD_UID_LABEL]: labelValue(pod.uid),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid }],
    },
    status: JSON.parse(JSON.stringify(status)) as CertVolumeStatusBody,
  };
}

/** Whether two bodies say the same (ignoring transition times); used to skip writes at resync. */
export function sameStatus(a: CertVolumeStatusBody | undefined, b: CertVolumeStatusBody): boolean {
  if (!a) return false;
  const strip = (s: CertVolumeStatusBody) =>
    JSON.stringify(
      { ...s, conditions: s.conditions.map((c) => ({ ...c, lastTransitionTime: '' })) },
      keysSorted,
    );
  return strip(a) === strip(b);
}

function keysSorted(_key: string, value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)),
  );
}
