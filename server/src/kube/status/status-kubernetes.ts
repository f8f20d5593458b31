/**
 * Builds the node's Kubernetes StatusReporter and its one PodEventRecorder. The node role imports
 * this file with `await import()` only when STATUS_OBJECTS or POD_EVENTS is on or cert-manager mode
 * records its own Events. Its API access comes from kube-access.ts: node:https for the kubeconfigs
 * its loader supports (the client library stays unloaded), the library otherwise.
 * Status object writes and Events share one token bucket (STATUS_QPS, STATUS_BURST).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import { noopStatusReporter, type StatusReporter } from '../../volumes/status-reporter.port.js';
import { loadKubeAccess } from '../client/kube-access.js';
import { KubernetesPodEventRecorder } from '../events/pod-events.js';
import { noopPodEventRecorder, type PodEventRecorder } from '../events/pod-events.port.js';
import { kubernetesEventsApi, kubernetesStatusApi } from './status-api.js';
import { CVS_PLURAL } from './status-object.js';
import { StatusMetrics } from './status-metrics.js';
import { WriteQueue } from './status-queue.js';
import { TokenBucket } from './status-rate-limit.js';
import { KubernetesStatusReporter } from './status-reporter.js';

export const EVENT_COMPONENT = 'csi-cert-driver-node';

export interface StatusFeatureConfig {
  /** CertVolumeStatus objects on. */
  objects: boolean;
  /** Pod Events on (POD_EVENTS): the status reporter records failed publishes and renewals. */
  events: boolean;
  /**
   * cert-manager mode: with `events` off, its own Warning Events (CertificateRequestDenied, ...) go
   * through the recorder instead, so a pod gets one Event per failure either way.
   */
  certManager?: boolean | undefined;
  qps: number;
  burst: number;
  /** KUBECONFIG; undefined = the in-cluster config. */
  kubeconfig?: string | undefined;
  /** Batch window of status writes; default 1 s. */
  batchDelayMs?: number | undefined;
}

export interface StatusFeature {
  reporter: StatusReporter;
  /** The recorder of cert-manager mode's own Events: the no-op unless `certManager` and not `events`. */
  certManagerEvents: PodEventRecorder;
  /** Sends what is pending (bounded by `timeoutMs`) and stops both. */
  close(timeoutMs?: number): Promise<void>;
}

export async function createKubernetesStatus(o: {
  cfg: StatusFeatureConfig;
  nodeId: string;
  logger: Logger;
  registry?: Registry | undefined;
}): Promise<StatusFeature> {
  const { cfg, logger } = o;
  const { json } = await loadKubeAccess({ kubeconfigPath: cfg.kubeconfig, logger });
  const limiter = new TokenBucket({ qps: cfg.qps, burst: cfg.burst });
  const metrics = o.registry ? new StatusMetrics(o.registry) : undefined;
  const log = logger.child({ component: 'status' });

  // The gauges read the queues' sizes when scraped, after both exist.
  const statusMetrics = metrics?.forQueue(CVS_PLURAL, (): number => statusQueue.size);
  const eventMetrics = metrics?.forQueue('events', (): number => eventQueue.size);
  const statusQueue = new WriteQueue({
    limiter,
    logger: log,
    metrics: statusMetrics,
    batchDelayMs: cfg.batchDelayMs,
  });
  const eventQueue = new WriteQueue({ limiter, logger: log, metrics: eventMetrics, batchDelayMs: 0 });

  const recorder =
    cfg.events || cfg.certManager
      ? new KubernetesPodEventRecorder({
          api: kubernetesEventsApi(json),
          queue: eventQueue,
          component: EVENT_COMPONENT,
          instance: o.nodeId,
        })
      : noopPodEventRecorder;
  const reporter =
    cfg.objects || cfg.events
      ? new KubernetesStatusReporter({
          api: cfg.objects ? kubernetesStatusApi(json) : undefined,
          queue: statusQueue,
          events: cfg.events ? recorder : noopPodEventRecorder,
          nodeId: o.nodeId,
          logger: log,
          onList: statusMetrics?.read,
        })
      : noopStatusReporter;
  log.info(
    {
      statusObjects: cfg.objects,
      podEvents: cfg.events,
      certManagerEvents: !cfg.events && !!cfg.certManager,
      qps: cfg.qps,
      burst: cfg.burst,
    },
    'Kubernetes status reporting on',
  );
  const certManagerEvents = cfg.events ? noopPodEventRecorder : recorder;
  return {
    reporter,
    certManagerEvents,
    close: async (timeoutMs) => {
      await Promise.all([reporter.close(timeoutMs), certManagerEvents.close(timeoutMs)]);
    },
  };
}
