/**
 * A cache of every CertificateRequest in the cluster: list, then watch from the list's
 * resourceVersion; a watch that ends is re-opened from the last version seen, a 410 Gone (or any
 * failure) lists again, with backoff up to 30 s (the shared list+watch loop,
 * kube/client/list-watch.ts). `onChange(key)` is called for every added or modified object and for
 * every object of a re-list, so nothing is missed across a gap. Needs list and watch on
 * certificaterequests.
 */
import type { Logger } from '../common/logger.js';
import { startListWatch, type ListWatch } from '../kube/client/list-watch.js';
import { keyOf, type CertificateRequest } from './certificate-request.js';
import type { CertificateRequestApi } from './kube-adapters.js';

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
  private loop: ListWatch | undefined;
  private stopped = false;

  constructor(private readonly o: CrInformerOptions) {}

  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = startListWatch<CertificateRequest>({
      relistOnFailure: true,
      retryDelayMs: this.o.retryDelayMs,
      logger: this.o.logger,
      failureMessage: 'CertificateRequest watch failed',
      list: () => this.relist(),
      watch: (rv, onEvent, onDone) => this.o.api.watch(rv, onEvent, onDone),
      onEvent: (phase, obj) => {
        const key = keyOf(obj);
        if (phase === 'DELETED') this.cache.delete(key);
        else {
          this.cache.set(key, obj);
          this.o.onChange(key);
        }
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.loop?.stop();
  }

  /** Replaces the cache with a fresh list and reports every object in it; resolves to its version. */
  private async relist(): Promise<string> {
    const { items, resourceVersion } = await this.o.api.list();
    const seen = new Set<string>();
    for (const cr of items) {
      const key = keyOf(cr);
      seen.add(key);
      this.cache.set(key, cr);
    }
    for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
    if (!this.synced) this.o.logger.info({ certificateRequests: items.length }, 'CertificateRequests listed');
    this.synced = true;
    for (const key of seen) this.o.onChange(key);
    return resourceVersion;
  }
}
