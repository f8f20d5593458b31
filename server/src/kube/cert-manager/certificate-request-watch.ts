/**
 * cert-manager mode's view of this node's CertificateRequests through one watch instead of a GET
 * per poll: the approver's CrInformer (list, then watch from its resourceVersion, re-list after a
 * gap) over the requests labelled with this node, as the driver's own account (RBAC: list and
 * watch certificaterequests). CertManagerIssuer reads a request from here while the watch is
 * synced and falls back to GETs when it is not (no `watch` permission, API server restarting), so
 * a broken watch costs API calls, never a publish.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import { CrInformer } from '../../approver/cr-informer.js';
import type { CertificateRequestApi as WatchableApi } from '../../approver/kube-adapters.js';
import type { CertificateRequest } from '../../approver/certificate-request.js';
import {
  NODE_LABEL,
  labelValue,
  type CertificateRequestUpdates,
  type CertificateRequestView,
} from '../../issuer-client/certificate-requests.port.js';
import { viewOf } from './certificate-requests.js';
import type { ClientLibrary } from '../client/kube-client.js';
import { customObjectPages, listAll } from '../client/paged-list.js';
import { NoConnectionPoolError, kubeJson } from '../client/kube-json.js';

const PATH = '/apis/cert-manager.io/v1/certificaterequests';

/** list + watch of the requests carrying `csi.k8s.cert-driver/node=<node>`, in every namespace. */
export function nodeRequestsApi(lib: ClientLibrary, config: KubeConfig, nodeId: string): WatchableApi {
  const labelSelector = `${NODE_LABEL}=${labelValue(nodeId)}`;
  const api = config.makeApiClient(lib.CustomObjectsApi);
  // The watch's events are this mode's busiest API traffic (four or more per publish): read them
  // on the shared connection without the library's fetch/web-stream/readline layers (ADR 25).
  const json = kubeJson(config);
  let pooled = true;
  const library = new lib.Watch(config);
  return {
    list() {
      const read = customObjectPages<CertificateRequest>(api, {
        group: 'cert-manager.io',
        version: 'v1',
        plural: 'certificaterequests',
        labelSelector,
      });
      return listAll({ what: 'certificaterequests', read });
    },
    async watch(resourceVersion, onEvent, onDone) {
      const query = new URLSearchParams({
        watch: 'true',
        resourceVersion,
        labelSelector,
        allowWatchBookmarks: 'true',
        timeoutSeconds: '300',
      });
      const handler = (phase: string, obj: unknown) =>
        onEvent(phase as Parameters<typeof onEvent>[0], obj as CertificateRequest & { code?: number });
      if (pooled) {
        try {
          return await json.watch(`${PATH}?${query.toString()}`, handler, onDone);
        } catch (e) {
          if (!(e instanceof NoConnectionPoolError)) throw e;
          pooled = false;
        }
      }
      query.delete('watch');
      return library.watch(PATH, Object.fromEntries(query), handler, onDone);
    },
    updateStatus() {
      return Promise.reject(new Error('the node never writes a CertificateRequest status'));
    },
  };
}

/** The watch as CertManagerIssuer reads it. */
export class CertificateRequestWatch implements CertificateRequestUpdates {
  private readonly informer: CrInformer;
  private readonly waiters = new Map<string, Set<(changed: boolean) => void>>();

  constructor(api: WatchableApi, logger: Logger) {
    this.informer = new CrInformer({
      api,
      logger,
      onChange: (key) => this.wake(key),
    });
  }

  start(): void {
    this.informer.start();
  }

  stop(): void {
    this.informer.stop();
    for (const key of [...this.waiters.keys()]) this.wake(key, false);
  }

  synced(): boolean {
    return this.informer.synced;
  }

  get(namespace: string, name: string): CertificateRequestView | undefined {
    const cr = this.informer.cache.get(`${namespace}/${name}`);
    return cr ? viewOf(cr as Parameters<typeof viewOf>[0]) : undefined;
  }

  changed(namespace: string, name: string, ms: number): Promise<boolean> {
    const key = `${namespace}/${name}`;
    return new Promise<boolean>((resolve) => {
      const set = this.waiters.get(key) ?? new Set<(changed: boolean) => void>();
      this.waiters.set(key, set);
      const done = (changed: boolean) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve(changed);
      };
      const timer = setTimeout(() => done(false), Math.max(0, ms));
      set.add(done);
    });
  }

  private wake(key: string, changed = true): void {
    for (const w of [...(this.waiters.get(key) ?? [])]) w(changed);
  }
}
