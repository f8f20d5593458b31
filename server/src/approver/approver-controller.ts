/**
 * Decides CertificateRequests while this replica leads: every object the informer reports is queued
 * (and the whole cache when leadership starts), decided by `decide`, and its Approved or Denied
 * condition written with the resourceVersion it was decided on. A 409 waits for the watch to bring
 * the newer version and decides again, so a decision made meanwhile (by anyone) is never overridden. An Event is recorded
 * on the request for every decision. Requests of other issuers and decided ones are left alone.
 */
import type { Logger } from '../common/logger.js';
import { describeKubeError, kubeStatusCode } from '../kube/client/kube-errors.js';
import { withCondition, type CertificateRequest } from './certificate-request.js';
import { CrInformer } from './cr-informer.js';
import { ConflictError, type CertificateRequestApi, type EventRecorder } from './kube-adapters.js';
import type { ApproverMetrics } from './approver-metrics.js';
import { decide, type ApproverPolicy } from './rules.js';

/** The condition reason, as cert-manager's approvers put their own name there. */
export const APPROVER_REASON = 'csi.k8s.cert-driver';
const RETRY_MS = 1_000;
/** Requests decided at once (each decision is a status write and an Event). */
const WORKERS = 4;

export interface ApproverControllerOptions {
  api: CertificateRequestApi;
  events: EventRecorder;
  policy: ApproverPolicy;
  logger: Logger;
  metrics?: ApproverMetrics | undefined;
}

export class ApproverController {
  readonly informer: CrInformer;
  private leader = false;
  private readonly queue = new Set<string>();
  /** Keys being decided: a key is never decided by two workers at once. */
  private readonly inFlight = new Set<string>();
  private readonly workers = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: ApproverControllerOptions) {
    this.informer = new CrInformer({ api: o.api, logger: o.logger, onChange: (key) => this.enqueue(key) });
  }

  get ready(): boolean {
    return this.informer.synced;
  }

  start(): void {
    this.informer.start();
  }

  /** Stops watching and waits for the decision being written, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leader = false;
    this.queue.clear();
    this.informer.stop();
    await Promise.all(this.workers);
  }

  /** Leadership changes: a new leader looks at every cached request; a former one stops at once. */
  setLeader(leader: boolean): void {
    this.leader = leader;
    if (!leader) {
      this.queue.clear();
      return;
    }
    for (const key of this.informer.cache.keys()) this.enqueue(key);
  }

  private enqueue(key: string): void {
    if (!this.leader || this.stopped) return;
    this.queue.add(key);
    while (this.workers.size < WORKERS && this.next() !== undefined) {
      const worker: Promise<void> = this.work().finally(() => this.workers.delete(worker));
      this.workers.add(worker);
    }
  }

  /** The oldest queued key that no worker is deciding. */
  private next(): string | undefined {
    for (const key of this.queue) if (!this.inFlight.has(key)) return key;
    return undefined;
  }

  private async work(): Promise<void> {
    for (let key = this.next(); key !== undefined && this.leader; key = this.next()) {
      this.queue.delete(key);
      this.inFlight.add(key);
      try {
        await this.reconcile(key);
      } catch (e) {
        this.o.metrics?.error();
        this.o.logger.warn(
          { certificateRequest: key, err: describeKubeError(e) },
          'deciding failed; will retry',
        );
        setTimeout(() => this.enqueue(key), RETRY_MS).unref();
      } finally {
        this.inFlight.delete(key);
      }
    }
  }

  /** Decides one request and writes the decision; see the file comment. */
  async reconcile(key: string): Promise<void> {
    const cr = this.informer.cache.get(key);
    if (cr === undefined || !this.leader) return;
    const d = decide(cr, this.o.policy);
    if (d.action === 'ignore') return;
    const approved = d.action === 'approve';
    const decided = withCondition(cr, {
      type: approved ? 'Approved' : 'Denied',
      status: 'True',
      reason: APPROVER_REASON,
      message: d.message,
      lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    let written: CertificateRequest;
    try {
      written = await this.o.api.updateStatus(decided);
    } catch (e) {
      if (kubeStatusCode(e) === 404) return;
      if (e instanceof ConflictError) {
        // The watch delivers the newer version and queues the key again; it is decided afresh then.
        this.o.logger.debug(
          { certificateRequest: key },
          'CertificateRequest changed meanwhile; waiting for it',
        );
        return;
      }
      throw e;
    }
    const rule = d.action === 'deny' ? d.rule : undefined;
    this.o.metrics?.decided(approved ? 'approved' : 'denied', rule);
    this.o.logger.info(
      { certificateRequest: key, decision: approved ? 'approved' : 'denied', rule, message: d.message },
      approved ? 'approved CertificateRequest' : 'denied CertificateRequest',
    );
    await this.o.events
      .record(written, approved ? 'Normal' : 'Warning', approved ? 'Approved' : 'Denied', d.message)
      .catch((e: unknown) =>
        this.o.logger.warn(
          { certificateRequest: key, err: describeKubeError(e) },
          'recording the Event failed',
        ),
      );
  }
}
