/**
 * The KubeJson contract (kube-json.ts) on `node:https`, for a ClusterAccess from the kubeconfig
 * loader (kubeconfig.ts), without `@kubernetes/client-node` (ADR 27).
 *
 * Connections: one keep-alive Agent per distinct TLS identity (API server, CA, client certificate
 * and key, server name, verification), kept in a small process-wide table (as connection-reuse.ts
 * does for the library), so identities that differ only in their bearer token (a pod's token in
 * cert-manager mode) share connections. When a re-read file changes the TLS identity (a rotated
 * client certificate or CA), the next request gets a new Agent and the old one is closed once idle.
 * The server's certificate is verified against the kubeconfig's CA (or the system's) unless
 * insecure-skip-tls-verify says otherwise.
 *
 * Credentials: `Authorization: Bearer <token>` per request, the token re-read from its file at most
 * once a minute. An answer of 400 or more is a KubeHttpError; a network failure, or a request
 * whose socket is silent for REQUEST_IDLE_MS, rejects with an error without a status code
 * ("unreachable").
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ClusterAccess } from './kubeconfig.js';
import { KubeHttpError, type KubeJson, type KubeMethod } from './kube-json.js';

/** Distinct TLS identities kept open at once; the least recently used is closed beyond this. */
export const MAX_POOLS = 8;
/** Connections per API server and identity; more requests wait for one (kube-apiserver serves HTTP/1.1 one at a time). */
export const MAX_SOCKETS = 64;
/**
 * A request whose socket is silent this long fails (undici's own default is 300 s; the library's
 * path had that): a hung API server must not hold a connection for ever. Watches have their idle timeout.
 */
export const REQUEST_IDLE_MS = 60_000;
/** Largest answer read (a list page of 500 objects is well below); more fails the request. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

type Pool = HttpAgent | HttpsAgent;
const pools = new Map<string, Pool>();

interface Tls {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

function poolFor(url: URL, access: ClusterAccess, tls: Tls): Pool {
  const h = createHash('sha256');
  for (const v of [url.origin, access.insecureSkipTlsVerify, access.tlsServerName])
    h.update(`${String(v)}\0`);
  for (const v of [tls.ca, tls.cert, tls.key]) h.update(v ?? '').update('\0');
  const key = h.digest('base64');
  const hit = pools.get(key);
  if (hit) {
    pools.delete(key);
    pools.set(key, hit);
    return hit;
  }
  const options = {
    keepAlive: true,
    maxSockets: MAX_SOCKETS,
    maxFreeSockets: 16,
    scheduling: 'lifo' as const,
  };
  const pool =
    url.protocol === 'http:'
      ? new HttpAgent(options)
      : new HttpsAgent({
          ...options,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: !access.insecureSkipTlsVerify,
          servername: access.tlsServerName,
        });
  pools.set(key, pool);
  while (pools.size > MAX_POOLS) {
    const [oldest, old] = pools.entries().next().value as [string, Pool];
    pools.delete(oldest);
    // Idle sockets go now; sockets with a request in flight close when it ends (no keep-alive).
    closeWhenIdle(old);
  }
  return pool;
}

function closeWhenIdle(pool: Pool): void {
  for (const list of Object.values(pool.freeSockets)) for (const s of list ?? []) s.destroy();
  (pool as { keepAlive?: boolean }).keepAlive = false;
}

function timeoutError(): Error {
  return new DOMException('no data from the watch within its idle timeout', 'TimeoutError');
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_ANSWER_BYTES) {
      res.destroy();
      throw new Error(`the API server's answer exceeds ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON requests to the API server of `access` as its identity (see above). */
export function httpsKubeJson(access: ClusterAccess): KubeJson {
  const url = new URL(access.server);
  const prefix = url.pathname.replace(/\/+$/, '');
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;

  /** Headers and connection pool for one request now (files re-read when stale). */
  const prepare = async () => {
    const [ca, cert, key, token] = await Promise.all([
      access.ca?.read(),
      access.clientCert?.cert.read(),
      access.clientCert?.key.read(),
      access.token?.read(),
    ]);
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token?.toString('utf8').trim();
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    return { headers, agent: poolFor(url, access, { ca, cert, key }) };
  };

  const open = (
    method: string,
    path: string,
    headers: Record<string, string>,
    agent: Pool,
    body?: string,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port || undefined,
          method,
          path: prefix + path,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
          agent,
          signal,
        },
        resolve,
      );
      req.on('error', reject);
      if (!signal) {
        req.setTimeout(REQUEST_IDLE_MS, () =>
          req.destroy(new Error(`the API server sent nothing for ${REQUEST_IDLE_MS / 1000} s`)),
        );
      }
      req.end(body);
    });

  return {
    async request(method: KubeMethod, path, body, contentType = 'application/json') {
      const { headers, agent } = await prepare();
      const text = body === undefined ? undefined : JSON.stringify(body);
      if (text !== undefined) headers['content-type'] = contentType;
      const res = await open(method, path, headers, agent, text);
      const answer = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status >= 400) throw new KubeHttpError(status, answer, res.headers);
      return answer === '' ? {} : (JSON.parse(answer) as unknown);
    },

    async watch(path, onEvent, onDone, idleMs = 30_000) {
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
      // Credentials are prepared before the watch starts; a failure there rejects instead of ending it.
      const { headers, agent } = await prepare();
      arm(idleMs);
      try {
        const res = await open('GET', path, headers, agent, undefined, controller.signal);
        if (res.statusCode !== 200) {
          throw new KubeHttpError(res.statusCode ?? 0, await readAll(res).catch(() => ''), res.headers);
        }
        lastData = Date.now();
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          lastData = Date.now();
          pending += chunk;
          if (pending.length > MAX_ANSWER_BYTES) return finish(new Error('a watch event exceeds its bound'));
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
        res.on('error', finish);
        res.on('end', () => finish(null));
        res.on('close', () => finish(null));
      } catch (e) {
        finish(e);
      }
      return { abort: () => controller.abort() };
    },
  };
}
