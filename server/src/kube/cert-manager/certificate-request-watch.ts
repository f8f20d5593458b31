/**
 * cert-manager mode's view of this node's CertificateRequests through one watch instead of a GET
 * per poll: the approver's CrInformer (list, then watch from its resourceVersion, re-list after a
 * gap) over the requests labelled with this node, as the driver's own account (RBAC: list and
 * watch certificaterequests). CertManagerIssuer reads a request from here while the watch is
 * synced and falls back to GETs when it is not (no `watch` permission, API server restarting), so
 * a broken watch costs API calls, never a publish.
 */
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
import { CERTIFICATE_REQUESTS_PATH, viewOf } from './certificate-requests.js';
import type { KubeJson } from '../client/kube-json.js';
import { jsonPages, listAll } from '../client/paged-list.js';

/** The API server ends each watch after this; the informer re-opens it from the last version seen. */
const WATCH_TIMEOUT_S = 300;
/**
 * Silence after which the node gives up on a watch: past the server's own end. A quiet watch gets
 * no bookmarks before its end (none within 200 s measured, ADR 27), so a shorter bound re-opened
 * every quiet node's watch twice a minute. A dead connection is noticed within this; meanwhile a
 * publish reads its request with GET once no event came for 2 s (CertManagerIssuer).
 */
export const WATCH_IDLE_MS = (WATCH_TIMEOUT_S + 30) * 1000;

/**
 * list + watch of the requests carrying `csi.k8s.cert-driver/node=<node>`, in every namespace, as
 * plain JSON on `json` (the watch's events are this mode's busiest API traffic, four or more per
 * publish; ADR 25).
 */
export function nodeRequestsApi(json: KubeJson, nodeId: string): WatchableApi {
  const labelSelector = `${NODE_LABEL}=${labelValue(nodeId)}`;
  return {
    list() {
      const read = jsonPages<CertificateRequest>(json, CERTIFICATE_REQUESTS_PATH, { labelSelector });
      return listAll({ what: 'certificaterequests', read });
    },
    watch(resourceVersion, onEvent, onDone) {
      const query = new URLSearchParams({
        watch: 'true',
        resourceVersion,
        labelSelector,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(WATCH_TIMEOUT_S),
      });
      return json.watch(
        `${CERTIFICATE_REQUESTS_PATH}?${query.toString()}`,
        (phase, obj) =>
          onEvent(phase as Parameters<typeof onEvent>[0], obj as CertificateRequest & { code?: number }),
        onDone,
        WATCH_IDLE_MS,
      );
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
