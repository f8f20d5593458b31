/**
 * HEALTH_LISTEN_ADDR of the approver: GET /healthz (200 while the process serves), /readyz (200 once
 * the CertificateRequests are listed, leader or standby; 503 before), /metrics (Prometheus).
 * Anything else is 404; methods other than GET/HEAD 405.
 */
import { createServer } from 'node:http';
import { listenHttp } from '../common/http-listen.js';
import type { Logger } from '../common/logger.js';

export interface HealthServerOptions {
  listenAddr: string;
  ready(): boolean;
  scrape(): Promise<{ contentType: string; body: string }>;
  logger: Logger;
}

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

export async function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string) =>
      res.writeHead(code, { 'Content-Type': 'text/plain' }).end(req.method === 'HEAD' ? undefined : body);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') text(200, 'ok\n');
    else if (path === '/readyz')
      text(o.ready() ? 200 : 503, o.ready() ? 'ok\n' : 'CertificateRequests not listed yet\n');
    else if (path === '/metrics') {
      o.scrape().then(
        ({ contentType, body }) =>
          res.writeHead(200, { 'Content-Type': contentType }).end(req.method === 'HEAD' ? undefined : body),
        () => text(500, 'scrape failed\n'),
      );
    } else text(404, 'not found; try /healthz, /readyz or /metrics\n');
  });
  const listener = await listenHttp(server, o.listenAddr);
  o.logger.info({ url: listener.url }, 'health and metrics serving');
  return listener;
}
