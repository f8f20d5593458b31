/**
 * Warning Events on pods (core/v1), so `kubectl describe pod` says why a certificate volume could not
 * be published. Best effort: a failure (RBAC, API down) is logged and swallowed. Messages come from
 * the caller already cleaned of key material and tokens (see safeText); this adapter only caps them.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import type { PodRef } from '../../attributes/certificate-spec.js';
import type { PodWarningReason, PodWarnings } from '../../issuer-client/certificate-requests.port.js';
import { describeKubeError } from '../client/kube-errors.js';
import { podObjectReference } from './pod-events.js';

export const EVENT_COMPONENT = 'csi.k8s.cert-driver';

export interface PodEventsOptions {
  core: CoreV1Api;
  nodeId: string;
  logger: Logger;
}

export function kubernetesPodWarnings(o: PodEventsOptions): PodWarnings {
  return {
    async warn(pod: PodRef, reason: PodWarningReason, message: string): Promise<void> {
      const now = new Date();
      try {
        await o.core.createNamespacedEvent({
          namespace: pod.namespace,
          body: {
            metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
            involvedObject: podObjectReference(pod),
            type: 'Warning',
            reason,
            message: message.slice(0, 1024),
            source: { component: EVENT_COMPONENT, host: o.nodeId },
            reportingComponent: EVENT_COMPONENT,
            reportingInstance: o.nodeId,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        });
      } catch (e) {
        o.logger.warn(
          { pod: `${pod.namespace}/${pod.name}`, reason, err: describeKubeError(e) },
          'could not record a pod Event',
        );
      }
    },
  };
}
