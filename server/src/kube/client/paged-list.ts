/**
 * Reading a whole Kubernetes list page by page: at most `limit` objects a request (500 by default),
 * following `metadata.continue` until the API server sends none, so no answer is unbounded. A
 * continue token the API server no longer honours (HTTP 410 Gone: etcd compacted past the list's
 * revision) restarts the list from its first page, at most `restarts` times, then rejects with
 * ListExpiredError. Any other failure rejects as it came. Imports only types from client-node.
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { kubeStatusCode } from './kube-errors.js';
import type { KubeJson } from './kube-json.js';

/** Objects a page unless the caller says otherwise: client-go's pager default. */
export const PAGE_LIMIT = 500;
/** Restarts after an expired continue token before giving up. */
export const LIST_RESTARTS = 3;

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  /** Absent on the last page. */
  continueToken?: string | undefined;
}

/** Reads one page: the first when `continueToken` is undefined. */
export type ReadPage<T> = (continueToken: string | undefined) => Promise<ListPage<T>>;

/** The list's continue token expired on every attempt: the API server compacts faster than it is read. */
export class ListExpiredError extends Error {
  constructor(what: string, attempts: number) {
    super(
      `the list of ${what} expired (HTTP 410 Gone) ${attempts} times while it was read page by page: ` +
        'the API server compacted past its revision before the last page',
    );
    this.name = 'ListExpiredError';
  }
}

export interface ListAllOptions<T, R> {
  /** Names the resource in ListExpiredError, e.g. `certvolumestatuses`. */
  what: string;
  read: ReadPage<T>;
  /** Reduces each object as its page arrives (undefined drops it), so raw pages are not kept. */
  map?: (item: T) => R | undefined;
  /** Default LIST_RESTARTS. */
  restarts?: number;
  /** Checked between pages; true ends the read early with what was read so far. */
  stopped?: () => boolean;
}

/** Every object of the list, and the resourceVersion of its last page (to watch from). */
export async function listAll<T, R = T>(
  o: ListAllOptions<T, R>,
): Promise<{ items: R[]; resourceVersion: string }> {
  const restarts = o.restarts ?? LIST_RESTARTS;
  for (let attempt = 0; ; attempt++) {
    const items: R[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    try {
      do {
        const page = await o.read(token);
        for (const item of page.items) {
          const r = o.map ? o.map(item) : (item as unknown as R);
          if (r !== undefined) items.push(r);
        }
        resourceVersion = page.resourceVersion;
        token = page.continueToken || undefined;
      } while (token && !o.stopped?.());
      return { items, resourceVersion };
    } catch (e) {
      if (token === undefined || kubeStatusCode(e) !== 410) throw e;
      if (attempt >= restarts) throw new ListExpiredError(o.what, attempt + 1);
    }
  }
}

export interface CustomResourceList {
  group: string;
  version: string;
  plural: string;
  labelSelector?: string | undefined;
  /** Objects a page; default PAGE_LIMIT. */
  limit?: number | undefined;
}

/**
 * Pages of a custom resource in all namespaces through CustomObjectsApi, which hands back the raw
 * list. (KubernetesObjectApi.list deserializes a custom resource's list as a plain
 * KubernetesObject and drops `metadata.continue`: it never gets past the first page.)
 */
export function customObjectPages<T>(api: CustomObjectsApi, r: CustomResourceList): ReadPage<T> {
  return async (token) => {
    const page = (await api.listClusterCustomObject({
      group: r.group,
      version: r.version,
      plural: r.plural,
      labelSelector: r.labelSelector,
      limit: r.limit ?? PAGE_LIMIT,
      _continue: token,
    })) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    return {
      items: page.items ?? [],
      resourceVersion: page.metadata?.resourceVersion ?? '',
      continueToken: page.metadata?.continue || undefined,
    };
  };
}

/**
 * Pages of a list through plain JSON requests (kube-json.ts): `path` is the collection, e.g.
 * `/apis/cert-manager.io/v1/certificaterequests` for all namespaces.
 */
export function jsonPages<T>(
  json: Pick<KubeJson, 'request'>,
  path: string,
  o: { labelSelector?: string | undefined; limit?: number | undefined } = {},
): ReadPage<T> {
  return async (token) => {
    const query = new URLSearchParams({ limit: String(o.limit ?? PAGE_LIMIT) });
    if (o.labelSelector) query.set('labelSelector', o.labelSelector);
    if (token) query.set('continue', token);
    const page = (await json.request('GET', `${path}?${query.toString()}`)) as {
      items?: T[] | null;
      metadata?: { resourceVersion?: string; continue?: string };
    };
    return {
      items: page.items ?? [],
      resourceVersion: page.metadata?.resourceVersion ?? '',
      continueToken: page.metadata?.continue || undefined,
    };
  };
}
