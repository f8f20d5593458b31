import { memo } from 'react';
import type { ClusterView } from '@csi-cert-driver/api-contract';
import type { LiveStatus } from '../api.js';
import { LiveIndicator } from './StatusLines.js';

interface Props {
  cluster: ClusterView | undefined;
  node: string;
  live: LiveStatus;
  onNode(node: string): void;
}

/** Title, node selector and the live-update indicator. */
export const Header = memo(function Header({ cluster, node, live, onNode }: Props) {
  const total = cluster?.nodes.reduce((n, x) => n + x.total, 0) ?? 0;
  return (
    <header className="top">
      <h1>
        csi-cert-driver <span className="sub">certificate volumes</span>
      </h1>
      <label className="node-select">
        Node
        <select value={node} onChange={(e) => onNode(e.target.value)} disabled={!cluster}>
          <option value="">
            All nodes ({cluster?.nodes.length ?? 0}, {total} volumes)
          </option>
          {cluster?.nodes.map((n) => (
            <option key={n.nodeId} value={n.nodeId}>
              {n.nodeId} ({n.total} volumes{n.counts.failed ? `, ${n.counts.failed} failed` : ''})
            </option>
          ))}
        </select>
      </label>
      {cluster && !cluster.complete && (
        <p className="cluster-note" title={cluster.note}>
          This node only
        </p>
      )}
      <LiveIndicator live={live} />
    </header>
  );
});
