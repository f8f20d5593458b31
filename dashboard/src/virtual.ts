/** Which rows a virtualised list renders. Pure. */
export interface VisibleRange {
  /** First rendered row (inclusive). */
  start: number;
  /** Last rendered row (exclusive). */
  end: number;
  /** Offset of the first rendered row from the top of the list, in pixels. */
  offsetTop: number;
  /** Height of the whole list, in pixels. */
  totalHeight: number;
}

export function visibleRange(p: {
  count: number;
  rowHeight: number;
  scrollTop: number;
  viewportHeight: number;
  overscan?: number;
}): VisibleRange {
  const overscan = p.overscan ?? 6;
  const totalHeight = p.count * p.rowHeight;
  const maxTop = Math.max(0, totalHeight - p.viewportHeight);
  const top = Math.min(Math.max(0, p.scrollTop), maxTop);
  const first = Math.floor(top / p.rowHeight);
  const visible = Math.ceil(p.viewportHeight / p.rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(p.count, first + visible + overscan);
  return { start, end, offsetTop: start * p.rowHeight, totalHeight };
}

/** The scrollTop that brings row `index` into view, or undefined when it already is. */
export function scrollToRow(p: {
  index: number;
  rowHeight: number;
  scrollTop: number;
  viewportHeight: number;
}): number | undefined {
  const top = p.index * p.rowHeight;
  if (top < p.scrollTop) return top;
  if (top + p.rowHeight > p.scrollTop + p.viewportHeight) return top + p.rowHeight - p.viewportHeight;
  return undefined;
}
