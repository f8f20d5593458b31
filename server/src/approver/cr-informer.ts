/**
 * A cache of every CertificateRequest in the cluster: list, then watch from the list's
 * resourceVersion; a watch that ends is re-opened from the last version seen, a 410 Gone (or any
 * failure) lists again. `onChange(key)` is called for every added or modified object and for every
 * object of a re-list, so nothing is missed across a gap. Needs list and watch on
 * certificaterequests.
 */
import type { Logger } from '../common/logger.js';
import { describeKubeError } from '../kube/client/kube-errors.js';
import { keyOf, type CertificateRequest } from './certificate-request.js';
import type { CertificateRequestApi } from './kube-adapters.js';

const MAX_RETRY_MS = 30_000;

export interface CrInformerOptions {
  api: CertificateRequestApi;
  logger: Logger;
  onChange(key: string): void;
  /** First retry delay after a failure; doubles up to 30 s. Default 500 ms. */
  retryDelayMs?: number;
}

export class CrInformer {
  readonly cache = new Map<string, CertificateRequest>();
  /** True once the first list has been loaded. */
  synced = false;
  private resourceVersion = '';
  private stopped = false;
  private failures = 0;
  private abort: { abort(): void } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: CrInformerOptions) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const { items, resourceVersion } = await this.o.api.list();
      const seen = new Set<string>();
      for (const cr of items) {
        const key = keyOf(cr);
        seen.add(key);
        this.cache.set(key, cr);
      }
      for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
      this.resourceVersion = resourceVersion;
      if (!this.synced)
        this.o.logger.info({ certificateRequests: items.length }, 'CertificateRequests listed');
      this.synced = true;
      for (const key of seen) this.o.onChange(key);
      await this.connect();
    } catch (e) {
      this.retry(e, true);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let gone = false;
    try {
      this.abort = await this.o.api.watch(
        this.resourceVersion,
        (phase, obj) => {
          if (phase === 'ERROR') {
            gone = obj.code === 410;
            return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          this.failures = 0;
          if (phase === 'BOOKMARK') return;
          const key = keyOf(obj);
          if (phase === 'DELETED') this.cache.delete(key);
          else {
            this.cache.set(key, obj);
            this.o.onChange(key);
          }
        },
        (err) => {
          this.abort = undefined;
          const clean =
            !gone && (err === null || err === undefined || (err as Error).name === 'TimeoutError');
          if (clean) void this.connect();
          else this.retry(gone ? new Error('watch expired (410 Gone)') : err, true);
        },
      );
      if (this.stopped) this.abort.abort();
    } catch (e) {
      this.retry(e, true);
    }
  }

  private retry(err: unknown, relist: boolean): void {
    if (this.stopped) return;
    const delay = Math.min(MAX_RETRY_MS, (this.o.retryDelayMs ?? 500) * 2 ** this.failures++);
    this.o.logger.warn({ err: describeKubeError(err), retryInMs: delay }, 'CertificateRequest watch failed');
    this.timer = setTimeout(() => void (relist ? this.relist() : this.connect()), delay);
    this.timer.unref();
  }
}
