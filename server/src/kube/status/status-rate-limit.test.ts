import { describe, expect, it } from 'vitest';
import { TokenBucket } from './status-rate-limit.js';

/** A bucket on a fake clock: sleeping advances the clock, so `take()` never waits for real. */
function fakeBucket(qps: number, burst: number) {
  let now = 0;
  const bucket = new TokenBucket({
    qps,
    burst,
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  });
  return { bucket, clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it.each([
    { qps: 5, burst: 10, takes: 110 },
    { qps: 1, burst: 1, takes: 10 },
    { qps: 50, burst: 5, takes: 200 },
    { qps: 0.5, burst: 3, takes: 7 },
  ])('takes $takes tokens at $qps/s after a burst of $burst', async ({ qps, burst, takes }) => {
    const { bucket, clock } = fakeBucket(qps, burst);
    const at: number[] = [];
    for (let i = 0; i < takes; i++) {
      await bucket.take();
      at.push(clock());
    }
    expect(at.slice(0, burst).every((t) => t === 0)).toBe(true);
    // Never more than burst + qps·t in any window starting at 0.
    at.forEach((t, i) => expect(i + 1).toBeLessThanOrEqual(burst + (qps * t) / 1000 + 1e-9));
    // And not much slower than that: the last token came when the rate allowed it (ms rounding).
    const ideal = ((takes - burst) / qps) * 1000;
    expect(at[takes - 1]).toBeGreaterThanOrEqual(ideal - 1);
    expect(at[takes - 1]).toBeLessThanOrEqual(ideal + takes);
  });

  it('refills while idle, up to burst only', () => {
    const { bucket, advance } = fakeBucket(5, 10);
    for (let i = 0; i < 10; i++) expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    advance(200);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    advance(60_000);
    let n = 0;
    while (bucket.tryTake()) n++;
    expect(n).toBe(10);
  });

  it('serves waiters in call order', async () => {
    const { bucket } = fakeBucket(10, 1);
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it.each([
    { qps: 0, burst: 1 },
    { qps: -1, burst: 1 },
    { qps: Infinity, burst: 1 },
    { qps: 5, burst: 0 },
    { qps: 5, burst: 1.5 },
  ])('rejects qps $qps burst $burst', ({ qps, burst }) => {
    expect(() => new TokenBucket({ qps, burst })).toThrow(RangeError);
  });
});
