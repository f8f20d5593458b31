import { memo, useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { SortKey, VolumeSummary } from '@csi-cert-driver/api-contract';
import { absolute, expiry, relative, shortHex } from '../format.js';
import { scrollToRow, visibleRange } from '../virtual.js';
import { StateBadge } from './StateBadge.js';

export const ROW_HEIGHT = 40;

interface Props {
  rows: readonly VolumeSummary[];
  now: number;
  selected: string;
  sort: SortKey;
  showNode: boolean;
  onSelect(volumeId: string): void;
  onSort(sort: SortKey): void;
}

const COLUMNS: { id: string; label: string; sort?: [SortKey, SortKey] }[] = [
  { id: 'state', label: 'State', sort: ['state', 'state'] },
  { id: 'pod', label: 'Pod', sort: ['name', '-name'] },
  { id: 'expires', label: 'Expires', sort: ['expiry', '-expiry'] },
  { id: 'renewal', label: 'Next renewal' },
  { id: 'renewals', label: 'Renewals' },
  { id: 'serial', label: 'Serial' },
];

/**
 * The volume table, virtualised: only the rows in view (plus a few) are in the DOM, so 5,000 rows
 * scroll and filter as fast as 50. Rows are focusable; Enter opens the details, arrows move.
 */
export const VolumeTable = memo(function VolumeTable({
  rows,
  now,
  selected,
  sort,
  showNode,
  onSelect,
  onSort,
}: Props) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);

  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const range = visibleRange({
    count: rows.length,
    rowHeight: ROW_HEIGHT,
    scrollTop,
    viewportHeight: height,
  });

  const focusRow = useCallback(
    (index: number) => {
      const el = viewport.current;
      const v = rows[index];
      if (!el || !v) return;
      const top = scrollToRow({
        index,
        rowHeight: ROW_HEIGHT,
        scrollTop: el.scrollTop,
        viewportHeight: el.clientHeight,
      });
      if (top !== undefined) el.scrollTop = top;
      onSelect(v.volumeId);
      requestAnimationFrame(() =>
        el.querySelector<HTMLElement>(`[data-volume-id="${CSS.escape(v.volumeId)}"]`)?.focus(),
      );
    },
    [rows, onSelect],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>, index: number) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(rows[index]!.volumeId);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focusRow(Math.min(rows.length - 1, Math.max(0, index + (e.key === 'ArrowDown' ? 1 : -1))));
    }
  };

  const cols = showNode
    ? [...COLUMNS.slice(0, 2), { id: 'node', label: 'Node' }, ...COLUMNS.slice(2)]
    : COLUMNS;
  return (
    <div
      className={`vtable ${showNode ? 'with-node' : ''}`}
      role="table"
      aria-label="Mounted volumes"
      aria-rowcount={rows.length + 1}
    >
      <div className="vrow vhead" role="row" aria-rowindex={1}>
        {cols.map((c) => {
          const active = c.sort && (sort === c.sort[0] || sort === c.sort[1]);
          const ariaSort = active ? (sort.startsWith('-') ? 'descending' : 'ascending') : undefined;
          return (
            <div key={c.id} role="columnheader" aria-sort={ariaSort} className={`cell cell-${c.id}`}>
              {c.sort ? (
                <button
                  type="button"
                  className="sort"
                  onClick={() => onSort(sort === c.sort![0] ? c.sort![1] : c.sort![0])}
                >
                  {c.label}
                  <span aria-hidden="true">{active ? (sort.startsWith('-') ? ' ▼' : ' ▲') : ''}</span>
                </button>
              ) : (
                c.label
              )}
            </div>
          );
        })}
      </div>
      <div
        className="vbody"
        ref={viewport}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        data-testid="volume-rows"
      >
        <div style={{ height: range.totalHeight, position: 'relative' }}>
          {rows.slice(range.start, range.end).map((v, i) => {
            const index = range.start + i;
            return (
              <div
                key={v.volumeId}
                role="row"
                aria-rowindex={index + 2}
                aria-selected={v.volumeId === selected}
                tabIndex={0}
                className={`vrow ${v.volumeId === selected ? 'selected' : ''}`}
                style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
                data-volume-id={v.volumeId}
                data-state={v.state}
                onClick={() => onSelect(v.volumeId)}
                onKeyDown={(e) => onKeyDown(e, index)}
              >
                <div role="cell" className="cell cell-state">
                  <StateBadge state={v.state} />
                </div>
                <div role="cell" className="cell cell-pod" title={v.stateReason}>
                  <span className="ns">{v.pod.namespace}/</span>
                  {v.pod.name}
                </div>
                {showNode && (
                  <div role="cell" className="cell cell-node">
                    {v.nodeId}
                  </div>
                )}
                <div role="cell" className="cell cell-expires" title={absolute(v.certificate?.notAfter)}>
                  {v.phase === 'publish-failing' ? 'publish failing' : expiry(v.certificate?.notAfter, now)}
                </div>
                <div role="cell" className="cell cell-renewal" title={absolute(v.nextRenewalAt)}>
                  {v.phase === 'publish-failing'
                    ? 'kubelet retrying'
                    : v.autoRenew
                      ? relative(v.nextRenewalAt, now)
                      : 'auto-renew off'}
                </div>
                <div role="cell" className="cell cell-renewals">
                  {v.renewals}
                </div>
                <div role="cell" className="cell cell-serial mono" title={v.certificate?.serialHex}>
                  {shortHex(v.certificate?.serialHex)}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
});
