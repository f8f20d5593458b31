/**
 * HEALTH_LISTEN_ADDR of the approver: GET /healthz (200 while the process serves), /readyz (200 once
 * the CertificateRequests are listed, leader or standby; 503 before), /metrics (Prometheus).
 * Anything else is 404; methods other than GET/HEAD 405.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  const i = o.listenAddr.lastIndexOf(':');
  const host = o.listenAddr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(o.listenAddr.slice(i + 1)), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  o.logger.info({ url }, 'health and metrics serving');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
