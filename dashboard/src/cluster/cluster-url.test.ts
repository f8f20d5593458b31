import { describe, expect, it } from 'vitest';
import {
  apiQuery,
  DEFAULT_CLUSTER_VIEW,
  formatClusterView,
  parseClusterView,
  type ClusterViewState,
} from './cluster-url.js';

describe('cluster view state in the URL', () => {
  it.each<{ name: string; search: string; want: ClusterViewState }>([
    { name: 'default', search: '', want: DEFAULT_CLUSTER_VIEW },
    {
      name: 'everything',
      search:
        '?node=n1&namespace=shop&state=failed%2Cexpiring&q=web&issuer=BuiltIn&stale=true&sort=name&volume=shop%2Fweb-0-1a&page=2',
      want: {
        node: 'n1',
        namespace: 'shop',
        states: ['failed', 'expiring'],
        issuer: 'BuiltIn',
        text: 'web',
        stale: true,
        sort: 'name',
        volume: 'shop/web-0-1a',
        page: 2,
      },
    },
  ])('round-trips $name', ({ search, want }) => {
    expect(parseClusterView(search)).toEqual(want);
    expect(formatClusterView(want)).toBe(search);
  });
  it.each(['?state=bogus', '?sort=size', '?page=-1', '?page=x', '?stale=yes'])(
    'ignores bad values: %s',
    (s) => {
      expect(parseClusterView(s)).toEqual(DEFAULT_CLUSTER_VIEW);
    },
  );
  it('builds the API query from the filters only', () => {
    const v = { ...DEFAULT_CLUSTER_VIEW, node: 'n1', states: ['failed' as const], volume: 'a/b', page: 3 };
    expect(apiQuery(v, { limit: '100' })).toBe('?node=n1&state=failed&limit=100');
  });
});
