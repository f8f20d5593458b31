/**
 * Deletes this node's stale CertificateRequests: those (found by the node label) whose volume the
 * node no longer has, and those older than CERT_MANAGER_TIMEOUT (denied, failed, or left by a crash).
 * A request of a volume the node is publishing or renewing right now is never touched. Runs at start and then every
 * CERT_MANAGER_CLEANUP_INTERVAL; a failed run is logged and retried at the next tick.
 */
import type { Logger } from '../common/logger.js';
import {
  NODE_LABEL,
  VOLUME_ANNOTATION,
  labelValue,
  type CertificateRequestJanitorClient,
} from './certificate-requests.port.js';

export interface JanitorOptions {
  client: CertificateRequestJanitorClient;
  nodeId: string;
  /** Volume ids this node has state for (publishing or published). */
  volumeIds: () => Promise<ReadonlySet<string>>;
  /** Volume ids whose request is being created or waited for (CertManagerIssuer.inFlight). */
  inFlight: ReadonlySet<string>;
  maxAgeMs: number;
  intervalMs: number;
  logger: Logger;
}

export class CertificateRequestJanitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly o: JanitorOptions) {}

  /** Runs once now, then every interval. */
  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep; resolves to the number of requests deleted. Never rejects. */
  runOnce(): Promise<number> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<number> {
    let deleted = 0;
    try {
      const [requests, volumes] = await Promise.all([
        this.o.client.listByLabel(NODE_LABEL, labelValue(this.o.nodeId)),
        this.o.volumeIds(),
      ]);
      const now = Date.now();
      for (const cr of requests) {
        const key = `${cr.namespace}/${cr.name}`;
        const volumeId = cr.annotations[VOLUME_ANNOTATION];
        if (volumeId !== undefined && this.o.inFlight.has(volumeId)) continue;
        const gone = volumeId === undefined || !volumes.has(volumeId);
        const old =
          cr.creationTimestamp !== undefined && now - cr.creationTimestamp.getTime() > this.o.maxAgeMs;
        if (!gone && !old) continue;
        try {
          await this.o.client.delete(cr.namespace, cr.name);
          deleted++;
          this.o.logger.info(
            { certificateRequest: key, reason: gone ? 'volume gone' : 'expired' },
            'stale CertificateRequest deleted',
          );
        } catch (e) {
          this.o.logger.warn(
            { certificateRequest: key, err: errText(e) },
            'could not delete a stale CertificateRequest',
          );
        }
      }
    } catch (e) {
      this.o.logger.warn(
        { err: errText(e) },
        'CertificateRequest cleanup failed; retrying at the next interval',
      );
    }
    return deleted;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
