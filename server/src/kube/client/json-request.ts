/**
 * One JSON call to the API server without the generated client's request path, for the issuer's
 * per-issuance calls (TokenReview, pod read; ADR 24). The KubeConfig still decides everything about
 * the connection and the credentials: `applySecurityAuthentication` sets the Authorization header
 * (a bearer token re-read from its file, an exec plugin's token, basic auth) and hands out the
 * connection pool of connection-reuse.ts (CA, client certificate, proxy); the request then goes to
 * that undici dispatcher's own `request`. What is left out is the generated client's fetch, its
 * ObjectSerializer and its rxjs shims: ~1 ms of CPU per call under load, measured with
 * `--cpu-prof` in the fleet benchmark.
 *
 * A response with status ≥ 400 rejects with KubeHttpError (its `statusCode` is what
 * kube-errors.ts `kubeStatusCode` reads, its message carries the API server's Status message); a
 * connection failure rejects with the transport's error. A KubeConfig that needs no TLS options
 * has no dispatcher: the call then goes through Node's global fetch.
 */
import type { KubeConfig } from '@kubernetes/client-node';

/** Calls `method path` on the API server with `body` as JSON; resolves to the parsed response. */
export type KubeJsonCall = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<unknown>;

/** An HTTP error status from the API server. */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    /** The API server's Status object, when the body was JSON. */
    readonly body: unknown,
  ) {
    const message = (body as { message?: unknown } | null)?.message;
    super(`HTTP ${statusCode}${typeof message === 'string' ? `: ${message}` : ''}`);
  }
}

/** The part of an undici Dispatcher used here. */
interface Dispatcher {
  request(o: {
    origin: string;
    path: string;
    method: string;
    headers: Record<string, string>;
    body?: string | undefined;
  }): Promise<{ statusCode: number; body: { text(): Promise<string> } }>;
}

/** What `applySecurityAuthentication` writes to: headers and the dispatcher. */
class CollectedRequest {
  readonly headers: Record<string, string> = { accept: 'application/json' };
  dispatcher: Dispatcher | undefined;
  setHeaderParam(key: string, value: string): void {
    this.headers[key] = value;
  }
  setDispatcher(d: unknown): void {
    this.dispatcher = d as Dispatcher;
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** A KubeJsonCall on the current cluster and user of `kc`. */
export function kubeJson(kc: KubeConfig): KubeJsonCall {
  return async (method, path, body) => {
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(server);
    const req = new CollectedRequest();
    await kc.applySecurityAuthentication(req as never);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) req.headers['content-type'] = 'application/json';
    const fullPath = `${url.pathname.replace(/\/$/, '')}${path}`;
    let status: number;
    let text: string;
    if (req.dispatcher) {
      const res = await req.dispatcher.request({
        origin: url.origin,
        path: fullPath,
        method,
        headers: req.headers,
        body: payload,
      });
      status = res.statusCode;
      text = await res.body.text();
    } else {
      const res = await fetch(`${url.origin}${fullPath}`, { method, headers: req.headers, body: payload });
      status = res.status;
      text = await res.text();
    }
    const parsed = parseJson(text);
    if (status >= 400) throw new KubeHttpError(status, parsed);
    return parsed;
  };
}
