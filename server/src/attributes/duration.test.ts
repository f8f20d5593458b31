import { describe, it, expect } from 'vitest';
import { formatDuration, parseDurationSeconds, parseGoDuration } from './duration.js';
import { catchInvalid } from './test-helpers.js';

const S = 1_000_000_000n;
const F = 'csi.k8s.cert-driver/duration';

describe('parseGoDuration', () => {
  it.each([
    { text: '0', want: 0n },
    { text: '90s', want: 90n * S },
    { text: '1h30m', want: 5400n * S },
    { text: '1.5h', want: 5400n * S },
    { text: '720h', want: 720n * 3600n * S },
    { text: '1h1m1s', want: 3661n * S },
    { text: '-1m', want: -60n * S },
    { text: '+5s', want: 5n * S },
    { text: '100ms', want: 100_000_000n },
    { text: '1us', want: 1_000n },
    { text: '1µs', want: 1_000n },
    { text: '1μs', want: 1_000n },
    { text: '7ns', want: 7n },
    { text: '.5s', want: S / 2n },
    { text: '1.s', want: S },
    { text: '1.1m', want: 66n * S },
    { text: '2562047h47m16.854775807s', want: (1n << 63n) - 1n },
  ])('parses $text', ({ text, want }) => {
    expect(parseGoDuration(F, text)).toBe(want);
  });

  /** Each text parseGoDuration refuses, and a phrase of why. */
  const REFUSED: Record<string, string> = {
    '': 'empty',
    '-': 'empty',
    abc: 'expected a number',
    '.s': 'expected a number',
    '1h-1m': "unknown unit 'h-'",
    '3600': 'a unit is required',
    '1h30': 'missing unit',
    '7d': 'a day is 24h',
    '1x': "unknown unit 'x'",
    '1 h': "unknown unit ' h'",
    '1H': "unknown unit 'H'",
    '2562048h': 'too large',
  };
  it.each(Object.entries(REFUSED))('rejects "%s" (%s)', (text, phrase) => {
    const e = catchInvalid(() => parseGoDuration(F, text));
    expect(e.field).toBe(F);
    expect(e.reason).toContain(`must be a Go duration like 24h or 1h30m, got '${text}'`);
    expect(e.reason).toContain(phrase);
  });
});

describe('parseDurationSeconds', () => {
  const bounds = { min: 60, max: 8760 * 3600 };

  it.each([
    { text: '1m', want: 60 },
    { text: '8760h', want: 31_536_000 },
    { text: '1.5m', want: 90 },
  ])('accepts $text', ({ text, want }) => {
    expect(parseDurationSeconds(F, text, bounds)).toBe(want);
  });

  it.each([
    ...['59s', '8761h', '-1h', '0'].map((text) => ({ text, phrase: 'must be between 1m and 8760h' })),
    { text: '90.5s', phrase: 'whole number of seconds' },
  ])('rejects $text', ({ text, phrase }) => {
    const e = catchInvalid(() => parseDurationSeconds(F, text, bounds));
    expect(e.field).toBe(F);
    expect(e.reason).toContain(phrase);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [61, '1m1s'],
    [3601, '1h1s'],
    [5400, '1h30m'],
    [604_800, '168h'],
    [-60, '-1m'],
  ])('formats %i as %s', (seconds, want) => {
    expect(formatDuration(seconds)).toBe(want);
  });

  it('round-trips through parseGoDuration', () => {
    for (const seconds of [1, 59, 60, 3599, 86_400, 93_784]) {
      expect(parseGoDuration(F, formatDuration(seconds))).toBe(BigInt(seconds) * S);
    }
  });
});
