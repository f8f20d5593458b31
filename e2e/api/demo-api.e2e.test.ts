/**
 * The REST API of the running demo (`bin/csi-cert-driver demo`), over HTTP, checked against what is
 * really mounted: every certificate the API describes is read back from the pod's volume on disk.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ClusterView,
  NodeInfoView,
  VolumeDetails,
  VolumeEvent,
  VolumePage,
  VolumeSummary,
} from '@csi-cert-driver/api-contract';
import { waitFor } from '../support/wait.js';
import { getJson, startDemo, type RunningDemo } from './demo.js';

const PUBLISHED = ['api-0', 'ledger-0', 'migrated-0', 'scraper-0', 'web-0'];

describe('REST API of the running demo', () => {
  let demo: RunningDemo;
  const bodies: string[] = [];
  let volumes: VolumeSummary[];
  const byName = (name: string) => volumes.find((v) => v.pod.name === name)!;

  beforeAll(async () => {
    demo = await startDemo();
    volumes = await waitFor('the demo pods to be published', async () => {
      const page = await getJson<VolumePage>(demo, '/api/v1/volumes?limit=100', bodies);
      return page.items.length === 6 && page.counts.healthy === 5 ? page.items : undefined;
    });
  });
  afterAll(() => demo?.stop());

  it('lists the demo volumes: five healthy, the one the issuer refuses failed', () => {
    expect(
      volumes
        .filter((v) => v.state === 'healthy')
        .map((v) => v.pod.name)
        .sort(),
    ).toEqual(PUBLISHED);
    expect(byName('wants-ca-0')).toMatchObject({
      state: 'failed',
      phase: 'publish-failing',
      pod: { namespace: 'default' },
    });
    expect(byName('wants-ca-0').lastError).toMatch(/does not sign CA certificates/);
    for (const v of volumes) expect(v.nodeId).toBe('demo-node');
  });

  it('describes each mounted certificate exactly as the file in the pod volume says', async () => {
    let compared = 0;
    for (const name of PUBLISHED) {
      const v = byName(name);
      const d = await getJson<VolumeDetails>(demo, `/api/v1/volumes/${v.volumeId}`, bodies);
      const onDisk = new X509Certificate(await readFile(join(d.targetPath, d.files.certificate)));
      // A renewal may land between the two reads; then the API must already show the new one.
      const serial = onDisk.serialNumber.toLowerCase().replace(/^0+/, '');
      // Both sides without leading zeros: a 16-byte serial may start with a 0 nibble.
      const apiSerial = d.certificateDetails!.serialHex.toLowerCase().replace(/^0+/, '');
      if (apiSerial !== serial) continue;
      expect(d.certificateDetails).toMatchObject({
        sha256Fingerprint: onDisk.fingerprint256,
        notAfter: new Date(onDisk.validTo).toISOString(),
      });
      expect(d.history[0]).toMatchObject({ kind: 'issue', outcome: 'success' });
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(PUBLISHED.length - 1);
    const ledger = await getJson<VolumeDetails>(
      demo,
      `/api/v1/volumes/${byName('ledger-0').volumeId}`,
      bodies,
    );
    expect(ledger.certificateDetails).toMatchObject({
      keyAlgorithm: 'RSA',
      keySize: 2048,
      ipAddresses: ['10.0.0.7'],
    });
    expect(ledger.certificateDetails!.uris[0]).toMatch(
      /^spiffe:\/\/cluster\.local\/ns\/payments\/sa\/ledger$/,
    );
    const migrated = await getJson<VolumeDetails>(
      demo,
      `/api/v1/volumes/${byName('migrated-0').volumeId}`,
      bodies,
    );
    expect(migrated.files).toMatchObject({ certificate: 'cert.pem', privateKey: 'key.pem' });
    expect(migrated.certificateDetails!.commonName).toBe('migrated.legacy.svc');
  });

  it.each([
    { query: 'namespace=monitoring', want: ['scraper-0'] },
    { query: 'namespace=default&sort=name', want: ['api-0', 'wants-ca-0', 'web-0'] },
    { query: 'state=failed', want: ['wants-ca-0'] },
    { query: 'node=demo-node&q=ledger', want: ['ledger-0'] },
    { query: 'sort=-expiry&limit=2', want: ['migrated-0', 'web-0'] },
  ])('filters: $query', async ({ query, want }) => {
    const page = await getJson<VolumePage>(demo, `/api/v1/volumes?${query}`, bodies);
    const names = page.items.map((v) => v.pod.name);
    if (query.startsWith('sort=-expiry')) expect(names.sort()).toEqual(want.sort());
    else expect(names).toEqual(want);
  });

  it('renews the 1-minute certificate: list, history, event stream and the file on disk agree', async () => {
    const scraper = byName('scraper-0');
    const events: VolumeEvent[] = [];
    const ac = new AbortController();
    const stream = fetch(`${demo.url}/api/v1/events`, { signal: ac.signal }).then(async (res) => {
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let raw = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          raw += dec.decode(value, { stream: true });
          for (const m of raw.matchAll(/event: volume\n(?:id: .*\n)?data: (.*)\n/g))
            events.push(JSON.parse(m[1]!));
          raw = raw.slice(raw.lastIndexOf('\n\n') + 2);
        }
      } catch {
        // aborted
      }
      bodies.push(raw);
    });
    const renewed = await waitFor(
      'scraper-0 to renew',
      async () => {
        const d = await getJson<VolumeDetails>(demo, `/api/v1/volumes/${scraper.volumeId}`, bodies);
        return d.history.some((e) => e.kind === 'renew' && e.outcome === 'success') ? d : undefined;
      },
      { timeoutMs: 75_000, intervalMs: 1000 },
    );
    await waitFor('the renewal event', () =>
      events.some((e) => e.type === 'upsert' && e.volume.volumeId === scraper.volumeId) ? true : undefined,
    );
    ac.abort();
    await stream;
    expect(renewed.renewals).toBeGreaterThanOrEqual(1);
    expect(renewed.certificate!.serialHex).not.toBe(scraper.certificate!.serialHex);
    const renewEvent = events.find((e) => e.type === 'upsert' && e.volume.volumeId === scraper.volumeId);
    expect(renewEvent).toMatchObject({ type: 'upsert', volume: { state: 'healthy' } });
    const latest = await getJson<VolumeDetails>(demo, `/api/v1/volumes/${scraper.volumeId}`, bodies);
    const onDisk = new X509Certificate(await readFile(join(latest.targetPath, 'tls.crt')));
    expect(latest.certificateDetails!.sha256Fingerprint).toBe(onDisk.fingerprint256);
  });

  it('describes the node and the cluster view of the demo', async () => {
    const node = await getJson<NodeInfoView>(demo, '/api/v1/node', bodies);
    expect(node).toMatchObject({ nodeId: 'demo-node', ready: true, total: 6, issuer: { reachable: true } });
    const cluster = await getJson<ClusterView>(demo, '/api/v1/cluster', bodies);
    expect(cluster).toMatchObject({ source: 'local-node', nodes: [{ nodeId: 'demo-node', total: 6 }] });
    expect(cluster.totals.failed).toBe(1);
    const ready = await fetch(`${demo.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('refuses every mutating verb with 405', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await fetch(`${demo.url}/api/v1/volumes/${byName('web-0').volumeId}`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    expect((await getJson<VolumePage>(demo, '/api/v1/volumes', bodies)).total).toBe(6);
  });

  it('serves the OpenAPI document and the built dashboard', async () => {
    const doc = await getJson<{ openapi: string; paths: object }>(demo, '/openapi.json', bodies);
    expect(doc.openapi).toBe('3.1.0');
    const html = await (await fetch(`${demo.url}/`)).text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, 'the dashboard is built into dist/dashboard').toBeDefined();
    const js = await fetch(`${demo.url}/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
  });

  it('never returns the private keys that are in the volumes', async () => {
    const keyChunks: string[] = [];
    for (const name of PUBLISHED) {
      const d = await getJson<VolumeDetails>(demo, `/api/v1/volumes/${byName(name).volumeId}`, bodies);
      const pem = await readFile(join(d.targetPath, d.files.privateKey), 'utf8');
      expect(pem).toContain('PRIVATE KEY');
      const b64 = pem.replace(/-----[^-]+-----|\s/g, '');
      for (let i = 0; i + 32 <= b64.length; i += 32) keyChunks.push(b64.slice(i, i + 32));
    }
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) {
      expect(body).not.toContain('PRIVATE KEY');
      for (const chunk of keyChunks) expect(body.includes(chunk)).toBe(false);
    }
  });
});
