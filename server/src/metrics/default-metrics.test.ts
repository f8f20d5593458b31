import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROCESS_START_TIME, collectProcessMetrics } from './default-metrics.js';
import { IssuerMetrics } from './issuer-metrics.js';
import { NodeMetrics } from './node-metrics.js';

/** The values of every `process_start_time_seconds` sample in a scrape. */
async function startTimes(registry: Registry): Promise<number[]> {
  const text = await registry.metrics();
  expect(text.match(new RegExp(`^# HELP ${PROCESS_START_TIME} `, 'gm'))).toHaveLength(1);
  expect(text.match(new RegExp(`^# TYPE ${PROCESS_START_TIME} gauge$`, 'gm'))).toHaveLength(1);
  return [...text.matchAll(new RegExp(`^${PROCESS_START_TIME}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) =>
    Number(m[1]),
  );
}

const registries: [string, () => Registry][] = [
  [
    'a bare registry',
    () => {
      const r = new Registry();
      collectProcessMetrics(r);
      return r;
    },
  ],
  ['the node role', () => new NodeMetrics().registry],
  ['the issuer role', () => new IssuerMetrics().registry],
];

describe('process_start_time_seconds', () => {
  afterEach(() => vi.useRealTimers());

  it.each(registries)(
    '%s: exactly one sample, this process’s start computed at the scrape',
    async (_, make) => {
      const registry = make();
      // The clock an hour on, as for a process started from a blob built an hour before: a value
      // fixed when prom-client was evaluated would be an hour behind.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 3600_000);
      const expected = Date.now() / 1000 - process.uptime();
      const values = await startTimes(registry);
      expect(values).toHaveLength(1);
      expect(Math.abs(values[0]! - expected)).toBeLessThanOrEqual(2);
      expect(registry.getSingleMetric(PROCESS_START_TIME)).toBeDefined();
    },
  );

  it('registers once per registry: a second call throws', () => {
    const r = new Registry();
    collectProcessMetrics(r);
    expect(() => collectProcessMetrics(r)).toThrow(/already been registered/);
  });
});
