/**
 * The API calls of the status feature, behind two small interfaces so the queue and reporter are
 * tested with in-memory fakes: CertVolumeStatus objects (server-side apply, delete, list by node)
 * and core/v1 Events (create, merge-patch). The adapters use client-node's KubernetesObjectApi and
 * CustomObjectsApi, handed in by the lazily loaded factory (`status-kubernetes.ts`); this file imports only types
 * from client-node, so loading it does not load the library.
 */
import type {
  CustomObjectsApi,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { kubeStatusCode } from '../client/kube-errors.js';
import { customObjectPages, listAll, PAGE_LIMIT } from '../client/paged-list.js';
import {
  CVS_API_VERSION,
  CVS_GROUP,
  CVS_KIND,
  CVS_PLURAL,
  CVS_VERSION,
  type CertVolumeStatusObject,
} from './status-object.js';

/** The field manager of every write; `kubectl get cvs --show-managed-fields` shows it. */
export const FIELD_MANAGER = 'csi-cert-driver-node';

export interface StatusApi {
  /** Creates or updates the whole object (server-side apply, forced: the node owns it). */
  apply(obj: CertVolumeStatusObject): Promise<void>;
  /** Deletes the object; one that does not exist is not an error. */
  delete(namespace: string, name: string): Promise<void>;
  /**
   * Every object in all namespaces carrying this label selector, read page by page; rejects with
   * ListExpiredError when the list's continue token keeps expiring.
   */
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

/**
 * Writes through KubernetesObjectApi (server-side apply), lists through CustomObjectsApi page by
 * page (`pageLimit` objects a request, default 500; paged-list.ts).
 */
export function kubernetesStatusApi(
  objects: KubernetesObjectApi,
  custom: CustomObjectsApi,
  pageLimit = PAGE_LIMIT,
): StatusApi {
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
      const read = customObjectPages<CertVolumeStatusObject>(custom, {
        group: CVS_GROUP,
        version: CVS_VERSION,
        plural: CVS_PLURAL,
        labelSelector,
        limit: pageLimit,
      });
      return (await listAll({ what: CVS_PLURAL, read })).items;
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
