/**
 * The cluster API against a real kube-apiserver: status objects of three nodes written as nodes
 * write them, the `cluster-view` process running as the ServiceAccount of
 * deploy/rbac/cluster-view.yaml. List, a watch-driven update and delete (and its server-sent event),
 * a node that stopped reporting flagged stale, failures grouped, filters, the CA bundle, nothing
 * secret in any answer, the Host header and CORS closed, read-only RBAC.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ClusterNode,
  ClusterOverview,
  ClusterVolumeDetails,
  ClusterVolumePage,
  FailureGroup,
} from '@csi-cert-driver/api-contract';
import { KUBE_BIN } from '../kube/control-plane.js';
import { waitFor } from '../support/wait.js';
import { FLEET, healthy } from './fixtures.js';
import { NS, startClusterViewEnv, type ClusterViewEnv, type ClusterViewProcess } from './harness.js';

const run = promisify(execFile);
const BULK = 520;

function raw(
  url: string,
  o: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('cluster API against a real kube-apiserver', () => {
  let env: ClusterViewEnv;
  let view: ClusterViewProcess;
  const bodies: string[] = [];
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${view.url}${path}`);
    const text = await res.text();
    bodies.push(text);
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const objName = (pod: string) => FLEET.find((f) => f.pod === pod)!;

  beforeAll(async () => {
    env = await startClusterViewEnv('cluster-view-api');
    await env.write(FLEET);
    // More than one page of the view's list (500 a page), in a namespace of their own.
    await env.write(
      Array.from({ length: BULK }, (_, i) => healthy('bulk', `bulk-${i}`, 'linux-bulk')),
      undefined,
      24,
    );
    view = await env.startView({ STALE_AFTER: '5m' });
  }, 240_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('lists every node with its counts and health; the node that stopped reporting is stale', async () => {
    const nodes = await get<{ items: ClusterNode[] }>('/api/v1/cluster/nodes');
    const by = Object.fromEntries(nodes.items.map((n) => [n.nodeId, n]));
    expect(Object.keys(by).sort()).toEqual(['linux-a', 'linux-b', 'linux-bulk', 'linux-dead']);
    // Every object of a list longer than one page.
    expect(by['linux-bulk']).toMatchObject({ health: 'ok', total: BULK });
    expect(by['linux-dead']).toMatchObject({ health: 'stale', overdue: 1, total: 2 });
    expect(by['linux-dead']!.healthReason).toMatch(/overdue/);
    expect(by['linux-a']).toMatchObject({ health: 'failing', total: 4 });
    expect(by['linux-a']!.counts).toEqual({ failed: 1, expiring: 0, renewing: 0, healthy: 3 });
    expect(by['linux-b']).toMatchObject({ health: 'failing', total: 2 });
    const o = await get<ClusterOverview>('/api/v1/cluster/overview');
    expect(o).toMatchObject({
      synced: true,
      total: 8 + BULK,
      nodes: { total: 4, stale: 1, failing: 2 },
      staleVolumes: 2,
    });
    // cache-0's renewal is due (and overdue): renewing.
    expect(o.counts).toEqual({ failed: 2, expiring: 0, renewing: 1, healthy: 5 + BULK });
    expect(o.issuers.map((i) => [i.key, i.volumes])).toEqual([
      ['BuiltIn', 7 + BULK],
      ['CertManager:ClusterIssuer/bank-ca', 1],
    ]);
    expect(o.ca).toMatchObject({ status: 'ok', rotating: false, source: env.caFile });
    expect(o.ca.cas).toHaveLength(1);
    expect(o.ca.cas[0]!.subject).toContain('csi-cert-driver e2e CA');
  });

  it('groups failures by namespace and reason', async () => {
    const f = await get<{ groups: FailureGroup[]; total: number }>('/api/v1/cluster/failures');
    expect(f.total).toBe(2);
    expect(f.groups.map((g) => [g.namespace, g.reason, g.count, g.nodes])).toEqual([
      ['bank', 'Expired', 1, ['linux-b']],
      ['shop', 'RenewalFailing', 1, ['linux-a']],
    ]);
    expect(f.groups[1]!.example).toBe('issuer unavailable: connection refused');
  });

  it.each([
    { query: 'namespace=bank', want: ['api-0', 'api-1'] },
    { query: 'node=linux-a&state=failed', want: ['web-3'] },
    { query: 'stale=true', want: ['cache-0', 'cache-1'] },
    { query: 'issuer=CertManager:ClusterIssuer/bank-ca', want: ['api-0'] },
    { query: 'q=WEB-1', want: ['web-1'] },
  ])('filters volumes: $query', async ({ query, want }) => {
    const p = await get<ClusterVolumePage>(`/api/v1/cluster/volumes?${query}`);
    expect(p.items.map((v) => v.pod).sort()).toEqual(want);
  });

  it('answers a bad parameter with 400 naming it', async () => {
    const r = await raw(`${view.url}/api/v1/cluster/volumes?state=broken`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).message).toMatch(/^state: 'broken'/);
  });

  it('draws the expiry histogram with the renewal wave of linux-a', async () => {
    const now = Date.now();
    const h = await get<{
      buckets: { start: string; expiring: number; renewals: number }[];
      expired: number;
      bucketSeconds: number;
    }>(`/api/v1/cluster/expiry?buckets=24&until=${new Date(now + 24 * 3600_000).toISOString()}`);
    expect(h.bucketSeconds).toBeGreaterThanOrEqual(3600);
    expect(h.bucketSeconds).toBeLessThan(3720);
    expect(h.expired).toBe(1);
    const between = (from: number, to: number, k: 'expiring' | 'renewals') =>
      h.buckets
        .filter(
          (b) => Date.parse(b.start) >= now + from * 3600_000 && Date.parse(b.start) < now + to * 3600_000,
        )
        .reduce((s, b) => s + b[k], 0);
    // linux-a's wave: web-1 and web-2 renew in about 2 h and expire in about 3 h.
    expect(between(1, 2.5, 'renewals')).toBe(2);
    expect(between(2, 3.5, 'expiring')).toBe(2);
    expect(between(3.5, 17, 'renewals') + between(3.5, 22, 'expiring')).toBe(0);
    expect(h.buckets.reduce((s, b) => s + b.expiring, 0)).toBe(7 + BULK);
  });

  it('follows the watch: a renewal and a deletion show without a reload, with a server-sent event', async () => {
    const events: string[] = [];
    const ac = new AbortController();
    const stream = fetch(`${view.url}/api/v1/cluster/events`, { signal: ac.signal }).then(async (res) => {
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        events.push(Buffer.from(value).toString());
      }
    });
    await waitFor('hello', () => (events.join('').includes('event: hello') ? true : undefined));
    const web0 = objName('web-0');
    const id = `shop/${(await get<ClusterVolumePage>('/api/v1/cluster/volumes?q=web-0')).items[0]!.name}`;
    await env.update({
      ...web0,
      serial: '0a02',
      last: { at: 0, kind: 'Renew', outcome: 'Success' },
      notAfter: 24 * 3600,
    });
    const d = await waitFor('the renewal to show', async () => {
      const v = await get<ClusterVolumeDetails>(`/api/v1/cluster/volumes/${id}`);
      return v.serialHex === '0a02' ? v : undefined;
    });
    expect(d.history.map((e) => [e.kind, e.outcome, e.serialHex])).toEqual([
      ['Renew', 'Success', '0a02'],
      ['Issue', 'Success', '0a01'],
    ]);
    await waitFor('a change event naming the volume', () =>
      events.join('').includes(`"changed":["${id}"]`) ? true : undefined,
    );
    await env.remove(objName('web-2'));
    await waitFor('the deletion to show', async () => {
      const p = await get<ClusterVolumePage>('/api/v1/cluster/volumes?node=linux-a');
      return p.total === 3 ? true : undefined;
    });
    expect((await raw(`${view.url}/api/v1/cluster/volumes/shop/does-not-exist`)).status).toBe(404);
    ac.abort();
    await stream.catch(() => undefined);
  });

  it('a node that reports again is no longer stale', async () => {
    await env.update({
      ...objName('cache-0'),
      nextRenewal: 18 * 3600,
      last: { at: 0, kind: 'Renew', outcome: 'Success' },
    });
    await waitFor('linux-dead to be ok', async () => {
      const n = await get<{ items: ClusterNode[] }>('/api/v1/cluster/nodes?node=linux-dead');
      return n.items[0]?.health === 'ok' ? true : undefined;
    });
    // And back to stale for the suites that follow.
    await env.update(objName('cache-0'));
  });

  it('never serves key material or tokens', async () => {
    await env.write([
      healthy('bank', 'leaky-0', 'linux-b', {
        last: { at: -60, outcome: 'Failure', error: FLEET[5]!.last!.error },
      }),
    ]);
    await waitFor('the leaky object', async () =>
      (await get<ClusterVolumePage>('/api/v1/cluster/volumes?q=leaky')).total === 1 ? true : undefined,
    );
    for (const p of ['overview', 'nodes', 'failures', 'expiry', 'volumes?limit=1000'])
      await get(`/api/v1/cluster/${p}`);
    const leaky = (await get<ClusterVolumePage>('/api/v1/cluster/volumes?q=leaky')).items[0]!;
    await get(`/api/v1/cluster/volumes/${leaky.id}`);
    await get('/api/v1/cluster');
    const all = bodies.join('\n');
    expect(all).toContain('renewal failed [PEM removed]');
    expect(all).not.toMatch(/PRIVATE KEY|MIIEvQ|eyJhbGci|c2lnbmF0dXJl/);
    expect(all).not.toContain(view.token.slice(20, 60));
  });

  it('refuses a Host it does not know, other methods, and other origins', async () => {
    const forged = await raw(`${view.url}/api/v1/cluster/overview`, {
      headers: { Host: 'attacker.example:8080' },
    });
    // The node API's check and answer (common/host-check.ts): 421 Misdirected Request.
    expect(forged.status).toBe(421);
    expect(JSON.parse(forged.body)).toMatchObject({ statusCode: 421, error: 'Misdirected Request' });
    expect(forged.body).not.toContain('linux-a');
    const page = await raw(`${view.url}/`, { headers: { Host: 'attacker.example' } });
    expect(page.status).toBe(421);
    expect(
      (await raw(`${view.url}/api/v1/cluster/overview`, { headers: { Host: `localhost:${view.port}` } }))
        .status,
    ).toBe(200);
    // kubelet's probes name the pod IP.
    expect((await raw(`${view.url}/healthz`, { headers: { Host: '10.0.0.7:8080' } })).status).toBe(200);
    expect((await raw(`${view.url}/healthz`, { headers: { Host: 'attacker.example' } })).status).toBe(421);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await raw(`${view.url}/api/v1/cluster/volumes`, { method });
      expect([r.status, r.headers.allow]).toEqual([405, 'GET, HEAD']);
    }
    const cors = await raw(`${view.url}/api/v1/cluster/overview`, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(cors.status).toBe(200);
    expect(cors.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await raw(`${view.url}/api/v1/cluster/overview`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(pre.status).toBe(405);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('its ServiceAccount may list and watch the status objects and nothing else', async () => {
    const as = `--as=system:serviceaccount:${NS}:csi-cert-driver-cluster-view`;
    const can = async (...args: string[]) =>
      (
        await run(join(KUBE_BIN, 'kubectl'), [
          '--kubeconfig',
          env.cp.kubeconfigPath,
          'auth',
          'can-i',
          as,
          ...args,
        ]).catch((e: { stdout: string }) => ({ stdout: e.stdout }))
      ).stdout.trim();
    expect(await can('list', 'certvolumestatuses.csi-cert-driver.io', '-A')).toBe('yes');
    expect(await can('watch', 'certvolumestatuses.csi-cert-driver.io', '-A')).toBe('yes');
    for (const [verb, res] of [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['patch', 'certvolumestatuses.csi-cert-driver.io'],
      ['delete', 'certvolumestatuses.csi-cert-driver.io'],
      ['list', 'pods'],
      ['create', 'serviceaccounts/token'],
    ]) {
      expect(await can(verb!, res!, '-A'), `${verb} ${res}`).toBe('no');
    }
  });
});
