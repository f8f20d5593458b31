/** The dashboard's view state in the query string, so a view can be linked and survives a reload. Pure. */
import { SORT_KEYS, VOLUME_STATES, type SortKey, type VolumeStateName } from '@csi-cert-driver/api-contract';
import { WINDOWS, type WindowId } from './timeline.js';

export interface ViewState {
  node: string;
  namespace: string;
  states: VolumeStateName[];
  text: string;
  sort: SortKey;
  volume: string;
  window: WindowId | 'auto';
}

export const DEFAULT_VIEW: ViewState = {
  node: '',
  namespace: '',
  states: [],
  text: '',
  sort: 'expiry',
  volume: '',
  window: 'auto',
};

/** The filters the node and the cluster dashboard both keep in the query string. */
export type VolumeFilters = Pick<ViewState, 'node' | 'namespace' | 'states' | 'text'>;

/** `node`, `namespace`, `state` (comma-separated, unknown states dropped) and `q`; missing = ''. */
export function parseFilters(q: URLSearchParams): VolumeFilters {
  return {
    node: q.get('node') ?? '',
    namespace: q.get('namespace') ?? '',
    states: (q.get('state') ?? '')
      .split(',')
      .filter((s): s is VolumeStateName => (VOLUME_STATES as readonly string[]).includes(s)),
    text: q.get('q') ?? '',
  };
}

/** Sets the filters that are not empty on `q`, as parseFilters reads them. */
export function setFilters(q: URLSearchParams, v: VolumeFilters): void {
  if (v.node) q.set('node', v.node);
  if (v.namespace) q.set('namespace', v.namespace);
  if (v.states.length) q.set('state', v.states.join(','));
  if (v.text) q.set('q', v.text);
}

export function parseView(search: string): ViewState {
  const q = new URLSearchParams(search);
  const sort = q.get('sort') ?? '';
  const win = q.get('window') ?? '';
  return {
    ...parseFilters(q),
    sort: (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : 'expiry',
    volume: q.get('volume') ?? '',
    window: WINDOWS.some((w) => w.id === win) ? (win as WindowId) : 'auto',
  };
}

export function formatView(v: ViewState): string {
  const q = new URLSearchParams();
  setFilters(q, v);
  if (v.sort !== 'expiry') q.set('sort', v.sort);
  if (v.volume) q.set('volume', v.volume);
  if (v.window !== 'auto') q.set('window', v.window);
  const s = q.toString();
  return s ? `?${s}` : '';
}
