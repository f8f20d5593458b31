/**
 * A token bucket like client-go's `flowcontrol.NewTokenBucketRateLimiter(qps, burst)`: it starts
 * full with `burst` tokens, refills `qps` tokens a second, and `take()` waits for a token. Waiters
 * are served in call order. Over any interval of `t` seconds at most `burst + qps·t` tokens are taken.
 */
export interface TokenBucketOptions {
  qps: number;
  burst: number;
  /** Milliseconds clock; default Date.now (tests pass a fake). */
  now?: () => number;
  /** Default: a timer (tests pass a fake that advances their clock). */
  sleep?: (ms: number) => Promise<void>;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: TokenBucketOptions) {
    if (!(o.qps > 0) || !Number.isFinite(o.qps)) throw new RangeError(`qps must be > 0, got ${o.qps}`);
    if (!Number.isInteger(o.burst) || o.burst < 1) throw new RangeError(`burst must be >= 1, got ${o.burst}`);
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.tokens = o.burst;
    this.last = this.now();
  }

  /** Takes a token now if one is there; never waits. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Resolves once a token has been taken for this caller. */
  take(): Promise<void> {
    const mine = this.queue.then(async () => {
      for (;;) {
        if (this.tryTake()) return;
        await this.sleep(Math.ceil(((1 - this.tokens) / this.o.qps) * 1000));
      }
    });
    this.queue = mine;
    return mine;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.last) / 1000) * this.o.qps);
    this.last = now;
  }
}
