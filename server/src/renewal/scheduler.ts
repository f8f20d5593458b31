import { TimerHeap } from './timer-heap.js';

/** The longest delay Node's setTimeout accepts; later due times are re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type DueHandler = (key: string) => Promise<void>;

/**
 * One scheduler for every volume: a timer heap armed with a single timer for the earliest due
 * time, so an idle node with 10,000 volumes costs one pending timer. At most `concurrency`
 * handlers run at once; keys due meanwhile wait their turn. A handler's rejection is its own
 * business (it must reschedule itself); the scheduler only reports it through `onError`.
 */
export class RenewalScheduler {
  private readonly heap = new TimerHeap();
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private readonly queue: string[] = [];
  private running = 0;
  private stopped = false;

  constructor(
    private readonly handler: DueHandler,
    private readonly opts: {
      concurrency: number;
      now?: () => number;
      onError?: (key: string, e: unknown) => void;
    },
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  get size(): number {
    return this.heap.size;
  }

  /** Due time in ms since the epoch, or undefined when `key` is not scheduled. */
  schedule(key: string, at: Date): void {
    if (this.stopped) return;
    this.heap.set(key, at.getTime());
    this.arm();
  }

  cancel(key: string): void {
    this.heap.delete(key);
    const i = this.queue.indexOf(key);
    if (i >= 0) this.queue.splice(i, 1);
  }

  has(key: string): boolean {
    return this.heap.has(key);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const next = this.heap.peek();
    if (next === undefined) return;
    if (this.timer && next >= this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, next - this.now()), MAX_TIMER_MS);
    this.armedAt = next;
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    for (const key of this.heap.popDue(this.now())) if (!this.queue.includes(key)) this.queue.push(key);
    this.drain();
    this.arm();
  }

  private drain(): void {
    while (!this.stopped && this.running < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.running++;
      this.handler(key)
        .catch((e: unknown) => this.opts.onError?.(key, e))
        .finally(() => {
          this.running--;
          this.drain();
        });
    }
  }
}
