/**
 * The API calls of the status feature, behind two small interfaces so the queue and reporter are
 * tested with in-memory fakes: CertVolumeStatus objects (server-side apply, delete, list by node)
 * and core/v1 Events (create, merge-patch). The adapters use client-node's KubernetesObjectApi,
 * handed in by the lazily loaded factory (`status-kubernetes.ts`); this file imports only types
 * from client-node, so loading it does not load the library.
 */
import type { KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { kubeStatusCode } from '../client/kube-errors.js';
import { CVS_API_VERSION, CVS_KIND, type CertVolumeStatusObject } from './status-object.js';

/** The field manager of every write; `kubectl get cvs --show-managed-fields` shows it. */
export const FIELD_MANAGER = 'csi-cert-driver-node';

export interface StatusApi {
  /** Creates or updates the whole object (server-side apply, forced: the node owns it). */
  apply(obj: CertVolumeStatusObject): Promise<void>;
  /** Deletes the object; one that does not exist is not an error. */
  delete(namespace: string, name: string): Promise<void>;
  /** Every object in all namespaces carrying this label selector. */
  list(labelSelector: string): Promise<CertVolumeStatusObject[]>;
}

export interface CoreEvent extends KubernetesObject {
  metadata: { name: string; namespace: string };
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  action?: string | undefined;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host: string };
  reportingComponent: string;
  reportingInstance: string;
}

export interface EventsApi {
  create(event: CoreEvent): Promise<void>;
  /** Updates count, time and message of an earlier Event; rejects with HTTP 404 when it is gone. */
  update(
    namespace: string,
    name: string,
    patch: Pick<CoreEvent, 'count' | 'lastTimestamp' | 'message'>,
  ): Promise<void>;
}

const APPLY: PatchStrategy = 'application/apply-patch+yaml';
const MERGE: PatchStrategy = 'application/merge-patch+json';

export function kubernetesStatusApi(objects: KubernetesObjectApi): StatusApi {
  return {
    async apply(obj) {
      await objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, APPLY);
    },
    async delete(namespace, name) {
      try {
        await objects.delete({ apiVersion: CVS_API_VERSION, kind: CVS_KIND, metadata: { namespace, name } });
      } catch (e) {
        if (kubeStatusCode(e) !== 404) throw e;
      }
    },
    async list(labelSelector) {
      const out: CertVolumeStatusObject[] = [];
      let token: string | undefined;
      do {
        const page = await objects.list<CertVolumeStatusObject>(
          CVS_API_VERSION,
          CVS_KIND,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
          500,
          token,
        );
        out.push(...page.items);
        token = page.metadata?._continue || undefined;
      } while (token);
      return out;
    },
  };
}

export function kubernetesEventsApi(objects: KubernetesObjectApi): EventsApi {
  return {
    async create(event) {
      await objects.create(event);
    },
    async update(namespace, name, patch) {
      await objects.patch(
        { apiVersion: 'v1', kind: 'Event', metadata: { namespace, name }, ...patch },
        undefined,
        undefined,
        FIELD_MANAGER,
        undefined,
        MERGE,
      );
    },
  };
}
