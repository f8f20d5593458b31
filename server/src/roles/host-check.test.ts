import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../api/index.js';
import { hostAllowed } from '../common/host-check.js';
import { createLogger } from '../common/logger.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js';
import { startHttpServer, type HttpServer } from './http-server.js';

/** GET `path` on `url` with exactly this Host header; resolves to the status code. */
function get(url: string, path: string, host: string | undefined): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: 'GET',
        setHost: host !== undefined,
        headers: host ? { Host: host } : {},
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const logger = createLogger({ level: 'fatal', role: 'node', destination: new PassThrough().resume() });
let api: HttpServer;
let metrics: MetricsServer;
beforeAll(async () => {
  api = await startHttpServer({
    listenAddr: '127.0.0.1:0',
    corsOrigins: [],
    allowedHosts: ['node-1.example.internal'],
    context: {} as ApiContext,
    logger,
    metrics: () => Promise.resolve({ contentType: 'text/plain', body: 'up 1\n' }),
  });
  metrics = await startMetricsServer(
    '127.0.0.1:0',
    () => Promise.resolve({ contentType: 'text/plain', body: 'up 1\n' }),
    logger,
    ['node-1.example.internal'],
  );
});
afterAll(async () => {
  await api.close();
  await metrics.close();
});

/** Host headers answered (IP addresses, localhost and its subdomains, API_ALLOWED_HOSTS) and refused (421). */
const ALLOWED = [
  'localhost',
  'LOCALHOST:8080',
  'dashboard.localhost:8080',
  '127.0.0.1:8080',
  '10.244.1.7:8080',
  '[::1]:8080',
  'node-1.example.internal:8080',
];
const REFUSED = [
  'attacker.example.com',
  'attacker.example.com:8080',
  'localhost.attacker.example.com',
  '127.0.0.1.nip.io',
  'example.internal',
];
const CASES = [
  ...ALLOWED.map((host) => ({ host, ok: true })),
  ...REFUSED.map((host) => ({ host, ok: false })),
];

describe('Host header allow-list (DNS rebinding)', () => {
  it.each(CASES)('the REST API answers Host $host: $ok', async ({ host, ok }) => {
    const code = await get(api.url, '/metrics', host);
    if (ok) expect(code).toBe(200);
    else expect(code).toBe(421);
  });

  it.each(CASES)('the metrics server answers Host $host: $ok', async ({ host, ok }) => {
    const code = await get(metrics.url, '/metrics', host);
    if (ok) expect(code).toBe(200);
    else expect(code).toBe(421);
  });

  it('refuses a rebinding Host on every path, the dashboard and the API alike', async () => {
    for (const path of ['/', '/api/v1/volumes', '/healthz', '/openapi.json'])
      expect(await get(api.url, path, 'rebind.attacker.example')).toBe(421);
  });

  it('lets a request without a Host header through (not a browser)', () => {
    expect(hostAllowed(undefined, [])).toBe(true);
    expect(hostAllowed('', [])).toBe(false);
  });
});
