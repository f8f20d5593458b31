import { describe, expect, it } from 'vitest';
import { compactVolume, Interner } from './compact-volume.js';
import { ClusterStore, HISTORY_PER_VOLUME } from './cluster-store.js';
import { parseClusterQuery, QueryError } from './cluster-query.js';
import { CHANGED_REUSE_MS, ClusterViews } from './cluster-views.js';
import { fakeStatusObject, healthyVolume, type FakeVolume } from './testing.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const H = 3600;
const intern = new Interner();

function setup(vols: FakeVolume[], grace = 300_000) {
  const store = new ClusterStore();
  store.replaceAll(vols.map((f) => compactVolume(fakeStatusObject(f, NOW), intern)!));
  const views = new ClusterViews({
    store,
    staleGraceMs: grace,
    now: () => NOW,
    ca: () => ({ source: 'none', cas: [], rotating: false, status: 'unknown' }),
  });
  return { store, views };
}
const q = (s = '') => parseClusterQuery(new URLSearchParams(s));

const healthy = healthyVolume;

describe('volume state from a status object', () => {
  it.each([
    { name: 'healthy', f: healthy('a', 'p', 'n1'), want: 'healthy' },
    { name: 'expired', f: { ...healthy('a', 'p', 'n1'), notAfter: -10 }, want: 'failed' },
    {
      name: 'last renewal failed',
      f: { ...healthy('a', 'p', 'n1'), last: { at: -5, outcome: 'Failure' as const, error: 'issuer down' } },
      want: 'failed',
    },
    { name: 'renewal due', f: { ...healthy('a', 'p', 'n1'), nextRenewal: -10 }, want: 'renewing' },
    {
      name: 'no certificate yet',
      f: { namespace: 'a', pod: 'p', node: 'n1', last: { at: -1, outcome: 'Success' as const } },
      want: 'renewing',
    },
    {
      name: 'auto-renew off, last 20 %',
      f: { ...healthy('a', 'p', 'n1'), notBefore: -20 * H, notAfter: 2 * H, nextRenewal: undefined },
      want: 'expiring',
    },
  ])('$name → $want', ({ f, want }) => {
    const { views } = setup([f]);
    expect(views.volumes(q()).items[0]!.state).toBe(want);
  });
});

describe('nodes', () => {
  it('flags a node whose renewal is overdue with no report since as stale, and one with failures as failing', () => {
    const { views } = setup([
      healthy('a', 'p1', 'ok-node'),
      { ...healthy('a', 'p2', 'dead-node'), nextRenewal: -3600, last: { at: -20 * H, outcome: 'Success' } },
      healthy('a', 'p3', 'dead-node'),
      {
        ...healthy('b', 'p4', 'bad-node'),
        last: { at: -60, outcome: 'Failure', error: 'denied' },
        nextRenewal: 60,
      },
      // Due 1 min ago: inside the grace, not stale.
      { ...healthy('a', 'p5', 'busy-node'), nextRenewal: -60, last: { at: -H, outcome: 'Success' } },
    ]);
    const nodes = views.nodes(q()).items;
    expect(nodes.map((n) => [n.nodeId, n.health, n.overdue])).toEqual([
      ['dead-node', 'stale', 1],
      ['bad-node', 'failing', 0],
      ['busy-node', 'ok', 0],
      ['ok-node', 'ok', 0],
    ]);
    expect(views.nodes(q('health=stale')).items.map((n) => n.nodeId)).toEqual(['dead-node']);
    expect(
      views
        .volumes(q('stale=true'))
        .items.map((v) => v.pod)
        .sort(),
    ).toEqual(['p2', 'p3']);
    expect(views.overview(q()).nodes).toEqual({ total: 4, stale: 1, failing: 1 });
  });
});

describe('failures', () => {
  it('groups failed volumes by namespace and reason, most first', () => {
    const fail = (ns: string, pod: string, node: string) => ({
      ...healthy(ns, pod, node),
      last: { at: -60, outcome: 'Failure' as const, error: `issuer unavailable for ${pod}` },
    });
    const { views } = setup([
      fail('shop', 'a', 'n1'),
      fail('shop', 'b', 'n2'),
      { ...healthy('shop', 'c', 'n1'), notAfter: -5 },
      fail('bank', 'd', 'n1'),
      healthy('bank', 'e', 'n1'),
    ]);
    const f = views.failures(q());
    expect(f.total).toBe(4);
    expect(f.groups.map((g) => [g.namespace, g.reason, g.count, g.nodes.sort()])).toEqual([
      ['shop', 'RenewalFailing', 2, ['n1', 'n2']],
      ['bank', 'RenewalFailing', 1, ['n1']],
      ['shop', 'Expired', 1, ['n1']],
    ]);
    expect(f.groups[0]!.example).toMatch(/^issuer unavailable for /);
    expect(views.failures(q('namespace=bank')).total).toBe(1);
  });
});

describe('expiry histogram', () => {
  it('puts expiries and planned renewals in their buckets', () => {
    const { views } = setup([
      { ...healthy('a', 'p1', 'n'), notAfter: 1.5 * H, nextRenewal: 0.5 * H },
      { ...healthy('a', 'p2', 'n'), notAfter: 1.6 * H, nextRenewal: 0.6 * H },
      { ...healthy('a', 'p3', 'n'), notAfter: 5.5 * H, nextRenewal: 4.5 * H },
      { ...healthy('a', 'p4', 'n'), notAfter: -1 },
    ]);
    const h = views.expiry(q('buckets=6&until=2026-12-01T18:00:00Z'));
    expect(h.bucketSeconds).toBe(3600);
    expect(h.buckets.map((b) => b.expiring)).toEqual([0, 2, 0, 0, 0, 1]);
    expect(h.buckets.map((b) => b.renewals)).toEqual([2, 0, 0, 0, 1, 0]);
    expect(h.expired).toBe(1);
  });
});

describe('filters and pages', () => {
  const { views } = setup([
    healthy('shop', 'web-1', 'n1'),
    healthy('shop', 'web-2', 'n2'),
    {
      ...healthy('bank', 'api-1', 'n1'),
      issuer: { type: 'CertManager', name: 'ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    },
    { ...healthy('bank', 'api-2', 'n2'), notAfter: -5 },
  ]);
  it.each([
    { query: 'namespace=shop', want: ['web-1', 'web-2'] },
    { query: 'node=n2', want: ['api-2', 'web-2'] },
    { query: 'state=failed', want: ['api-2'] },
    { query: 'issuer=CertManager:ClusterIssuer/ca', want: ['api-1'] },
    { query: 'q=WEB-2', want: ['web-2'] },
    { query: 'namespace=bank&node=n1,n2&state=healthy', want: ['api-1'] },
  ])('$query', ({ query, want }) => {
    expect(
      views
        .volumes(q(query))
        .items.map((v) => v.pod)
        .sort(),
    ).toEqual(want);
  });
  it('counts every filter but state, and pages', () => {
    const page = views.volumes(q('state=failed'));
    expect(page.counts).toEqual({ failed: 1, expiring: 0, renewing: 0, healthy: 3 });
    const p1 = views.volumes(q('limit=3&sort=name'));
    expect([p1.items.length, p1.nextOffset, p1.total]).toEqual([3, 3, 4]);
  });
  it('lists the issuers in use', () => {
    expect(views.overview(q()).issuers.map((i) => [i.key, i.volumes, i.failed])).toEqual([
      ['BuiltIn', 3, 1],
      ['CertManager:ClusterIssuer/ca', 1, 0],
    ]);
  });
  it.each([
    'bogus=1',
    'state=broken',
    'limit=0',
    'limit=5000',
    'sort=size',
    'stale=maybe',
    'until=soon',
    'q=a%00b',
    'q=a%0Ab',
  ])('refuses %s', (s) => expect(() => q(s)).toThrow(QueryError));
});

describe('history', () => {
  it('keeps past renewals seen by the watch, bounded, newest first', () => {
    const { store, views } = setup([healthy('a', 'p', 'n')]);
    for (let i = 1; i <= HISTORY_PER_VOLUME + 3; i++) {
      const o = fakeStatusObject(
        {
          ...healthy('a', 'p', 'n'),
          last: { at: i * 60, kind: 'Renew', outcome: 'Success' },
          serial: `0${i}`,
        },
        NOW,
      );
      store.upsert(compactVolume(o, intern)!);
    }
    const id = store.values().next().value!.id;
    const d = views.volume(id)!;
    expect(d.history).toHaveLength(HISTORY_PER_VOLUME + 1);
    expect(d.history[0]!.serialHex).toBe(`0${HISTORY_PER_VOLUME + 3}`);
    expect(Date.parse(d.history[0]!.at)).toBeGreaterThan(Date.parse(d.history[1]!.at));
  });
  it('never carries anything but the named fields', () => {
    const obj = fakeStatusObject(healthy('a', 'p', 'n'), NOW);
    (obj.status as unknown as Record<string, unknown>).privateKey = '-----BEGIN PRIVATE KEY-----abc';
    obj.status.lastRenewal = {
      time: obj.status.lastRenewal!.time,
      kind: 'Renew',
      outcome: 'Failure',
      error:
        'bad -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig',
    };
    const store = new ClusterStore();
    store.replaceAll([compactVolume(obj, intern)!]);
    const views = new ClusterViews({
      store,
      staleGraceMs: 1,
      now: () => NOW,
      ca: () => ({ source: 'none', cas: [], rotating: false, status: 'unknown' }),
    });
    const all = JSON.stringify([
      views.volumes(q()),
      views.volume(`a/${obj.metadata.name}`),
      views.failures(q()),
    ]);
    expect(all).not.toMatch(/PRIVATE KEY|eyJhbGci|privateKey/);
  });
});

describe('under churn', () => {
  it('reuses an evaluation for less than a second after a change, then sees it', () => {
    let now = NOW;
    const store = new ClusterStore();
    const f = healthy('a', 'p', 'n');
    store.replaceAll([compactVolume(fakeStatusObject(f, NOW), intern)!]);
    const views = new ClusterViews({
      store,
      staleGraceMs: 300_000,
      now: () => now,
      ca: () => ({ source: 'none', cas: [], rotating: false, status: 'unknown' }),
    });
    expect(views.volumes(q()).items[0]!.state).toBe('healthy');
    store.upsert(compactVolume(fakeStatusObject({ ...f, notAfter: -1 }, NOW), intern)!);
    now += CHANGED_REUSE_MS - 1;
    expect(views.volumes(q()).items[0]!.state).toBe('healthy');
    now += 1;
    expect(views.volumes(q()).items[0]!.state).toBe('failed');
  });
  it('finds text in any field without case', () => {
    const { views } = setup([{ ...healthy('a', 'p', 'n'), volumeId: 'CSI-ABC', serial: 'beef01' }]);
    for (const t of ['csi-abc', 'BEEF', 'a/p', 'P']) expect(views.volumes(q(`q=${t}`)).total, t).toBe(1);
    expect(views.volumes(q('q=zzz')).total).toBe(0);
  });
  it('finds each row holding the text once, and no match across two rows', () => {
    const { views } = setup([
      healthy('shop', 'web-1', 'n'),
      healthy('shop', 'web-2', 'n'),
      healthy('bank', 'api', 'n'),
    ]);
    expect(
      views
        .volumes(q('q=web'))
        .items.map((v) => v.pod)
        .sort(),
    ).toEqual(['web-1', 'web-2']);
    expect(views.volumes(q('q=shop/web-2')).total).toBe(1);
    // The end of one row's serial and the start of the next row's namespace never join.
    expect(views.volumes(q('q=0a1b2c3dshop')).total).toBe(0);
    expect(views.volumes(q('q=0a1b2c3d')).total).toBe(3);
  });
});
