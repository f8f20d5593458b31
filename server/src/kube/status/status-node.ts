/**
 * Picks the node's StatusReporter and its one PodEventRecorder: the Kubernetes ones when
 * STATUS_OBJECTS or POD_EVENTS is on, or in cert-manager mode (whose own Warning Events need the
 * recorder when POD_EVENTS is off; STATUS_QPS and STATUS_BURST then at their defaults), loaded with
 * `await import()` so the client library stays unloaded otherwise; else the no-ops.
 * Never fails the node's start: a Kubernetes config that cannot be loaded was already rejected by
 * the settings (STATUS_OBJECTS=true without one) or is logged here and the feature stays off.
 */
import type { Registry } from 'prom-client';
import type { NodeConfig } from '../../config/config.js';
import { DEFAULT_STATUS_RATE } from '../../config/status-settings.js';
import type { Logger } from '../../common/logger.js';
import { noopStatusReporter } from '../../volumes/status-reporter.port.js';
import { noopPodEventRecorder } from '../events/pod-events.port.js';
import type { StatusFeature } from './status-kubernetes.js';

export async function nodeStatus(
  cfg: Pick<NodeConfig, 'status' | 'kubeconfig' | 'nodeId' | 'certManager'>,
  logger: Logger,
  registry?: Registry,
): Promise<StatusFeature> {
  const off: StatusFeature = {
    reporter: noopStatusReporter,
    certManagerEvents: noopPodEventRecorder,
    close: () => Promise.resolve(),
  };
  const certManager = cfg.certManager !== undefined;
  if (!cfg.status && !certManager) return off;
  try {
    const { createKubernetesStatus } = await import('./status-kubernetes.js');
    return await createKubernetesStatus({
      cfg: {
        ...(cfg.status ?? { objects: false, events: false, ...DEFAULT_STATUS_RATE }),
        certManager,
        kubeconfig: cfg.kubeconfig,
      },
      nodeId: cfg.nodeId,
      logger,
      registry,
    });
  } catch (e) {
    logger.error(
      { err: { message: (e as Error).message } },
      'status objects and pod Events off: no Kubernetes client',
    );
    return off;
  }
}
