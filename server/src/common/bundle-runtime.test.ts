import { describe, expect, it } from 'vitest';
import { lazyDateTimeFormat } from './bundle-runtime.js';

describe('lazyDateTimeFormat', () => {
  const date = new Date(Date.UTC(2026, 11, 7, 9, 5, 3));
  it.each<[string, ConstructorParameters<typeof Intl.DateTimeFormat>]>([
    ['no arguments', []],
    [
      'NestJS ConsoleLogger’s options',
      [
        undefined,
        {
          year: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
          day: '2-digit',
          month: '2-digit',
        },
      ],
    ],
    [
      'a locale and a time zone',
      ['de-DE', { timeZone: 'Europe/Berlin', dateStyle: 'full', timeStyle: 'long' }],
    ],
  ])('formats as Intl.DateTimeFormat does: %s', (_, args) => {
    const real = new Intl.DateTimeFormat(...args);
    const lazy = lazyDateTimeFormat(...args);
    expect(lazy.format(date)).toBe(real.format(date));
    // `format` is a bound getter on the real one: it works detached, as callers use it.
    const { format } = lazy;
    expect(format(date)).toBe(real.format(date));
    expect(lazy.formatToParts(date)).toEqual(real.formatToParts(date));
    expect(lazy.resolvedOptions()).toEqual(real.resolvedOptions());
  });
});
