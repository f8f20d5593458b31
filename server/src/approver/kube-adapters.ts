/**
 * The approver's Kubernetes edge: CertificateRequests through the custom-objects API (list, watch,
 * get, status update), Events through core/v1, and the leader Lease through coordination.k8s.io/v1.
 * API failures keep their HTTP status (kube-errors.ts); a 409 becomes a typed conflict. The client
 * library comes in as `lib` (loaded on demand by kube-client.ts); this file imports its types only.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { ClientLibrary } from '../kube/client/kube-client.js';
import { kubeStatusCode } from '../kube/client/kube-errors.js';
import { customObjectPages, listAll } from '../kube/client/paged-list.js';
import { CR_GROUP, CR_PLURAL, CR_VERSION, type CertificateRequest } from './certificate-request.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from './leader-election.js';

/** A write lost to a concurrent one (HTTP 409): re-read and decide again. */
export class ConflictError extends Error {}

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface CertificateRequestApi {
  /** Every request, read page by page (paged-list.ts); the resourceVersion to watch from. */
  list(): Promise<{ items: CertificateRequest[]; resourceVersion: string }>;
  /** Calls `onEvent` per event and `onDone` once when the watch ends (error or timeout). */
  watch(
    resourceVersion: string,
    onEvent: (phase: WatchPhase, obj: CertificateRequest & { code?: number }) => void,
    onDone: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
  /** PUT to the status subresource with the object's resourceVersion; ConflictError on 409. */
  updateStatus(cr: CertificateRequest): Promise<CertificateRequest>;
}

export interface EventRecorder {
  record(cr: CertificateRequest, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export function certificateRequestApi(lib: ClientLibrary, config: KubeConfig): CertificateRequestApi {
  const api = config.makeApiClient(lib.CustomObjectsApi);
  const watcher = new lib.Watch(config);
  const base = { group: CR_GROUP, version: CR_VERSION, plural: CR_PLURAL };
  return {
    list() {
      return listAll({ what: CR_PLURAL, read: customObjectPages<CertificateRequest>(api, base) });
    },
    async watch(resourceVersion, onEvent, onDone) {
      return watcher.watch(
        `/apis/${CR_GROUP}/${CR_VERSION}/${CR_PLURAL}`,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 60 },
        (phase: string, obj: CertificateRequest & { code?: number }) => onEvent(phase as WatchPhase, obj),
        onDone,
      );
    },
    async updateStatus(cr) {
      try {
        return (await api.replaceNamespacedCustomObjectStatus({
          ...base,
          namespace: cr.metadata?.namespace ?? '',
          name: cr.metadata?.name ?? '',
          body: cr,
        })) as CertificateRequest;
      } catch (e) {
        if (kubeStatusCode(e) === 409) throw new ConflictError('the CertificateRequest changed');
        throw e;
      }
    },
  };
}

/** Events on the CertificateRequest, as `kubectl describe certificaterequest` shows them. */
export function eventRecorder(
  lib: ClientLibrary,
  config: KubeConfig,
  component: string,
  instance: string,
): EventRecorder {
  const core = config.makeApiClient(lib.CoreV1Api);
  return {
    async record(cr, type, reason, message) {
      const namespace = cr.metadata?.namespace ?? '';
      const now = new Date();
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${cr.metadata?.name ?? 'cr'}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: {
            apiVersion: `${CR_GROUP}/${CR_VERSION}`,
            kind: 'CertificateRequest',
            name: cr.metadata?.name,
            namespace,
            uid: cr.metadata?.uid,
            resourceVersion: cr.metadata?.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component },
          reportingComponent: component,
          reportingInstance: instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    },
  };
}

/** The leader Lease `namespace/name`. */
export function kubeLeaseStore(
  lib: ClientLibrary,
  config: KubeConfig,
  namespace: string,
  name: string,
): LeaseStore {
  const api = config.makeApiClient(lib.CoordinationV1Api);
  // MicroTime fields travel as strings with microseconds (isoMicro); the client's Date type is bypassed.
  const toRecord = (l: V1Lease): LeaseRecord => {
    const spec = (l.spec ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : undefined);
    return {
      holderIdentity: l.spec?.holderIdentity,
      leaseDurationSeconds: l.spec?.leaseDurationSeconds,
      acquireTime: str(spec.acquireTime),
      renewTime: str(spec.renewTime),
      leaseTransitions: l.spec?.leaseTransitions,
      resourceVersion: l.metadata?.resourceVersion,
    };
  };
  const toLease = (r: LeaseRecord): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, resourceVersion: r.resourceVersion },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: r.acquireTime as unknown as Date,
      renewTime: r.renewTime as unknown as Date,
      leaseTransitions: r.leaseTransitions,
    },
  });
  const conflictOn = async (op: () => Promise<V1Lease>): Promise<LeaseRecord> => {
    try {
      return toRecord(await op());
    } catch (e) {
      const code = kubeStatusCode(e);
      if (code === 409) throw new LeaseConflictError('the Lease changed');
      throw e;
    }
  };
  return {
    async get() {
      try {
        return toRecord(await api.readNamespacedLease({ name, namespace }));
      } catch (e) {
        if (kubeStatusCode(e) === 404) return undefined;
        throw e;
      }
    },
    create: (r) => conflictOn(() => api.createNamespacedLease({ namespace, body: toLease(r) })),
    update: (r) => conflictOn(() => api.replaceNamespacedLease({ name, namespace, body: toLease(r) })),
  };
}
