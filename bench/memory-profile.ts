/**
 * Where the shipped node's memory goes at N volumes: starts `dist/main.mjs node` exactly as the
 * Linux image runs it (the Dockerfile's ENV; plus --heapsnapshot-signal with --snapshot),
 * publishes N ECDSA volumes with a long lifetime onto real tmpfs mounts, and prints RSS split into anonymous and file-backed pages, the V8 heap,
 * and the heap snapshot's largest constructors. Not a benchmark: a profiling aid for issue 3.
 *
 *   npx tsx bench/memory-profile.ts [--volumes 10000] [--node-flags="..."] [--node-args="..."] [--env K=V ...] [--snapshot] [--smaps]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CsiClient } from '../server/src/demo/csi-client.js';
import { sweepMounts } from './lib/cleanup.js';
import { driverNodeBinary, imageEnv, processMemory } from './lib/machine.js';
import { parsePrometheus } from './lib/metrics.js';
import { startDriver, startIssuer } from './lib/processes.js';
import { waitForNodeReady } from '../e2e/support/node-ready.js';
import { freeLoopbackPort } from '../e2e/support/ports.js';
import { pool } from './lib/stats.js';
import { DAY_LONG_ECDSA, publishNewVolume } from './lib/volumes.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({
  options: {
    volumes: { type: 'string', default: '10000' },
    'node-flags': { type: 'string', default: '' },
    /** V8 flags that NODE_OPTIONS refuses (e.g. --heap-growing-percent), on node's command line. */
    'node-args': { type: 'string', default: '' },
    env: { type: 'string', multiple: true, default: [] },
    snapshot: { type: 'boolean', default: false },
    /** Also print /proc/<pid>/smaps by kind of mapping, the threads, and V8's heap spaces. */
    smaps: { type: 'boolean', default: false },
  },
});
const VOLUMES = Number(flags.volumes);
const log = (m: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

function memory(pid: number): string {
  const m = processMemory(pid);
  const mib = (v: number): string => v.toFixed(1);
  return `RSS ${mib(m.rssMiB)} MiB (anon ${mib(m.anonMiB)}, file ${mib(m.fileMiB)}), HWM ${mib(m.hwmMiB)}, threads ${m.threads}`;
}

/**
 * RSS by kind of mapping from /proc/<pid>/smaps: the node binary, shared libraries, other files,
 * glibc's main heap ([heap]), thread stacks (8 MiB pthread mappings and [stack]) and other anonymous
 * mappings (V8's heap and code pages, other malloc arenas, ...), plus the largest anonymous ones.
 */
function smapsSummary(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const kinds = new Map<string, { rss: number; n: number }>();
  const anon: { range: string; sizeKiB: number; rssKiB: number }[] = [];
  let cur: { range: string; path: string; sizeKiB: number } | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+-[0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\d+\s*(.*)$/.exec(line);
    if (head) {
      cur = { range: head[1]!, path: head[2]!.trim(), sizeKiB: 0 };
      continue;
    }
    const kv = /^(\w+):\s+(\d+) kB/.exec(line);
    if (!kv || !cur) continue;
    if (kv[1] === 'Size') cur.sizeKiB = Number(kv[2]);
    if (kv[1] !== 'Rss') continue;
    const rss = Number(kv[2]);
    const p = cur.path;
    const kind =
      p === ''
        ? cur.sizeKiB === 8192
          ? 'anon: thread stacks (8 MiB)'
          : 'anon: other'
        : p.startsWith('[')
          ? p
          : /\/node$/.test(p)
            ? 'file: node binary'
            : /\.so(\.|$)/.test(p)
              ? 'file: shared libraries'
              : 'file: other';
    const k = kinds.get(kind) ?? { rss: 0, n: 0 };
    k.rss += rss;
    k.n++;
    kinds.set(kind, k);
    if (p === '' && rss > 0) anon.push({ range: cur.range, sizeKiB: cur.sizeKiB, rssKiB: rss });
  }
  const threads = readdirSync(`/proc/${pid}/task`).map((t) =>
    readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(),
  );
  return [
    ...[...kinds.entries()]
      .sort((a, b) => b[1].rss - a[1].rss)
      .map(([k, v]) => `  ${(v.rss / 1024).toFixed(1).padStart(6)} MiB  ${k} (${v.n} mappings)`),
    '  largest anonymous mappings (RSS / size KiB): ' +
      anon
        .sort((a, b) => b.rssKiB - a.rssKiB)
        .slice(0, 12)
        .map((a) => `${a.rssKiB}/${a.sizeKiB}`)
        .join(', '),
    `  threads (${threads.length}): ${threads.join(', ')}`,
  ];
}

/** V8's heap spaces (used / size MiB) from prom-client's default metrics. */
async function heapSpaces(url: string): Promise<string> {
  const s = parsePrometheus(await (await fetch(url)).text());
  const by = (n: string): Map<string, number> =>
    new Map(s.filter((x) => x.name === n).map((x) => [x.labels['space'] ?? '?', x.value / 2 ** 20]));
  const used = by('nodejs_heap_space_size_used_bytes');
  const total = by('nodejs_heap_space_size_total_bytes');
  return [...total.entries()]
    .map(([k, v]) => `${k} ${(used.get(k) ?? 0).toFixed(1)}/${v.toFixed(1)}`)
    .join(', ');
}

async function heap(url: string): Promise<string> {
  const s = parsePrometheus(await (await fetch(url)).text());
  const v = (n: string): number => s.filter((x) => x.name === n).reduce((a, x) => a + x.value, 0) / 2 ** 20;
  const trims = s
    .filter((x) => x.name === 'csi_cert_driver_memory_trims_total')
    .reduce((a, x) => a + x.value, 0);
  const trimMs = v('csi_cert_driver_memory_trim_seconds_total') * 2 ** 20 * 1000;
  return (
    `heap used ${v('nodejs_heap_size_used_bytes').toFixed(1)} / total ${v('nodejs_heap_size_total_bytes').toFixed(1)} MiB, ` +
    `external ${v('nodejs_external_memory_bytes').toFixed(1)} MiB; ${trims} trims, ${trimMs.toFixed(1)} ms`
  );
}

/** Self size by constructor name from a .heapsnapshot, largest first. */
function topConstructors(file: string, n: number): string[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const at = (i: number): number => snap.nodes[i] ?? 0;
  const by = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[at(i + iType)] ?? '?';
    const name = type === 'object' || type === 'closure' ? (snap.strings[at(i + iName)] ?? '?') : `(${type})`;
    const e = by.get(name) ?? { size: 0, count: 0 };
    e.size += at(i + iSize);
    e.count++;
    by.set(name, e);
  }
  return [...by.entries()]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, n)
    .map(([k, e]) => `${(e.size / 2 ** 20).toFixed(2).padStart(7)} MiB ${String(e.count).padStart(8)}  ${k}`);
}

const dir = await mkdtemp('/dev/shm/csi-memprof-');
const { proc: issuer, addr: issuerAddr } = await startIssuer(dir);
const metricsPort = await freeLoopbackPort();
const sock = path.join(dir, 'csi.sock');
const image = imageEnv(repoRoot);
const extraEnv = Object.fromEntries(flags.env.map((e) => e.split(/=(.*)/s).slice(0, 2)));
const node = startDriver({
  dir,
  role: 'node',
  command: {
    file: driverNodeBinary(repoRoot),
    args: [
      ...flags['node-args'].split(' ').filter(Boolean),
      ...(flags.snapshot ? ['--heapsnapshot-signal=SIGUSR2'] : []),
      path.join(repoRoot, 'dist', 'main.mjs'),
      'node',
    ],
  },
  settings: {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...image,
    NODE_OPTIONS: `${image.NODE_OPTIONS ?? ''} ${flags['node-flags']}`.trim(),
    LOG_LEVEL: 'warn',
    CSI_ENDPOINT: `unix://${sock}`,
    NODE_ID: 'memprof-node',
    KUBELET_ROOT_DIR: path.join(dir, 'kubelet'),
    CERT_SERVICE_ADDR: issuerAddr,
    CERT_BASE_PATH: path.join(dir, 'base'),
    API_LISTEN_ADDR: 'off',
    METRICS_LISTEN_ADDR: `127.0.0.1:${metricsPort}`,
    ...extraEnv,
  },
});
const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
const client = new CsiClient(`unix://${sock}`, 120_000);
try {
  await waitForNodeReady(node, `unix://${sock}`);
  await sleep(10_000);
  log(`start: ${memory(node.pid)}; ${await heap(metricsUrl)}`);
  if (flags.smaps) {
    for (const l of smapsSummary(node.pid)) console.log(l);
    console.log(`  V8 spaces (used/size MiB): ${await heapSpaces(metricsUrl)}`);
  }
  let done = 0;
  await pool(
    Array.from({ length: VOLUMES }, () => async () => {
      await publishNewVolume(client, path.join(dir, 'kubelet'), DAY_LONG_ECDSA);
      if (++done % 2000 === 0) log(`${done} published: ${memory(node.pid)}`);
    }),
    8,
  );
  log(`published ${VOLUMES}: ${memory(node.pid)}; ${await heap(metricsUrl)}`);
  await sleep(30_000);
  log(`30 s later: ${memory(node.pid)}; ${await heap(metricsUrl)}`);
  if (flags.smaps) {
    for (const l of smapsSummary(node.pid)) console.log(l);
    console.log(`  V8 spaces (used/size MiB): ${await heapSpaces(metricsUrl)}`);
  }
  if (flags.snapshot) {
    const cwd = `/proc/${node.pid}/cwd`;
    process.kill(node.pid, 'SIGUSR2');
    let file: string | undefined;
    for (let i = 0; i < 120 && !file; i++) {
      await sleep(1000);
      file = (await readdir(cwd)).find((f) => f.endsWith('.heapsnapshot'));
    }
    if (file) {
      const full = path.join(repoRoot, file);
      await sleep(3000);
      log(
        `snapshot ${full} (${((await readFile(full)).length / 2 ** 20).toFixed(0)} MiB); top constructors:`,
      );
      for (const l of topConstructors(full, 40)) console.log(l);
    }
  }
} finally {
  client.close();
  await node.stop();
  await issuer.stop();
  const left = await sweepMounts(dir);
  if (left.length) log(`${left.length} mounts left`);
  await rm(dir, { recursive: true, force: true });
}
