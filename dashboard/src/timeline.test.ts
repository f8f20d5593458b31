import { describe, expect, it } from 'vitest';
import type { VolumeSummary } from '@csi-cert-driver/api-contract';
import { autoWindow, axisFor, ticks, timelineRow } from './timeline.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const at = (s: number) => new Date(NOW + s * 1000).toISOString();

const vol = (notBefore: number, notAfter: number, extra: Partial<VolumeSummary> = {}): VolumeSummary => ({
  volumeId: 'v',
  nodeId: 'n',
  pod: { namespace: 'ns', name: 'p', uid: 'u', serviceAccount: 'sa' },
  targetPath: '/t',
  phase: 'published',
  state: 'healthy',
  stateReason: '',
  issuer: 'built-in',
  files: { certificate: 'tls.crt', privateKey: 'tls.key' },
  certificate: { serialHex: 'a', notBefore: at(notBefore), notAfter: at(notAfter), issuedAt: at(notBefore) },
  autoRenew: true,
  failures: 0,
  renewals: 0,
  createdAt: at(-3600),
  ...extra,
});

describe('timeline geometry', () => {
  const axis = axisFor(NOW, 600_000); // 10 minutes: 2.5 before now, 7.5 after

  it('places now a quarter into the window', () => {
    expect(axis).toEqual({ from: NOW - 150_000, to: NOW + 450_000 });
  });

  it('draws a lifetime bar with the next renewal and the last one', () => {
    const r = timelineRow(vol(-30, 30, { nextRenewalAt: at(0), lastRenewalAt: at(-30) }), axis);
    expect(r.bar).toEqual({ x0: 0.2, x1: 0.3, clippedStart: false, clippedEnd: false });
    expect(r.marks.map((m) => [m.kind, m.x])).toEqual([
      ['renewed', 0.2],
      ['next-renewal', 0.25],
    ]);
  });

  it('clips a long lifetime and marks the clipping', () => {
    expect(timelineRow(vol(-3600, 7 * 86400), axis).bar).toEqual({
      x0: 0,
      x1: 1,
      clippedStart: true,
      clippedEnd: true,
    });
  });

  it('draws no bar for a certificate outside the window or a failing publish', () => {
    expect(timelineRow(vol(-7200, -3600), axis).bar).toBeUndefined();
    const { certificate: _c, ...noCert } = vol(0, 1);
    expect(timelineRow(noCert, axis).bar).toBeUndefined();
  });

  it('uses the full history when given: every renewal, failed ones too', () => {
    const r = timelineRow(vol(-30, 30), axis, [
      { at: at(-120), kind: 'issue', outcome: 'success' },
      { at: at(-90), kind: 'renew', outcome: 'success' },
      { at: at(-60), kind: 'renew', outcome: 'failure' },
      { at: at(-30), kind: 'renew', outcome: 'success' },
      { at: at(-3600), kind: 'renew', outcome: 'success' },
    ]);
    expect(r.marks.map((m) => m.kind)).toEqual(['renewed', 'renewal-failed', 'renewed']);
  });

  it('puts ticks at round steps from now, never on now', () => {
    const t = ticks(axis, NOW);
    expect(t.map((x) => x.offset / 60_000)).toEqual([-2, 2, 4, 6]);
    expect(t.every((x) => x.x >= 0 && x.x <= 1)).toBe(true);
  });

  it('picks the smallest window that holds the shortest lifetime', () => {
    expect(autoWindow([vol(0, 60), vol(0, 86400)])).toBe('10m');
    expect(autoWindow([vol(0, 3600)])).toBe('1d');
    expect(autoWindow([vol(0, 7 * 86400)])).toBe('30d');
    expect(autoWindow([])).toBe('30d');
  });
});
