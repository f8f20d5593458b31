/**
 * The `cluster-view` role: one Deployment behind a Service, reached with one `kubectl port-forward`.
 * Lists and watches every CertVolumeStatus object (read-only RBAC on those alone), serves the
 * cluster API and the dashboard in cluster mode (ADR 21). Loads `@kubernetes/client-node` through
 * kube-client's lazy loader like every other role.
 */
import type { Logger } from '../common/logger.js';
import { loadClientLibrary, loadKubeConfig } from '../kube/client/kube-client.js';
import { CaBundleSource } from '../cluster-view/ca-bundle.js';
import { startClusterHttp } from '../cluster-view/cluster-http.js';
import { ClusterStore } from '../cluster-view/cluster-store.js';
import { ClusterViews } from '../cluster-view/cluster-views.js';
import type { ClusterViewConfig } from '../config/cluster-view-settings.js';
import {
  kubernetesStatusListWatch,
  startStatusWatch,
  type StatusListWatch,
} from '../cluster-view/status-watch.js';

export interface ClusterViewRole {
  url: string;
  store: ClusterStore;
  close(): Promise<void>;
}

export async function startClusterViewRole(
  cfg: ClusterViewConfig,
  logger: Logger,
  o: { api?: StatusListWatch; dashboardDir?: string } = {},
): Promise<ClusterViewRole> {
  let api = o.api;
  if (!api) {
    const lib = await loadClientLibrary();
    const kc = loadKubeConfig({ kubeconfigPath: cfg.kubeconfig });
    api = kubernetesStatusListWatch(kc.makeApiClient(lib.CustomObjectsApi), new lib.Watch(kc));
  }
  const store = new ClusterStore();
  const ca = new CaBundleSource(cfg.caBundleFile);
  await ca.refresh();
  const views = new ClusterViews({ store, ca: () => ca.current(), staleGraceMs: cfg.staleGraceMs });
  const watch = startStatusWatch({ api, store, logger });
  const http = await startClusterHttp({
    listenAddr: cfg.listenAddr,
    allowedHosts: cfg.allowedHosts,
    corsOrigins: cfg.corsOrigins,
    views,
    store,
    logger,
    dashboardDir: o.dashboardDir,
  });
  return {
    url: http.url,
    store,
    async close() {
      watch.stop();
      await http.close();
    },
  };
}
