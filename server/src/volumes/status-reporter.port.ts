/**
 * The StatusReporter port: how the node tells the outside world (Kubernetes status objects and pod
 * Events, or nothing) what happened to its volumes. Status is best effort: every method returns at
 * once, never throws and never delays a publish, a renewal or an unpublish. The Kubernetes adapter
 * lives in `kube/status/*.ts`; the no-op one below serves when the feature is off.
 */
import type { PodInfo } from '../attributes/certificate-spec.js';
import type { VolumeState } from './volume-state.js';

/** A publish or renewal that failed; `error` is the DomainError (its `code` picks the Event reason). */
export interface VolumeFailure {
  operation: 'publish' | 'renew';
  volumeId: string;
  pod: PodInfo;
  error: unknown;
}

export interface StatusReporter {
  /** A volume's state after a publish or renewal (either outcome); undefined once it is unpublished. */
  volumeChanged(volumeId: string, state: VolumeState | undefined): void;
  /** A publish or renewal failed. Reported to the pod (an Event); the volume's state is reported apart. */
  operationFailed(failure: VolumeFailure): void;
  /**
   * After a restart: `states` are all the volumes this node has now. Their status is brought up to
   * date; status objects of this node's volumes that no longer exist are deleted.
   */
  resync(states: VolumeState[]): void;
  /** Writes what is pending (bounded by `timeoutMs`) and stops. */
  close(timeoutMs?: number): Promise<void>;
}

/** The reporter when status objects and Events are off (no Kubernetes config, the demo). */
export const noopStatusReporter: StatusReporter = {
  volumeChanged: () => undefined,
  operationFailed: () => undefined,
  resync: () => undefined,
  close: () => Promise.resolve(),
};
