import { memo } from 'react';
import type { HistoryEntry, VolumeSummary } from '@csi-cert-driver/api-contract';
import { absolute, duration } from '../format.js';
import { axisFor, position, ticks, timelineRow, WINDOWS, type WindowId } from '../timeline.js';
import { Options } from './Options.js';
import { STATE_GLYPHS } from './StateBadge.js';

interface Props {
  volumes: readonly VolumeSummary[];
  /** Volumes matching the filters, for the "n of m" note. */
  total: number;
  now: number;
  window: WindowId;
  auto: boolean;
  selected: string;
  /** History of the selected volume, when its details are loaded. */
  history?: readonly HistoryEntry[] | undefined;
  onWindow(w: WindowId | 'auto'): void;
  onSelect(volumeId: string): void;
}

const W = 1000;
const LABEL = 190;
const ROW = 26;
const TOP = 22;

/**
 * Certificate lifetimes on a shared axis around "now": a bar from not-before to not-after, a
 * filled dot for each renewal done, a diamond for the next one planned, a cross for a failed one.
 */
export const Timeline = memo(function Timeline({
  volumes,
  total,
  now,
  window,
  auto,
  selected,
  history,
  onWindow,
  onSelect,
}: Props) {
  const win = WINDOWS.find((w) => w.id === window)!;
  const axis = axisFor(now, win.ms);
  const rows = volumes.map((v) => timelineRow(v, axis, v.volumeId === selected ? history : undefined));
  const height = TOP + rows.length * ROW + 8;
  const x = (f: number) => LABEL + f * (W - LABEL - 10);
  const nowX = x(position(axis, now));
  return (
    <section className="timeline" aria-labelledby="timeline-title">
      <div className="section-head">
        <h2 id="timeline-title">Certificate lifetimes</h2>
        <p className="hint">
          {rows.length < total ? `The ${rows.length} soonest to expire of ${total}. ` : ''}
          <span aria-hidden="true">● </span>renewed <span aria-hidden="true">◆ </span>next renewal{' '}
          <span aria-hidden="true">✕ </span>renewal failed
        </p>
        <label>
          Window
          <select
            value={auto ? 'auto' : window}
            onChange={(e) => onWindow(e.target.value as WindowId | 'auto')}
          >
            <option value="auto">Auto ({win.label})</option>
            <Options items={WINDOWS} />
          </select>
        </label>
      </div>
      {rows.length === 0 ? (
        <p className="empty">No certificates to show.</p>
      ) : (
        <svg
          viewBox={`0 0 ${W} ${height}`}
          role="img"
          aria-label={`Timeline of ${rows.length} certificate lifetimes over ${win.label}`}
          data-testid="timeline"
        >
          {ticks(axis, now).map((t) => (
            <g key={t.offset} className="tick">
              <line x1={x(t.x)} x2={x(t.x)} y1={TOP - 4} y2={height} />
              <text x={x(t.x)} y={12} textAnchor="middle">
                {t.offset < 0 ? '−' : '+'}
                {duration(Math.abs(t.offset))}
              </text>
            </g>
          ))}
          {rows.map((r, i) => {
            const y = TOP + i * ROW;
            return (
              <g
                key={r.volumeId}
                className={`trow trow-${r.state} ${r.volumeId === selected ? 'selected' : ''}`}
                data-volume-id={r.volumeId}
                onClick={() => onSelect(r.volumeId)}
              >
                <text x={4} y={y + 16} className="tlabel">
                  {STATE_GLYPHS[r.state]} {r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label}
                </text>
                {r.bar && (
                  <rect
                    x={x(r.bar.x0)}
                    y={y + 5}
                    width={Math.max(2, x(r.bar.x1) - x(r.bar.x0))}
                    height={14}
                    rx={3}
                    className="tbar"
                  >
                    <title>
                      {r.label}: certificate valid {r.bar.clippedStart ? 'since before the window' : ''}
                      {r.bar.clippedEnd ? ' until after the window' : ''}
                    </title>
                  </rect>
                )}
                {r.bar?.clippedEnd && (
                  <text x={x(1) - 2} y={y + 16} textAnchor="end" className="tclip">
                    ›
                  </text>
                )}
                {r.marks.map((m) => {
                  const mx = x(m.x);
                  const cy = y + 12;
                  const label = `${m.label} ${absolute(new Date(m.at).toISOString())}`;
                  if (m.kind === 'next-renewal')
                    return (
                      <path
                        key={`${m.kind}${m.at}`}
                        d={`M${mx} ${cy - 7} L${mx + 6} ${cy} L${mx} ${cy + 7} L${mx - 6} ${cy} Z`}
                        className="tmark tnext"
                      >
                        <title>{label}</title>
                      </path>
                    );
                  if (m.kind === 'renewal-failed')
                    return (
                      <path
                        key={`${m.kind}${m.at}`}
                        d={`M${mx - 5} ${cy - 5} L${mx + 5} ${cy + 5} M${mx + 5} ${cy - 5} L${mx - 5} ${cy + 5}`}
                        className="tmark tfail"
                      >
                        <title>{label}</title>
                      </path>
                    );
                  return (
                    <circle key={`${m.kind}${m.at}`} cx={mx} cy={cy} r={4.5} className="tmark tdone">
                      <title>{label}</title>
                    </circle>
                  );
                })}
              </g>
            );
          })}
          <line x1={nowX} x2={nowX} y1={TOP - 6} y2={height} className="tnow" />
          <text x={nowX + 4} y={TOP - 8} className="tnow-label">
            now
          </text>
        </svg>
      )}
    </section>
  );
});
