/**
 * The API calls of the status feature, behind two small interfaces so the queue and reporter are
 * tested with in-memory fakes: CertVolumeStatus objects (server-side apply, delete, list by node)
 * and core/v1 Events (create, merge-patch). The adapters send plain JSON requests (KubeJson, from
 * kube-access.ts: node:https, or the client library for kubeconfigs only it supports), so loading
 * this file does not load the library.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { kubeStatusCode } from '../client/kube-errors.js';
import type { KubeJson } from '../client/kube-json.js';
import { jsonPages, listAll, PAGE_LIMIT } from '../client/paged-list.js';
import { CVS_GROUP, CVS_PLURAL, CVS_VERSION, type CertVolumeStatusObject } from './status-object.js';

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

const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';
const CVS_PATH = `/apis/${CVS_GROUP}/${CVS_VERSION}`;
const ns = (namespace: string) => `/namespaces/${encodeURIComponent(namespace)}`;
const cvsPath = (namespace: string, name: string) =>
  `${CVS_PATH}${ns(namespace)}/${CVS_PLURAL}/${encodeURIComponent(name)}`;
const eventsPath = (namespace: string) => `/api/v1${ns(namespace)}/events`;
const manager = `fieldManager=${FIELD_MANAGER}`;

/**
 * Writes by server-side apply (forced: the node owns its objects), lists page by page (`pageLimit`
 * objects a request, default 500; paged-list.ts).
 */
export function kubernetesStatusApi(json: KubeJson, pageLimit = PAGE_LIMIT): StatusApi {
  return {
    async apply(obj) {
      // JSON is YAML: the apply body is the object as JSON.
      await json.request(
        'PATCH',
        `${cvsPath(obj.metadata.namespace, obj.metadata.name)}?${manager}&force=true`,
        obj,
        APPLY,
      );
    },
    async delete(namespace, name) {
      try {
        await json.request('DELETE', cvsPath(namespace, name));
      } catch (e) {
        if (kubeStatusCode(e) !== 404) throw e;
      }
    },
    async list(labelSelector) {
      const read = jsonPages<CertVolumeStatusObject>(json, `${CVS_PATH}/${CVS_PLURAL}`, {
        labelSelector,
        limit: pageLimit,
      });
      return (await listAll({ what: CVS_PLURAL, read })).items;
    },
  };
}

export function kubernetesEventsApi(json: KubeJson): EventsApi {
  return {
    async create(event) {
      await json.request('POST', `${eventsPath(event.metadata.namespace)}?${manager}`, event);
    },
    async update(namespace, name, patch) {
      await json.request(
        'PATCH',
        `${eventsPath(namespace)}/${encodeURIComponent(name)}?${manager}`,
        patch,
        MERGE,
      );
    },
  };
}
