import { describe, expect, it } from 'vitest';
import { backoffMs, renewalTime } from './renewal-policy.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const hours = (h: number) => new Date(t0.getTime() + h * 3600_000);

describe('renewalTime', () => {
  it.each([
    { name: '20% of 7 days left, no jitter', renewBefore: undefined, random: 0, want: hours(168 - 33.6) },
    { name: 'renew-before 24h, no jitter', renewBefore: 24 * 3600, random: 0, want: hours(168 - 24) },
    {
      name: 'max jitter moves 10% of the window earlier',
      renewBefore: 24 * 3600,
      random: 1,
      want: hours(168 - 24 - 2.4),
    },
    {
      name: 'renew-before longer than the lifetime is clamped',
      renewBefore: 1000 * 3600,
      random: 0,
      want: t0,
    },
  ])('$name', ({ renewBefore, random, want }) => {
    expect(renewalTime(t0, hours(168), renewBefore, () => random).getTime()).toBeCloseTo(want.getTime(), -1);
  });

  it('never schedules after 80% of the lifetime by default', () => {
    for (let i = 0; i < 100; i++) {
      expect(renewalTime(t0, hours(10), undefined).getTime()).toBeLessThanOrEqual(hours(8).getTime());
    }
  });
});

describe('backoffMs', () => {
  it.each([
    [1, 750, 1250],
    [2, 1500, 2500],
    [5, 12_000, 20_000],
    [30, 225_000, 375_000],
  ])('failure %i is between %i and %i ms', (n, lo, hi) => {
    expect(backoffMs(n, () => 0)).toBeGreaterThanOrEqual(lo);
    expect(backoffMs(n, () => 1)).toBeLessThanOrEqual(hi);
  });
});
