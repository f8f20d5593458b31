/**
 * Wires cert-manager mode of the node (node.role imports this file with `await import()` when
 * CERT_MANAGER_ENABLED=true): loads the Kubernetes access (kube-access.ts: node:https for the
 * kubeconfigs it supports, so the client library stays unloaded; the library otherwise), builds the
 * driver's own CertificateRequest client, pod-token clients on demand, the watch of this node's requests, the
 * CertManagerIssuer (its Warning Events go to the recorder it is given) and the cleanup of stale
 * requests (started here, stopped by `close`). A KUBECONFIG that cannot be loaded is a ConfigError
 * naming it.
 */
import type { CertManagerConfig } from '../../config/cert-manager-settings.js';
import type { Logger } from '../../common/logger.js';
import { CertManagerIssuer } from '../../issuer-client/cert-manager-issuer.js';
import { CertificateRequestJanitor } from '../../issuer-client/certificate-request-janitor.js';
import { CertificateRequestWatch, nodeRequestsApi } from './certificate-request-watch.js';
import { CertificateRequestApi } from './certificate-requests.js';
import type { PodEventRecorder } from '../events/pod-events.port.js';
import { loadKubeAccess } from '../client/kube-access.js';

export interface CertManagerModeOptions {
  config: CertManagerConfig;
  /** KUBECONFIG; undefined = the in-cluster config. */
  kubeconfig?: string | undefined;
  nodeId: string;
  logger: Logger;
  /**
   * Where its own Warning Events on pods go: the node's one recorder, or the no-op when POD_EVENTS
   * is on (the status reporter then records every failed publish or renewal with the same message,
   * and one Event per failure is enough).
   */
  events: PodEventRecorder;
  /** Volume ids this node has state for, so the cleanup knows which volumes are gone. */
  volumeIds: () => Promise<ReadonlySet<string>>;
}

export interface CertManagerMode {
  issuer: CertManagerIssuer;
  janitor: CertificateRequestJanitor;
  close(): void;
}

export async function startCertManagerMode(o: CertManagerModeOptions): Promise<CertManagerMode> {
  const logger = o.logger.child({ component: 'cert-manager' });
  const kube = await loadKubeAccess({ kubeconfigPath: o.kubeconfig, logger });
  // One API call never outlasts the whole wait.
  const callTimeoutMs = Math.min(10_000, o.config.timeoutMs);
  const driver = new CertificateRequestApi({
    json: kube.json,
    who: "the driver's service account",
    callTimeoutMs,
  });
  // One watch of this node's requests instead of a GET per poll (ADR 20); needs list + watch.
  const watch = new CertificateRequestWatch(nodeRequestsApi(kube.json, o.nodeId), logger);
  watch.start();
  const issuer = new CertManagerIssuer({
    updates: watch,
    identity: o.config.identity,
    tokenAudience: o.config.tokenAudience,
    driver,
    asToken: (token, who) =>
      new CertificateRequestApi({
        json: kube.asToken(token),
        who,
        callTimeoutMs,
      }),
    events: o.events,
    nodeId: o.nodeId,
    timeoutMs: o.config.timeoutMs,
    logger,
  });
  const janitor = new CertificateRequestJanitor({
    client: driver,
    nodeId: o.nodeId,
    volumeIds: o.volumeIds,
    inFlight: issuer.inFlight,
    maxAgeMs: o.config.timeoutMs,
    intervalMs: o.config.cleanupIntervalMs,
    logger,
  });
  janitor.start();
  logger.info(
    {
      identity: o.config.identity,
      transport: kube.transport,
      timeoutMs: o.config.timeoutMs,
      cleanupIntervalMs: o.config.cleanupIntervalMs,
    },
    'cert-manager mode on',
  );
  return {
    issuer,
    janitor,
    close() {
      janitor.stop();
      watch.stop();
      issuer.close();
    },
  };
}
