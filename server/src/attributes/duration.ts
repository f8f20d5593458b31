/**
 * Go `time.ParseDuration` syntax (`90s`, `1h30m`, `1.5h`, `720h`), parsed exactly into nanoseconds.
 * Plain numbers without a unit ("3600") and day units ("7d") are rejected, as Go rejects them.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';

const NS_PER_SECOND = 1_000_000_000n;
const MAX_NANOS = (1n << 63n) - 1n;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek mu
  ['ms', 1_000_000n],
  ['s', NS_PER_SECOND],
  ['m', 60n * NS_PER_SECOND],
  ['h', 3600n * NS_PER_SECOND],
]);

const SEGMENT = /^(\d*)(?:\.(\d*))?([^\d.]*)/u;

/**
 * Parses a Go duration into nanoseconds (may be negative or zero). Throws InvalidArgumentError
 * naming `field` with a reason that quotes the input.
 */
export function parseGoDuration(field: string, text: string): bigint {
  const syntax = (detail: string): InvalidArgumentError =>
    new InvalidArgumentError(
      field,
      `must be a Go duration like 24h or 1h30m, got ${quoteValue(text)} (${detail})`,
    );

  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw syntax('empty');

  let total = 0n;
  while (rest !== '') {
    const m = SEGMENT.exec(rest);
    const [whole = '', intPart = '', fracPart, unitText = ''] = m ?? [];
    if (whole === '' || (intPart === '' && !fracPart)) throw syntax('expected a number');
    if (unitText === '') {
      throw syntax(/^\d+$/.test(text) ? 'a unit is required, e.g. s, m or h' : 'missing unit');
    }
    const unit = UNITS.get(unitText);
    if (unit === undefined) {
      const hint = unitText === 'd' ? '; a day is 24h' : '';
      throw syntax(`unknown unit ${quoteValue(unitText)}; use h, m, s, ms, us or ns${hint}`);
    }
    let value = BigInt(intPart === '' ? '0' : intPart) * unit;
    if (fracPart) value += (BigInt(fracPart) * unit) / 10n ** BigInt(fracPart.length);
    total += value;
    if (total > MAX_NANOS) throw syntax('too large');
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/**
 * Parses a Go duration that must be a positive whole number of seconds within [min, max] seconds.
 * Returns seconds.
 */
export function parseDurationSeconds(
  field: string,
  text: string,
  bounds: { min: number; max: number },
): number {
  const nanos = parseGoDuration(field, text);
  if (nanos % NS_PER_SECOND !== 0n) {
    throw new InvalidArgumentError(field, `must be a whole number of seconds, got ${quoteValue(text)}`);
  }
  const seconds = Number(nanos / NS_PER_SECOND);
  if (seconds < bounds.min || seconds > bounds.max) {
    throw new InvalidArgumentError(
      field,
      `must be between ${formatDuration(bounds.min)} and ${formatDuration(bounds.max)}, got ${quoteValue(text)}`,
    );
  }
  return seconds;
}

/** Formats whole seconds compactly in Go syntax: 604800 → "168h", 5400 → "1h30m", 0 → "0s". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return sign + (h ? `${h}h` : '') + (m ? `${m}m` : '') + (s ? `${s}s` : '');
}
