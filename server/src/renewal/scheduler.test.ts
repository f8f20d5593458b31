import { afterEach, describe, expect, it, vi } from 'vitest';
import { RenewalScheduler } from './scheduler.js';

afterEach(() => vi.useRealTimers());

describe('RenewalScheduler', () => {
  it('runs handlers when due, in order, with one armed timer', async () => {
    vi.useFakeTimers({ now: 0 });
    const ran: string[] = [];
    const s = new RenewalScheduler(async (k) => void ran.push(k), { concurrency: 4 });
    s.schedule('b', new Date(2000));
    s.schedule('a', new Date(1000));
    s.schedule('c', new Date(60_000));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2500);
    expect(ran).toEqual(['a', 'b']);
    expect(s.size).toBe(1);
    s.cancel('c');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ran).toEqual(['a', 'b']);
  });

  it('limits concurrency', async () => {
    vi.useFakeTimers({ now: 0 });
    let running = 0;
    let peak = 0;
    const s = new RenewalScheduler(
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 100));
        running--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) s.schedule(`v${i}`, new Date(10));
    await vi.advanceTimersByTimeAsync(5000);
    expect(peak).toBe(3);
  });

  it('reports a failing handler and keeps going', async () => {
    vi.useFakeTimers({ now: 0 });
    const errors: string[] = [];
    const ran: string[] = [];
    const s = new RenewalScheduler(
      async (k) => {
        if (k === 'bad') throw new Error('boom');
        ran.push(k);
      },
      { concurrency: 1, onError: (k) => errors.push(k) },
    );
    s.schedule('bad', new Date(1));
    s.schedule('good', new Date(2));
    await vi.advanceTimersByTimeAsync(10);
    expect(errors).toEqual(['bad']);
    expect(ran).toEqual(['good']);
  });
});
