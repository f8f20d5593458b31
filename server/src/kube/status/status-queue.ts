/**
 * A coalescing, rate-limited write queue for best-effort API writes (status objects, Events). One
 * pending write per key, latest wins: a volume renewed ten times while its write waits is written
 * once. Keys are written in the order they first became dirty, so every key gets its turn. Each
 * write takes a token from a shared TokenBucket. A failed write is retried with exponential backoff
 * (unless a newer write for the key replaced it, which then inherits the backoff) and dropped after
 * `maxAttempts`; failures are logged and counted, never thrown to the caller.
 */
import type { Logger } from '../../common/logger.js';
import type { TokenBucket } from './status-rate-limit.js';
import { describeKubeError } from '../client/kube-errors.js';

export interface QueuedWrite {
  /** What the write does, for logs and metrics: apply, delete, create, patch. */
  verb: string;
  run(): Promise<void>;
}

export interface WriteQueueMetrics {
  request(verb: string, outcome: 'success' | 'failure'): void;
  /** A pending write was replaced by a newer one before it was sent. */
  coalesced(): void;
  /** A write was given up after its last attempt, or discarded at close. */
  dropped(): void;
}

export interface WriteQueueOptions {
  limiter: TokenBucket;
  logger: Logger;
  metrics?: WriteQueueMetrics;
  /** Collect changes this long before writing (the batch window). Default 1 s. */
  batchDelayMs?: number;
  /** First retry delay; doubles up to `maxRetryMs`. Defaults 1 s and 60 s. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Attempts before a write is dropped. Default 8. */
  maxAttempts?: number;
  /** Writes in flight at once (they still share the bucket). Default 4. */
  concurrency?: number;
}

interface Entry {
  write: QueuedWrite;
  attempts: number;
  /** Not sent before this time (batch window or backoff), ms since the epoch. */
  due: number;
}

export class WriteQueue {
  /** Insertion order is the write order. */
  private readonly pending = new Map<string, Entry>();
  private readonly inFlight = new Set<string>();
  private workers = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(private readonly o: WriteQueueOptions) {}

  /** Queues `write` for `key`, replacing a write still waiting for that key. */
  set(key: string, write: QueuedWrite): void {
    if (this.stopped) return;
    const entry = this.pending.get(key);
    if (entry) {
      entry.write = write;
      this.o.metrics?.coalesced();
    } else {
      this.pending.set(key, { write, attempts: 0, due: Date.now() + (this.o.batchDelayMs ?? 1000) });
    }
    this.wake();
  }

  /** Forgets the write still waiting for `key` (not one in flight). */
  cancel(key: string): void {
    this.pending.delete(key);
  }

  get size(): number {
    return this.pending.size + this.inFlight.size;
  }

  /**
   * Sends everything pending now, ignoring the batch window (not backoff), and resolves when the
   * queue is empty or after `timeoutMs`. With `stop`, later writes are refused and what is left at
   * the timeout is dropped.
   */
  async drain(timeoutMs: number, stop = false): Promise<void> {
    this.draining = true;
    for (const e of this.pending.values()) if (e.attempts === 0) e.due = 0;
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.size === 0 ? resolve() : this.idle.push(resolve))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.draining = false;
    if (stop) {
      this.stopped = true;
      for (let i = 0; i < this.pending.size; i++) this.o.metrics?.dropped();
      this.pending.clear();
      clearTimeout(this.timer);
    }
  }

  private wake(): void {
    while (!this.stopped && this.workers < (this.o.concurrency ?? 4) && this.next(Date.now())) {
      this.workers++;
      void this.work().finally(() => {
        this.workers--;
        this.settle();
      });
    }
    this.arm();
  }

  /** The first key that may be written at `now`. */
  private next(now: number): string | undefined {
    for (const [key, e] of this.pending) {
      if (!this.inFlight.has(key) && (e.due <= now || (this.draining && e.attempts === 0))) return key;
    }
    return undefined;
  }

  private async work(): Promise<void> {
    for (;;) {
      if (this.stopped || !this.next(Date.now())) return;
      await this.o.limiter.take();
      const key = this.next(Date.now());
      if (this.stopped || key === undefined) return; // the token is spent; at most once per worker
      const entry = this.pending.get(key)!;
      this.pending.delete(key);
      this.inFlight.add(key);
      try {
        await entry.write.run();
        this.o.metrics?.request(entry.write.verb, 'success');
      } catch (e) {
        this.o.metrics?.request(entry.write.verb, 'failure');
        this.failed(key, entry, e);
      } finally {
        this.inFlight.delete(key);
      }
    }
  }

  private failed(key: string, entry: Entry, e: unknown): void {
    const attempts = entry.attempts + 1;
    const max = this.o.maxAttempts ?? 8;
    const newer = this.pending.get(key);
    const log = { key, verb: entry.write.verb, attempts, err: describeKubeError(e) };
    if (attempts >= max && !newer) {
      this.o.metrics?.dropped();
      this.o.logger.error(log, 'Kubernetes API write failed; giving up on it');
      return;
    }
    const delay = Math.min(this.o.maxRetryMs ?? 60_000, (this.o.retryMs ?? 1000) * 2 ** (attempts - 1));
    this.o.logger.warn({ ...log, retryInMs: delay }, 'Kubernetes API write failed; will retry');
    const retry = { write: newer?.write ?? entry.write, attempts, due: Date.now() + delay };
    this.pending.delete(key);
    this.pending.set(key, retry);
  }

  /** Arms one timer for the earliest due write that no worker will pick up. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.pending.size === 0 || this.workers > 0) return;
    let due = Infinity;
    for (const [key, e] of this.pending) if (!this.inFlight.has(key)) due = Math.min(due, e.due);
    if (due === Infinity) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, due - Date.now()));
    this.timer.unref();
  }

  private settle(): void {
    if (this.size === 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const w of waiters) w();
    }
    if (this.workers === 0) this.wake();
  }
}
