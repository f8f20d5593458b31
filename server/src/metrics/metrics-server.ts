import { createServer, type Server } from 'node:http';
import { MISDIRECTED, hostAllowed } from '../common/host-check.js';
import { listenHttp, refuseUnlessGet } from '../common/http-listen.js';
import type { Logger } from '../common/logger.js';

export type Scrape = () => Promise<{ contentType: string; body: string }>;

export interface MetricsServer {
  /** `http://host:port` actually bound. */
  url: string;
  close(): Promise<void>;
}

/**
 * A minimal HTTP server for METRICS_LISTEN_ADDR: GET or HEAD /metrics answers the scrape, anything
 * else 404 (or 405 for other methods). Used where Prometheus must reach the pod IP while the REST
 * API stays on localhost, and by the issuer, which has no other HTTP server.
 */
export async function startMetricsServer(
  listenAddr: string,
  scrape: Scrape,
  logger: Logger,
  /** Host names answered besides IP literals and localhost (common/host-check.ts). */
  allowedHosts: readonly string[] = [],
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, allowedHosts)) {
      res.writeHead(421, { 'Content-Type': 'application/json' }).end(JSON.stringify(MISDIRECTED));
      return;
    }
    if (refuseUnlessGet(req, res, '/metrics', 'not found; metrics are at /metrics')) return;
    scrape().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (e: unknown) => {
        logger.error({ err: { message: (e as Error).message } }, 'metrics scrape failed');
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('scrape failed\n');
      },
    );
  });
  const listener = await listenHttp(server, listenAddr, { dropConnections: true });
  logger.info({ url: `${listener.url}/metrics` }, 'metrics serving');
  return listener;
}
