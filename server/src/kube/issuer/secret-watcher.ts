/**
 * Watches one Secret by name and hands every new version to a callback, one call at a time and in
 * order, each version once. Needs only `get` and `watch` on that one Secret (RBAC resourceNames work
 * with a metadata.name field selector). Plain JSON on a KubeJson (kube-access.ts picks node:https or
 * the client library). The watch is re-opened from the last resourceVersion seen when it ends (the
 * API server's timeoutSeconds, or silence past it); a failure re-opens it after a delay that doubles
 * up to 30 s; a 410 Gone (the version is too old) re-reads the Secret first, with the same backoff
 * while the read fails. A deleted Secret is logged and the last version stays in use.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import type { KubeJson } from '../client/kube-json.js';
import { describeKubeError, kubeStatusCode } from '../client/kube-errors.js';

export interface ObjectRef {
  name: string;
  namespace: string;
}

export interface WatchSecretOptions {
  json: KubeJson;
  ref: ObjectRef;
  logger: Logger;
  /** The version already handled (from `readSecret`); the watch starts after it. */
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

/** The path of Secret `ref`. */
export function secretPath(ref: ObjectRef): string {
  return `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets/${encodeURIComponent(ref.name)}`;
}

/** GET of Secret `ref`; rejects as the KubeJson does (a KubeHttpError carries the status). */
export async function readSecret(json: KubeJson, ref: ObjectRef): Promise<V1Secret> {
  return (await json.request('GET', secretPath(ref))) as V1Secret;
}

export interface SecretWatch {
  stop(): void;
}

const MAX_RETRY_MS = 30_000;

interface WatchEvent {
  code?: number;
  message?: string;
  metadata?: { resourceVersion?: string };
}

export function watchSecret(opts: WatchSecretOptions): SecretWatch {
  const { ref, logger } = opts;
  const log = logger.child({ secret: `${ref.namespace}/${ref.name}` });
  const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`;
  const timeoutSeconds = opts.watchTimeoutSeconds ?? 20;
  const baseDelay = opts.retryDelayMs ?? 500;
  let resourceVersion = opts.resourceVersion;
  let delivered = opts.resourceVersion;
  let stopped = false;
  let failures = 0;
  let abort: { abort(): void } | undefined;
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
    const secret = await readSecret(opts.json, ref);
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
    let failed: Error | undefined;
    try {
      const query = new URLSearchParams({
        watch: 'true',
        fieldSelector: `metadata.name=${ref.name}`,
        resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
      });
      abort = await opts.json.watch(
        `${path}?${query.toString()}`,
        (phase, object) => {
          const obj = object as WatchEvent;
          if (phase === 'ERROR') {
            // A Status: 410 Gone re-reads the Secret; anything else is a failure, retried with backoff.
            if (obj.code === 410) gone = true;
            else failed = new Error(`watch error event: ${obj.code ?? '?'} ${obj.message ?? ''}`.trim());
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
        (err: unknown) => {
          if (gone || kubeStatusCode(err) === 410) retry(null, true);
          else retry(err ?? failed, false);
        },
        // Past the server's own end of the watch: silence beyond it means a dead connection.
        (timeoutSeconds + 10) * 1000,
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
