/**
 * Renewal benchmark (issue 3, "Benchmark"). Four parts, each against real processes:
 *
 *  A. RSA-2048 NodePublishVolume latency with the key pool warm and cold: the issuer and the node as
 *     `bin/csi-cert-driver` processes (real tmpfs mounts), N sequential publishes over the CSI socket
 *     with KEY_POOL_SIZE=0 (every key generated on demand) and with a pool filled before the run. The
 *     warm pool is measured twice: on a node just started, and on one that has first served
 *     WARMUP_ROUNDS ECDSA publish + unpublish rounds, as publish.bench.ts warms its node (V8 optimizes
 *     the publish path over the first thousand or so calls; a node serves for weeks). The target is
 *     checked against the warmed node; the just-started figure is printed next to it.
 *  B. 10,000 tracked volumes with short lifetimes on one node: the issuer process and the node role in
 *     a process of its own (bench/renewal-node.ts, DirectoryPlatform on tmpfs). Volumes are published
 *     over the CSI socket at a steady rate; then, while nothing is due, the node's CPU and memory are
 *     measured; then every volume renews once and the lateness of each renewal (start minus scheduled
 *     time) is collected. The node's metrics are scraped every 15 s, as Prometheus would.
 *  C. The shipped node process (`bin/csi-cert-driver node`, dist/main.mjs with its flags) with no
 *     volume: its RSS, next to part B's node process at the same point, so B's numbers can be read as
 *     the product's (B's bundle holds only the node role).
 *  D. The shipped node process at VOLUMES volumes (issue 3's RSS target for the product itself):
 *     `node dist/main.mjs node` as the Linux image runs it (the Dockerfile's ENV: NODE_ENV, NODE_OPTIONS,
 *     MALLOC_ARENA_MAX; no --enable-source-maps), real tmpfs mounts, VOLUMES ECDSA
 *     volumes published 4 at a time with a short lifetime so that each renews once; /metrics scraped
 *     every 15 s, RSS and CPU read every second: RSS empty, published, idle (with idle CPU), peak in
 *     the renewal wave and after it. Everything is unpublished at the end, and any mount left over is
 *     swept, also on Ctrl-C. `--skip shipped-scale` leaves it out.
 *
 * Prints a Markdown report with the issue's targets marked PASS/MISS; exit status 0 unless something
 * crashed. Needs root (parts A and D mount tmpfs). Run `npx tsx bench/renewal.bench.ts [--quick]` after
 * `npm run build`. Numbers, not assertions: this is not a test.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CsiClient, kubeletPublishRequest } from '../server/src/demo/csi-client.js';
import { sweepMounts } from './lib/cleanup.js';
import {
  driverNodeBinary,
  fmtLoad,
  imageEnv,
  loadNow,
  machineInfo,
  processCpuMs as cpuMs,
  processMemory,
  wakeCostMs,
} from './lib/machine.js';
import { parsePrometheus } from './lib/metrics.js';
import { startDriver, startIssuer } from './lib/processes.js';
import { waitForNodeReady } from '../e2e/support/node-ready.js';
import { freeLoopbackPort } from '../e2e/support/ports.js';
import { fmtMs, pool, summarize, table, timed, type Summary, percentileCells } from './lib/stats.js';
import { KEY_ATTRIBUTES, newVolume } from './lib/volumes.js';
import type { NodeStats } from './renewal-node.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    volumes: { type: 'string' },
    rate: { type: 'string' },
    /** Certificate lifetime of part B in seconds (default 660): longer for a slower --rate. */
    lifetime: { type: 'string' },
    skip: { type: 'string', default: '' },
    /**
     * V8/Node flags for the node process of part B; the default is what bin/csi-cert-driver and the
     * images set (NODE_OPTIONS). `--node-flags=` runs without.
     */
    'node-flags': { type: 'string', default: '--max-semi-space-size=2' },
    /** Seconds between metrics scrapes of part B's node; 0 = none. */
    scrape: { type: 'string', default: '15' },
    /** Certificate lifetime of part D in seconds (default 900, --quick 240). */
    'shipped-lifetime': { type: 'string' },
  },
});
const quick = flags.quick === true;
const VOLUMES = Number(flags.volumes ?? (quick ? 1000 : 10_000));
/** Publishes per second in part B: the renewal wave comes due at the same pace. */
const RATE = Number(flags.rate ?? 25);
const SCRAPE_S = Number(flags.scrape ?? 15);
const RSA_N = quick ? 10 : 40;
/** ECDSA publish + unpublish rounds before the warmed run's RSA publishes (publish.bench.ts: 1,000). */
const WARMUP_ROUNDS = quick ? 100 : 1000;
/**
 * Lifetime and renew-before of part B: each volume is due DURATION − RENEW_BEFORE after its issue
 * (minus jitter), i.e. after all volumes are published and the idle minute is measured.
 */
const DURATION_S = Number(flags.lifetime ?? (quick ? 180 : 660));
const RENEW_BEFORE_S = 60;
const DURATION = `${DURATION_S}s`;
const RENEW_BEFORE = `${RENEW_BEFORE_S}s`;
const TARGET = { latenessP99Ms: 1000, idleCpuPct: 1, rssMiB: 150, warmP50Ms: 10 };

const repoRoot = path.resolve(import.meta.dirname, '..');
const log = (msg: string): void => void process.stderr.write(`[renewal-bench] ${msg}\n`);
const mark = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

/** The node settings every part shares: quiet logs, the run's socket, issuer and state, no HTTP API. */
function nodeEnv(dir: string, sock: string, issuerAddr: string): Record<string, string> {
  return {
    LOG_LEVEL: 'warn',
    CSI_ENDPOINT: `unix://${sock}`,
    NODE_ID: 'bench-node',
    KUBELET_ROOT_DIR: path.join(dir, 'kubelet'),
    CERT_SERVICE_ADDR: issuerAddr,
    CERT_BASE_PATH: path.join(dir, 'base'),
    API_LISTEN_ADDR: 'off',
  };
}

async function metric(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(url)).text();
  const s = parsePrometheus(text).find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value ?? 0;
}

// ---- A. RSA-2048 publish latency, pool warm vs cold ----------------------------------------------

interface PoolRun {
  label: string;
  poolSize: number;
  /** ECDSA publish + unpublish rounds the node served before the measured publishes. */
  warmup: number;
  latency: Summary;
  hits: number;
  misses: number;
}

/** CERT_BASE_PATH on tmpfs, as deployed (docs/configuration.md): state fsyncs then cost no disk I/O. */
const BASE = existsSync('/dev/shm') ? '/dev/shm/ccd-rbench-' : '/tmp/ccd-rbench-';

/** A run's folder under BASE with an issuer of its own, the node's socket path and a free metrics address. */
async function newRun() {
  const dir = await mkdtemp(BASE);
  const issuer = await startIssuer(dir);
  const metricsAddr = `127.0.0.1:${await freeLoopbackPort()}`;
  return {
    dir,
    issuer,
    sock: path.join(dir, 'csi.sock'),
    metricsAddr,
    metricsUrl: `http://${metricsAddr}/metrics`,
  };
}

async function rsaPublishes(poolSize: number, label: string, warmup = 0): Promise<PoolRun> {
  const { dir, issuer, sock, metricsAddr, metricsUrl } = await newRun();
  const node = startDriver({
    dir,
    role: 'node',
    settings: {
      ...nodeEnv(dir, sock, issuer.addr),
      METRICS_LISTEN_ADDR: metricsAddr,
      KEY_POOL_SIZE: String(poolSize),
      KEY_POOL_SHAPES: 'RSA-2048',
    },
  });
  const client = new CsiClient(`unix://${sock}`, 120_000);
  try {
    await waitForNodeReady(node, `unix://${sock}`);
    for (let i = 0; i < warmup; i++) {
      const vol = await newVolume(path.join(dir, 'kubelet'), 'ECDSA');
      await client.call('Node', 'NodePublishVolume', kubeletPublishRequest(vol));
      await client.call('Node', 'NodeUnpublishVolume', {
        volume_id: vol.volumeId,
        target_path: vol.targetPath,
      });
    }
    if (warmup > 0) log(`${label}: ${warmup} ECDSA publish + unpublish rounds served`);
    const rsa = { algorithm: 'RSA', size: '2048' };
    if (poolSize > 0) {
      const started = Date.now();
      while ((await metric(metricsUrl, 'csi_cert_driver_key_pool_keys', rsa)) < poolSize) {
        node.assertAlive();
        await sleep(100);
      }
      log(`${label}: pool of ${poolSize} RSA-2048 keys filled in ${Date.now() - started} ms`);
    }
    const samples: number[] = [];
    for (let i = 0; i < RSA_N; i++) {
      const vol = await newVolume(path.join(dir, 'kubelet'), 'RSA');
      const req = kubeletPublishRequest({ ...vol, attributes: KEY_ATTRIBUTES.RSA });
      const { ms } = await timed(() => client.call('Node', 'NodePublishVolume', req));
      samples.push(ms);
      await client.call('Node', 'NodeUnpublishVolume', {
        volume_id: vol.volumeId,
        target_path: vol.targetPath,
      });
    }
    const take = (result: string) =>
      metric(metricsUrl, 'csi_cert_driver_key_pool_requests_total', { ...rsa, result });
    return {
      label,
      poolSize,
      warmup,
      latency: summarize(samples),
      hits: await take('hit'),
      misses: await take('miss'),
    };
  } finally {
    client.close();
    await node.stop();
    await issuer.proc.stop();
    await sweepMounts(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- B. 10,000 volumes: idle cost and renewal lateness -------------------------------------------

interface ScaleRun {
  /** RSS of part B's node process 5 s after it is ready, no volume yet. */
  emptyRssMiB: number;
  scrapes: number;
  volumes: number;
  publishSeconds: number;
  publish: Summary;
  idleSeconds: number;
  idleCpuPct: number;
  idleRssMiB: number;
  idleHeapMiB: number;
  lateness: Summary;
  renewed: number;
  failed: number;
  waveSeconds: number;
  waveCpuPct: number;
  peakRssMiB: number;
  waveLoopDelayP99: number;
  issuerCpuPct: number;
}

function request(child: ChildProcess): Promise<NodeStats> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as NodeStats));
    child.send('stats');
  });
}

const rssMiB = (pid: number): number => processMemory(pid).rssMiB;

async function scale(): Promise<ScaleRun> {
  const dir = await mkdtemp(BASE);
  const bundle = path.join(repoRoot, 'dist', 'bench', 'renewal-node.mjs');
  await mkdir(path.dirname(bundle), { recursive: true });
  await build({
    entryPoints: [path.join(repoRoot, 'bench', 'renewal-node.ts')],
    // Split as scripts/build.mjs splits dist/: what the node imports on demand stays out of its start.
    outdir: path.dirname(bundle),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    packages: 'external',
    tsconfig: path.join(repoRoot, 'tsconfig.json'),
    logLevel: 'warning',
  });
  const issuer = await startIssuer(dir);
  const sock = path.join(dir, 'csi.sock');
  const child = fork(bundle, [], {
    execPath: driverNodeBinary(repoRoot),
    // Not tsx's loader: the child runs the plain bundle, as the product does.
    execArgv: (flags['node-flags'] ?? '').split(' ').filter(Boolean),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...nodeEnv(dir, sock, issuer.addr),
      BENCH_SCRAPE_MS: String(SCRAPE_S * 1000),
    },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`renewal-node exited ${code}`)));
  });
  const pid = child.pid!;
  await sleep(5_000);
  const emptyRssMiB = rssMiB(pid);
  const client = new CsiClient(`unix://${sock}`, 120_000);
  try {
    // Publish at a steady RATE per second.
    log(`publishing ${VOLUMES} volumes at ${RATE}/s (lifetime ${DURATION}, renew-before ${RENEW_BEFORE})`);
    const t0 = Date.now();
    const latencies: number[] = [];
    const tasks = Array.from({ length: VOLUMES }, (_, i) => async () => {
      const wait = t0 + (i * 1000) / RATE - Date.now();
      if (wait > 0) await sleep(wait);
      const vol = await newVolume(path.join(dir, 'kubelet'), 'ECDSA');
      const req = kubeletPublishRequest({
        ...vol,
        attributes: {
          'csi.k8s.cert-driver/duration': DURATION,
          'csi.k8s.cert-driver/renew-before': RENEW_BEFORE,
        },
      });
      const { ms } = await timed(() => client.call('Node', 'NodePublishVolume', req));
      latencies.push(ms);
      if (i % 1000 === 999) log(`  ${i + 1} published`);
    });
    await pool(tasks, 32);
    const publishSeconds = (Date.now() - t0) / 1000;
    // Jitter moves a renewal up to 10% of renew-before earlier.
    const firstDue = t0 + (DURATION_S - RENEW_BEFORE_S * 1.1) * 1000;

    // Idle: nothing is due until the first renewal; measure CPU and memory in between.
    await sleep(5_000);
    const idleMs = Math.min(60_000, firstDue - Date.now() - 5_000);
    if (idleMs < 10_000)
      throw new Error('publishing took too long to leave an idle window; lower --volumes or --rate');
    log(`idle for ${Math.round(idleMs / 1000)} s with ${VOLUMES} volumes tracked`);
    const c0 = cpuMs(pid);
    await sleep(idleMs);
    const idleCpuPct = ((cpuMs(pid) - c0) / idleMs) * 100;
    const idle = await request(child);
    const idleRssMiB = rssMiB(pid);
    child.send('monitor');

    // The renewal wave: every volume renews once, at the pace it was published.
    const waitMs = firstDue - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    log(`renewal wave: waiting for ${VOLUMES} renewals`);
    const w0 = Date.now();
    const wc0 = cpuMs(pid);
    const ic0 = cpuMs(issuer.proc.pid);
    let peakRssMiB = idleRssMiB;
    let stats = await request(child);
    const deadline = Date.now() + publishSeconds * 1000 + 120_000;
    while (stats.renewed + stats.failed < VOLUMES && Date.now() < deadline) {
      await sleep(1000);
      peakRssMiB = Math.max(peakRssMiB, rssMiB(pid));
      stats = await request(child);
    }
    const waveMs = Date.now() - w0;
    return {
      emptyRssMiB,
      scrapes: stats.scrapes,
      volumes: VOLUMES,
      publishSeconds,
      publish: summarize(latencies),
      idleSeconds: idleMs / 1000,
      idleCpuPct,
      idleRssMiB,
      idleHeapMiB: idle.heapUsedMiB,
      lateness: summarize(stats.lateness),
      renewed: stats.renewed,
      failed: stats.failed,
      waveSeconds: waveMs / 1000,
      waveCpuPct: ((cpuMs(pid) - wc0) / waveMs) * 100,
      peakRssMiB,
      waveLoopDelayP99: stats.loopDelayP99,
      issuerCpuPct: ((cpuMs(issuer.proc.pid) - ic0) / waveMs) * 100,
    };
  } finally {
    client.close();
    child.send('exit');
    await new Promise((r) => child.once('exit', r));
    await issuer.proc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- C. the shipped node process, no volume ------------------------------------------------------

interface ShippedRun {
  rssMiB: number;
  nodeOptions: string;
}

/** `bin/csi-cert-driver node` as shipped (default key pool, metrics off), RSS 10 s after Probe is ready. */
async function shipped(): Promise<ShippedRun> {
  const dir = await mkdtemp(BASE);
  const issuer = await startIssuer(dir);
  const sock = path.join(dir, 'csi.sock');
  const nodeOptions = process.env.NODE_OPTIONS ?? '';
  const node = startDriver({
    dir,
    role: 'node',
    settings: { ...nodeEnv(dir, sock, issuer.addr), ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
  });
  const client = new CsiClient(`unix://${sock}`, 120_000);
  try {
    await waitForNodeReady(node, `unix://${sock}`);
    await sleep(10_000);
    return { rssMiB: rssMiB(node.pid), nodeOptions };
  } finally {
    client.close();
    await node.stop();
    await issuer.proc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- D. the shipped node process at VOLUMES volumes ----------------------------------------------

/** Lifetime of part D's certificates, s: publishing (4 at a time, real mounts) must end ~70 s before. */
const SHIPPED_LIFETIME_S = Number(flags['shipped-lifetime'] ?? (quick ? 240 : 900));
const SHIPPED_CONCURRENCY = 4;
/** What the Linux image sets (Dockerfile): no --enable-source-maps, unlike bin/csi-cert-driver. */
const IMAGE_ENV = imageEnv(repoRoot);

interface ShippedScaleRun {
  volumes: number;
  lifetimeS: number;
  startRssMiB: number;
  publishSeconds: number;
  publish: Summary;
  publishedRssMiB: number;
  publishPeakRssMiB: number;
  idleSeconds: number;
  idleCpuPct: number;
  idleRssMiB: number;
  renewed: number;
  failed: number;
  waveSeconds: number;
  waveCpuPct: number;
  wavePeakRssMiB: number;
  afterRssMiB: number;
  /** The node's memory trims (ADR 15) up to 15 s after the wave: how many, and the time they took. */
  trims: { count: number; seconds: number };
  scrapes: number;
  unpublishSeconds: number;
  leftMounted: number;
  totalSeconds: number;
}

/** Work to undo on Ctrl-C (part D's mounts), run by the SIGINT/SIGTERM handler in main(). */
const onInterrupt = new Set<() => Promise<void>>();

/**
 * `node dist/main.mjs node` as the Linux image runs it, real tmpfs mounts, VOLUMES ECDSA volumes
 * published 4 at a time with a short lifetime, every volume renewed once; RSS and CPU sampled every
 * second, /metrics scraped every 15 s.
 */
async function shippedScale(): Promise<ShippedScaleRun> {
  const began = Date.now();
  const { dir, issuer, sock, metricsAddr, metricsUrl } = await newRun();
  const node = startDriver({
    dir,
    role: 'node',
    command: { file: driverNodeBinary(repoRoot), args: [path.join(repoRoot, 'dist', 'main.mjs'), 'node'] },
    settings: {
      ...IMAGE_ENV,
      ...nodeEnv(dir, sock, issuer.addr),
      METRICS_LISTEN_ADDR: metricsAddr,
    },
  });
  const client = new CsiClient(`unix://${sock}`, 120_000);
  const published: { volume_id: string; target_path: string }[] = [];
  let cleaned = false;
  const cleanup = async (): Promise<number> => {
    if (cleaned) return 0;
    cleaned = true;
    client.close();
    await node.stop();
    await issuer.proc.stop();
    const left = await sweepMounts(dir);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return left.length;
  };
  const interrupted = async (): Promise<void> => void (await cleanup());
  onInterrupt.add(interrupted);

  // RSS and CPU every second; /metrics every 15 s, as Prometheus would.
  let rssNow = 0;
  let peakSince = 0;
  const cpu: { at: number; ms: number }[] = [];
  const sampler = setInterval(() => {
    try {
      rssNow = rssMiB(node.pid);
      peakSince = Math.max(peakSince, rssNow);
      cpu.push({ at: Date.now(), ms: cpuMs(node.pid) });
    } catch {
      // exited: assertAlive() reports it
    }
  }, 1000);
  let scrapes = 0;
  let renewals = { success: 0, failure: 0 };
  let trims = { count: 0, seconds: 0 };
  const scrape = async (): Promise<void> => {
    try {
      const samples = parsePrometheus(await (await fetch(metricsUrl)).text());
      const count = (outcome: string): number =>
        samples.find((x) => x.name === 'csi_cert_driver_renewals_total' && x.labels.outcome === outcome)
          ?.value ?? 0;
      renewals = { success: count('success'), failure: count('failure') };
      const sum = (name: string): number =>
        samples.filter((x) => x.name === name).reduce((a, x) => a + x.value, 0);
      trims = {
        count: sum('csi_cert_driver_memory_trims_total'),
        seconds: sum('csi_cert_driver_memory_trim_seconds_total'),
      };
      scrapes++;
    } catch {
      // a missed scrape is retried in 15 s
    }
  };
  const scraper = setInterval(() => void scrape(), SCRAPE_S * 1000);
  const cpuPct = (from: number, to: number): number => {
    const a = cpu.find((c) => c.at >= from);
    const b = cpu.findLast((c) => c.at <= to);
    return a && b && b.at > a.at ? ((b.ms - a.ms) / (b.at - a.at)) * 100 : NaN;
  };
  try {
    await waitForNodeReady(node, `unix://${sock}`);
    await sleep(10_000);
    const startRssMiB = rssMiB(node.pid);

    const duration = `${SHIPPED_LIFETIME_S}s`;
    log(
      `D: publishing ${VOLUMES} volumes, ${SHIPPED_CONCURRENCY} at a time (lifetime ${duration}, renew-before ${RENEW_BEFORE})`,
    );
    const t0 = Date.now();
    peakSince = 0;
    const latencies: number[] = [];
    const tasks = Array.from({ length: VOLUMES }, (_, i) => async () => {
      const vol = await newVolume(path.join(dir, 'kubelet'), 'ECDSA');
      const req = kubeletPublishRequest({
        ...vol,
        attributes: {
          ...KEY_ATTRIBUTES.ECDSA,
          'csi.k8s.cert-driver/duration': duration,
          'csi.k8s.cert-driver/renew-before': RENEW_BEFORE,
        },
      });
      const { ms } = await timed(() => client.call('Node', 'NodePublishVolume', req));
      published.push({ volume_id: vol.volumeId, target_path: vol.targetPath });
      latencies.push(ms);
      if (i % 1000 === 999) log(`  ${i + 1} published (RSS ${rssNow.toFixed(0)} MiB)`);
    });
    await pool(tasks, SHIPPED_CONCURRENCY);
    const publishSeconds = (Date.now() - t0) / 1000;
    const publishedRssMiB = rssMiB(node.pid);
    const publishPeakRssMiB = Math.max(peakSince, publishedRssMiB);
    // The first volume is due (lifetime − renew-before) after its issue, up to 10% of renew-before earlier.
    const firstDue = t0 + (SHIPPED_LIFETIME_S - RENEW_BEFORE_S * 1.1) * 1000;

    await sleep(5_000);
    const idleMs = Math.min(60_000, firstDue - Date.now() - 5_000);
    let idleCpuPct = NaN;
    let idleRssMiB = NaN;
    if (idleMs >= 10_000) {
      log(`D: idle for ${Math.round(idleMs / 1000)} s with ${VOLUMES} volumes mounted`);
      const i0 = Date.now();
      const c0 = cpuMs(node.pid);
      await sleep(idleMs);
      idleCpuPct = ((cpuMs(node.pid) - c0) / (Date.now() - i0)) * 100;
      idleRssMiB = rssMiB(node.pid);
    } else {
      log('D: publishing left no idle window; raise --shipped-lifetime');
    }

    const waitMs = firstDue - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    log(`D: renewal wave: waiting for ${VOLUMES} renewals (metric csi_cert_driver_renewals_total)`);
    const w0 = Date.now();
    peakSince = rssNow;
    const deadline = w0 + publishSeconds * 1000 + 180_000;
    await scrape();
    while (renewals.success + renewals.failure < VOLUMES && Date.now() < deadline) {
      node.assertAlive();
      await sleep(1000);
    }
    const waveEnd = Date.now();
    const wavePeakRssMiB = peakSince;
    const waveCpuPct = cpuPct(w0, waveEnd);
    await sleep(15_000);
    const afterRssMiB = rssMiB(node.pid);
    const { success: renewed, failure: failed } = renewals;

    await scrape();
    const trimsAfterWave = trims;
    log(`D: unpublishing ${published.length} volumes`);
    const u0 = Date.now();
    await pool(
      published.map((v) => () => client.call('Node', 'NodeUnpublishVolume', v)),
      SHIPPED_CONCURRENCY,
    );
    const unpublishSeconds = (Date.now() - u0) / 1000;
    clearInterval(sampler);
    clearInterval(scraper);
    const leftMounted = await cleanup();
    return {
      volumes: VOLUMES,
      lifetimeS: SHIPPED_LIFETIME_S,
      startRssMiB,
      publishSeconds,
      publish: summarize(latencies),
      publishedRssMiB,
      publishPeakRssMiB,
      idleSeconds: idleMs / 1000,
      idleCpuPct,
      idleRssMiB,
      renewed,
      failed,
      waveSeconds: (waveEnd - w0) / 1000,
      waveCpuPct,
      wavePeakRssMiB,
      afterRssMiB,
      scrapes,
      trims: trimsAfterWave,
      unpublishSeconds,
      leftMounted,
      totalSeconds: (Date.now() - began) / 1000,
    };
  } finally {
    clearInterval(sampler);
    clearInterval(scraper);
    await cleanup();
    onInterrupt.delete(interrupted);
  }
}

// ---- report ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(path.join(repoRoot, 'dist', 'main.mjs'))) throw new Error('run `npm run build` first');
  const machine = machineInfo(repoRoot, existsSync('/dev/shm') ? '/dev/shm' : '/tmp');
  const skip = new Set((flags.skip ?? '').split(',').filter(Boolean));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: unmounting part D's volumes`);
      void Promise.allSettled([...onInterrupt].map((f) => f())).finally(() => process.exit(130));
    });
  }
  const wakeUs = (await wakeCostMs()) * 1000;
  const runs: PoolRun[] = [];
  if (!skip.has('pool')) {
    runs.push(await rsaPublishes(0, 'cold (KEY_POOL_SIZE=0)'));
    runs.push(await rsaPublishes(RSA_N + 10, `warm (KEY_POOL_SIZE=${RSA_N + 10}), just started`));
    runs.push(
      await rsaPublishes(
        RSA_N + 10,
        `warm (KEY_POOL_SIZE=${RSA_N + 10}), after ${WARMUP_ROUNDS.toLocaleString('en')} ECDSA publishes`,
        WARMUP_ROUNDS,
      ),
    );
  }
  const c = skip.has('shipped') ? undefined : await shipped();
  const s = skip.has('scale') ? undefined : await scale();
  const d = skip.has('shipped-scale') ? undefined : await shippedScale();
  const version = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };

  const out: string[] = [];
  out.push(`### Renewal and key pool (csi-cert-driver ${version.version}, ${machine.date.slice(0, 10)})`, '');
  out.push(
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.kernel}; ` +
      `driver on Node ${machine.driverNode}; load average at start ${fmtLoad(machine.loadAtStart)}, ` +
      `at end ${fmtLoad(loadNow())}; CPU per sleep + wake of an idle event loop ${wakeUs.toFixed(0)} µs ` +
      `(machine.ts wakeCostMs). Run: \`${['npx tsx bench/renewal.bench.ts', ...process.argv.slice(2)].join(' ')}\`.`,
    '',
  );
  if (runs.length > 0) {
    out.push(
      `**RSA-2048 publish latency** (${RSA_N} sequential NodePublishVolume over the CSI socket, real tmpfs ` +
        'mounts, CERT_BASE_PATH on tmpfs):',
      '',
    );
    out.push(
      table(
        ['key pool', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'pool hit/miss'],
        runs.map((r) => [r.label, ...percentileCells(r.latency), `${r.hits}/${r.misses}`]),
      ),
      '',
    );
  }
  if (s) {
    out.push(
      `**${s.volumes.toLocaleString('en')} tracked volumes** (ECDSA P-256, lifetime ${DURATION} + 60 s back-dating, ` +
        `renew-before ${RENEW_BEFORE}; published at ${RATE}/s in ${s.publishSeconds.toFixed(0)} s, publish p50 ` +
        `${fmtMs(s.publish.p50)} ms / p99 ${fmtMs(s.publish.p99)} ms; node role in its own process on ` +
        `DirectoryPlatform over tmpfs${flags['node-flags'] ? ` with \`${flags['node-flags']}\`` : ''}, issuer in another):`,
      '',
    );
    out.push(
      table(
        ['measure', 'value'],
        [
          [
            `idle CPU of the node (${s.idleSeconds.toFixed(0)} s, nothing due)`,
            `${s.idleCpuPct.toFixed(2)} %`,
          ],
          [
            'node RSS at idle / heap used',
            `${s.idleRssMiB.toFixed(0)} MiB / ${s.idleHeapMiB.toFixed(0)} MiB`,
          ],
          [`renewals (${s.waveSeconds.toFixed(0)} s wave)`, `${s.renewed} ok, ${s.failed} failed`],
          [
            'renewal lateness p50 / p90 / p99 / max',
            [s.lateness.p50, s.lateness.p90, s.lateness.p99, s.lateness.max].map(fmtMs).join(' / ') + ' ms',
          ],
          [
            'node CPU during the wave / issuer CPU',
            `${s.waveCpuPct.toFixed(1)} % / ${s.issuerCpuPct.toFixed(1)} %`,
          ],
          ['node RSS before the first publish (no volume)', `${s.emptyRssMiB.toFixed(0)} MiB`],
          ['node peak RSS during the wave', `${s.peakRssMiB.toFixed(0)} MiB`],
          [`metrics scrapes (every ${SCRAPE_S} s)`, String(s.scrapes)],
          ['event-loop delay p99 during the wave', `${fmtMs(s.waveLoopDelayP99)} ms`],
        ],
      ),
      '',
    );
  }
  if (c) {
    out.push(
      `**The shipped node process** (\`bin/csi-cert-driver node\`, default key pool, no volume, 10 s after ` +
        `Probe is ready${c.nodeOptions ? `, NODE_OPTIONS=\`${c.nodeOptions}\`` : ''}): RSS ${c.rssMiB.toFixed(0)} MiB.`,
      '',
    );
  }
  if (d) {
    const mib = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${x.toFixed(0)} MiB`);
    out.push(
      `**The shipped node process at ${d.volumes.toLocaleString('en')} volumes** (\`node dist/main.mjs node\` as ` +
        `the Linux image runs it: \`${Object.entries(IMAGE_ENV)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}\`, no source maps, ` +
        `default key pool; real tmpfs mounts, CERT_BASE_PATH on tmpfs; ECDSA P-256, lifetime ${d.lifetimeS} s, ` +
        `renew-before ${RENEW_BEFORE}; /metrics scraped every ${SCRAPE_S} s, RSS and CPU read every second):`,
      '',
    );
    out.push(
      table(
        ['measure', 'value'],
        [
          ['RSS 10 s after Probe is ready (no volume)', mib(d.startRssMiB)],
          [
            `publishes (${SHIPPED_CONCURRENCY} at a time): time, p50 / p99`,
            `${d.publishSeconds.toFixed(0)} s, ${fmtMs(d.publish.p50)} / ${fmtMs(d.publish.p99)} ms`,
          ],
          [
            'RSS when all volumes are published / peak while publishing',
            `${mib(d.publishedRssMiB)} / ${mib(d.publishPeakRssMiB)}`,
          ],
          [
            `idle (${d.idleSeconds.toFixed(0)} s, nothing due): RSS / CPU`,
            `${mib(d.idleRssMiB)} / ${Number.isNaN(d.idleCpuPct) ? 'n/a' : `${d.idleCpuPct.toFixed(2)} %`}`,
          ],
          [
            `renewals (metric), wave of ${d.waveSeconds.toFixed(0)} s`,
            `${d.renewed.toLocaleString('en')} ok, ${d.failed} failed`,
          ],
          [
            'peak RSS during the renewal wave / node CPU',
            `${mib(d.wavePeakRssMiB)} / ${d.waveCpuPct.toFixed(1)} %`,
          ],
          ['RSS 15 s after the wave', mib(d.afterRssMiB)],
          [`metrics scrapes (every ${SCRAPE_S} s)`, String(d.scrapes)],
          [
            'memory trims up to then (ADR 15): count / total time',
            `${d.trims.count} / ${(d.trims.seconds * 1000).toFixed(1)} ms`,
          ],
          [
            'unpublish all / mounts left after cleanup',
            `${d.unpublishSeconds.toFixed(0)} s / ${d.leftMounted}`,
          ],
          ['part D in all', `${(d.totalSeconds / 60).toFixed(1)} min`],
        ],
      ),
      '',
    );
  }
  const warm = runs.find((r) => r.poolSize > 0 && r.warmup > 0);
  const started = runs.find((r) => r.poolSize > 0 && r.warmup === 0);
  const targets: string[][] = [];
  if (s) {
    targets.push([
      'renewal lateness p99 ≤ 1 s',
      `${fmtMs(s.lateness.p99)} ms`,
      mark(s.lateness.p99 <= TARGET.latenessP99Ms),
    ]);
    targets.push(['idle CPU ≈ 0', `${s.idleCpuPct.toFixed(2)} %`, mark(s.idleCpuPct <= TARGET.idleCpuPct)]);
    targets.push([
      'RSS ≤ 150 MiB at 10,000 volumes',
      `${s.idleRssMiB.toFixed(0)} MiB idle, ${s.peakRssMiB.toFixed(0)} MiB peak`,
      mark(s.peakRssMiB <= TARGET.rssMiB),
    ]);
  }
  if (d) {
    const peak = Math.max(d.publishPeakRssMiB, d.wavePeakRssMiB);
    targets.push([
      `RSS ≤ 150 MiB at 10,000 volumes, shipped process (peak)${d.volumes === 10_000 ? '' : ` — ${d.volumes.toLocaleString('en')} volumes here`}`,
      `${peak.toFixed(0)} MiB peak, ${Number.isNaN(d.idleRssMiB) ? 'n/a' : d.idleRssMiB.toFixed(0)} MiB idle`,
      mark(peak <= TARGET.rssMiB),
    ]);
  }
  if (warm) {
    targets.push([
      `RSA-2048 publish p50 ≤ 10 ms, warm pool (node warmed by ${warm.warmup.toLocaleString('en')} publishes)`,
      `${fmtMs(warm.latency.p50)} ms${started ? ` (just started: ${fmtMs(started.latency.p50)} ms)` : ''}`,
      mark(warm.latency.p50 <= TARGET.warmP50Ms),
    ]);
  }
  out.push(table(['target', 'measured', ''], targets), '');
  process.stdout.write(out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
