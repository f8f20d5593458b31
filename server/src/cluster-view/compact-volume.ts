/**
 * What the cluster view keeps of one CertVolumeStatus object: the fields the view shows, times as
 * epoch milliseconds, repeated strings (node, namespace, issuer) interned. Built field by field from
 * the object, so nothing else the object holds (now or later) is kept or served. Pure.
 */
import { safeText } from '../common/safe-text.js';
import type { CertVolumeStatusObject } from '../kube/status/status-object.js';

const MAX_ERROR = 512;
const MAX_TEXT = 253;

export interface CompactVolume {
  /** `namespace/name` of the object. */
  id: string;
  namespace: string;
  name: string;
  node: string;
  pod: string;
  podUid: string;
  serviceAccount: string | undefined;
  volumeId: string;
  /** The volume id in lower case when it differs (kubelet's ids are lower case already). */
  volumeIdLower: string | undefined;
  targetPath: string | undefined;
  issuer: string;
  serial: string | undefined;
  notBefore: number | undefined;
  notAfter: number | undefined;
  nextRenewal: number | undefined;
  last:
    | { at: number; kind: 'Issue' | 'Renew'; outcome: 'Success' | 'Failure'; error: string | undefined }
    | undefined;
  failures: number;
  ready: { status: string; reason: string; since: number };
  /** Newest time the object says something happened: last renewal or Ready transition. */
  reportedAt: number;
}

/** Interns repeated strings, so 50,000 objects of 500 nodes hold 500 node names. Bounded. */
export class Interner {
  private readonly seen = new Map<string, string>();
  constructor(private readonly max = 200_000) {}
  get(s: string): string {
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    if (this.seen.size < this.max) this.seen.set(s, s);
    return s;
  }
}

function ms(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

function text(s: unknown, max = MAX_TEXT): string {
  return typeof s === 'string' ? s.slice(0, max) : '';
}

function lowerIfNeeded(s: string): string | undefined {
  const l = s.toLowerCase();
  return l === s ? undefined : l;
}

/** `BuiltIn` or `CertManager:<kind>/<name>[.<group>]` (group omitted when cert-manager.io). */
export function issuerKey(i: CertVolumeStatusObject['status']['issuer'] | undefined): string {
  if (!i || i.type !== 'CertManager') return 'BuiltIn';
  const group = i.group && i.group !== 'cert-manager.io' ? `.${text(i.group)}` : '';
  return `CertManager:${text(i.kind) || 'Issuer'}/${text(i.name)}${group}`;
}

/** The compact record of an object, or undefined when it lacks a name or a status. */
export function compactVolume(obj: CertVolumeStatusObject, intern: Interner): CompactVolume | undefined {
  const md = obj.metadata;
  const s = obj.status as Partial<CertVolumeStatusObject['status']> | undefined;
  if (!md?.name || !md.namespace || !s) return undefined;
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  const last = s.lastRenewal;
  const lastAt = ms(last?.time);
  const since = ms(ready?.lastTransitionTime) ?? 0;
  return {
    id: `${md.namespace}/${md.name}`,
    namespace: intern.get(text(md.namespace)),
    name: text(md.name),
    node: intern.get(text(s.node)),
    pod: text(s.pod?.name),
    podUid: text(s.pod?.uid, 64),
    serviceAccount: s.pod?.serviceAccount ? intern.get(text(s.pod.serviceAccount)) : undefined,
    volumeId: text(s.volumeId, 256),
    volumeIdLower: lowerIfNeeded(text(s.volumeId, 256)),
    targetPath: s.targetPath ? text(s.targetPath, 1024) : undefined,
    issuer: intern.get(issuerKey(s.issuer)),
    serial: s.serialNumber ? text(s.serialNumber, 64) : undefined,
    notBefore: ms(s.notBefore),
    notAfter: ms(s.notAfter),
    nextRenewal: ms(s.nextRenewal),
    last:
      last && lastAt !== undefined
        ? {
            at: lastAt,
            kind: last.kind === 'Renew' ? 'Renew' : 'Issue',
            outcome: last.outcome === 'Failure' ? 'Failure' : 'Success',
            error: last.error ? safeText(last.error, MAX_ERROR) : undefined,
          }
        : undefined,
    failures: typeof s.consecutiveFailures === 'number' ? s.consecutiveFailures : 0,
    ready: {
      status: intern.get(text(ready?.status, 16) || 'Unknown'),
      reason: intern.get(text(ready?.reason, 64)),
      since,
    },
    reportedAt: Math.max(lastAt ?? 0, since),
  };
}
