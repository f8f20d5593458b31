/**
 * Watches one Secret by name and hands every new version to a callback, one call at a time and in
 * order, each version once. Needs only `get` and `watch` on that one Secret (RBAC resourceNames work
 * with a metadata.name field selector). Plain JSON on a KubeJson (kube-access.ts picks node:https or
 * the client library), in the shared list+watch loop (list-watch.ts): re-opened from the last
 * resourceVersion seen when it ends (the API server's timeoutSeconds, or silence past it); a failure
 * re-opens it after a delay that doubles up to 30 s; a 410 Gone (the version is too old) re-reads
 * the Secret first, with the same backoff while the read fails. A deleted Secret is logged and the
 * last version stays in use.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import type { KubeJson } from '../client/kube-json.js';
import { startListWatch, type WatchPhase } from '../client/list-watch.js';

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

export function watchSecret(opts: WatchSecretOptions): SecretWatch {
  const { ref, logger } = opts;
  const log = logger.child({ secret: `${ref.namespace}/${ref.name}` });
  const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`;
  const timeoutSeconds = opts.watchTimeoutSeconds ?? 20;
  let delivered = opts.resourceVersion;
  let stopped = false;
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

  const loop = startListWatch<V1Secret>({
    resourceVersion: opts.resourceVersion,
    retryDelayMs: opts.retryDelayMs,
    logger: log,
    failureMessage: 'Secret watch failed',
    // After 410 Gone: the Secret re-read (its version is handed on unless it is the last one).
    async list() {
      const secret = await readSecret(opts.json, ref);
      deliver(secret);
      return secret.metadata?.resourceVersion ?? '';
    },
    watch(resourceVersion, onEvent, onDone) {
      const query = new URLSearchParams({
        watch: 'true',
        fieldSelector: `metadata.name=${ref.name}`,
        resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
      });
      return opts.json.watch(
        `${path}?${query.toString()}`,
        (phase, obj) => onEvent(phase as WatchPhase, obj as V1Secret),
        onDone,
        // Past the server's own end of the watch: silence beyond it means a dead connection.
        (timeoutSeconds + 10) * 1000,
      );
    },
    onEvent(phase, secret) {
      if (phase !== 'DELETED') return deliver(secret);
      log.warn('Secret deleted; keeping the version in use');
      opts.onDelete?.();
    },
  });

  return {
    stop() {
      stopped = true;
      loop.stop();
    },
  };
}
