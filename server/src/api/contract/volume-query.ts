/**
 * Filtering, sorting and counting of volume summaries: the semantics of the `/api/v1/volumes`
 * query, shared with the dashboard so that filtering 5,000 rows in the browser gives exactly what
 * the server would. Pure functions, no I/O.
 */
import {
  VOLUME_STATES,
  type SoonestExpiry,
  type StateCounts,
  type VolumeStateName,
  type VolumeSummary,
} from './types.js';

export const SORT_KEYS = ['expiry', '-expiry', 'name', '-name', 'state'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface VolumeFilter {
  /** Any of these namespaces; empty or absent = all. */
  namespaces?: readonly string[];
  /** Any of these nodes; empty or absent = all. */
  nodes?: readonly string[];
  /** Any of these states; empty or absent = all. */
  states?: readonly VolumeStateName[];
  /** Case-insensitive substring of `namespace/name`, the volume id or the serial. */
  text?: string;
}

export function emptyCounts(): StateCounts {
  return { failed: 0, expiring: 0, renewing: 0, healthy: 0 };
}

/**
 * The filter as a predicate, its text lower-cased once; `ignoreState` skips the state test (for
 * counts by state). Use it for many rows; `matchesFilter` is the one-row form.
 */
export function compileFilter(f: VolumeFilter, ignoreState = false): (v: VolumeSummary) => boolean {
  const ns = f.namespaces?.length ? new Set(f.namespaces) : undefined;
  const nodes = f.nodes?.length ? new Set(f.nodes) : undefined;
  const states = !ignoreState && f.states?.length ? new Set<VolumeStateName>(f.states) : undefined;
  const text = f.text?.trim().toLowerCase() || undefined;
  return (v) =>
    (!ns || ns.has(v.pod.namespace)) &&
    (!nodes || nodes.has(v.nodeId)) &&
    (!states || states.has(v.state)) &&
    (!text || keysOf(v).text.includes(text));
}

/** True when `v` passes the filter; `ignoreState` skips the state test (for counts by state). */
export function matchesFilter(v: VolumeSummary, f: VolumeFilter, ignoreState = false): boolean {
  return compileFilter(f, ignoreState)(v);
}

const stateRank = Object.fromEntries(VOLUME_STATES.map((s, i) => [s, i])) as Record<VolumeStateName, number>;

interface Keys {
  name: string;
  /** Expiry in ms; volumes without a certificate sort first (most urgent). */
  exp: number;
  text: string;
}

/**
 * Sort and search keys per summary object. Summaries are immutable and reused (the server caches
 * rows, the dashboard keeps them until an event replaces one), so keys are computed once per row
 * rather than once per comparison.
 */
const keyCache = new WeakMap<VolumeSummary, Keys>();

function keysOf(v: VolumeSummary): Keys {
  let k = keyCache.get(v);
  if (!k) {
    k = {
      name: `${v.pod.namespace}/${v.pod.name}/${v.volumeId}`,
      exp: v.certificate ? Date.parse(v.certificate.notAfter) : -Infinity,
      text: `${v.pod.namespace}/${v.pod.name} ${v.volumeId} ${v.certificate?.serialHex ?? ''}`.toLowerCase(),
    };
    keyCache.set(v, k);
  }
  return k;
}

const expiryOf = (v: VolumeSummary): number => keysOf(v).exp;

/**
 * A sorted copy. `expiry` = soonest first, `name` = namespace/name, `state` = most urgent first then
 * soonest expiry; a leading `-` reverses. Ties are broken by name, so the order is stable.
 */
export function sortVolumes(volumes: readonly VolumeSummary[], sort: SortKey): VolumeSummary[] {
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  const rows = volumes.map((v) => {
    const k = keysOf(v);
    return { v, name: k.name, exp: k.exp, rank: stateRank[v.state] };
  });
  const byName = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  rows.sort((a, b) => {
    let c = 0;
    if (key === 'expiry') c = a.exp - b.exp;
    else if (key === 'state') c = a.rank - b.rank || a.exp - b.exp;
    if (Number.isNaN(c)) c = 0;
    if (c === 0) c = byName(a, b);
    return desc ? -c : c;
  });
  return rows.map((r) => r.v);
}

/** Counts by state and the soonest-expiring certificate of `volumes`. */
export function summarizeVolumes(volumes: Iterable<VolumeSummary>): {
  total: number;
  counts: StateCounts;
  soonestExpiry?: SoonestExpiry;
} {
  const counts = emptyCounts();
  let total = 0;
  let soonest: VolumeSummary | undefined;
  for (const v of volumes) {
    total++;
    counts[v.state]++;
    if (v.certificate && (!soonest || expiryOf(v) < expiryOf(soonest))) soonest = v;
  }
  return {
    total,
    counts,
    ...(soonest?.certificate
      ? {
          soonestExpiry: {
            volumeId: soonest.volumeId,
            pod: soonest.pod,
            notAfter: soonest.certificate.notAfter,
          },
        }
      : {}),
  };
}

/** The `n` volumes with a certificate that expire first, soonest first, in one pass (no full sort). */
export function soonestExpiring(volumes: Iterable<VolumeSummary>, n: number): VolumeSummary[] {
  const out: VolumeSummary[] = [];
  const before = (a: VolumeSummary, b: VolumeSummary) => {
    const ka = keysOf(a);
    const kb = keysOf(b);
    return ka.exp < kb.exp || (ka.exp === kb.exp && ka.name < kb.name);
  };
  for (const v of volumes) {
    if (!v.certificate || n <= 0) continue;
    if (out.length === n && !before(v, out[n - 1]!)) continue;
    let i = Math.min(out.length, n - 1);
    if (out.length < n) out.push(v);
    while (i > 0 && before(v, out[i - 1]!)) {
      out[i] = out[i - 1]!;
      i--;
    }
    out[i] = v;
  }
  return out;
}
