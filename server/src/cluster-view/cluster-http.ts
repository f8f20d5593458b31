/**
 * The cluster view's HTTP edge (node:http, no framework: eight read-only routes). First the node's
 * Host check (common/host-check.ts: an IP literal, localhost, a name under .localhost or one of
 * `allowedHosts`, else 421 Misdirected Request on every path), so a DNS-rebinding page cannot read
 * the API through a browser; kubelet's probes name the pod IP and pass. Then GET and HEAD only (405
 * otherwise, before routing). CORS is closed unless origins are given. The same security headers
 * and CSP as the node API. Errors never echo more than the validation message.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterChangeEvent } from '@csi-cert-driver/api-contract';
import { hostAllowed, MISDIRECTED } from '../common/host-check.js';
import type { Logger } from '../common/logger.js';
import { findDashboardDir, loadAssets, NOT_BUILT_PAGE, type Asset } from '../api/static-assets.js';
import type { ClusterStore } from './cluster-store.js';
import { parseClusterQuery, QueryError } from './cluster-query.js';
import type { ClusterViews } from './cluster-views.js';

export interface ClusterHttpOptions {
  listenAddr: string;
  /** API_ALLOWED_HOSTS: Host names (without port) answered besides IP literals and localhost. */
  allowedHosts: readonly string[];
  corsOrigins: string[];
  views: ClusterViews;
  store: ClusterStore;
  logger: Logger;
  dashboardDir?: string | undefined;
  /** Change events are coalesced into one SSE message per this many ms; at least CHANGED_REUSE_MS. Default 1000. */
  eventBatchMs?: number;
}

export interface ClusterHttpServer {
  url: string;
  close(): Promise<void>;
}

export const MAX_STREAMS = 64;
const HEARTBEAT_MS = 15_000;
const MAX_IDS = 100;
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Splits `host:port` / `[v6]:port` (as the node API's listen address). */
function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(addr.slice(i + 1)) };
}

export async function startClusterHttp(o: ClusterHttpOptions): Promise<ClusterHttpServer> {
  const allowedHosts = o.allowedHosts.map((h) => h.toLowerCase());
  const origins = new Set(o.corsOrigins);
  const dir = o.dashboardDir ?? findDashboardDir();
  const assets = dir ? await loadAssets(dir) : new Map<string, Asset>();
  const streams = new Set<ServerResponse>();

  const json = (req: IncomingMessage, res: ServerResponse, code: number, body: unknown): void => {
    const buf = Buffer.from(JSON.stringify(body));
    res.writeHead(code, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(buf.length),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : buf);
  };
  const fail = (req: IncomingMessage, res: ServerResponse, code: number, error: string, message: string) =>
    json(req, res, code, { statusCode: code, error, message });

  // One coalescing buffer of changes for every stream.
  let pending: { changed: Set<string>; deleted: Set<string>; nodes: Set<string> } | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    flushTimer = undefined;
    const p = pending;
    pending = undefined;
    if (!p) return;
    const ev: ClusterChangeEvent = {
      version: o.store.version,
      changed: [...p.changed].slice(0, MAX_IDS),
      deleted: [...p.deleted].slice(0, MAX_IDS),
      truncated: p.changed.size > MAX_IDS || p.deleted.size > MAX_IDS,
      nodes: [...p.nodes].slice(0, MAX_IDS),
    };
    const msg = `event: change\ndata: ${JSON.stringify(ev)}\n\n`;
    for (const s of streams) s.write(msg);
  };
  const offChange = o.store.onChange((c) => {
    if (streams.size === 0) return;
    pending ??= { changed: new Set(), deleted: new Set(), nodes: new Set() };
    // Bounded: past MAX_IDS only the truncation matters.
    for (const v of c.changed) {
      if (pending.changed.size <= MAX_IDS) pending.changed.add(v.id);
      if (pending.nodes.size <= MAX_IDS) pending.nodes.add(v.node);
    }
    for (const id of c.deleted) if (pending.deleted.size <= MAX_IDS) pending.deleted.add(id);
    flushTimer ??= setTimeout(flush, o.eventBatchMs ?? 1000);
  });
  const beat = setInterval(() => {
    for (const s of streams) s.write(`event: ping\ndata: {"now":"${new Date().toISOString()}"}\n\n`);
  }, HEARTBEAT_MS);
  beat.unref();

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    if (streams.size >= MAX_STREAMS) {
      res.end(`event: rejected\ndata: {"message":"too many event streams (${MAX_STREAMS})"}\n\n`);
      return;
    }
    res.write(
      `retry: 3000\nevent: hello\ndata: ${JSON.stringify({ version: o.store.version, now: new Date().toISOString() })}\n\n`,
    );
    streams.add(res);
    req.on('close', () => streams.delete(res));
  };

  const api = (req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): void => {
    const v = o.views;
    if (path === '/api/v1/cluster') return json(req, res, 200, v.cluster());
    if (path === '/api/v1/cluster/events') return events(req, res);
    const vol = /^\/api\/v1\/cluster\/volumes\/([a-z0-9-]{1,63})\/([a-z0-9.-]{1,253})$/.exec(path);
    if (vol) {
      const d = v.volume(`${vol[1]}/${vol[2]}`);
      return d
        ? json(req, res, 200, d)
        : fail(req, res, 404, 'Not Found', `no status object ${vol[1]}/${vol[2]}`);
    }
    const route = {
      '/api/v1/cluster/overview': v.overview.bind(v),
      '/api/v1/cluster/nodes': v.nodes.bind(v),
      '/api/v1/cluster/failures': v.failures.bind(v),
      '/api/v1/cluster/expiry': v.expiry.bind(v),
      '/api/v1/cluster/volumes': v.volumes.bind(v),
    }[path];
    if (!route) return fail(req, res, 404, 'Not Found', 'no such path');
    let q;
    try {
      q = parseClusterQuery(search);
    } catch (e) {
      if (e instanceof QueryError) return fail(req, res, 400, 'Bad Request', e.message);
      throw e;
    }
    return json(req, res, 200, route(q));
  };

  const server = createServer((req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', CSP);
    if (!hostAllowed(req.headers.host, allowedHosts)) return json(req, res, 421, MISDIRECTED);
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS' && origin && origins.has(origin)) {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Max-Age': '600' });
      return res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return fail(req, res, 405, 'Method Not Allowed', `${req.method} is not allowed: this API is read-only`);
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return fail(req, res, 400, 'Bad Request', 'bad URL');
    }
    const path = url.pathname;
    if (path === '/healthz') return json(req, res, 200, { status: 'ok' });
    if (path === '/readyz') {
      return json(req, res, o.store.synced ? 200 : 503, { status: o.store.synced ? 'ok' : 'unavailable' });
    }
    try {
      if (path.startsWith('/api/')) return api(req, res, path, url.searchParams);
    } catch (e) {
      o.logger.error({ err: { message: (e as Error).message }, path }, 'cluster API request failed');
      return fail(req, res, 500, 'Internal Server Error', 'internal error');
    }
    const asset = assets.get(path);
    if (!asset) {
      if (path !== '/') return fail(req, res, 404, 'Not Found', 'no such path');
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(NOT_BUILT_PAGE);
    }
    if (req.headers['if-none-match'] === asset.etag) return res.writeHead(304).end();
    res.writeHead(200, {
      'Content-Type': asset.type,
      ETag: asset.etag,
      'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const { host, port } = splitHostPort(o.listenAddr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new Error(`API_LISTEN_ADDR ${o.listenAddr}: cannot listen (${e.message})`)),
    );
    server.listen(port, host, resolve);
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  o.logger.info(
    { url, cors: o.corsOrigins.length ? o.corsOrigins : 'closed', dashboard: dir ?? 'not built' },
    'cluster view serving',
  );
  return {
    url,
    async close() {
      offChange();
      clearInterval(beat);
      if (flushTimer) clearTimeout(flushTimer);
      for (const s of streams) s.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
