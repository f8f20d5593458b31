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

function has<T>(list: readonly T[] | undefined, v: T): boolean {
  return !list || list.length === 0 || list.includes(v);
}

/** True when `v` passes the filter; `ignoreState` skips the state test (for counts by state). */
export function matchesFilter(v: VolumeSummary, f: VolumeFilter, ignoreState = false): boolean {
  if (!has(f.namespaces, v.pod.namespace) || !has(f.nodes, v.nodeId)) return false;
  if (!ignoreState && !has(f.states, v.state)) return false;
  const text = f.text?.trim().toLowerCase();
  if (text) {
    const hay = `${v.pod.namespace}/${v.pod.name} ${v.volumeId} ${v.certificate?.serialHex ?? ''}`;
    if (!hay.toLowerCase().includes(text)) return false;
  }
  return true;
}

const stateRank = Object.fromEntries(VOLUME_STATES.map((s, i) => [s, i])) as Record<VolumeStateName, number>;

function nameOf(v: VolumeSummary): string {
  return `${v.pod.namespace}/${v.pod.name}/${v.volumeId}`;
}

/** Expiry in ms; volumes without a certificate sort first (most urgent). */
function expiryOf(v: VolumeSummary): number {
  return v.certificate ? Date.parse(v.certificate.notAfter) : -Infinity;
}

/**
 * A sorted copy. `expiry` = soonest first, `name` = namespace/name, `state` = most urgent first then
 * soonest expiry; a leading `-` reverses. Ties are broken by name, so the order is stable.
 */
export function sortVolumes(volumes: readonly VolumeSummary[], sort: SortKey): VolumeSummary[] {
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  const rows = volumes.map((v) => ({ v, name: nameOf(v), exp: expiryOf(v), rank: stateRank[v.state] }));
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
