import { describe, expect, it } from 'vitest';
import { scrollToRow, visibleRange } from './virtual.js';

describe('visibleRange', () => {
  it('renders only the rows in view plus the overscan, for 5,000 rows', () => {
    const r = visibleRange({
      count: 5000,
      rowHeight: 40,
      scrollTop: 40_000,
      viewportHeight: 480,
      overscan: 5,
    });
    expect(r).toEqual({ start: 995, end: 1018, offsetTop: 995 * 40, totalHeight: 200_000 });
    expect(r.end - r.start).toBeLessThan(30);
  });

  it('clamps at both ends and handles short and empty lists', () => {
    expect(visibleRange({ count: 5000, rowHeight: 40, scrollTop: -10, viewportHeight: 480 }).start).toBe(0);
    const end = visibleRange({ count: 5000, rowHeight: 40, scrollTop: 1e9, viewportHeight: 480 });
    expect(end.end).toBe(5000);
    expect(visibleRange({ count: 3, rowHeight: 40, scrollTop: 0, viewportHeight: 480 })).toMatchObject({
      start: 0,
      end: 3,
    });
    expect(visibleRange({ count: 0, rowHeight: 40, scrollTop: 0, viewportHeight: 480 })).toMatchObject({
      start: 0,
      end: 0,
      totalHeight: 0,
    });
  });

  it('scrolls a row into view only when it is outside', () => {
    expect(scrollToRow({ index: 5, rowHeight: 40, scrollTop: 0, viewportHeight: 480 })).toBeUndefined();
    expect(scrollToRow({ index: 20, rowHeight: 40, scrollTop: 0, viewportHeight: 480 })).toBe(21 * 40 - 480);
    expect(scrollToRow({ index: 2, rowHeight: 40, scrollTop: 400, viewportHeight: 480 })).toBe(80);
  });
});
