/**
 * Query parameters of the cluster API, validated into a typed query: an unknown parameter or a bad
 * value throws a QueryError naming it (answered 400). Lists are comma-separated or repeated.
 */
import {
  CLUSTER_SORT_KEYS,
  VOLUME_STATES,
  type ClusterSortKey,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';

export class QueryError extends Error {}

export interface ClusterFilter {
  nodes: string[];
  namespaces: string[];
  states: VolumeStateName[];
  issuers: string[];
  /** Case-insensitive substring of `namespace/pod`, the object name, the volume id or the serial. */
  text: string;
  /** Only volumes of stale nodes (true), or of reporting nodes (false). */
  stale: boolean | undefined;
  health: string[];
}

export interface ClusterQuery {
  filter: ClusterFilter;
  sort: ClusterSortKey;
  offset: number;
  limit: number;
  buckets: number;
  /** Histogram end (epoch ms); undefined = fit the certificates shown. */
  until: number | undefined;
}

const LIST_PARAMS = ['node', 'namespace', 'state', 'issuer', 'health'] as const;
const KNOWN = new Set<string>([...LIST_PARAMS, 'q', 'stale', 'sort', 'offset', 'limit', 'buckets', 'until']);
const MAX_VALUES = 100;
const MAX_VALUE = 253;
export const MAX_LIMIT = 1000;

function list(q: URLSearchParams, name: string): string[] {
  const out = q
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (out.length > MAX_VALUES) throw new QueryError(`${name}: at most ${MAX_VALUES} values`);
  for (const v of out) if (v.length > MAX_VALUE) throw new QueryError(`${name}: a value is too long`);
  return out;
}

function int(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new QueryError(`${name}: an integer from ${min} to ${max} expected, got '${raw.slice(0, 40)}'`);
  }
  return Number(raw);
}

export function parseClusterQuery(q: URLSearchParams): ClusterQuery {
  for (const key of q.keys()) {
    if (!KNOWN.has(key)) throw new QueryError(`unknown parameter '${key.slice(0, 40)}'`);
  }
  const states = list(q, 'state');
  for (const s of states) {
    if (!(VOLUME_STATES as readonly string[]).includes(s)) {
      throw new QueryError(`state: '${s}' is not one of ${VOLUME_STATES.join(', ')}`);
    }
  }
  const health = list(q, 'health');
  for (const h of health) {
    if (!['ok', 'failing', 'stale'].includes(h))
      throw new QueryError(`health: '${h}' is not ok, failing or stale`);
  }
  const sort = q.get('sort') ?? 'expiry';
  if (!(CLUSTER_SORT_KEYS as readonly string[]).includes(sort)) {
    throw new QueryError(`sort: '${sort.slice(0, 40)}' is not one of ${CLUSTER_SORT_KEYS.join(', ')}`);
  }
  const staleRaw = q.get('stale');
  if (staleRaw !== null && staleRaw !== 'true' && staleRaw !== 'false') {
    throw new QueryError('stale: true or false expected');
  }
  const text = q.get('q') ?? '';
  if (text.length > MAX_VALUE) throw new QueryError('q: too long');
  // eslint-disable-next-line no-control-regex -- the search index separates rows with NUL
  if (/[\u0000-\u001f]/.test(text)) throw new QueryError('q: control characters are not allowed');
  const untilRaw = q.get('until');
  const until = untilRaw === null ? undefined : Date.parse(untilRaw);
  if (until !== undefined && !Number.isFinite(until))
    throw new QueryError('until: an RFC 3339 time expected');
  return {
    filter: {
      nodes: list(q, 'node'),
      namespaces: list(q, 'namespace'),
      states: states as VolumeStateName[],
      issuers: list(q, 'issuer'),
      health,
      text: text.toLowerCase(),
      stale: staleRaw === null ? undefined : staleRaw === 'true',
    },
    sort: sort as ClusterSortKey,
    offset: int(q, 'offset', 0, 0, 10_000_000),
    limit: int(q, 'limit', 100, 1, MAX_LIMIT),
    buckets: int(q, 'buckets', 48, 1, 200),
    until,
  };
}
