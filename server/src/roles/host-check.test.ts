import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../api/index.js';
import { hostAllowed, MISDIRECTED } from '../common/host-check.js';
import { createLogger } from '../common/logger.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js';
import { startClusterHttp, type ClusterHttpServer } from '../cluster-view/cluster-http.js';
import { ClusterStore } from '../cluster-view/cluster-store.js';
import { ClusterViews } from '../cluster-view/cluster-views.js';
import { startHttpServer, type HttpServer } from './http-server.js';

/** GET `path` on `url` with exactly this Host header; resolves to the status code and body. */
function exchange(url: string, path: string, host: string | undefined): Promise<[number, string]> {
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
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve([res.statusCode ?? 0, body]));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const get = async (url: string, path: string, host: string | undefined): Promise<number> =>
  (await exchange(url, path, host))[0];

const logger = createLogger({ level: 'fatal', role: 'node', destination: new PassThrough().resume() });
let api: HttpServer;
let metrics: MetricsServer;
let clusterView: ClusterHttpServer;
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
  const store = new ClusterStore();
  clusterView = await startClusterHttp({
    listenAddr: '127.0.0.1:0',
    allowedHosts: ['node-1.example.internal'],
    corsOrigins: [],
    views: new ClusterViews({
      store,
      staleGraceMs: 300_000,
      ca: () => ({ source: 'none', cas: [], rotating: false, status: 'unknown' }),
    }),
    store,
    logger,
  });
});
afterAll(async () => {
  await api.close();
  await metrics.close();
  await clusterView.close();
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

  it.each(CASES)('the cluster view answers Host $host: $ok', async ({ host, ok }) => {
    const code = await get(clusterView.url, '/api/v1/cluster', host);
    if (ok) expect(code).toBe(200);
    else expect(code).toBe(421);
  });

  it('refuses a rebinding Host on every path, the dashboard and the API alike', async () => {
    for (const path of ['/', '/api/v1/volumes', '/healthz', '/openapi.json'])
      expect(await get(api.url, path, 'rebind.attacker.example')).toBe(421);
    for (const path of ['/', '/api/v1/cluster/volumes', '/healthz', '/readyz'])
      expect(await get(clusterView.url, path, 'rebind.attacker.example')).toBe(421);
  });

  it('answers a refused Host with the same body on the node and the cluster view', async () => {
    for (const url of [api.url, clusterView.url]) {
      const [status, body] = await exchange(url, '/api/v1/cluster', 'rebind.attacker.example');
      expect([status, JSON.parse(body)]).toEqual([421, MISDIRECTED]);
    }
  });

  it('lets a request without a Host header through (not a browser)', () => {
    expect(hostAllowed(undefined, [])).toBe(true);
    expect(hostAllowed('', [])).toBe(false);
  });
});
