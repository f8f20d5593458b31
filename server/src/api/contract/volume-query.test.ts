import { describe, expect, it } from 'vitest';
import type { VolumeSummary } from './types.js';
import { matchesFilter, soonestExpiring, sortVolumes, summarizeVolumes } from './volume-query.js';

const v = (name: string, ns: string, state: VolumeSummary['state'], notAfter?: string): VolumeSummary => ({
  volumeId: `csi-${name}`,
  nodeId: ns === 'kube-system' ? 'n2' : 'n1',
  pod: { namespace: ns, name, uid: 'u', serviceAccount: 'sa' },
  targetPath: '/t',
  phase: notAfter ? 'published' : 'publish-failing',
  state,
  stateReason: '',
  issuer: 'built-in',
  files: { certificate: 'tls.crt', privateKey: 'tls.key' },
  ...(notAfter
    ? { certificate: { serialHex: `5e${name}`, notBefore: notAfter, notAfter, issuedAt: notAfter } }
    : {}),
  autoRenew: true,
  failures: 0,
  renewals: 0,
  createdAt: '2030-01-01T00:00:00.000Z',
});

const all = [
  v('b', 'default', 'healthy', '2030-01-03T00:00:00.000Z'),
  v('a', 'default', 'expiring', '2030-01-02T00:00:00.000Z'),
  v('c', 'kube-system', 'failed'),
  v('d', 'payments', 'renewing', '2030-01-01T12:00:00.000Z'),
];
const names = (xs: VolumeSummary[]) => xs.map((x) => x.pod.name);

describe('volume query semantics', () => {
  it.each([
    { sort: 'expiry', want: ['c', 'd', 'a', 'b'] },
    { sort: '-expiry', want: ['b', 'a', 'd', 'c'] },
    { sort: 'name', want: ['a', 'b', 'c', 'd'] },
    { sort: '-name', want: ['d', 'c', 'b', 'a'] },
    { sort: 'state', want: ['c', 'a', 'd', 'b'] },
  ] as const)('sorts by $sort', ({ sort, want }) => {
    expect(names(sortVolumes(all, sort))).toEqual(want);
  });

  it.each([
    { f: {}, want: ['b', 'a', 'c', 'd'] },
    { f: { namespaces: ['default'] }, want: ['b', 'a'] },
    { f: { nodes: ['n2'] }, want: ['c'] },
    { f: { states: ['failed', 'renewing'] as const }, want: ['c', 'd'] },
    { f: { text: 'KUBE-SYSTEM/C' }, want: ['c'] },
    { f: { text: '5ed' }, want: ['d'] },
    { f: { text: 'csi-a' }, want: ['a'] },
  ])('filters $f', ({ f, want }) => {
    expect(names(all.filter((x) => matchesFilter(x, f)))).toEqual(want);
  });

  it('can ignore the state filter (counts by state)', () => {
    expect(matchesFilter(all[0]!, { states: ['failed'] }, true)).toBe(true);
  });

  it('counts by state and finds the soonest expiry among certificates', () => {
    const s = summarizeVolumes(all);
    expect(s.total).toBe(4);
    expect(s.counts).toEqual({ failed: 1, expiring: 1, renewing: 1, healthy: 1 });
    expect(s.soonestExpiry?.volumeId).toBe('csi-d');
    expect(summarizeVolumes([]).soonestExpiry).toBeUndefined();
  });

  it('picks the n soonest-expiring certificates like a sort would', () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      v(`p${i}`, 'ns', 'healthy', new Date(Date.UTC(2030, 0, 1) + ((i * 7919) % 200) * 60_000).toISOString()),
    );
    const want = sortVolumes(many, 'expiry').slice(0, 12);
    expect(soonestExpiring([...many, all[2]!], 12)).toEqual(want);
    expect(names(soonestExpiring(all, 2))).toEqual(['d', 'a']);
    expect(soonestExpiring(all, 0)).toEqual([]);
  });
});
