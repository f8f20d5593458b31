import { createServer } from 'node:net';
import { get as httpGet } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.js';
import type { ApiContext } from '../api/index.js';
import { splitHostPort, startHttpServer } from './http-server.js';

/** The lazily loaded API with only /metrics wired (an empty context), on a free loopback port. */
const startMetricsOnlyApi = () =>
  startHttpServer({
    listenAddr: '127.0.0.1:0',
    corsOrigins: [],
    context: {} as ApiContext,
    logger: createLogger({ level: 'fatal', role: 'node', destination: new PassThrough().resume() }),
    metrics: () => Promise.resolve({ contentType: 'text/plain', body: 'up 1\n' }),
  });

describe('http server', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
  ])('splits %s', (addr, want) => expect(splitHostPort(addr)).toEqual(want));

  it('listens at once and loads the API on its first request, which waits for it', async () => {
    const api = await startMetricsOnlyApi();
    try {
      expect(api.loaded()).toBe(false);
      const [first, second] = await Promise.all([fetch(`${api.url}/metrics`), fetch(`${api.url}/metrics`)]);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(await first.text()).toBe('up 1\n');
      expect(first.headers.get('x-content-type-options')).toBe('nosniff');
      expect(api.loaded()).toBe(true);
      expect((await fetch(`${api.url}/metrics`, { method: 'DELETE' })).status).toBe(405);
    } finally {
      await api.close();
    }
  });

  it('refuses a foreign Host with 421 before loading the API', async () => {
    const api = await startMetricsOnlyApi();
    try {
      const { port } = new URL(api.url);
      const status = await new Promise<number | undefined>((resolve, reject) =>
        httpGet({ host: '127.0.0.1', port, path: '/metrics', headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject),
      );
      expect(status).toBe(421);
      expect(api.loaded(), 'a refused request loads nothing').toBe(false);
    } finally {
      await api.close();
    }
  });

  it('names API_LISTEN_ADDR when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as { port: number };
    try {
      await expect(
        startHttpServer({
          listenAddr: `127.0.0.1:${port}`,
          corsOrigins: [],
          context: {} as ApiContext,
          logger: createLogger({ level: 'fatal', role: 'node', destination: new PassThrough().resume() }),
        }),
      ).rejects.toThrow(`API_LISTEN_ADDR 127.0.0.1:${port}: cannot listen`);
    } finally {
      taken.close();
    }
  });
});
