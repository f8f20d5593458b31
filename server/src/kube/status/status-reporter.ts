/**
 * The Kubernetes adapter of the StatusReporter port: one CertVolumeStatus object per volume (applied
 * on publish and renewal, deleted on unpublish, re-synced after a restart) and pod Events for failed
 * issuance and renewal. Every call returns at once; writes go through a coalescing, rate-limited
 * WriteQueue, and an API failure is logged, counted and retried, never reported to the caller.
 */
import { Code } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { StatusReporter, VolumeFailure } from '../../volumes/status-reporter.port.js';
import type { VolumeState } from '../../volumes/volume-state.js';
import type { PodEventRecorder } from '../events/pod-events.port.js';
import { describeKubeError } from '../client/kube-errors.js';
import type { StatusApi } from './status-api.js';
import { nodeSelector, sameStatus, statusObject, type Condition } from './status-object.js';
import type { WriteQueue } from './status-queue.js';

/** Consecutive UNAVAILABLE failures of one volume before its pod gets an Event (kubelet retries publishes). */
export const UNAVAILABLE_EVENT_AFTER = 3;
const MAX_TRACKED = 4096;

export interface KubernetesStatusReporterOptions {
  /** Undefined: status objects off (Events only). */
  api?: StatusApi | undefined;
  queue: WriteQueue;
  events: PodEventRecorder;
  nodeId: string;
  logger: Logger;
  /** Counts the resync's list calls. */
  onList?: (ok: boolean) => void;
  /** First delay before listing again after a failed resync list; doubles to 60 s. Default 1 s. */
  resyncRetryMs?: number;
}

interface Known {
  namespace: string;
  name: string;
  conditions: Condition[];
}

/** The Event reason of a failure, from the DomainError's gRPC code. */
export function failureReason(f: VolumeFailure): string {
  switch ((f.error as { code?: unknown } | null)?.code) {
    case Code.PERMISSION_DENIED:
    case Code.UNAUTHENTICATED:
      return 'IssuanceDenied';
    case Code.INVALID_ARGUMENT:
    case Code.FAILED_PRECONDITION:
      return 'IssuanceRejected';
    case Code.UNAVAILABLE:
    case Code.DEADLINE_EXCEEDED:
      return 'IssuerUnavailable';
    default:
      return f.operation === 'publish' ? 'PublishFailed' : 'RenewalFailed';
  }
}

export class KubernetesStatusReporter implements StatusReporter {
  /** Objects this node wrote or found at resync, by volume id. */
  private readonly known = new Map<string, Known>();
  /** Consecutive UNAVAILABLE failures per volume. */
  private readonly unavailable = new Map<string, number>();
  /** Volumes changed while a resync is listing: the list's view of them is stale. */
  private touched: Set<string> | undefined;
  private closed = false;

  constructor(private readonly o: KubernetesStatusReporterOptions) {}

  volumeChanged(volumeId: string, state: VolumeState | undefined): void {
    this.touched?.add(volumeId);
    if (!state) this.unavailable.delete(volumeId);
    else if (state.failures === 0) this.unavailable.delete(volumeId);
    const api = this.o.api;
    if (!api || this.closed) return;
    if (!state || state.phase !== 'published') {
      const known = this.known.get(volumeId);
      if (!known) return;
      this.known.delete(volumeId);
      this.o.queue.set(volumeId, { verb: 'delete', run: () => api.delete(known.namespace, known.name) });
      return;
    }
    const obj = statusObject({ state, previous: this.known.get(volumeId)?.conditions });
    this.known.set(volumeId, {
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      conditions: obj.status.conditions,
    });
    this.o.queue.set(volumeId, { verb: 'apply', run: () => api.apply(obj) });
  }

  operationFailed(f: VolumeFailure): void {
    if (this.closed) return;
    const reason = failureReason(f);
    if (reason === 'IssuerUnavailable') {
      const n = (this.unavailable.get(f.volumeId) ?? 0) + 1;
      this.unavailable.delete(f.volumeId);
      this.unavailable.set(f.volumeId, n);
      // Volumes that never publish are never unpublished here: forget the least recent beyond a bound.
      if (this.unavailable.size > MAX_TRACKED) this.unavailable.delete(this.unavailable.keys().next().value!);
      if (n < UNAVAILABLE_EVENT_AFTER) return;
    }
    const what = f.operation === 'publish' ? 'Issuing the certificate' : 'Renewing the certificate';
    const why = f.error instanceof Error ? f.error.message : String(f.error);
    this.o.events.record({
      pod: { namespace: f.pod.namespace, name: f.pod.name, uid: f.pod.uid },
      type: 'Warning',
      reason,
      action: f.operation === 'publish' ? 'Publish' : 'Renew',
      message: `${what} of volume ${f.volumeId} failed: ${why}`,
      key: f.volumeId,
    });
  }

  resync(states: VolumeState[]): void {
    const api = this.o.api;
    if (!api || this.closed) return;
    this.touched = new Set();
    const attempt = async (delayMs: number): Promise<void> => {
      let listed;
      try {
        listed = await api.list(nodeSelector(this.o.nodeId));
        this.o.onList?.(true);
      } catch (e) {
        this.o.onList?.(false);
        if (this.closed) return;
        const next = Math.min(60_000, delayMs * 2);
        this.o.logger.warn({ err: describeKubeError(e), retryInMs: delayMs }, 'status resync: list failed');
        setTimeout(() => void attempt(next), delayMs).unref();
        return;
      }
      this.reconcile(states, listed);
    };
    void attempt(this.o.resyncRetryMs ?? 1000);
  }

  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    await Promise.all([this.o.queue.drain(timeoutMs, true), this.o.events.close(timeoutMs)]);
  }

  private reconcile(states: VolumeState[], listed: Awaited<ReturnType<StatusApi['list']>>): void {
    const api = this.o.api!;
    const touched = this.touched ?? new Set<string>();
    this.touched = undefined;
    const current = new Map(states.filter((s) => s.phase === 'published').map((s) => [s.volumeId, s]));
    let deleted = 0;
    let unchanged = 0;
    const seen = new Set<string>();
    for (const obj of listed) {
      const volumeId = obj.status?.volumeId;
      if (obj.status?.node !== this.o.nodeId || !volumeId || touched.has(volumeId)) continue;
      const { namespace, name } = obj.metadata;
      const state = current.get(volumeId);
      if (!state) {
        deleted++;
        this.o.queue.set(volumeId, { verb: 'delete', run: () => api.delete(namespace, name) });
        continue;
      }
      seen.add(volumeId);
      this.known.set(volumeId, { namespace, name, conditions: obj.status.conditions ?? [] });
      if (sameStatus(obj.status, statusObject({ state, previous: obj.status.conditions }).status))
        unchanged++;
      else this.volumeChanged(volumeId, state);
    }
    for (const [volumeId, state] of current) {
      if (!seen.has(volumeId) && !touched.has(volumeId)) this.volumeChanged(volumeId, state);
    }
    this.o.logger.info(
      { volumes: current.size, objects: listed.length, deleted, unchanged },
      'status objects re-synced',
    );
  }
}
