/**
 * The KubeJson contract (kube-json.ts) on `node:http2` and `node:https`, for a ClusterAccess from the
 * kubeconfig loader (kubeconfig.ts), without `@kubernetes/client-node` (ADR 27, ADR 30).
 *
 * Connections: one pool per distinct TLS identity (API server, CA, client certificate and key,
 * server name, verification), kept in a small process-wide table (as connection-reuse.ts does for
 * the library), so identities that differ only in their bearer token (a pod's token in cert-manager
 * mode) share connections. When a re-read file changes the TLS identity (a rotated client
 * certificate or CA), the next request gets a new pool; the least recently used beyond MAX_POOLS is
 * closed once its requests have finished.
 *
 * Over `https:` a pool is one HTTP/2 session (ALPN `h2`), every request and watch a stream on it, as
 * the library's undici does with kube-apiserver. The first connection offers `h2` and `http/1.1`;
 * a server that does not pick `h2` gets HTTP/1.1 from then on for that pool (a keep-alive Agent of up
 * to MAX_SOCKETS connections). A session that closes, fails, or is told GOAWAY is dropped and the
 * next request opens a new one (streams in flight on a GOAWAY finish; a stream the server refused
 * unprocessed is sent once more on a new session). A session with streams open is pinged every
 * SESSION_IDLE_MS without a frame (each idle period, not only the first) and destroyed, failing its
 * streams, without an answer in PING_TIMEOUT_MS; one without streams is closed then. A request that
 * hears nothing for REQUEST_IDLE_MS takes its session out of the pool (the next request opens a new
 * one) and has it pinged likewise. A session is unref'd while no stream is open, as idle sockets
 * are: an idle connection never holds the process open. `http:` (test servers) is HTTP/1.1 only.
 *
 * The server's certificate is verified against the kubeconfig's CA (or the system's) and
 * tls-server-name (or the host) unless insecure-skip-tls-verify says otherwise.
 *
 * Credentials: `Authorization: Bearer <token>` per request, the token re-read from its file at most
 * once a minute. An answer of 400 or more is a KubeHttpError; a network failure, or a request
 * that hears nothing for REQUEST_IDLE_MS, rejects with an error without a status code
 * ("unreachable"); so does a 200 answer that is not JSON, with an error that quotes none of it.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import {
  connect as http2Connect,
  constants as h2,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ClusterAccess } from './kubeconfig.js';
import { KubeHttpError, followWatch, parseAnswer, type KubeJson, type KubeMethod } from './kube-json.js';

/** Distinct TLS identities kept open at once; the least recently used is closed beyond this. */
export const MAX_POOLS = 8;
/** HTTP/1.1 connections per API server and identity; more requests wait for one. */
export const MAX_SOCKETS = 64;
/**
 * A request that hears nothing this long fails (undici's own default is 300 s; the library's path
 * had that): a hung API server must not hold a request for ever. Watches have their idle timeout.
 */
export const REQUEST_IDLE_MS = 60_000;
/** An HTTP/2 session silent this long is pinged (streams open) or closed (none); client-go pings at 30 s. */
export const SESSION_IDLE_MS = 30_000;
/** A ping unanswered this long destroys the session and fails its streams (client-go: 15 s). */
export const PING_TIMEOUT_MS = 15_000;
/**
 * HTTP/2 flow-control windows the client grants, per stream and per session, as client-go's (Go's
 * http2 Transport: 4 MiB, 1 GiB): with the protocol's default of 64 KiB a list page of megabytes
 * would take a round trip per 64 KiB. Bounded by what is read: answers are read as they arrive.
 */
export const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
export const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;
/** Largest answer read (a list page of 500 objects is well below); more fails the request. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The timeouts of a pool's connections (the constants above unless a test names others). */
export interface Timeouts {
  requestIdleMs: number;
  sessionIdleMs: number;
  pingTimeoutMs: number;
}

interface Tls {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

/** The connections of one TLS identity. */
interface Pool {
  agent: HttpAgent | HttpsAgent;
  /** HTTP/2 until a server did not pick it (https only). */
  h2: boolean;
  session?: ClientHttp2Session | undefined;
  /** The connection being opened, shared by the requests that wait for it. */
  connecting?: Promise<ClientHttp2Session | undefined> | undefined;
  /** Evicted: no new session; the current one closes once its streams end. */
  retired: boolean;
  url: URL;
  access: ClusterAccess;
  tls: Tls;
  timeouts: Timeouts;
}

const pools = new Map<string, Pool>();

function poolFor(url: URL, access: ClusterAccess, tls: Tls, timeouts: Timeouts): Pool {
  const h = createHash('sha256');
  const { requestIdleMs, sessionIdleMs, pingTimeoutMs } = timeouts;
  for (const v of [url.origin, access.insecureSkipTlsVerify, access.tlsServerName])
    h.update(`${String(v)}\0`);
  h.update(`${requestIdleMs},${sessionIdleMs},${pingTimeoutMs}\0`);
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
  const https = url.protocol !== 'http:';
  const pool: Pool = {
    agent: https
      ? new HttpsAgent({
          ...options,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: !access.insecureSkipTlsVerify,
          servername: access.tlsServerName,
        })
      : new HttpAgent(options),
    h2: https,
    retired: false,
    url,
    access,
    tls,
    timeouts,
  };
  pools.set(key, pool);
  while (pools.size > MAX_POOLS) {
    const [oldest, old] = pools.entries().next().value as [string, Pool];
    pools.delete(oldest);
    retire(old);
  }
  return pool;
}

/** Idle sockets go now; those with a request in flight close when it ends (no keep-alive). */
function retire(pool: Pool): void {
  pool.retired = true;
  const { agent } = pool;
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  (agent as { keepAlive?: boolean }).keepAlive = false;
  pool.session?.close();
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The pool's HTTP/2 session, opened when there is none; undefined when the server did not pick h2
 * (the pool is HTTP/1.1 from then on). Rejects when the connection fails (TLS verification too).
 */
function sessionOf(pool: Pool): Promise<ClientHttp2Session | undefined> {
  const s = pool.session;
  if (s && !s.closed && !s.destroyed) return Promise.resolve(s);
  pool.session = undefined;
  pool.connecting ??= openSession(pool).finally(() => (pool.connecting = undefined));
  return pool.connecting;
}

async function openSession(pool: Pool): Promise<ClientHttp2Session | undefined> {
  const { url, access, tls } = pool;
  const { requestIdleMs, sessionIdleMs } = pool.timeouts;
  const host = hostOf(url);
  const socket = tlsConnect({
    host,
    port: Number(url.port || 443),
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: !access.insecureSkipTlsVerify,
    servername: access.tlsServerName ?? (isIP(host) ? undefined : host),
    ALPNProtocols: ['h2', 'http/1.1'],
  });
  await new Promise<void>((resolve, reject) => {
    socket.setTimeout(requestIdleMs, () =>
      socket.destroy(new Error(`the API server sent nothing for ${requestIdleMs / 1000} s`)),
    );
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.setTimeout(0);
  if (socket.alpnProtocol !== 'h2') {
    socket.destroy();
    pool.h2 = false;
    return undefined;
  }
  const session = http2Connect(url.origin, {
    createConnection: () => socket,
    settings: { enablePush: false, initialWindowSize: STREAM_WINDOW_BYTES },
  });
  session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW_BYTES));
  session.unref();
  const drop = () => {
    if (pool.session === session) pool.session = undefined;
  };
  session.on('error', drop);
  session.on('close', drop);
  session.on('goaway', () => {
    drop();
    // Streams in flight finish; the session ends with the last of them.
    if (!session.closed) session.close();
  });
  // Every idle period, not only the first: setTimeout's own callback is a once listener, and the
  // timer, once fired, is not armed again by a ping's answer, so each period re-arms it.
  session.setTimeout(sessionIdleMs);
  session.on('timeout', () => {
    if (streamsOf(session) === 0) return session.close();
    session.setTimeout(sessionIdleMs);
    probe(session, pool.timeouts.pingTimeoutMs);
  });
  if (pool.retired) session.close();
  else pool.session = session;
  return session;
}

/**
 * Pings `session` (one ping at a time) and destroys it, failing its streams, when the answer does
 * not come within `timeoutMs` or the ping cannot be sent.
 */
function probe(session: ClientHttp2Session, timeoutMs: number): void {
  if (session.closed || session.destroyed || probing.has(session)) return;
  probing.add(session);
  const timer = setTimeout(
    () => session.destroy(new Error('the API server did not answer a ping')),
    timeoutMs,
  );
  timer.unref();
  const sent = session.ping((err) => {
    clearTimeout(timer);
    probing.delete(session);
    if (err && !session.destroyed) session.destroy(err);
  });
  if (!sent) {
    clearTimeout(timer);
    probing.delete(session);
    session.destroy(new Error('a ping could not be sent'));
  }
}

const probing = new WeakSet<ClientHttp2Session>();
const open = new WeakMap<ClientHttp2Session, number>();
const streamsOf = (s: ClientHttp2Session) => open.get(s) ?? 0;

/** An answer's status, headers (without pseudo-headers) and body, on either protocol. */
interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: Readable;
}

function unprocessed(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    code === 'ERR_HTTP2_INVALID_SESSION' ||
    code === 'ERR_HTTP2_GOAWAY_SESSION' ||
    (code === 'ERR_HTTP2_STREAM_ERROR' && /NGHTTP2_REFUSED_STREAM/.test(String((e as Error).message)))
  );
}

/**
 * One stream on `session`, a session of `pool`; the session is kept ref'd while it has streams open.
 * A stream that hears nothing for the pool's requestIdleMs fails, and its session leaves the pool
 * (the next request opens a new one; its other streams finish) and is pinged, destroyed without an
 * answer: a dead connection is neither reused nor kept.
 */
function streamOn(
  pool: Pool,
  session: ClientHttp2Session,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const h: OutgoingHttpHeaders = {
      ...headers,
      [h2.HTTP2_HEADER_METHOD]: method,
      [h2.HTTP2_HEADER_PATH]: path,
    };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(h, { endStream: body === undefined, ...(signal ? { signal } : {}) });
    } catch (e) {
      return reject(e);
    }
    open.set(session, streamsOf(session) + 1);
    session.ref();
    stream.on('close', () => {
      const n = streamsOf(session) - 1;
      open.set(session, n);
      if (n === 0) session.unref();
      reject(new Error(`the API server closed the stream before answering (code ${stream.rstCode})`));
    });
    stream.on('error', reject);
    stream.on('response', (answer) => {
      const { [h2.HTTP2_HEADER_STATUS]: status, ...rest } = answer;
      resolve({ status: Number(status), headers: rest, body: stream });
    });
    if (!signal) {
      const ms = pool.timeouts.requestIdleMs;
      stream.setTimeout(ms, () => {
        stream.destroy(new Error(`the API server sent nothing for ${ms / 1000} s`));
        if (pool.session === session) pool.session = undefined;
        probe(session, pool.timeouts.pingTimeoutMs);
        if (!session.closed) session.close();
      });
    }
    if (body !== undefined) stream.end(body);
  });
}

async function readAll(res: Readable): Promise<string> {
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

/** Options of httpsKubeJson. */
export interface HttpsKubeJsonOptions {
  /** false: HTTP/1.1 even when the server offers HTTP/2 (default true). */
  http2?: boolean;
  /** Tests: shorter timeouts than the constants above (connections with others are not shared). */
  timeouts?: Partial<Timeouts>;
}

/** One request as the transport sends it: `path` below the server's prefix, `body` as JSON text. */
interface Outgoing {
  method: string;
  path: string;
  headers: Record<string, string>;
  pool: Pool;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** JSON requests to the API server of `access` as its identity (see above). */
export function httpsKubeJson(access: ClusterAccess, options: HttpsKubeJsonOptions = {}): KubeJson {
  const url = new URL(access.server);
  const prefix = url.pathname.replace(/\/+$/, '');
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const http2 = options.http2 ?? true;
  const timeouts: Timeouts = {
    requestIdleMs: REQUEST_IDLE_MS,
    sessionIdleMs: SESSION_IDLE_MS,
    pingTimeoutMs: PING_TIMEOUT_MS,
    ...options.timeouts,
  };

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
    // The files' bytes are the same Buffers until re-read (Material): the pool is looked up (its
    // key hashed over them) only when one changed or the pool was closed.
    if (!last || last.pool.retired || last.ca !== ca || last.cert !== cert || last.key !== key) {
      last = { ca, cert, key, pool: poolFor(url, access, { ca, cert, key }, timeouts) };
    }
    return { headers, pool: last.pool };
  };
  let last:
    { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined; pool: Pool } | undefined;

  const overHttp1 = ({ method, path, headers, pool, body, signal }: Outgoing): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: url.protocol,
          hostname: hostOf(url),
          port: url.port || undefined,
          method,
          path: prefix + path,
          headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
          agent: pool.agent,
          signal,
        },
        (res: IncomingMessage) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.on('error', reject);
      if (!signal) {
        const ms = pool.timeouts.requestIdleMs;
        req.setTimeout(ms, () => req.destroy(new Error(`the API server sent nothing for ${ms / 1000} s`)));
      }
      req.end(body);
    });

  const openAnswer = async (out: Outgoing): Promise<Answer> => {
    const { method, path, headers, pool, body, signal } = out;
    for (let attempt = 0; http2 && pool.h2; attempt++) {
      const session = await sessionOf(pool);
      if (!session) break;
      try {
        return await streamOn(pool, session, method, prefix + path, headers, body, signal);
      } catch (e) {
        // Not seen by the server: once more on a new session.
        if (attempt > 0 || !unprocessed(e)) throw e;
        if (pool.session === session) pool.session = undefined;
      }
    }
    return overHttp1(out);
  };

  return {
    async request(method: KubeMethod, path, body, contentType = 'application/json') {
      const { headers, pool } = await prepare();
      const text = body === undefined ? undefined : JSON.stringify(body);
      if (text !== undefined) headers['content-type'] = contentType;
      const res = await openAnswer({ method, path, headers, pool, body: text });
      const answer = await readAll(res.body);
      if (res.status >= 400) throw new KubeHttpError(res.status, answer, res.headers);
      return parseAnswer(answer, method, path);
    },

    async watch(path, onEvent, onDone, idleMs = 30_000) {
      // Credentials are prepared before the watch starts; a failure there rejects instead of ending it.
      const { headers, pool } = await prepare();
      return followWatch(
        async (signal) => {
          const res = await openAnswer({ method: 'GET', path, headers, pool, signal });
          return { ...res, text: () => readAll(res.body) };
        },
        onEvent,
        onDone,
        idleMs,
        MAX_ANSWER_BYTES,
      );
    },
  };
}
