/**
 * Builds every answer of the cluster API from the store: volumes with their state at `now`, nodes
 * with counts and health, failures grouped by namespace and reason, the expiry histogram, issuers,
 * the CA state. Each wire object is built field by field (nothing is spread from a status object).
 * The evaluation of all volumes is cached until the store changes or 5 s pass (states change with
 * time alone), and sorted orders per evaluation.
 */
import {
  type ClusterCaState,
  type ClusterIssuer,
  type ClusterNode,
  type ClusterOverview,
  type ClusterSortKey,
  type ClusterView,
  type ClusterVolume,
  type ClusterVolumeDetails,
  type ClusterVolumePage,
  type ExpiryHistogram,
  type FailureGroup,
  type StateCounts,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import type { CompactVolume } from './compact-volume.js';
import type { ClusterStore } from './cluster-store.js';
import type { ClusterFilter, ClusterQuery } from './cluster-query.js';
import { isOverdue, volumeState } from './volume-state.js';

export interface Evaluated {
  /** Position in the evaluation's `rows`. */
  i: number;
  v: CompactVolume;
  state: VolumeStateName;
  reason: string;
  overdue: boolean;
}

interface Evaluation {
  version: number;
  at: number;
  rows: Evaluated[];
  nodes: Map<string, ClusterNode>;
  sorted: Map<ClusterSortKey, Evaluated[]>;
  /** Built on the first text search: every row's searchable text in one string, and where each row starts. */
  search?: { hay: string; starts: Int32Array };
  /** The rows matching the last few texts (a search as one types repeats its query for every panel). */
  hits: Map<string, Uint8Array>;
}

const REEVALUATE_MS = 5_000;
/**
 * While objects keep changing, one evaluation serves every request for this long: under churn the
 * answers lag the watch by at most this much, and a burst of changes costs about one evaluation a
 * second rather than one per request. Shorter than the change events' batching (1 s,
 * cluster-http.ts), so a client reloading on an event always gets an evaluation that includes it.
 */
export const CHANGED_REUSE_MS = 900;
const URGENCY: Record<VolumeStateName, number> = { failed: 0, expiring: 1, renewing: 2, healthy: 3 };

export interface ClusterViewsDeps {
  store: ClusterStore;
  /** The CA bundle's state; `unknown` when none is configured. */
  ca: () => ClusterCaState;
  /** A renewal overdue by more than this flags its node stale. */
  staleGraceMs: number;
  now?: () => number;
}

const zero = (): StateCounts => ({ failed: 0, expiring: 0, renewing: 0, healthy: 0 });
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

export class ClusterViews {
  private evaluation: Evaluation | undefined;
  private readonly now: () => number;

  constructor(private readonly deps: ClusterViewsDeps) {
    this.now = deps.now ?? Date.now;
  }

  private evaluate(): Evaluation {
    const now = this.now();
    const { store, staleGraceMs } = this.deps;
    const e = this.evaluation;
    if (e && now - e.at < (e.version === store.version ? REEVALUATE_MS : CHANGED_REUSE_MS)) return e;
    const rows: Evaluated[] = [];
    const nodes = new Map<string, ClusterNode>();
    for (const v of store.values()) {
      const { state, reason } = volumeState(v, now);
      const overdue = isOverdue(v, now, staleGraceMs);
      rows.push({ i: rows.length, v, state, reason, overdue });
      let n = nodes.get(v.node);
      if (!n) {
        n = { nodeId: v.node, total: 0, counts: zero(), health: 'ok', healthReason: '', overdue: 0 };
        nodes.set(v.node, n);
      }
      n.total++;
      n.counts[state]++;
      if (overdue) n.overdue++;
      if (v.reportedAt && (!n.lastReportAt || v.reportedAt > Date.parse(n.lastReportAt))) {
        n.lastReportAt = iso(v.reportedAt);
      }
      if (v.notAfter !== undefined && (!n.soonestExpiry || v.notAfter < Date.parse(n.soonestExpiry))) {
        n.soonestExpiry = iso(v.notAfter);
      }
    }
    for (const n of nodes.values()) {
      if (n.overdue > 0) {
        n.health = 'stale';
        n.healthReason = `${n.overdue} renewal(s) overdue by more than ${Math.round(staleGraceMs / 1000)} s with no report: the driver stopped writing`;
      } else if (n.counts.failed > 0) {
        n.health = 'failing';
        n.healthReason = `${n.counts.failed} failed volume(s)`;
      }
    }
    this.evaluation = { version: store.version, at: now, rows, nodes, sorted: new Map(), hits: new Map() };
    return this.evaluation;
  }

  private sorted(e: Evaluation, key: ClusterSortKey): Evaluated[] {
    let rows = e.sorted.get(key);
    if (!rows) {
      rows = [...e.rows].sort(comparator(key));
      e.sorted.set(key, rows);
    }
    return rows;
  }

  /** Rows matching every filter; `withState` false skips the state filter (counts stay whole). */
  private matching(e: Evaluation, rows: Evaluated[], f: ClusterFilter, withState = true): Evaluated[] {
    const nodes = f.nodes.length ? new Set(f.nodes) : undefined;
    const nss = f.namespaces.length ? new Set(f.namespaces) : undefined;
    const issuers = f.issuers.length ? new Set(f.issuers) : undefined;
    const states = withState && f.states.length ? new Set(f.states) : undefined;
    const health = f.health.length ? new Set(f.health) : undefined;
    const none = !nodes && !nss && !issuers && !states && !health && !f.text && f.stale === undefined;
    if (none) return rows;
    const hit = f.text ? this.textHits(e, f.text) : undefined;
    return rows.filter((r) => {
      const v = r.v;
      if (nodes && !nodes.has(v.node)) return false;
      if (nss && !nss.has(v.namespace)) return false;
      if (issuers && !issuers.has(v.issuer)) return false;
      if (states && !states.has(r.state)) return false;
      const node = e.nodes.get(v.node)!;
      if (health && !health.has(node.health)) return false;
      if (f.stale !== undefined && f.stale !== (node.health === 'stale')) return false;
      if (hit && !hit[r.i]) return false;
      return true;
    });
  }

  /**
   * Which rows hold `text`: one native scan of a string that joins every row's searchable text
   * (`namespace/pod`, object name, volume id, serial; lower case), rather than a string test per row.
   * Rows are separated by NUL, which a query cannot hold, so a match never spans two rows.
   */
  private textHits(e: Evaluation, text: string): Uint8Array {
    const cached = e.hits.get(text);
    if (cached) return cached;
    if (!e.search) {
      const parts: string[] = [];
      const starts = new Int32Array(e.rows.length);
      let at = 0;
      for (const r of e.rows) {
        const v = r.v;
        const part = `${v.namespace}/${v.pod}\n${v.name}\n${v.volumeIdLower ?? v.volumeId}\n${v.serial ?? ''}\u0000`;
        starts[r.i] = at;
        at += part.length;
        parts.push(part);
      }
      e.search = { hay: parts.join(''), starts };
    }
    const { hay, starts } = e.search;
    const hit = new Uint8Array(e.rows.length);
    for (let at = hay.indexOf(text); at >= 0;) {
      // The row holding `at`: the last start ≤ at.
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= at) lo = mid;
        else hi = mid - 1;
      }
      hit[lo] = 1;
      const next = hay.indexOf('\u0000', at);
      at = next < 0 ? -1 : hay.indexOf(text, next + 1);
    }
    if (e.hits.size >= 8) e.hits.delete(e.hits.keys().next().value!);
    e.hits.set(text, hit);
    return hit;
  }

  private wire(e: Evaluation, r: Evaluated): ClusterVolume {
    const v = r.v;
    const out: ClusterVolume = {
      id: v.id,
      namespace: v.namespace,
      name: v.name,
      nodeId: v.node,
      pod: v.pod,
      podUid: v.podUid,
      volumeId: v.volumeId,
      issuer: v.issuer,
      state: r.state,
      stateReason: r.reason,
      nodeStale: e.nodes.get(v.node)?.health === 'stale',
      failures: v.failures,
      ready: { status: v.ready.status, reason: v.ready.reason, since: iso(v.ready.since)! },
    };
    if (v.serviceAccount) out.serviceAccount = v.serviceAccount;
    if (v.serial) out.serialHex = v.serial;
    if (v.notBefore !== undefined) out.notBefore = iso(v.notBefore);
    if (v.notAfter !== undefined) out.notAfter = iso(v.notAfter);
    if (v.nextRenewal !== undefined) out.nextRenewalAt = iso(v.nextRenewal);
    if (v.last) {
      out.lastRenewal = { at: iso(v.last.at)!, kind: v.last.kind, outcome: v.last.outcome };
      if (v.last.error) out.lastRenewal.error = v.last.error;
    }
    return out;
  }

  volumes(q: ClusterQuery): ClusterVolumePage {
    const e = this.evaluate();
    const scoped = this.matching(e, this.sorted(e, q.sort), q.filter, false);
    const counts = zero();
    for (const r of scoped) counts[r.state]++;
    const states = q.filter.states.length ? new Set(q.filter.states) : undefined;
    const rows = states ? scoped.filter((r) => states.has(r.state)) : scoped;
    const end = q.offset + q.limit;
    const page: ClusterVolumePage = {
      items: rows.slice(q.offset, end).map((r) => this.wire(e, r)),
      total: rows.length,
      offset: q.offset,
      limit: q.limit,
      counts,
      generatedAt: iso(e.at)!,
    };
    if (end < rows.length) page.nextOffset = end;
    return page;
  }

  volume(id: string): ClusterVolumeDetails | undefined {
    const e = this.evaluate();
    const v = this.deps.store.get(id);
    if (!v) return undefined;
    const { state, reason } = volumeState(v, e.at);
    const base = this.wire(e, {
      i: -1,
      v,
      state,
      reason,
      overdue: isOverdue(v, e.at, this.deps.staleGraceMs),
    });
    const history = v.last
      ? [
          {
            at: iso(v.last.at)!,
            kind: v.last.kind,
            outcome: v.last.outcome,
            ...(v.serial && v.last.outcome === 'Success' ? { serialHex: v.serial } : {}),
            ...(v.last.error ? { error: v.last.error } : {}),
          },
          ...this.deps.store.pastOf(id),
        ]
      : [];
    return { ...base, ...(v.targetPath ? { targetPath: v.targetPath } : {}), history };
  }

  /** Nodes of the volumes matching the filter (state aside), with the node's own counts and health. */
  nodes(q: ClusterQuery): { items: ClusterNode[]; total: number; generatedAt: string } {
    const e = this.evaluate();
    const f = q.filter;
    const all = [...e.nodes.values()];
    let items: ClusterNode[];
    if (!f.namespaces.length && !f.issuers.length && !f.text && !f.states.length) {
      items = all.filter(
        (n) =>
          (!f.nodes.length || f.nodes.includes(n.nodeId)) &&
          (!f.health.length || f.health.includes(n.health)) &&
          (f.stale === undefined || f.stale === (n.health === 'stale')),
      );
    } else {
      const seen = new Set(this.matching(e, e.rows, f).map((r) => r.v.node));
      items = all.filter((n) => seen.has(n.nodeId));
    }
    const rank = { stale: 0, failing: 1, ok: 2 };
    items.sort((a, b) => rank[a.health] - rank[b.health] || (a.nodeId < b.nodeId ? -1 : 1));
    const total = items.length;
    return { items: items.slice(q.offset, q.offset + q.limit).map(copyNode), total, generatedAt: iso(e.at)! };
  }

  failures(q: ClusterQuery): { groups: FailureGroup[]; total: number; generatedAt: string } {
    const e = this.evaluate();
    const groups = new Map<string, FailureGroup & { nodeSet: Set<string> }>();
    let total = 0;
    for (const r of this.matching(e, e.rows, { ...q.filter, states: ['failed'] })) {
      total++;
      const reason = r.v.ready.reason || 'Failed';
      const key = `${r.v.namespace}\n${reason}`;
      let g = groups.get(key);
      if (!g) {
        g = { namespace: r.v.namespace, reason, count: 0, nodes: [], volumes: [], nodeSet: new Set() };
        groups.set(key, g);
      }
      g.count++;
      if (g.nodeSet.size < 5) g.nodeSet.add(r.v.node);
      if (g.volumes.length < 5) g.volumes.push(r.v.id);
      if (!g.example && r.v.last?.error) g.example = r.v.last.error;
    }
    const out = [...groups.values()]
      .map(({ nodeSet, ...g }) => ({ ...g, nodes: [...nodeSet] }))
      .sort((a, b) => b.count - a.count || (a.namespace < b.namespace ? -1 : 1));
    return { groups: out.slice(0, q.limit), total, generatedAt: iso(e.at)! };
  }

  expiry(q: ClusterQuery): ExpiryHistogram {
    const e = this.evaluate();
    const rows = this.matching(e, e.rows, q.filter);
    const from = e.at;
    let to = q.until;
    if (to === undefined) {
      let max = from + 3600_000;
      for (const r of rows) if (r.v.notAfter !== undefined && r.v.notAfter > max) max = r.v.notAfter;
      to = Math.min(max, from + 90 * 86400_000);
    }
    if (to <= from) to = from + 3600_000;
    const bucketMs = Math.max(60_000, Math.ceil((to - from) / q.buckets / 60_000) * 60_000);
    const n = Math.ceil((to - from) / bucketMs);
    const buckets = Array.from({ length: n }, (_, i) => ({
      start: iso(from + i * bucketMs)!,
      expiring: 0,
      renewals: 0,
    }));
    let expired = 0;
    let later = 0;
    for (const r of rows) {
      const na = r.v.notAfter;
      if (na !== undefined) {
        if (na < from) expired++;
        else if (na >= from + n * bucketMs) later++;
        else buckets[Math.floor((na - from) / bucketMs)]!.expiring++;
      }
      const nr = r.v.nextRenewal;
      if (nr !== undefined && nr >= from && nr < from + n * bucketMs) {
        buckets[Math.floor((nr - from) / bucketMs)]!.renewals++;
      }
    }
    return {
      from: iso(from)!,
      to: iso(from + n * bucketMs)!,
      bucketSeconds: bucketMs / 1000,
      buckets,
      expired,
      later,
    };
  }

  overview(q: ClusterQuery): ClusterOverview {
    const e = this.evaluate();
    const rows = this.matching(e, e.rows, q.filter, false);
    const counts = zero();
    const issuers = new Map<string, ClusterIssuer>();
    const namespaces = new Set<string>();
    let staleVolumes = 0;
    for (const r of e.rows) namespaces.add(r.v.namespace);
    for (const r of rows) {
      counts[r.state]++;
      if (e.nodes.get(r.v.node)?.health === 'stale') staleVolumes++;
      let i = issuers.get(r.v.issuer);
      if (!i) {
        i = { key: r.v.issuer, ...parseIssuerKey(r.v.issuer), volumes: 0, failed: 0 };
        issuers.set(r.v.issuer, i);
      }
      i.volumes++;
      if (r.state === 'failed') i.failed++;
    }
    let stale = 0;
    let failing = 0;
    for (const n of e.nodes.values()) {
      if (n.health === 'stale') stale++;
      else if (n.health === 'failing') failing++;
    }
    return {
      generatedAt: iso(e.at)!,
      synced: this.deps.store.synced,
      total: rows.length,
      counts,
      nodes: { total: e.nodes.size, stale, failing },
      namespaces: [...namespaces].sort().slice(0, 1000),
      issuers: [...issuers.values()].sort((a, b) => b.volumes - a.volumes),
      ca: this.deps.ca(),
      staleVolumes,
    };
  }

  /** The node API's `/api/v1/cluster` shape, so a client tells the two APIs apart by `source`. */
  cluster(): ClusterView {
    const e = this.evaluate();
    const totals = zero();
    for (const r of e.rows) totals[r.state]++;
    return {
      source: 'status-objects',
      complete: this.deps.store.synced,
      note: 'every node, from the CertVolumeStatus objects',
      nodes: [...e.nodes.values()].map((n) => ({
        nodeId: n.nodeId,
        total: n.total,
        counts: { ...n.counts },
      })),
      totals,
      generatedAt: iso(e.at)!,
    };
  }
}

function copyNode(n: ClusterNode): ClusterNode {
  const out: ClusterNode = {
    nodeId: n.nodeId,
    total: n.total,
    counts: { ...n.counts },
    health: n.health,
    healthReason: n.healthReason,
    overdue: n.overdue,
  };
  if (n.lastReportAt) out.lastReportAt = n.lastReportAt;
  if (n.soonestExpiry) out.soonestExpiry = n.soonestExpiry;
  return out;
}

export function parseIssuerKey(key: string): Pick<ClusterIssuer, 'type' | 'name' | 'kind' | 'group'> {
  const m = /^CertManager:([^/]*)\/([^.]*)(?:\.(.*))?$/.exec(key);
  if (!m) return { type: 'BuiltIn' };
  return { type: 'CertManager', kind: m[1], name: m[2], group: m[3] ?? 'cert-manager.io' };
}

function comparator(key: ClusterSortKey): (a: Evaluated, b: Evaluated) => number {
  const byId = (a: Evaluated, b: Evaluated) => (a.v.id < b.v.id ? -1 : a.v.id > b.v.id ? 1 : 0);
  const exp = (r: Evaluated) => r.v.notAfter ?? -Infinity;
  switch (key) {
    case 'expiry':
      return (a, b) => exp(a) - exp(b) || byId(a, b);
    case '-expiry':
      return (a, b) => exp(b) - exp(a) || byId(a, b);
    case 'state':
      return (a, b) => URGENCY[a.state] - URGENCY[b.state] || exp(a) - exp(b) || byId(a, b);
    case 'node':
      return (a, b) => (a.v.node < b.v.node ? -1 : a.v.node > b.v.node ? 1 : byId(a, b));
    case 'name':
      return byId;
  }
}
