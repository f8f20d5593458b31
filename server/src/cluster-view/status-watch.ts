/**
 * Keeps the ClusterStore equal to the CertVolumeStatus objects of all namespaces: a paged list
 * (500 objects a page; an expired continue token restarts it, paged-list.ts), then a watch from
 * the list's resourceVersion, re-opened from the last one seen when it ends (bookmarks keep it
 * current). A 410 Gone of the watch (or any failure) lists again, with backoff up to 30 s (the
 * shared list+watch loop, kube/client/list-watch.ts). Needs
 * `list` and `watch` on certvolumestatuses, nothing else. No node is ever asked anything.
 */
import type { CustomObjectsApi, Watch } from '@kubernetes/client-node';
import type { Logger } from '../common/logger.js';
import { startListWatch, type WatchPhase } from '../kube/client/list-watch.js';
import { customObjectPages, listAll, type ListPage } from '../kube/client/paged-list.js';
import { CVS_GROUP, CVS_PLURAL, CVS_VERSION } from '../kube/status/status-object.js';
import type { CertVolumeStatusObject } from '../kube/status/status-object.js';
import { compactVolume, Interner } from './compact-volume.js';
import type { ClusterStore } from './cluster-store.js';

export type StatusPage = ListPage<CertVolumeStatusObject>;

export type { WatchPhase };

/** The two calls the view makes; the adapter below uses client-node, tests may use a fake. */
export interface StatusListWatch {
  list(continueToken: string | undefined): Promise<StatusPage>;
  /** Resolves once the watch is open; `done` is called once when it ends (null: closed by the server). */
  watch(
    resourceVersion: string,
    onEvent: (phase: WatchPhase, obj: CertVolumeStatusObject & { code?: number }) => void,
    done: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
}

const PATH = `/apis/${CVS_GROUP}/${CVS_VERSION}/${CVS_PLURAL}`;

/** The adapter over client-node: pages through CustomObjectsApi (paged-list.ts), watches with Watch. */
export function kubernetesStatusListWatch(objects: CustomObjectsApi, watch: Watch): StatusListWatch {
  return {
    list: customObjectPages<CertVolumeStatusObject>(objects, {
      group: CVS_GROUP,
      version: CVS_VERSION,
      plural: CVS_PLURAL,
    }),
    watch(resourceVersion, onEvent, done) {
      return watch.watch(
        PATH,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
        (phase: string, obj: CertVolumeStatusObject & { code?: number }) => onEvent(phase as WatchPhase, obj),
        done,
      );
    },
  };
}

export interface StatusWatchOptions {
  api: StatusListWatch;
  store: ClusterStore;
  logger: Logger;
  /** First retry delay; doubles up to 30 s. Default 500 ms. */
  retryDelayMs?: number;
}

export interface StatusWatch {
  /** Resolves after the first complete list (rejects never: failures are retried). */
  synced: Promise<void>;
  stop(): void;
}

export function startStatusWatch(o: StatusWatchOptions): StatusWatch {
  const log = o.logger.child({ component: 'cluster-view-watch' });
  const intern = new Interner();
  let stopped = false;
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => (markSynced = r));

  const loop = startListWatch<CertVolumeStatusObject>({
    relistOnFailure: true,
    retryDelayMs: o.retryDelayMs,
    logger: log,
    failureMessage: 'status object watch failed',
    async list() {
      const { items, resourceVersion: rv } = await listAll({
        what: CVS_PLURAL,
        read: (token) => o.api.list(token),
        map: (obj: CertVolumeStatusObject) => compactVolume(obj, intern),
        stopped: () => stopped,
      });
      o.store.replaceAll(items);
      log.info({ objects: items.length, resourceVersion: rv }, 'status objects listed');
      markSynced();
      return rv;
    },
    watch: (rv, onEvent, done) => o.api.watch(rv, onEvent, done),
    onEvent(phase, obj) {
      const v = compactVolume(obj, intern);
      if (!v) return;
      if (phase === 'DELETED') o.store.delete(v.id);
      else o.store.upsert(v);
    },
  });
  return {
    synced,
    stop() {
      stopped = true;
      loop.stop();
    },
  };
}
