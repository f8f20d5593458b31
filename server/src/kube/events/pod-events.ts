/**
 * The Kubernetes adapter of the PodEventRecorder port, the node's one writer of pod Events: core/v1
 * Events on the pod (what kubelet and client-go's recorder write, shown by `kubectl describe pod`),
 * for the status reporter's failures and cert-manager mode's own Warnings alike. Repeats of one (pod, reason, key)
 * within an hour are one Event whose count, lastTimestamp and message are updated; pending writes
 * are coalesced and rate limited by the shared WriteQueue, so a storm of failures costs a few
 * writes. RBAC: events create and patch. PEM blocks and JWT-shaped strings are cut out of messages
 * as a last line of defence; callers still must not pass secrets.
 */
import { safeText } from '../../common/safe-text.js';
import { randomBytes } from 'node:crypto';
import type { PodEvent, PodEventRecorder, PodRef } from './pod-events.port.js';
import { kubeStatusCode } from '../client/kube-errors.js';
import type { CoreEvent, EventsApi } from '../status/status-api.js';
import type { WriteQueue } from '../status/status-queue.js';

/** The API server's default Event TTL: after this an Event is gone and a repeat starts a new one. */
const AGGREGATE_WINDOW_MS = 60 * 60_000;
const MAX_TRACKED = 4096;
const MAX_MESSAGE = 1024;

export interface KubernetesPodEventRecorderOptions {
  api: EventsApi;
  /** A queue of its own, sharing the TokenBucket of the status writes; it logs failed writes. */
  queue: WriteQueue;
  /** `source.component` / `reportingComponent`, e.g. `csi-cert-driver-node`. */
  component: string;
  /** `source.host` / `reportingInstance`: the node name. */
  instance: string;
  now?: () => Date;
}

/** The `involvedObject` of an Event about `pod`. */
function podObjectReference(pod: PodRef) {
  return { apiVersion: 'v1', kind: 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid };
}

interface Series {
  name: string;
  event: PodEvent;
  count: number;
  first: string;
  last: string;
  lastMs: number;
  created: boolean;
}

export class KubernetesPodEventRecorder implements PodEventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly now: () => Date;

  constructor(private readonly o: KubernetesPodEventRecorderOptions) {
    this.now = o.now ?? (() => new Date());
  }

  record(event: PodEvent): void {
    const now = this.now();
    const key = `${event.pod.uid}/${event.reason}/${event.key ?? ''}`;
    const message = safeText(event.message, MAX_MESSAGE);
    let s = this.series.get(key);
    if (s && now.getTime() - s.lastMs < AGGREGATE_WINDOW_MS) {
      s.count++;
      s.last = now.toISOString();
      s.lastMs = now.getTime();
      s.event = { ...event, message };
      this.series.delete(key); // re-insert: the map's order is least recently seen first
    } else {
      const base = event.pod.name.slice(0, 200).replace(/[^a-z0-9]+$/, '') || 'pod';
      s = {
        name: `${base}.${randomBytes(8).toString('hex')}`,
        event: { ...event, message },
        count: 1,
        first: now.toISOString(),
        last: now.toISOString(),
        lastMs: now.getTime(),
        created: false,
      };
    }
    this.series.set(key, s);
    if (this.series.size > MAX_TRACKED) this.series.delete(this.series.keys().next().value!);
    const series = s;
    this.o.queue.set(key, {
      get verb() {
        return series.created ? 'patch' : 'create';
      },
      run: () => this.write(series),
    });
  }

  async close(timeoutMs = 5_000): Promise<void> {
    await this.o.queue.drain(timeoutMs, true);
  }

  /** Sends the series as it is now (a later record may have raised the count since it was queued). */
  private async write(s: Series): Promise<void> {
    const { pod } = s.event;
    if (s.created) {
      try {
        await this.o.api.update(pod.namespace, s.name, {
          count: s.count,
          lastTimestamp: s.last,
          message: s.event.message,
        });
        return;
      } catch (e) {
        if (kubeStatusCode(e) !== 404) throw e;
        s.created = false; // expired or deleted: start it again under the same name
      }
    }
    await this.o.api.create(this.coreEvent(s));
    s.created = true;
  }

  private coreEvent(s: Series): CoreEvent {
    const { pod } = s.event;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: s.name, namespace: pod.namespace },
      involvedObject: podObjectReference(pod),
      reason: s.event.reason,
      message: s.event.message,
      type: s.event.type,
      ...(s.event.action ? { action: s.event.action } : {}),
      count: s.count,
      firstTimestamp: s.first,
      lastTimestamp: s.last,
      source: { component: this.o.component, host: this.o.instance },
      reportingComponent: this.o.component,
      reportingInstance: this.o.instance,
    };
  }
}
