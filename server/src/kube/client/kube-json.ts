/**
 * The KubeJson contract (plain JSON requests and watches, for cert-manager mode, the status feature
 * and the issuer; kube-access.ts picks the transport) and its transport on a library KubeConfig, with its
 * own credentials and connection pool but without the generated clients' request pipeline (fetch,
 * the rxjs stub, ObjectSerializer, ~2–3 ms of CPU per call, ADR 25): for the kubeconfigs only the
 * library supports (exec plugins, auth-provider, ...). The others go over node:https
 * (kube-https.ts, ADR 27) without loading the library.
 *
 * Credentials come from `KubeConfig.applySecurityAuthentication`, the method the generated clients
 * call, so tokens (including in-cluster token files re-read as they rotate), exec plugins and client
 * certificates work as there, and `reuseConnections` (connection-reuse.ts) shares its pool. An answer
 * of 400 or more is a `KubeHttpError`, shaped like the library's ApiException (numeric `code`,
 * `body`, `headers`), so kube-errors.ts reads both alike; a network failure rejects with the
 * transport's error (no status code: "unreachable").
 */
import type { KubeConfig } from '@kubernetes/client-node';

/** The API server answered with an error status; `body` is its text (a Status object as JSON). */
export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
    readonly headers: Record<string, unknown>,
  ) {
    super(`HTTP ${code}`);
    this.name = 'KubeHttpError';
  }
}

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A 200 answer's text parsed ({} when empty). Text that is not JSON fails with an error naming the
 * request (its path without the query) and none of the text: JSON.parse's own message quotes the
 * body, which may be a Secret's.
 */
export function parseAnswer(answer: string, method: string, path: string): unknown {
  if (answer === '') return {};
  try {
    return JSON.parse(answer) as unknown;
  } catch {
    throw new Error(`the API server's answer to ${method} ${path.split('?')[0]} is not JSON`);
  }
}

export interface KubeJson {
  /**
   * `path` starts with `/` and carries its query string; `body` is sent as JSON, labelled
   * `contentType` (default `application/json`; a patch names its strategy, e.g.
   * `application/merge-patch+json`). Resolves to the parsed answer.
   */
  request(method: KubeMethod, path: string, body?: unknown, contentType?: string): Promise<unknown>;
  /**
   * A watch (`path` with `watch=true` in its query), as the library's `Watch.watch` behaves: `onEvent`
   * per event line (a line that is not JSON, or an `onEvent` that throws, is skipped), `onDone` once
   * when the stream ends (null), fails or is aborted (the error); no data for `idleMs` (default 30 s)
   * ends it with an error named `TimeoutError`. A status other than 200 ends it with a KubeHttpError.
   * Rejects, without calling `onDone`, when the credentials cannot be prepared, and with a
   * NoConnectionPoolError when the cluster has no connection pool of its own.
   */
  watch(
    path: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
    idleMs?: number,
  ): Promise<{ abort(): void }>;
}

interface Dispatcher {
  request(o: {
    origin: string;
    path: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
  }): Promise<{
    statusCode: number;
    headers: Record<string, unknown>;
    body: NodeJS.ReadableStream & { text(): Promise<string> };
  }>;
}

/**
 * `watch` needs the KubeConfig's own connection pool, and the library gives none when the cluster
 * has no TLS options at all (public CA, no client certificate): use the library's Watch then.
 */
export class NoConnectionPoolError extends Error {
  constructor() {
    super('the Kubernetes client library gives no connection pool for this cluster');
    this.name = 'NoConnectionPoolError';
  }
}

function timeoutError(): Error {
  return new DOMException('no data from the watch within its idle timeout', 'TimeoutError');
}

/** A watch's answer as a transport opens it: its status, headers and body, not read yet. */
export interface WatchAnswer {
  status: number;
  headers: Record<string, unknown>;
  body: NodeJS.ReadableStream;
  /** The whole body as text (for an error status). */
  text(): Promise<string>;
}

/**
 * The part of `KubeJson.watch` every transport shares, once its credentials are prepared: opens the
 * answer with `open` (given the signal that aborts it), then calls `onEvent` per JSON line and
 * `onDone` once, exactly as the contract above says, including the idle timeout. `maxPending`
 * bounds a line still being received: a longer one ends the watch with an error. Resolves once the
 * answer has started (or failed, after `onDone`), to what aborts it.
 */
export async function followWatch(
  open: (signal: AbortSignal) => Promise<WatchAnswer>,
  onEvent: (type: string, object: unknown) => void,
  onDone: (err: unknown) => void,
  idleMs: number,
  maxPending = Number.POSITIVE_INFINITY,
): Promise<{ abort(): void }> {
  const controller = new AbortController();
  let finished = false;
  let timedOut = false;
  let lastData = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const finish = (err: unknown) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    controller.abort();
    onDone(timedOut ? timeoutError() : (err ?? null));
  };
  // One timer re-armed when it fires, not one per chunk: it ends the watch after idleMs of silence.
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      const idle = Date.now() - lastData;
      if (idle < idleMs) return arm(idleMs - idle);
      timedOut = true;
      finish(null);
    }, ms);
    timer.unref();
  };
  arm(idleMs);
  try {
    const res = await open(controller.signal);
    if (res.status !== 200) {
      throw new KubeHttpError(res.status, await res.text().catch(() => ''), res.headers);
    }
    lastData = Date.now();
    let pending = '';
    res.body.setEncoding('utf8');
    res.body.on('data', (chunk: string) => {
      lastData = Date.now();
      pending += chunk;
      if (pending.length > maxPending) return finish(new Error('a watch event exceeds its bound'));
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim() === '') continue;
        try {
          const e = JSON.parse(line) as { type: string; object: unknown };
          onEvent(e.type, e.object);
        } catch {
          // Skipped, as the library's Watch does.
        }
      }
    });
    res.body.on('error', finish);
    res.body.on('end', () => finish(null));
    res.body.on('close', () => finish(null));
  } catch (e) {
    finish(e);
  }
  return { abort: () => controller.abort() };
}

/** JSON requests on `kc` (see above). Throws when `kc` has no current cluster. */
export function kubeJson(kc: KubeConfig): KubeJson {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(server);
  const prefix = url.pathname.replace(/\/+$/, '');
  /** The headers and connection pool the library would use for one request now. */
  const prepare = async () => {
    const headers: Record<string, string> = { accept: 'application/json' };
    let dispatcher: Dispatcher | undefined;
    await kc.applySecurityAuthentication({
      setHeaderParam: (k: string, v: string) => (headers[k.toLowerCase()] = v),
      setDispatcher: (d: unknown) => (dispatcher = d as Dispatcher),
    } as unknown as Parameters<KubeConfig['applySecurityAuthentication']>[0]);
    return { headers, dispatcher };
  };
  return {
    async request(method, path, body, contentType = 'application/json') {
      const { headers, dispatcher } = await prepare();
      const text = body === undefined ? undefined : JSON.stringify(body);
      if (text !== undefined) headers['content-type'] = contentType;
      let status: number;
      let answerHeaders: Record<string, unknown>;
      let answer: string;
      if (dispatcher && typeof dispatcher.request === 'function') {
        const res = await dispatcher.request({
          origin: url.origin,
          path: prefix + path,
          method,
          headers,
          body: text,
        });
        status = res.statusCode;
        answerHeaders = res.headers;
        answer = await res.body.text();
      } else {
        // No TLS options (a plain-HTTP server): the library itself would use fetch's own dispatcher.
        const res = await fetch(url.origin + prefix + path, { method, headers, body: text });
        status = res.status;
        answerHeaders = {};
        res.headers.forEach((v, k) => (answerHeaders[k] = v));
        answer = await res.text();
      }
      if (status >= 400) throw new KubeHttpError(status, answer, answerHeaders);
      return parseAnswer(answer, method, path);
    },

    async watch(path, onEvent, onDone, idleMs = 30_000) {
      // As the library's Watch: credentials are prepared before the watch starts, and a failure
      // there rejects instead of ending the watch.
      const { headers, dispatcher } = await prepare();
      if (!dispatcher || typeof dispatcher.request !== 'function') throw new NoConnectionPoolError();
      return followWatch(
        async (signal) => {
          const res = await dispatcher.request({
            origin: url.origin,
            path: prefix + path,
            method: 'GET',
            headers,
            signal,
          });
          return {
            status: res.statusCode,
            headers: res.headers,
            body: res.body,
            text: () => res.body.text(),
          };
        },
        onEvent,
        onDone,
        idleMs,
      );
    },
  };
}
