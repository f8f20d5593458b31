/**
 * prom-client's default metrics (process and Node.js runtime) for a role's registry, with a
 * `process_start_time_seconds` that is this process's start. prom-client computes that value once,
 * when its module is evaluated; the node and issuer roles start from startup snapshots in which
 * prom-client was evaluated while the blob was built (ADR 26), so its own gauge would report the
 * blob's build time in every process started from it. `process.uptime()` is counted from this
 * process's start, also after a snapshot is deserialized, so the start is derived from it at scrape.
 */
import { Gauge, collectDefaultMetrics, type Registry } from 'prom-client';

export const PROCESS_START_TIME = 'process_start_time_seconds';

/**
 * Sampling period of `nodejs_eventloop_lag_*`. prom-client's default (10 ms) is a timer firing 100
 * times a second: measured at ~0.6 % of a core on an idle node. Once a second costs nothing.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

/** This process's start, in whole seconds since the epoch (prom-client's precision). */
export function processStartSeconds(now = Date.now(), uptimeSeconds = process.uptime()): number {
  return Math.round(now / 1000 - uptimeSeconds);
}

/**
 * Registers prom-client's default metrics in `registry`, its `process_start_time_seconds` replaced
 * by one with the same name and help whose value is computed at each scrape. Once per registry:
 * a second call throws, as prom-client does for any name registered twice.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  registry.removeSingleMetric(PROCESS_START_TIME);
  new Gauge({
    name: PROCESS_START_TIME,
    help: 'Start time of the process since unix epoch in seconds.',
    registers: [registry],
    aggregator: 'omit',
    collect() {
      this.set(processStartSeconds());
    },
  });
}
