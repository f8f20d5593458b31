import { memo } from 'react';
import {
  type ClusterCaState,
  type ClusterIssuer,
  type ClusterNode,
  type ClusterVolume,
  type ClusterVolumeDetails,
  type FailureGroup,
  type NodeHealth,
  type StateCounts,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import { StateBadge } from '../components/StateBadge.js';
import { StateCards } from '../components/StateCards.js';
import { absolute, expiry, relative, shortHex } from '../format.js';

const HEALTH: Record<NodeHealth, [string, string]> = {
  ok: ['✓', 'Reporting'],
  failing: ['✕', 'Failing volumes'],
  stale: ['‖', 'Stopped reporting'],
};

export function HealthBadge({ health }: { health: NodeHealth }) {
  const [glyph, text] = HEALTH[health];
  return (
    <span className={`badge health-${health}`} data-health={health}>
      <span className="badge-glyph" aria-hidden="true">
        {glyph}
      </span>
      {text}
    </span>
  );
}

/** A table's header row, one column name a cell. */
function TableHead({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c}>{c}</th>
        ))}
      </tr>
    </thead>
  );
}

/** Counts by state, each a filter toggle, plus the nodes' health. */
export const ClusterCounts = memo(function ClusterCounts(p: {
  total: number;
  counts: StateCounts;
  nodes: { total: number; stale: number; failing: number };
  active: VolumeStateName[];
  stale: boolean;
  onToggle(s: VolumeStateName): void;
  onStale(): void;
}) {
  return (
    <section className="overview" aria-label="Overview">
      <div className="card card-total">
        <span className="card-count" data-testid="cv-total">
          {p.total}
        </span>
        <span className="card-label">
          volumes on <span data-testid="cv-nodes">{p.nodes.total}</span> nodes
        </span>
      </div>
      <StateCards counts={p.counts} active={p.active} onToggle={p.onToggle} testIdPrefix="cv-count-" />
      <button
        type="button"
        className="card card-state card-expiring"
        aria-pressed={p.stale}
        data-testid="cv-stale-nodes"
        onClick={p.onStale}
        title="Show only volumes of nodes that stopped reporting"
      >
        <span className="card-count">{p.nodes.stale}</span>
        <span className="card-label">
          <span aria-hidden="true">‖ </span>nodes stopped reporting
        </span>
      </button>
    </section>
  );
});

export const NodesTable = memo(function NodesTable(p: {
  nodes: ClusterNode[];
  total: number;
  now: number;
  selected: string;
  onSelect(node: string): void;
}) {
  return (
    <section className="cv-panel" aria-labelledby="nodes-title">
      <h2 id="nodes-title">
        Nodes <span className="muted">({p.total})</span>
      </h2>
      {p.nodes.length < p.total && (
        <p className="muted" data-testid="nodes-shown">
          The first {p.nodes.length}: stopped reporting and failing first.
        </p>
      )}
      <div className="cv-scroll">
        <table className="cv-table" data-testid="nodes-table">
          <TableHead columns={['Node', 'Health', 'Volumes', 'Failed', 'Last report', 'Soonest expiry']} />
          <tbody>
            {p.nodes.map((n) => (
              <tr key={n.nodeId} data-node={n.nodeId} className={n.nodeId === p.selected ? 'selected' : ''}>
                <td>
                  <button type="button" className="link" onClick={() => p.onSelect(n.nodeId)}>
                    {n.nodeId}
                  </button>
                </td>
                <td title={n.healthReason}>
                  <HealthBadge health={n.health} />
                </td>
                <td>{n.total}</td>
                <td>{n.counts.failed || ''}</td>
                <td>{n.lastReportAt ? relative(n.lastReportAt, p.now) : '—'}</td>
                <td>{expiry(n.soonestExpiry, p.now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
});

export const FailuresTable = memo(function FailuresTable(p: {
  groups: FailureGroup[];
  total: number;
  onPick(namespace: string): void;
}) {
  return (
    <section className="cv-panel" aria-labelledby="failures-title">
      <h2 id="failures-title">
        Failures by namespace and reason <span className="muted">({p.total})</span>
      </h2>
      {p.groups.length === 0 ? (
        <p className="muted" data-testid="no-failures">
          ✓ No failed volumes.
        </p>
      ) : (
        <table className="cv-table" data-testid="failures-table">
          <TableHead columns={['Namespace', 'Reason', 'Volumes', 'Nodes', 'Example']} />
          <tbody>
            {p.groups.map((g) => (
              <tr key={`${g.namespace}/${g.reason}`} data-failure={`${g.namespace}/${g.reason}`}>
                <td>
                  <button type="button" className="link" onClick={() => p.onPick(g.namespace)}>
                    {g.namespace}
                  </button>
                </td>
                <td>{g.reason}</td>
                <td>{g.count}</td>
                <td>{g.nodes.join(', ')}</td>
                <td className="cv-error">{g.example ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
});

export const IssuersPanel = memo(function IssuersPanel(p: {
  issuers: ClusterIssuer[];
  ca: ClusterCaState;
  now: number;
  active: string;
  onIssuer(key: string): void;
}) {
  const { ca } = p;
  return (
    <section className="cv-panel" aria-labelledby="issuers-title" data-testid="issuers-panel">
      <h2 id="issuers-title">Issuers and CA</h2>
      <ul className="cv-list">
        {p.issuers.map((i) => (
          <li key={i.key}>
            <button
              type="button"
              className={`link ${p.active === i.key ? 'active' : ''}`}
              aria-pressed={p.active === i.key}
              onClick={() => p.onIssuer(p.active === i.key ? '' : i.key)}
            >
              {i.type === 'BuiltIn' ? 'Built-in issuer' : `${i.kind} ${i.name}`}
            </button>{' '}
            {i.volumes} volumes{i.failed ? `, ${i.failed} failed` : ''}
          </li>
        ))}
      </ul>
      <p data-testid="ca-status" className={`ca-${ca.status}`}>
        CA: <strong>{ca.status}</strong>
        {ca.rotating && ' · rotation in progress (old CA still trusted)'}
        {ca.error && <span className="muted"> · {ca.error}</span>}
      </p>
      <ul className="cv-list">
        {ca.cas.map((c) => (
          <li key={c.sha256Fingerprint} className="mono">
            {c.subject} · serial {shortHex(c.serialHex)} · valid until {absolute(c.notAfter)} ({c.daysLeft}{' '}
            days)
          </li>
        ))}
      </ul>
    </section>
  );
});

export const ClusterVolumeTable = memo(function ClusterVolumeTable(p: {
  rows: ClusterVolume[];
  now: number;
  selected: string;
  onSelect(id: string): void;
}) {
  return (
    <div className="cv-scroll">
      <table className="cv-table" data-testid="cv-volumes">
        <TableHead columns={['State', 'Pod', 'Node', 'Expires', 'Next renewal', 'Serial']} />
        <tbody>
          {p.rows.map((v) => (
            <tr
              key={v.id}
              data-volume={v.id}
              data-state={v.state}
              className={v.id === p.selected ? 'selected' : ''}
              tabIndex={0}
              onClick={() => p.onSelect(v.id)}
              onKeyDown={(e) => e.key === 'Enter' && p.onSelect(v.id)}
            >
              <td title={v.stateReason}>
                <StateBadge state={v.state} />
                {v.nodeStale && <span title="the node stopped reporting"> ‖</span>}
              </td>
              <td>
                {v.namespace}/{v.pod}
              </td>
              <td>{v.nodeId}</td>
              <td>{expiry(v.notAfter, p.now)}</td>
              <td>{v.nextRenewalAt ? relative(v.nextRenewalAt, p.now) : '—'}</td>
              <td className="mono">{shortHex(v.serialHex)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
});

export function ClusterVolumePanel(p: {
  d: ClusterVolumeDetails;
  now: number;
  onClose(): void;
  onNode(n: string): void;
}) {
  const { d } = p;
  return (
    <aside className="details" aria-labelledby="cv-details-title" data-testid="cv-details">
      <header>
        <h2 id="cv-details-title">
          {d.namespace}/{d.pod}
        </h2>
        <button type="button" onClick={p.onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      <p>
        <StateBadge state={d.state} /> {d.stateReason}
      </p>
      <dl>
        <dt>Node</dt>
        <dd>
          <button type="button" className="link" onClick={() => p.onNode(d.nodeId)}>
            {d.nodeId}
          </button>
          {d.nodeStale && ' (stopped reporting)'}
        </dd>
        <dt>Status object</dt>
        <dd className="mono">{d.id}</dd>
        <dt>Volume</dt>
        <dd className="mono">{d.volumeId}</dd>
        <dt>Issuer</dt>
        <dd>{d.issuer}</dd>
        <dt>Serial</dt>
        <dd className="mono" data-testid="cv-serial">
          {d.serialHex ?? '—'}
        </dd>
        <dt>Valid</dt>
        <dd>
          {absolute(d.notBefore)} → {absolute(d.notAfter)}
        </dd>
        <dt>Next renewal</dt>
        <dd>{absolute(d.nextRenewalAt)}</dd>
        <dt>Ready</dt>
        <dd>
          {d.ready.status} ({d.ready.reason}) since {relative(d.ready.since, p.now)}
        </dd>
        {d.failures > 0 && (
          <>
            <dt>Failures in a row</dt>
            <dd>{d.failures}</dd>
          </>
        )}
      </dl>
      <h3>History</h3>
      <ol className="history" data-testid="cv-history">
        {d.history.map((h) => (
          <li key={h.at + h.kind} className={`hist-${h.outcome}`}>
            {absolute(h.at)} · {h.kind} · {h.outcome === 'Success' ? '✓' : '✕'} {h.outcome}
            {h.serialHex && <span className="mono"> · {shortHex(h.serialHex)}</span>}
            {h.error && <div className="cv-error">{h.error}</div>}
          </li>
        ))}
      </ol>
      <p className="muted">
        Past entries: renewals this view saw since it started (status objects keep the last one).
      </p>
    </aside>
  );
}
