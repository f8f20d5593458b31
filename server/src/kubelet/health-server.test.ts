import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.js';
import { loadProto } from '../common/protos.js';
import { startHealthServer, type HealthServer } from './health-server.js';

/** A CSI Identity server on a real unix socket whose Probe answers what `ready` says (null = unset). */
async function fakeCsi(socket: string, ready: () => boolean | null, calls: { n: number }) {
  const pkg = loadProto('csi.proto') as unknown as {
    csi: { v1: { Identity: { service: grpc.ServiceDefinition } } };
  };
  const server = new grpc.Server();
  server.addService(pkg.csi.v1.Identity.service, {
    Probe: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => {
      calls.n++;
      const r = ready();
      // Answer a little later, so concurrent /healthz requests overlap.
      setTimeout(() => cb(null, r === null ? {} : { ready: { value: r } }), 50);
    },
    GetPluginInfo: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
    GetPluginCapabilities: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  return server;
}

describe('/healthz for kubelet (CSI Probe over a real unix socket)', () => {
  let dir: string;
  let health: HealthServer;
  let csi: grpc.Server;
  let ready: boolean | null = true;
  const calls = { n: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ccd-health-'));
    const socket = join(dir, 'csi.sock');
    csi = await fakeCsi(socket, () => ready, calls);
    health = await startHealthServer({
      listenAddr: '127.0.0.1:0',
      csiUrl: `unix://${socket}`,
      logger: createLogger({ level: 'silent', role: 'node', destination: new PassThrough() }),
      probeTimeoutMs: 1000,
    });
  });
  afterAll(async () => {
    await health.close();
    csi.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    { name: 'ready', probe: true, want: 200, body: 'CSI Probe: ready\n' },
    { name: 'not ready', probe: false, want: 503, body: 'CSI Probe: not ready\n' },
    { name: 'ready unset (CSI: ready)', probe: null, want: 200, body: 'CSI Probe: ready\n' },
  ])('$name → $want', async ({ probe, want, body }) => {
    ready = probe;
    const res = await fetch(`${health.url}/healthz`);
    expect(res.status).toBe(want);
    expect(await res.text()).toBe(body);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('concurrent requests share one Probe', async () => {
    ready = true;
    const before = calls.n;
    const codes = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${health.url}/healthz`).then((r) => r.status)),
    );
    expect(codes).toEqual([200, 200, 200, 200, 200]);
    expect(calls.n - before).toBe(1);
  });

  it.each([
    { method: 'GET', path: '/readyz', want: 404 },
    { method: 'GET', path: '/api/v1/volumes', want: 404 },
    { method: 'POST', path: '/healthz', want: 405 },
    { method: 'DELETE', path: '/healthz', want: 405 },
  ])('$method $path → $want (nothing else is served)', async ({ method, path, want }) => {
    expect((await fetch(`${health.url}${path}`, { method })).status).toBe(want);
  });

  it('503 with the reason when nothing answers on the CSI socket', async () => {
    const other = await startHealthServer({
      listenAddr: '127.0.0.1:0',
      csiUrl: `unix://${join(dir, 'missing.sock')}`,
      logger: createLogger({ level: 'silent', role: 'node', destination: new PassThrough() }),
      probeTimeoutMs: 1000,
    });
    try {
      const res = await fetch(`${other.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/^CSI Probe failed: /);
    } finally {
      await other.close();
    }
  });
});
