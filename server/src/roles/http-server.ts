import { createServer } from 'node:http';
import type { ApiContext } from '../api/api-context.js';
import type { Logger } from '../common/logger.js';
import { listenHttp, splitHostPort } from '../common/http-listen.js';
import { MISDIRECTED, hostAllowed } from '../common/host-check.js';
import type { HttpApp } from './http-app.js';

export { splitHostPort };

export interface HttpServerOptions {
  /** `host:port` or `[v6]:port`; port 0 picks a free port. */
  listenAddr: string;
  /** Origins allowed to read the API from another origin; empty = CORS closed. */
  corsOrigins: string[];
  /** API_ALLOWED_HOSTS: Host names answered besides IP literals and localhost (common/host-check.ts). */
  allowedHosts?: readonly string[] | undefined;
  context: ApiContext;
  logger: Logger;
  /** The built dashboard; default: `dist/dashboard` found next to the server. */
  dashboardDir?: string | undefined;
  /** Serves Prometheus metrics at /metrics when given. */
  metrics?: (() => Promise<{ contentType: string; body: string }>) | undefined;
}

export interface HttpServer {
  /** `http://host:port` actually bound. */
  url: string;
  /** Whether the API (NestJS, Express, the dashboard's files) has been loaded: after the first request. */
  loaded(): boolean;
  close(): Promise<void>;
}

/**
 * Listens on `listenAddr` at once and loads the REST API and dashboard (http-app.ts: NestJS on
 * Express) on the first request with an allowed Host, which waits for it; every request after that
 * goes straight to it. A foreign Host is refused with 421 before anything is loaded.
 * A node nobody browses never loads NestJS (docs/adr/0023-node-role-without-nestjs.md). A load that
 * fails answers 503 and is tried again on the next request.
 */
export async function startHttpServer(o: HttpServerOptions): Promise<HttpServer> {
  let app: Promise<HttpApp> | undefined;
  let loaded = false;
  let closed = false;
  const load = () =>
    import('./http-app.js').then(async ({ createHttpApp }) => {
      const a = await createHttpApp(o);
      if (closed) {
        await a.close();
        throw new Error('API closed');
      }
      loaded = true;
      return a;
    });
  const allowedHosts = o.allowedHosts ?? [];
  const server = createServer((req, res) => {
    // The app checks the Host again; checked here first so that a foreign Host (DNS rebinding)
    // never makes the node load NestJS.
    if (!loaded && !hostAllowed(req.headers.host, allowedHosts)) {
      res.writeHead(421, { 'Content-Type': 'application/json' }).end(JSON.stringify(MISDIRECTED));
      return;
    }
    app ??= load();
    app.then(
      (a) => a.handle(req, res),
      (e: unknown) => {
        app = undefined;
        o.logger.error({ err: { message: (e as Error).message } }, 'API failed to load');
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' }).end('API unavailable\n');
      },
    );
  });
  const listener = await listenHttp(server, o.listenAddr, {
    setting: 'API_LISTEN_ADDR',
    dropConnections: true,
  });
  o.logger.info(
    { url: listener.url, cors: o.corsOrigins.length ? o.corsOrigins : 'closed', loads: 'on first request' },
    'API serving',
  );
  return {
    url: listener.url,
    loaded: () => loaded,
    async close() {
      closed = true;
      const a = await app?.catch(() => undefined);
      await a?.close();
      await listener.close();
    },
  };
}
