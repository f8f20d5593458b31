/**
 * Watches one Secret by name and hands every new version to a callback, in order. Needs only `get`
 * and `watch` on that one Secret (RBAC resourceNames work with a metadata.name field selector). The
 * watch is re-opened from the last resourceVersion when it ends; a 410 Gone re-reads the Secret.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import type { KubeClients } from '../client/kube-client.js';
import { describeKubeError } from '../client/kube-errors.js';

export interface ObjectRef {
  name: string;
  namespace: string;
}

export interface WatchSecretOptions {
  clients: Pick<KubeClients, 'core' | 'watch'>;
  ref: ObjectRef;
  logger: Logger;
  /** The version already handled (from `readNamespacedSecret`); the watch starts after it. */
  resourceVersion: string;
  /** Called with each new version, one call at a time. A throw is logged; the watch goes on. */
  onChange(secret: V1Secret): void | Promise<void>;
  /** Called when the Secret is deleted; the last version stays in use. */
  onDelete?(): void;
  /** First delay before re-watching after a failure; doubles up to 30 s. Default 500 ms. */
  retryDelayMs?: number;
  /** How long the API server keeps one watch open before it is re-opened. Default 20 s. */
  watchTimeoutSeconds?: number;
}

export interface SecretWatch {
  stop(): void;
}

const MAX_RETRY_MS = 30_000;

interface WatchEvent {
  code?: number;
  metadata?: { resourceVersion?: string };
}

export function watchSecret(opts: WatchSecretOptions): SecretWatch {
  const { ref, logger } = opts;
  const log = logger.child({ secret: `${ref.namespace}/${ref.name}` });
  const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`;
  const baseDelay = opts.retryDelayMs ?? 500;
  let resourceVersion = opts.resourceVersion;
  let delivered = opts.resourceVersion;
  let stopped = false;
  let failures = 0;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();

  const deliver = (secret: V1Secret): void => {
    const rv = secret.metadata?.resourceVersion;
    if (rv !== undefined && rv === delivered) return;
    if (rv !== undefined) delivered = rv;
    queue = queue.then(async () => {
      if (stopped) return;
      try {
        await opts.onChange(secret);
      } catch (e) {
        log.error({ err: { message: (e as Error).message } }, 'handling the changed Secret failed');
      }
    });
  };

  const relist = async (): Promise<void> => {
    const secret = await opts.clients.core.readNamespacedSecret(ref);
    resourceVersion = secret.metadata?.resourceVersion ?? '';
    deliver(secret);
  };

  const retry = (err: unknown, gone: boolean): void => {
    abort = undefined;
    if (stopped) return;
    const clean = err === null || err === undefined || (err as Error).name === 'TimeoutError';
    const delay = clean && !gone ? 0 : Math.min(MAX_RETRY_MS, baseDelay * 2 ** failures++);
    if (!clean) log.warn({ err: describeKubeError(err), retryInMs: delay }, 'Secret watch failed');
    timer = setTimeout(() => {
      timer = undefined;
      void (gone ? relist() : Promise.resolve()).then(connect, (e: unknown) => retry(e, true));
    }, delay);
    timer.unref();
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    let gone = false;
    try {
      abort = await opts.clients.watch.watch(
        path,
        {
          fieldSelector: `metadata.name=${ref.name}`,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: opts.watchTimeoutSeconds ?? 20,
        },
        (phase: string, obj: WatchEvent) => {
          if (phase === 'ERROR') {
            gone = obj.code === 410;
            return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
          failures = 0;
          if (phase === 'ADDED' || phase === 'MODIFIED') deliver(obj as V1Secret);
          else if (phase === 'DELETED') {
            log.warn('Secret deleted; keeping the version in use');
            opts.onDelete?.();
          }
        },
        (err: unknown) => retry(gone ? null : err, gone),
      );
      if (stopped) abort.abort();
    } catch (e) {
      retry(e, false);
    }
  };

  void connect();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort?.abort();
    },
  };
}
