/** The cluster mode's view state in the query string, so a filtered view or a drill-down can be linked. Pure. */
import { CLUSTER_SORT_KEYS, type ClusterSortKey, type VolumeStateName } from '@csi-cert-driver/api-contract';
import { parseFilters, setFilters } from '../url-state.js';

export interface ClusterViewState {
  /** Drill-down to one node ('' = the whole cluster). */
  node: string;
  namespace: string;
  states: VolumeStateName[];
  issuer: string;
  text: string;
  /** Only volumes of stale nodes. */
  stale: boolean;
  sort: ClusterSortKey;
  /** `namespace/name` of the selected volume's status object. */
  volume: string;
  page: number;
}

export const DEFAULT_CLUSTER_VIEW: ClusterViewState = {
  node: '',
  namespace: '',
  states: [],
  issuer: '',
  text: '',
  stale: false,
  sort: 'state',
  volume: '',
  page: 0,
};

export function parseClusterView(search: string): ClusterViewState {
  const q = new URLSearchParams(search);
  const sort = q.get('sort') ?? '';
  const page = Number(q.get('page') ?? '0');
  return {
    ...parseFilters(q),
    issuer: q.get('issuer') ?? '',
    stale: q.get('stale') === 'true',
    sort: (CLUSTER_SORT_KEYS as readonly string[]).includes(sort) ? (sort as ClusterSortKey) : 'state',
    volume: q.get('volume') ?? '',
    page: Number.isInteger(page) && page >= 0 && page < 100_000 ? page : 0,
  };
}

/** The view's filters as query parameters: the shared ones, `issuer` and `stale`. */
function filterQuery(v: ClusterViewState): URLSearchParams {
  const q = new URLSearchParams();
  setFilters(q, v);
  if (v.issuer) q.set('issuer', v.issuer);
  if (v.stale) q.set('stale', 'true');
  return q;
}

export function formatClusterView(v: ClusterViewState): string {
  const q = filterQuery(v);
  if (v.sort !== 'state') q.set('sort', v.sort);
  if (v.volume) q.set('volume', v.volume);
  if (v.page) q.set('page', String(v.page));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The cluster API's query for this view: the filters only (no volume, no page), `extra` added. */
export function apiQuery(v: ClusterViewState, extra: Record<string, string> = {}): string {
  const q = filterQuery(v);
  for (const [k, val] of Object.entries(extra)) q.set(k, val);
  const s = q.toString();
  return s ? `?${s}` : '';
}
