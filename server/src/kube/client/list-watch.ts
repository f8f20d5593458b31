/**
 * The list+watch loop of every watch on the API server (the issuer's CA Secret, the cluster view's
 * status objects, the approver's and the node's CertificateRequests): list (or start from a version
 * the owner has already read), then watch from that resourceVersion; every event and bookmark moves
 * the version. When a watch ends:
 * - cleanly (the API server's timeoutSeconds, or silence past the watch's idle bound): it is
 *   re-opened at once from the last version seen;
 * - with 410 Gone (an ERROR event, or the answer's status): the version is too old; the state is
 *   listed again, then watched from the list's version;
 * - with any other failure (a network error, a refusal, another ERROR event, a watch that cannot be
 *   opened): it is re-opened from the last version, or listed again first with `relistOnFailure`
 *   (an informer's cache may have missed a deletion meanwhile).
 * 410 Gone, failures and failed lists wait first: 500 ms (`retryDelayMs`), doubling up to 30 s,
 * back to the start once an event arrives. Events reach the owner one at a time, in order.
 */
import type { Logger } from '../../common/logger.js';
import { describeKubeError, kubeStatusCode } from './kube-errors.js';

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** The longest wait before a retry. */
export const MAX_RETRY_MS = 30_000;

export interface WatchedObject {
  metadata?: { resourceVersion?: string };
}

/** An ERROR event's object: a Status. */
interface StatusObject {
  code?: number;
  message?: string;
}

export interface ListWatchOptions<T extends WatchedObject> {
  /** Reads the whole state and hands it to the owner; resolves to the list's resourceVersion. */
  list(): Promise<string>;
  /** Opens a watch from `resourceVersion`; `onDone` once when it ends (null: ended by the server). */
  watch(
    resourceVersion: string,
    onEvent: (phase: WatchPhase, obj: T & StatusObject) => void,
    onDone: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
  /** Each ADDED, MODIFIED and DELETED object (a BOOKMARK only moves the version). */
  onEvent(phase: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
  /** Watch from this version first instead of listing (the owner has just read the state). */
  resourceVersion?: string | undefined;
  /** List again after every failure, not only after 410 Gone. Default false. */
  relistOnFailure?: boolean;
  /** First retry delay; doubles up to 30 s. Default 500 ms. */
  retryDelayMs?: number | undefined;
  logger: Logger;
  /** The warning logged with each failure and its retry delay, e.g. `Secret watch failed`. */
  failureMessage: string;
}

export interface ListWatch {
  /** Aborts the open watch; nothing is listed, watched or handed on after it. */
  stop(): void;
}

/** A watch that ends cleanly sooner than this, with no event, counts as a failure (backs off). */
export const SHORT_WATCH_MS = 1_000;

export function startListWatch<T extends WatchedObject>(o: ListWatchOptions<T>): ListWatch {
  const base = o.retryDelayMs ?? 500;
  let resourceVersion = o.resourceVersion ?? '';
  let stopped = false;
  let failures = 0;
  let current: { abort(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const later = (delay: number, relist: boolean): void => {
    timer = setTimeout(() => {
      timer = undefined;
      void (relist ? list() : connect());
    }, delay);
    timer.unref();
  };

  const fail = (err: unknown, relist: boolean): void => {
    current = undefined;
    if (stopped) return;
    const delay = Math.min(MAX_RETRY_MS, base * 2 ** failures++);
    o.logger.warn({ err: describeKubeError(err), retryInMs: delay }, o.failureMessage);
    later(delay, relist);
  };

  const list = async (): Promise<void> => {
    if (stopped) return;
    try {
      resourceVersion = await o.list();
    } catch (e) {
      return fail(e, true);
    }
    await connect();
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    let gone = false;
    let errorEvent: Error | undefined;
    let events = 0;
    const opened = Date.now();
    try {
      current = await o.watch(
        resourceVersion,
        (phase, obj) => {
          if (phase === 'ERROR') {
            if (obj.code === 410) gone = true;
            else errorEvent = new Error(`watch error event: ${obj.code ?? '?'} ${obj.message ?? ''}`.trim());
            return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
          failures = 0;
          events++;
          if (phase !== 'BOOKMARK') o.onEvent(phase, obj);
        },
        (err) => {
          current = undefined;
          if (stopped) return;
          if (gone || kubeStatusCode(err) === 410) return fail(new Error('watch expired (410 Gone)'), true);
          const clean = err === null || err === undefined || (err as Error).name === 'TimeoutError';
          // A clean end re-watches at once, unless the watch lasted under a second with nothing in
          // it (a proxy or server closing every watch at once): that backs off like a failure, as
          // client-go's reflector does, instead of reconnecting in a tight loop.
          if (clean && !errorEvent && (events > 0 || Date.now() - opened >= SHORT_WATCH_MS))
            return later(0, false);
          if (clean && !errorEvent) return fail(new Error('the watch ended at once with no event'), false);
          fail(clean ? errorEvent : err, o.relistOnFailure ?? false);
        },
      );
      if (stopped) current.abort();
    } catch (e) {
      fail(e, o.relistOnFailure ?? false);
    }
  };

  void (o.resourceVersion === undefined ? list() : connect());
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.abort();
    },
  };
}
