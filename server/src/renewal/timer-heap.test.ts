import { describe, expect, it } from 'vitest';
import { TimerHeap } from './timer-heap.js';

describe('TimerHeap', () => {
  it('pops due keys earliest first and keeps later ones', () => {
    const h = new TimerHeap();
    h.set('c', 30);
    h.set('a', 10);
    h.set('b', 20);
    h.set('d', 40);
    expect(h.popDue(25)).toEqual(['a', 'b']);
    expect(h.size).toBe(2);
    expect(h.peek()).toBe(30);
  });

  it('moves a rescheduled key and forgets a deleted one', () => {
    const h = new TimerHeap();
    h.set('a', 10);
    h.set('b', 20);
    h.set('a', 50);
    h.delete('b');
    expect(h.popDue(30)).toEqual([]);
    expect(h.popDue(50)).toEqual(['a']);
    expect(h.size).toBe(0);
    expect(h.peek()).toBeUndefined();
  });

  it('stays ordered over many random operations', () => {
    const h = new TimerHeap();
    const want = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const k = `k${i % 700}`;
      const at = Math.floor(Math.random() * 10_000);
      h.set(k, at);
      want.set(k, at);
    }
    const got = h.popDue(10_000);
    const ordered = [...want.entries()].sort((x, y) => x[1] - y[1]).map(([, at]) => at);
    expect(got.map((k) => want.get(k))).toEqual(ordered);
  });
});
