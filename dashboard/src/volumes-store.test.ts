import { describe, expect, it } from 'vitest';
import type { VolumeSummary } from '@csi-cert-driver/api-contract';
import { applyEvents, namespacesOf, toMap } from './volumes-store.js';
import { DEFAULT_VIEW, formatView, parseView } from './url-state.js';

const v = (id: string, nodeId = 'n1', ns = 'default') =>
  ({ volumeId: id, nodeId, pod: { namespace: ns, name: id } }) as VolumeSummary;

describe('live updates', () => {
  const base = toMap([v('a'), v('b', 'n1', 'payments')]);

  it('adds, replaces and removes volumes', () => {
    const next = applyEvents(
      base,
      [
        { type: 'upsert', volume: v('c') },
        { type: 'upsert', volume: { ...v('a'), renewals: 1 } },
        { type: 'delete', volumeId: 'b', nodeId: 'n1' },
      ],
      '',
    );
    expect([...next.keys()]).toEqual(['a', 'c']);
    expect(next.get('a')?.renewals).toBe(1);
    expect(base.size).toBe(2);
  });

  it('ignores other nodes when one is selected, and returns the same map when nothing changed', () => {
    expect(applyEvents(base, [{ type: 'upsert', volume: v('x', 'n2') }], 'n1')).toBe(base);
    expect(applyEvents(base, [{ type: 'delete', volumeId: 'zz', nodeId: 'n1' }], '')).toBe(base);
  });

  it('lists namespaces once, sorted', () => {
    expect(namespacesOf(base)).toEqual(['default', 'payments']);
  });
});

describe('view state in the URL', () => {
  it('round-trips and drops defaults', () => {
    const view = {
      ...DEFAULT_VIEW,
      node: 'n1',
      states: ['failed' as const, 'expiring' as const],
      text: 'web',
      sort: 'name' as const,
    };
    expect(formatView(view)).toBe('?node=n1&state=failed%2Cexpiring&q=web&sort=name');
    expect(parseView(formatView(view))).toEqual(view);
    expect(formatView(DEFAULT_VIEW)).toBe('');
  });

  it('ignores values it does not know', () => {
    expect(parseView('?state=failed,bogus&sort=size&window=2y')).toEqual({
      ...DEFAULT_VIEW,
      states: ['failed'],
    });
  });
});
