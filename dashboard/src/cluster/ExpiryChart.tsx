import { memo } from 'react';
import type { ExpiryHistogram } from '@csi-cert-driver/api-contract';
import { absolute } from '../format.js';

const W = 1300;
const H = 180;
const PAD = 24;

/**
 * The expiry distribution: per time bucket, certificates expiring (bars) and renewals planned
 * (thinner bars in front), so renewal waves stand out. Each bar has a text title; the totals of
 * expired and later certificates are said in words.
 */
export const ExpiryChart = memo(function ExpiryChart({ h }: { h: ExpiryHistogram }) {
  const n = h.buckets.length || 1;
  const max = Math.max(1, ...h.buckets.map((b) => Math.max(b.expiring, b.renewals)));
  const bw = (W - PAD) / n;
  const y = (v: number) => H - PAD - (v / max) * (H - 2 * PAD);
  const ticks = h.buckets.filter((_, i) => i % Math.max(1, Math.ceil(n / 6)) === 0);
  const peak = h.buckets.reduce((a, b) => (b.renewals > a.renewals ? b : a), h.buckets[0]!);
  return (
    <section className="cv-panel cv-wide" aria-labelledby="expiry-title" data-testid="expiry-chart">
      <h2 id="expiry-title">Expiry distribution</h2>
      <p className="muted">
        {h.expired > 0 && (
          <span className="cv-warn" data-testid="expired-count">
            ✕ {h.expired} expired ·{' '}
          </span>
        )}
        buckets of {Math.round(h.bucketSeconds / 60)} min until {absolute(h.to)}
        {h.later > 0 && <> · {h.later} later</>}
        {peak && peak.renewals > 0 && (
          <>
            {' '}
            · busiest renewal wave: <strong data-testid="renewal-peak">{peak.renewals}</strong> at{' '}
            {absolute(peak.start)}
          </>
        )}
      </p>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="cv-chart"
        role="img"
        aria-label="certificates expiring and renewals planned over time"
      >
        <line x1={PAD} x2={W} y1={H - PAD} y2={H - PAD} className="axis" />
        {h.buckets.map((b, i) => (
          <g key={b.start}>
            <rect
              className="bar-expiring"
              x={PAD + i * bw + 1}
              width={Math.max(1, bw - 2)}
              y={y(b.expiring)}
              height={H - PAD - y(b.expiring)}
            >
              <title>{`${absolute(b.start)}: ${b.expiring} expiring, ${b.renewals} renewals planned`}</title>
            </rect>
            <rect
              className="bar-renewals"
              x={PAD + i * bw + bw / 4}
              width={Math.max(1, bw / 2)}
              y={y(b.renewals)}
              height={H - PAD - y(b.renewals)}
            />
          </g>
        ))}
        <text x={2} y={PAD} className="tick">
          {max}
        </text>
        {ticks.map((b) => (
          <text key={b.start} x={PAD + h.buckets.indexOf(b) * bw} y={H - 6} className="tick">
            {absolute(b.start).slice(5, 16)}
          </text>
        ))}
      </svg>
      <p className="legend">
        <span className="key key-expiring" aria-hidden="true" /> expiring{' '}
        <span className="key key-renewals" aria-hidden="true" /> renewals planned
      </p>
    </section>
  );
});
