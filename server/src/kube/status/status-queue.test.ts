import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WriteQueue, type QueuedWrite } from './status-queue.js';
import { TokenBucket } from './status-rate-limit.js';

const logger = pino({ level: 'silent' });

function counters() {
  const c = { success: 0, failure: 0, coalesced: 0, dropped: 0 };
  return {
    c,
    metrics: {
      request: (_verb: string, outcome: 'success' | 'failure') => void c[outcome]++,
      coalesced: () => void c.coalesced++,
      dropped: () => void c.dropped++,
    },
  };
}

function queue(o: Partial<ConstructorParameters<typeof WriteQueue>[0]> = {}) {
  const { c, metrics } = counters();
  const q = new WriteQueue({
    limiter: new TokenBucket({ qps: 1000, burst: 1000 }),
    logger,
    metrics,
    batchDelayMs: 20,
    retryMs: 5,
    maxRetryMs: 20,
    ...o,
  });
  return { q, c };
}

const write = (log: string[], what: string, fail = 0): QueuedWrite => {
  let failures = fail;
  return {
    verb: 'apply',
    run: () => {
      if (failures-- > 0)
        return Promise.reject(Object.assign(new Error('boom'), { code: 500, body: '', headers: {} }));
      log.push(what);
      return Promise.resolve();
    },
  };
};

describe('WriteQueue', () => {
  it('writes only the latest of several writes for one key, keys in the order they became dirty', async () => {
    const { q, c } = queue();
    const log: string[] = [];
    q.set('a', write(log, 'a1'));
    q.set('b', write(log, 'b1'));
    q.set('a', write(log, 'a2'));
    q.set('a', write(log, 'a3'));
    q.set('c', write(log, 'c1'));
    await q.drain(1000);
    expect(log).toEqual(['a3', 'b1', 'c1']);
    expect(c).toMatchObject({ success: 3, coalesced: 2, failure: 0 });
  });

  it('waits for the batch window before writing', async () => {
    const { q } = queue({ batchDelayMs: 100 });
    const log: string[] = [];
    q.set('a', write(log, 'a'));
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual([]);
    await new Promise((r) => setTimeout(r, 150));
    expect(log).toEqual(['a']);
  });

  it('retries a failed write with backoff and succeeds', async () => {
    const { q, c } = queue({ batchDelayMs: 0 });
    const log: string[] = [];
    q.set('a', write(log, 'a', 2));
    await new Promise((r) => setTimeout(r, 200));
    expect(log).toEqual(['a']);
    expect(c).toMatchObject({ failure: 2, success: 1, dropped: 0 });
  });

  it('a newer write replaces one waiting for its retry', async () => {
    const { q } = queue({ batchDelayMs: 0, retryMs: 50 });
    const log: string[] = [];
    q.set('a', write(log, 'old', 5));
    await new Promise((r) => setTimeout(r, 10));
    q.set('a', write(log, 'new'));
    await new Promise((r) => setTimeout(r, 150));
    expect(log).toEqual(['new']);
  });

  it('gives up after maxAttempts and counts the drop', async () => {
    const { q, c } = queue({ batchDelayMs: 0, maxAttempts: 3 });
    const log: string[] = [];
    q.set('a', write(log, 'a', 100));
    await new Promise((r) => setTimeout(r, 200));
    expect(c).toMatchObject({ failure: 3, dropped: 1, success: 0 });
    expect(q.size).toBe(0);
  });

  it('never sends more than the bucket allows', async () => {
    const { q } = queue({ batchDelayMs: 0, limiter: new TokenBucket({ qps: 20, burst: 2 }) });
    const log: string[] = [];
    const start = Date.now();
    for (let i = 0; i < 8; i++) q.set(`k${i}`, write(log, `k${i}`));
    await q.drain(5000);
    expect(log).toHaveLength(8);
    // 2 at once, then 6 more at 20/s: at least 300 ms.
    expect(Date.now() - start).toBeGreaterThanOrEqual(280);
  });

  it('drain with stop drops what is left and refuses later writes', async () => {
    const { q, c } = queue({ batchDelayMs: 0, retryMs: 10_000, maxRetryMs: 10_000 });
    const log: string[] = [];
    q.set('a', write(log, 'a', 1));
    await new Promise((r) => setTimeout(r, 20));
    await q.drain(30, true);
    q.set('b', write(log, 'b'));
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual([]);
    expect(c.dropped).toBe(1);
  });
});
