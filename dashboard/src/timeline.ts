/**
 * Geometry of the certificate timeline: a shared time axis around "now", one row per volume with
 * its lifetime bar, renewal points and clipping marks. Pure, so it is tested without a browser.
 */
import type { HistoryEntry, VolumeSummary } from '@csi-cert-driver/api-contract';

export const WINDOWS = [
  { id: '10m', label: '10 minutes', ms: 10 * 60_000 },
  { id: '1h', label: '1 hour', ms: 3_600_000 },
  { id: '1d', label: '1 day', ms: 86_400_000 },
  { id: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: '30 days', ms: 30 * 86_400_000 },
] as const;
export type WindowId = (typeof WINDOWS)[number]['id'];

/** A quarter of the window lies in the past, so recent renewals stay visible. */
export const PAST_FRACTION = 0.25;

export interface Axis {
  from: number;
  to: number;
}

export function axisFor(now: number, windowMs: number): Axis {
  const from = now - windowMs * PAST_FRACTION;
  return { from, to: from + windowMs };
}

/** Position of `t` on the axis as a fraction 0..1 (unclamped). */
export function position(axis: Axis, t: number): number {
  return (t - axis.from) / (axis.to - axis.from);
}

export interface TimelineMark {
  at: number;
  x: number;
  kind: 'renewed' | 'next-renewal' | 'renewal-failed';
  label: string;
}

export interface TimelineRow {
  volumeId: string;
  label: string;
  state: VolumeSummary['state'];
  /** Bar extent as fractions, clamped to 0..1; undefined when the lifetime is outside the window. */
  bar?: { x0: number; x1: number; clippedStart: boolean; clippedEnd: boolean };
  marks: TimelineMark[];
}

const inside = (x: number) => x >= 0 && x <= 1;

/**
 * One timeline row. `history` (from the details endpoint) adds every past renewal; without it the
 * last renewal and the next planned one are shown.
 */
export function timelineRow(v: VolumeSummary, axis: Axis, history?: readonly HistoryEntry[]): TimelineRow {
  const row: TimelineRow = {
    volumeId: v.volumeId,
    label: `${v.pod.namespace}/${v.pod.name}`,
    state: v.state,
    marks: [],
  };
  const c = v.certificate;
  if (c) {
    const a = position(axis, Date.parse(c.notBefore));
    const b = position(axis, Date.parse(c.notAfter));
    if (b >= 0 && a <= 1) {
      row.bar = {
        x0: Math.max(0, a),
        x1: Math.min(1, b),
        clippedStart: a < 0,
        clippedEnd: b > 1,
      };
    }
  }
  const add = (iso: string | undefined, kind: TimelineMark['kind'], label: string) => {
    if (!iso) return;
    const at = Date.parse(iso);
    const x = position(axis, at);
    if (inside(x) && !row.marks.some((m) => m.at === at && m.kind === kind))
      row.marks.push({ at, x, kind, label });
  };
  if (history) {
    for (const e of history) {
      if (e.kind !== 'renew') continue;
      add(
        e.at,
        e.outcome === 'success' ? 'renewed' : 'renewal-failed',
        e.outcome === 'success' ? 'renewed' : 'renewal failed',
      );
    }
  } else {
    add(v.lastRenewalAt, 'renewed', 'renewed');
  }
  add(v.nextRenewalAt, 'next-renewal', 'next renewal');
  row.marks.sort((m, n) => m.at - n.at);
  return row;
}

const TICK_STEPS = [
  10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000,
  43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

/**
 * Axis ticks at whole multiples of a round step before and after `now` (never `now` itself, which
 * has its own line), so their labels ("−2m", "+4m") stay put while time passes.
 */
export function ticks(axis: Axis, now: number, max = 6): { at: number; x: number; offset: number }[] {
  const span = axis.to - axis.from;
  const step = TICK_STEPS.find((s) => span / s <= max) ?? span / max;
  const out: { at: number; x: number; offset: number }[] = [];
  for (let k = -Math.floor((now - axis.from) / step); now + k * step <= axis.to; k++) {
    if (k !== 0) out.push({ at: now + k * step, x: position(axis, now + k * step), offset: k * step });
  }
  return out;
}

/** The smallest window that shows the whole lifetime of the shortest-lived certificate among `volumes`. */
export function autoWindow(volumes: readonly VolumeSummary[]): WindowId {
  let shortest = Infinity;
  for (const v of volumes) {
    if (!v.certificate) continue;
    shortest = Math.min(shortest, Date.parse(v.certificate.notAfter) - Date.parse(v.certificate.notBefore));
  }
  const w = WINDOWS.find((w) => w.ms * (1 - PAST_FRACTION) >= shortest);
  return (w ?? WINDOWS[WINDOWS.length - 1]!).id;
}
