import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ClusterView,
  NodeInfoView,
  VolumeDetails,
  VolumeEvent,
  VolumePage,
} from '@csi-cert-driver/api-contract';
import type { OPENAPI_DOCUMENT } from './openapi.js';
import { podOf, startApiHarness, type ApiHarness } from './testing/api-harness.js';

const P = 'csi.k8s.cert-driver/';
const PASSWORD = 'keystore-pass-4d1f9a';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.sa-token-7c2e11.signature';
const TOKENS = JSON.stringify({
  'csi-cert-driver': { token: TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' },
});

/** Reads server-sent events from `path` until `done` says so or `ms` pass. */
async function readEvents(
  h: ApiHarness,
  path: string,
  done: (events: { event: string; data: unknown }[]) => boolean,
  ms = 10_000,
): Promise<{ events: { event: string; data: unknown }[]; raw: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const res = await fetch(`${h.url}${path}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let raw = '';
  const events: { event: string; data: unknown }[] = [];
  try {
    while (!done(events)) {
      const { value, done: end } = await reader.read();
      if (end) break;
      raw += dec.decode(value, { stream: true });
      const blocks = raw.split('\n\n');
      events.length = 0;
      for (const b of blocks.slice(0, -1)) {
        const event = /^event: (.*)$/m.exec(b)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(b)?.[1];
        events.push({ event, data: data ? JSON.parse(data) : undefined });
      }
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  h.bodies.push(raw);
  return { events, raw };
}

describe('REST API on the node role', () => {
  let h: ApiHarness;
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startApiHarness({
      publishFailures: () => [
        {
          volumeId: 'csi-failing',
          targetPath: '/var/lib/kubelet/pods/f/mount',
          pod: podOf(99, 'broken'),
          error: 'issuer denied the request',
        },
      ],
    });
    ids.push(await h.publish({ n: 1, attributes: { [`${P}duration`]: '1h' } }));
    ids.push(await h.publish({ n: 2, pod: podOf(2, 'payments'), attributes: { [`${P}duration`]: '2h' } }));
    ids.push(await h.publish({ n: 3, pod: podOf(3, 'payments'), attributes: { [`${P}duration`]: '30m' } }));
    ids.push(
      await h.publish({
        n: 4,
        pod: podOf(4, 'secrets'),
        attributes: {
          [`${P}pkcs12-enable`]: 'true',
          [`${P}pkcs12-password`]: PASSWORD,
          'csi.storage.k8s.io/serviceAccount.tokens': TOKENS,
        },
      }),
    );
  });
  afterAll(() => h?.stop());

  it('lists every volume, soonest expiry first, with counts by state', async () => {
    const r = await h.request('/api/v1/volumes');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const page = r.json<VolumePage>();
    expect(page.total).toBe(5);
    expect(page.items[0]).toMatchObject({
      volumeId: 'csi-failing',
      state: 'failed',
      phase: 'publish-failing',
    });
    expect(page.items.slice(1).map((v) => v.pod.name)).toEqual(['pod-3', 'pod-1', 'pod-2', 'pod-4']);
    expect(page.counts).toEqual({ failed: 1, expiring: 0, renewing: 0, healthy: 4 });
    expect(page.soonestExpiry?.pod.name).toBe('pod-3');
    const v = page.items[1]!;
    expect(v).toMatchObject({
      nodeId: 'api-node',
      issuer: 'built-in',
      files: { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt' },
      autoRenew: true,
      renewals: 0,
    });
    expect(Date.parse(v.certificate!.notAfter) - Date.parse(v.certificate!.notBefore)).toBeGreaterThan(
      29 * 60_000,
    );
    expect(Date.parse(v.nextRenewalAt!)).toBeLessThan(Date.parse(v.certificate!.notAfter));
  });

  it.each([
    { query: 'namespace=payments', want: ['pod-3', 'pod-2'] },
    { query: 'namespace=payments,secrets&sort=name', want: ['pod-2', 'pod-3', 'pod-4'] },
    { query: 'namespace=payments&namespace=default&sort=-expiry', want: ['pod-2', 'pod-1', 'pod-3'] },
    { query: 'state=failed', want: ['pod-99'] },
    { query: 'state=healthy&limit=2', want: ['pod-3', 'pod-1'] },
    { query: 'state=healthy&limit=2&offset=2', want: ['pod-2', 'pod-4'] },
    { query: 'node=api-node&q=PAYMENTS/pod-2', want: ['pod-2'] },
    { query: 'node=other-node', want: [] },
    { query: 'sort=state&limit=1', want: ['pod-99'] },
  ])('filters, sorts and pages: $query', async ({ query, want }) => {
    const r = await h.request(`/api/v1/volumes?${query}`);
    expect(r.status).toBe(200);
    expect(r.json<VolumePage>().items.map((v) => v.pod.name)).toEqual(want);
  });

  it('says where the next page starts and counts over every filter but state', async () => {
    const page = (await h.request('/api/v1/volumes?state=healthy&limit=3')).json<VolumePage>();
    expect(page).toMatchObject({ total: 4, offset: 0, limit: 3, nextOffset: 3 });
    expect(page.counts).toEqual({ failed: 1, expiring: 0, renewing: 0, healthy: 4 });
    const last = (await h.request('/api/v1/volumes?state=healthy&limit=3&offset=3')).json<VolumePage>();
    expect(last.nextOffset).toBeUndefined();
    expect(last.items).toHaveLength(1);
  });

  // The message starts with the query's first parameter name.
  it.each([
    'limit=0',
    'limit=5001',
    'offset=-1',
    'state=broken',
    'sort=size',
    'sort=name&sort=expiry',
    'namspace=default',
  ])('answers 400 naming the parameter for %s', async (query) => {
    const param = query.slice(0, query.indexOf('='));
    const r = await h.request(`/api/v1/volumes?${query}`);
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(r.json<{ message: string }>().message.startsWith(`${param}: `)).toBe(true);
  });

  it('describes one volume: what its certificate file says, the request, and the history', async () => {
    const r = await h.request(`/api/v1/volumes/${ids[1]}`);
    expect(r.status).toBe(200);
    const d = r.json<VolumeDetails>();
    expect(d.certificateDetails).toMatchObject({
      commonName: 'pod-2.payments.svc.cluster.local',
      dnsNames: ['pod-2'],
      keyAlgorithm: 'ECDSA',
      keySize: 256,
      isCA: false,
      serialHex: d.certificate!.serialHex,
      notAfter: d.certificate!.notAfter,
    });
    expect(d.certificateDetails!.sha256Fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(d.certificateDetails!.issuer).toContain('unit-test CA');
    expect(d.requested).toMatchObject({ durationSeconds: 7200, key: { algorithm: 'ECDSA', size: 256 } });
    expect(d.history).toEqual([
      { at: expect.any(String), kind: 'issue', outcome: 'success', serialHex: d.certificate!.serialHex },
    ]);
    expect(d.attributes['csi.storage.k8s.io/pod.name']).toBe('pod-2');
  });

  it('redacts the PKCS#12 password in the attributes and never returns the token', async () => {
    const d = (await h.request(`/api/v1/volumes/${ids[3]}`)).json<VolumeDetails>();
    expect(d.attributes[`${P}pkcs12-password`]).toBe('[REDACTED]');
    expect(d.attributes['csi.storage.k8s.io/serviceAccount.tokens']).toBeUndefined();
    expect(d.requested?.pkcs12).toBe(true);
  });

  it('describes a volume whose publish keeps failing, and 404s an unknown one', async () => {
    const f = (await h.request('/api/v1/volumes/csi-failing')).json<VolumeDetails>();
    expect(f).toMatchObject({
      state: 'failed',
      phase: 'publish-failing',
      lastError: 'issuer denied the request',
    });
    expect(f.history[0]).toMatchObject({ kind: 'publish', outcome: 'failure' });
    const r = await h.request('/api/v1/volumes/csi-nope');
    expect(r.status).toBe(404);
    expect(r.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await h.request('/api/v1/volumes/..%2F..%2Fetc')).status).toBe(404);
  });

  it('shows a renewal in the list, the details and the event stream', async () => {
    const id = ids[0]!;
    const before = (await h.request(`/api/v1/volumes/${id}`)).json<VolumeDetails>();
    const stream = readEvents(h, '/api/v1/events', (ev) =>
      ev.some((e) => e.event === 'volume' && (e.data as VolumeEvent).type === 'upsert'),
    );
    await new Promise((r) => setTimeout(r, 200));
    await h.node.renewal.renew(id);
    const { events } = await stream;
    expect(events[0]).toMatchObject({ event: 'hello', data: { nodeId: 'api-node' } });
    const upsert = events.find((e) => e.event === 'volume')!.data as Extract<VolumeEvent, { type: 'upsert' }>;
    expect(upsert.volume).toMatchObject({ volumeId: id, renewals: 1, state: 'healthy' });
    expect(upsert.volume.certificate!.serialHex).not.toBe(before.certificate!.serialHex);
    const after = (await h.request(`/api/v1/volumes/${id}`)).json<VolumeDetails>();
    expect(after.history.map((e) => `${e.kind}:${e.outcome}`)).toEqual(['issue:success', 'renew:success']);
    expect(after.certificateDetails!.serialHex).toBe(upsert.volume.certificate!.serialHex);
    expect(after.lastRenewalAt).toBe(after.history[1]!.at);
  });

  it('shows a volume whose renewal failed as failed, with the reason', async () => {
    const id = ids[2]!;
    h.issuer.down = true;
    try {
      await h.node.renewal.renew(id);
    } finally {
      h.issuer.down = false;
    }
    const d = (await h.request(`/api/v1/volumes/${id}`)).json<VolumeDetails>();
    expect(d).toMatchObject({ state: 'failed', failures: 1 });
    expect(d.stateReason).toMatch(/1 renewal attempt failed .*unreachable.*current certificate valid until/);
    expect(d.history.at(-1)).toMatchObject({ kind: 'renew', outcome: 'failure' });
    const failed = (await h.request('/api/v1/volumes?state=failed')).json<VolumePage>();
    expect(failed.items.map((v) => v.volumeId).sort()).toEqual(['csi-failing', id].sort());
    await h.node.renewal.renew(id);
    expect((await h.request(`/api/v1/volumes/${id}`)).json<VolumeDetails>().state).toBe('healthy');
  });

  it('streams a delete when a volume is unpublished and forgets it', async () => {
    const id = await h.publish({ n: 5 });
    const stream = readEvents(h, '/api/v1/events', (ev) =>
      ev.some((e) => e.event === 'volume' && (e.data as VolumeEvent).type === 'delete'),
    );
    await new Promise((r) => setTimeout(r, 200));
    await h.unpublish(id);
    const del = (await stream).events.find((e) => e.event === 'volume')!.data;
    expect(del).toEqual({ type: 'delete', volumeId: id, nodeId: 'api-node' });
    expect((await h.request(`/api/v1/volumes/${id}`)).status).toBe(404);
  });

  it('describes the node and the cluster as seen from it', async () => {
    const n = (await h.request('/api/v1/node')).json<NodeInfoView>();
    expect(n).toMatchObject({
      nodeId: 'api-node',
      driverName: 'csi.k8s.cert-driver',
      platform: 'fake',
      ready: true,
      total: 5,
    });
    expect(n.issuer).toMatchObject({ address: 'in-process', reachable: true });
    const c = (await h.request('/api/v1/cluster')).json<ClusterView>();
    expect(c).toMatchObject({
      source: 'local-node',
      complete: false,
      nodes: [{ nodeId: 'api-node', total: 5 }],
    });
    expect(c.totals).toEqual(c.nodes[0]!.counts);
  });

  it('answers liveness and readiness; not ready while the CSI side is not', async () => {
    expect((await h.request('/healthz')).json()).toEqual({ status: 'ok', checks: {} });
    const ready = await h.request('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ok',
      checks: { csi: { ok: true }, state: { ok: true }, issuer: { ok: true } },
    });
    h.node.readiness.ready = false;
    try {
      const r = await h.request('/readyz');
      expect(r.status).toBe(503);
      expect(r.json()).toMatchObject({ status: 'unavailable', checks: { csi: { ok: false } } });
    } finally {
      h.node.readiness.ready = true;
    }
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('answers %s with 405 on every path', async (method) => {
    for (const path of [
      '/api/v1/volumes',
      `/api/v1/volumes/${ids[0]}`,
      '/api/v1/node',
      '/readyz',
      '/',
      '/nowhere',
    ]) {
      const r = await h.request(path, { method, body: method === 'DELETE' ? undefined : '{}' });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
    expect((await h.request(`/api/v1/volumes/${ids[0]}`)).status).toBe(200);
  });

  it('keeps CORS closed: no Access-Control headers, preflight refused', async () => {
    const r = await h.request('/api/v1/volumes', { headers: { Origin: 'https://evil.example' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await h.request('/api/v1/volumes', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(pre.status).toBe(405);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves an OpenAPI document whose every path answers as documented', async () => {
    const doc = (await h.request('/openapi.json')).json<typeof OPENAPI_DOCUMENT>();
    expect(doc.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.paths);
    expect(paths.sort()).toEqual(
      [
        '/api/v1/cluster',
        '/api/v1/events',
        '/api/v1/node',
        '/api/v1/volumes',
        '/api/v1/volumes/{volumeId}',
        '/healthz',
        '/readyz',
      ].sort(),
    );
    for (const p of paths) {
      if (p === '/api/v1/events') continue;
      const r = await h.request(p.replace('{volumeId}', ids[0]!));
      const documented = Object.keys(
        (doc.paths as Record<string, { get: { responses: object } }>)[p]!.get.responses,
      );
      expect(documented, p).toContain(String(r.status));
    }
  });

  it('serves the dashboard page at / with a strict content security policy', async () => {
    const r = await h.request('/');
    expect([200, 404]).toContain(r.status);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  // Runs last: scans every body this suite read, the event streams included.
  it('never returned key material, the token or the PKCS#12 password in any response', async () => {
    for (const p of [
      '/api/v1/volumes?limit=5000',
      '/api/v1/node',
      '/api/v1/cluster',
      '/openapi.json',
      '/healthz',
      '/readyz',
    ]) {
      await h.request(p);
    }
    for (const id of [...ids, 'csi-failing']) await h.request(`/api/v1/volumes/${id}`);
    await readEvents(h, '/api/v1/events', (ev) => ev.length > 0);
    // The secrets exist where they should: in the volume on the node, never in the API.
    const key = await h.node.platform.readFile(ids[3]!, 'tls.key');
    expect(new TextDecoder().decode(key)).toContain('PRIVATE KEY');
    expect(h.bodies.length).toBeGreaterThan(60);
    for (const body of h.bodies) {
      expect(body).not.toContain('PRIVATE KEY');
      expect(body).not.toContain(PASSWORD);
      expect(body).not.toContain(TOKEN);
      expect(body).not.toContain('sa-token-7c2e11');
    }
  });
});

describe('REST API with CORS origins configured', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ corsOrigins: ['https://dash.example.com'] });
  });
  afterAll(() => h?.stop());

  it('allows exactly the configured origins to read, and only with GET and HEAD', async () => {
    const ok = await h.request('/api/v1/volumes', { headers: { Origin: 'https://dash.example.com' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    const other = await h.request('/api/v1/volumes', { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await h.request('/api/v1/volumes', {
      method: 'OPTIONS',
      headers: { Origin: 'https://dash.example.com', 'Access-Control-Request-Method': 'DELETE' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET,HEAD');
    expect((await h.request('/api/v1/volumes', { method: 'DELETE' })).status).toBe(405);
  });
});
