/**
 * Metrics of the status feature, registered on the node's registry: API writes by resource, verb
 * and outcome (the number to watch against STATUS_QPS), writes saved by coalescing, writes given
 * up, and writes waiting. Names: docs/status-objects.md.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WriteQueueMetrics } from './status-queue.js';

const PREFIX = 'csi_cert_driver_';

export type StatusResource = 'certvolumestatuses' | 'events';

export class StatusMetrics {
  private readonly writes: Counter<'resource' | 'verb' | 'outcome'>;
  private readonly coalesced: Counter<'resource'>;
  private readonly dropped: Counter<'resource'>;
  private readonly sizes = new Map<StatusResource, () => number>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.writes = new Counter({
      name: `${PREFIX}status_api_requests_total`,
      help: 'Kubernetes API requests of status objects and pod Events, by resource, verb and outcome.',
      labelNames: ['resource', 'verb', 'outcome'],
      registers,
    });
    this.coalesced = new Counter({
      name: `${PREFIX}status_writes_coalesced_total`,
      help: 'Status object and Event writes replaced by a newer one before they were sent.',
      labelNames: ['resource'],
      registers,
    });
    this.dropped = new Counter({
      name: `${PREFIX}status_writes_dropped_total`,
      help: 'Status object and Event writes given up after their last retry or at shutdown.',
      labelNames: ['resource'],
      registers,
    });
    const sizes = this.sizes;
    new Gauge({
      name: `${PREFIX}status_writes_pending`,
      help: 'Status object and Event writes waiting for their turn (rate limit, batch window, backoff).',
      labelNames: ['resource'],
      registers,
      collect() {
        this.reset();
        for (const [resource, size] of sizes) this.set({ resource }, size());
      },
    });
  }

  /** The WriteQueue hooks of one resource; `size` is read when Prometheus scrapes. */
  forQueue(resource: StatusResource, size: () => number): WriteQueueMetrics & { read(ok: boolean): void } {
    this.sizes.set(resource, size);
    return {
      request: (verb, outcome) => this.writes.inc({ resource, verb, outcome }),
      read: (ok) => this.writes.inc({ resource, verb: 'list', outcome: ok ? 'success' : 'failure' }),
      coalesced: () => this.coalesced.inc({ resource }),
      dropped: () => this.dropped.inc({ resource }),
    };
  }
}
