import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ClusterView } from '@csi-cert-driver/api-contract';
import { App } from './App.js';
import { ClusterApp } from './cluster/ClusterApp.js';

/**
 * One page for both servers: the cluster-view role answers `/api/v1/cluster` with
 * `source: status-objects` and gets the cluster mode; a node (or the demo) gets the node view.
 */
async function isClusterView(): Promise<boolean> {
  try {
    const res = await fetch('api/v1/cluster', { headers: { Accept: 'application/json' } });
    return res.ok && ((await res.json()) as ClusterView).source === 'status-objects';
  } catch {
    return false;
  }
}

void isClusterView().then((cluster) =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>{cluster ? <ClusterApp /> : <App />}</StrictMode>,
  ),
);
