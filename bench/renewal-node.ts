/**
 * The node side of the renewal benchmark, run as a process of its own (renewal.bench.ts bundles it
 * and starts it with the pinned Node, with an IPC channel): the real node role — CSI socket, state
 * store, one scheduler, renewal service, trust bundle, metrics — configured from the environment like
 * `csi-cert-driver node`, but over DirectoryPlatform on a tmpfs directory instead of a tmpfs mount per
 * volume: 10,000 mounts would measure the kernel's mount table, not the driver. Files are swapped by
 * the same `..data` writer as on the Linux adapter.
 *
 * It times every renewal the scheduler starts: lateness = start minus the volume's nextRenewalAt.
 * IPC: the parent sends 'stats' and gets back a NodeStats message, 'monitor' to start sampling the
 * event-loop delay, 'exit' to stop the role. BENCH_SCRAPE_MS > 0 scrapes the node's metrics that
 * often, as Prometheus would (the per-volume expiry series cost memory only while scraped).
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DirectoryPlatform } from '@csi-cert-driver/platform-linux';
import { createLogger } from '../server/src/common/logger.js';
import { loadNodeConfig } from '../server/src/config/config.js';
import { startNodeRole } from '../server/src/roles/node.role.js';

export interface NodeStats {
  /** Lateness of every renewal started so far, ms (start − nextRenewalAt). */
  lateness: number[];
  renewed: number;
  failed: number;
  tracked: number;
  /** Event-loop delay since the last 'stats' (0 until 'monitor'), ms. */
  loopDelayP99: number;
  loopDelayMax: number;
  heapUsedMiB: number;
  rssMiB: number;
  /** Metrics scrapes done so far (BENCH_SCRAPE_MS). */
  scrapes: number;
}

const cfg = loadNodeConfig([], process.env);
const logger = createLogger({ level: cfg.logLevel, role: 'node' });
const node = await startNodeRole(cfg, logger, {
  platform: new DirectoryPlatform({ dataRoot: join(cfg.certBasePath, 'mounts') }),
});

const due = new Map<string, number>();
let renewed = 0;
let failed = 0;
node.listeners.add((id, state) => {
  if (state?.nextRenewalAt) due.set(id, Date.parse(state.nextRenewalAt));
  else due.delete(id);
  const last = state?.history.at(-1);
  if (last?.kind === 'renew') {
    if (last.outcome === 'success') renewed++;
    else failed++;
  }
});

const lateness: number[] = [];
const renew = node.renewal.renew.bind(node.renewal);
node.renewal.renew = async (volumeId: string): Promise<void> => {
  const at = due.get(volumeId);
  if (at !== undefined && !node.manager.lifecycle.isBusy(volumeId)) lateness.push(Date.now() - at);
  return renew(volumeId);
};

const scrapeMs = Number(process.env.BENCH_SCRAPE_MS ?? 0);
let scrapes = 0;
if (scrapeMs > 0) {
  setInterval(() => {
    void node.metrics.scrape().then(() => scrapes++);
  }, scrapeMs).unref();
}

// Enabled by the parent for the renewal wave only: its 10 ms sampling timer would count as idle CPU.
const loop = monitorEventLoopDelay({ resolution: 10 });

process.on('message', (msg) => {
  if (msg === 'stats') {
    const mem = process.memoryUsage();
    const stats: NodeStats = {
      lateness,
      renewed,
      failed,
      tracked: node.renewal.scheduler.size,
      loopDelayP99: loop.percentile(99) / 1e6,
      loopDelayMax: loop.max / 1e6,
      heapUsedMiB: mem.heapUsed / 2 ** 20,
      rssMiB: mem.rss / 2 ** 20,
      scrapes,
    };
    loop.reset();
    process.send?.(stats);
  } else if (msg === 'monitor') {
    loop.enable();
  } else if (msg === 'exit') {
    void node.close().finally(() => process.exit(0));
  }
});
process.send?.('ready');
