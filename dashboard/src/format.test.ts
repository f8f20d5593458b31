import { describe, expect, it } from 'vitest';
import { absolute, duration, expiry, goDuration, relative, shortHex } from './format.js';

describe('format', () => {
  it.each([
    [0, '0s'],
    [999, '1s'],
    [45_000, '45s'],
    [133_000, '2m 13s'],
    [3_600_000, '1h'],
    [3_660_000, '1h 1m'],
    [4 * 86_400_000 + 3 * 3_600_000 + 59_000, '4d 3h'],
  ])('duration(%i) = %s', (ms, want) => expect(duration(ms)).toBe(want));

  it('says which side of now a time is', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(relative('2030-01-01T00:02:13Z', now)).toBe('in 2m 13s');
    expect(relative('2029-12-31T23:59:55Z', now)).toBe('5s ago');
    expect(relative(undefined, now)).toBe('—');
    expect(expiry('2030-01-01T00:00:30Z', now)).toBe('expires in 30s');
    expect(expiry('2029-12-31T23:00:00Z', now)).toBe('expired 1h ago');
    expect(expiry(undefined, now)).toBe('no certificate');
  });

  it('prints absolute times in UTC, serials short, durations Go-style', () => {
    expect(absolute('2030-01-01T12:34:56.789Z')).toBe('2030-01-01 12:34:56 UTC');
    expect(shortHex('691139fa2ac955ee09f819cd52078b29')).toBe('6911…8b29');
    expect(shortHex('abc')).toBe('abc');
    expect(goDuration(90)).toBe('1m30s');
    expect(goDuration(604800)).toBe('168h');
    expect(goDuration(0)).toBe('0s');
  });
});
