/** The approver role's Prometheus metrics (docs/metrics.md): decisions by rule, leadership, errors. */
import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../metrics/default-metrics.js';
import { PREFIX } from '../metrics/node-metrics.js';

export class ApproverMetrics {
  readonly registry = new Registry();
  private readonly decisions: Counter<'decision' | 'rule'>;
  private readonly errors: Counter;
  private readonly leader: Gauge;

  constructor() {
    const registers = [this.registry];
    collectProcessMetrics(this.registry);
    this.decisions = new Counter({
      name: `${PREFIX}approver_decisions_total`,
      help: 'CertificateRequests decided by this replica: approved, or denied by rule.',
      labelNames: ['decision', 'rule'],
      registers,
    });
    this.errors = new Counter({
      name: `${PREFIX}approver_errors_total`,
      help: 'Decisions that could not be written (retried).',
      registers,
    });
    this.leader = new Gauge({
      name: `${PREFIX}approver_leader`,
      help: '1 while this replica holds the leader Lease and decides.',
      registers,
    });
  }

  decided(decision: 'approved' | 'denied', rule: string | undefined): void {
    this.decisions.inc({ decision, rule: rule ?? '' });
  }

  error(): void {
    this.errors.inc();
  }

  setLeader(leader: boolean): void {
    this.leader.set(leader ? 1 : 0);
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
