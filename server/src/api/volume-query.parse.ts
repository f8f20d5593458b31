import {
  SORT_KEYS,
  VOLUME_STATES,
  type SortKey,
  type VolumeFilter,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import { InvalidArgumentError } from '../common/errors.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 5000;

export interface VolumeQuery {
  filter: VolumeFilter;
  sort: SortKey;
  offset: number;
  limit: number;
}

const PARAMS = ['namespace', 'node', 'state', 'q', 'sort', 'offset', 'limit'] as const;

/** `a,b` and repeated parameters (`?state=a&state=b`) both give a list. */
function list(v: unknown): string[] {
  const parts = Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];
  return parts
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean);
}

function single(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) || typeof v !== 'string') throw new InvalidArgumentError(name, 'must be given once');
  return v;
}

function int(name: string, v: unknown, dflt: number, min: number, max: number): number {
  const s = single(name, v);
  if (s === undefined || s === '') return dflt;
  if (!/^\d+$/.test(s)) throw new InvalidArgumentError(name, `must be a whole number, got '${s}'`);
  const n = Number(s);
  if (n < min || n > max) throw new InvalidArgumentError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * Parses the query string of `GET /api/v1/volumes`. Unknown parameters and bad values are an
 * InvalidArgumentError naming the parameter, so a typo never silently returns everything.
 */
export function parseVolumeQuery(raw: Record<string, unknown>): VolumeQuery {
  for (const k of Object.keys(raw)) {
    if (!(PARAMS as readonly string[]).includes(k)) {
      throw new InvalidArgumentError(k, `unknown query parameter; known: ${PARAMS.join(', ')}`);
    }
  }
  const states = list(raw['state']);
  for (const s of states) {
    if (!(VOLUME_STATES as readonly string[]).includes(s)) {
      throw new InvalidArgumentError('state', `'${s}' is not one of ${VOLUME_STATES.join(', ')}`);
    }
  }
  const sort = single('sort', raw['sort']) ?? 'expiry';
  if (!(SORT_KEYS as readonly string[]).includes(sort)) {
    throw new InvalidArgumentError('sort', `'${sort}' is not one of ${SORT_KEYS.join(', ')}`);
  }
  const text = single('q', raw['q'])?.trim();
  return {
    filter: {
      namespaces: list(raw['namespace']),
      nodes: list(raw['node']),
      states: states as VolumeStateName[],
      ...(text ? { text } : {}),
    },
    sort: sort as SortKey,
    offset: int('offset', raw['offset'], 0, 0, Number.MAX_SAFE_INTEGER),
    limit: int('limit', raw['limit'], DEFAULT_LIMIT, 1, MAX_LIMIT),
  };
}
