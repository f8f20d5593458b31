/**
 * The `approver` role: watches cert-manager CertificateRequests for one issuer and approves or
 * denies them by the SPIFFE rules (approver/rules.ts) while it holds the leader Lease. Standby
 * replicas watch too, so a new leader decides at once. SIGTERM releases the Lease.
 */
import type { Logger } from '../common/logger.js';
import type { ApproverConfig } from '../config/approver-settings.js';
import { loadClientLibrary, loadKubeClients } from '../kube/client/kube-client.js';
import {
  ApproverController,
  ApproverMetrics,
  LeaderElector,
  certificateRequestApi,
  eventRecorder,
  kubeLeaseStore,
  startHealthServer,
  type HealthServer,
} from '../approver/index.js';

export interface ApproverRole {
  controller: ApproverController;
  elector: LeaderElector;
  /** `http://host:port` of /healthz, /readyz and /metrics when HEALTH_LISTEN_ADDR is on. */
  healthUrl?: string | undefined;
  close(): Promise<void>;
}

const COMPONENT = 'csi-cert-driver-approver';

export async function startApproverRole(cfg: ApproverConfig, logger: Logger): Promise<ApproverRole> {
  const { config } = await loadKubeClients({ kubeconfigPath: cfg.kubeconfig });
  const lib = await loadClientLibrary();
  const le = cfg.leaderElection;
  const metrics = new ApproverMetrics();
  const controller = new ApproverController({
    api: certificateRequestApi(lib, config),
    events: eventRecorder(lib, config, COMPONENT, le.identity),
    policy: {
      issuerRef: cfg.issuerRef,
      trustDomain: cfg.trustDomain,
      durationSeconds: cfg.durationSeconds,
      keys: cfg.keys,
    },
    logger,
    metrics,
  });
  const elector = new LeaderElector({
    store: kubeLeaseStore(lib, config, le.namespace, le.leaseName),
    identity: le.identity,
    leaseDurationMs: le.leaseDurationMs,
    renewDeadlineMs: le.renewDeadlineMs,
    retryPeriodMs: le.retryPeriodMs,
    logger: logger.child({ lease: `${le.namespace}/${le.leaseName}` }),
    onStartedLeading: () => {
      metrics.setLeader(true);
      controller.setLeader(true);
    },
    onStoppedLeading: () => {
      metrics.setLeader(false);
      controller.setLeader(false);
    },
  });
  const health: HealthServer | undefined = cfg.healthListenAddr
    ? await startHealthServer({
        listenAddr: cfg.healthListenAddr,
        ready: () => controller.ready,
        scrape: () => metrics.scrape(),
        logger,
      })
    : undefined;
  controller.start();
  elector.start();
  logger.info(
    {
      issuerRef: cfg.issuerRef,
      trustDomain: cfg.trustDomain,
      durationSeconds: cfg.durationSeconds,
      identity: le.identity,
    },
    'approver started',
  );
  return {
    controller,
    elector,
    healthUrl: health?.url,
    async close() {
      await controller.stop();
      await elector.stop();
      await health?.close();
    },
  };
}
