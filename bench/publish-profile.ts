/**
 * Where a publish's CPU goes, per process: starts the issuer and the node role as in
 * publish.bench.ts but with `--cpu-prof`, runs sequential ECDSA P-256 publish + unpublish rounds over
 * the CSI socket, stops both processes and prints each profile's heaviest functions (self time) and
 * a few inclusive totals. Only samples taken during the measured rounds count: the start-up and the
 * `--warmup` rounds (V8 optimizes the publish path over the first thousand or so) are cut out by
 * time, so the figures are what a warm node spends. The `.cpuprofile` files stay in the printed
 * directory (open them in Chrome DevTools; those show the whole run).
 *
 *   sudo npx tsx bench/publish-profile.ts [--rounds 300] [--warmup 1000] [--keep-mounted]
 *
 * Needs root and a built dist/ (`npm run --silent build`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CsiClient, kubeletPublishRequest } from '../server/src/demo/csi-client.js';
import { generateDevCa } from '../server/src/issuer/index.js';
import { sweepMounts } from './lib/cleanup.js';
import { startDriver, waitForListening } from './lib/processes.js';
import { waitForNodeReady } from '../e2e/support/node-ready.js';
import { freeLoopbackPort } from '../e2e/support/ports.js';
import { newVolume } from './lib/volumes.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '1000' },
    'keep-mounted': { type: 'boolean', default: false },
  },
});
const rounds = Number(flags.rounds);
const warmup = Number(flags.warmup);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** CLOCK_MONOTONIC in microseconds: the clock of V8's profile timestamps on Linux. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Self and inclusive milliseconds per function (name + file + line), from one V8 CPU profile,
 * counting only the samples taken between `fromUs` and `toUs` (CLOCK_MONOTONIC microseconds).
 */
function summarize(
  p: Profile,
  fromUs: number,
  toUs: number,
): { self: Map<string, number>; total: Map<string, number>; busyMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const id = p.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  const key = (n: ProfileNode): string =>
    `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busyUs = 0;
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id) as ProfileNode;
    const k = key(n);
    let t = selfUs.get(id) ?? 0;
    self.set(k, (self.get(k) ?? 0) + t / 1000);
    if (!['(idle)', '(program)', '(garbage collector)'].some((s) => k.startsWith(s))) busyUs += t;
    const inner = new Set(onStack).add(k);
    for (const c of n.children ?? []) t += walk(c, inner);
    if (!onStack.has(k)) total.set(k, (total.get(k) ?? 0) + t / 1000);
    return t;
  };
  walk(p.nodes[0]!.id, new Set());
  return { self, total, busyMs: busyUs / 1000 };
}

function top(m: Map<string, number>, n: number, per: number, filter = (_k: string) => true): string[] {
  return [...m.entries()]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `  ${(ms / per).toFixed(3).padStart(8)} ms/publish  ${k}`);
}

async function main(): Promise<void> {
  // On tmpfs, as the chart deploys CERT_BASE_PATH (and as publish.bench.ts runs).
  const dir = await mkdtemp(existsSync('/dev/shm') ? '/dev/shm/csi-profile-' : '/tmp/csi-profile-');
  const ca = await generateDevCa({ dir: path.join(dir, 'ca') });
  const profDir = (role: string) => path.join(dir, `prof-${role}`);
  const prof = (role: string) => ({ NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir(role)}` });
  const issuerSock = path.join(dir, 'issuer.sock');
  const csiSock = path.join(dir, 'csi.sock');
  const issuer = startDriver({
    dir,
    role: 'issuer',
    settings: {
      CA_CERT_FILE: ca.certFile,
      CA_KEY_FILE: ca.keyFile,
      ISSUER_AUTH: 'none',
      LOG_LEVEL: 'warn',
      LISTEN_ADDR: `unix://${issuerSock}`,
      ...prof('issuer'),
    },
  });
  await waitForListening(issuer, { path: issuerSock });
  const node = startDriver({
    dir,
    role: 'node',
    settings: {
      CSI_ENDPOINT: `unix://${csiSock}`,
      CERT_SERVICE_ADDR: `unix://${issuerSock}`,
      CERT_BASE_PATH: path.join(dir, 'node'),
      NODE_ID: 'profile-node',
      KUBELET_ROOT_DIR: path.join(dir, 'kubelet'),
      LOG_LEVEL: 'warn',
      API_LISTEN_ADDR: `127.0.0.1:${await freeLoopbackPort()}`, // on, as in the benchmark and by default
      ...prof('node'),
    },
  });
  const client = new CsiClient(`unix://${csiSock}`, 60_000);
  await waitForNodeReady(node, `unix://${csiSock}`);
  const live = [];
  for (let i = 0; i < warmup; i++) {
    const v = await newVolume(path.join(dir, 'kubelet'), 'ECDSA');
    await client.call('Node', 'NodePublishVolume', kubeletPublishRequest(v));
    await client.call('Node', 'NodeUnpublishVolume', { volume_id: v.volumeId, target_path: v.targetPath });
  }
  const fromUs = monotonicUs();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const v = await newVolume(path.join(dir, 'kubelet'), 'ECDSA');
    await client.call('Node', 'NodePublishVolume', kubeletPublishRequest(v));
    if (flags['keep-mounted']) live.push(v);
    else
      await client.call('Node', 'NodeUnpublishVolume', { volume_id: v.volumeId, target_path: v.targetPath });
  }
  for (const v of live)
    await client.call('Node', 'NodeUnpublishVolume', { volume_id: v.volumeId, target_path: v.targetPath });
  const wall = performance.now() - t0;
  const toUs = monotonicUs();
  client.close();
  await Promise.all([node.stop(), issuer.stop()]);
  await sweepMounts(dir);
  console.log(
    `${rounds} publish + unpublish rounds in ${wall.toFixed(0)} ms after ${warmup} warm-up rounds; profiles in ${dir}`,
  );
  for (const role of ['node', 'issuer']) {
    const files = (await readdir(profDir(role))).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of files) {
      const p = JSON.parse(await readFile(path.join(profDir(role), f), 'utf8')) as Profile;
      const s = summarize(p, fromUs, toUs);
      console.log(`\n## ${role} (${f}): busy ${(s.busyMs / rounds).toFixed(2)} ms per round`);
      console.log('self time:');
      console.log(top(s.self, 30, rounds, (k) => !k.startsWith('(idle)')).join('\n'));
      console.log('inclusive (driver code):');
      console.log(top(s.total, 40, rounds, (k) => /main\.mjs/.test(k)).join('\n'));
      console.log('inclusive (libraries: grpc-js, NestJS, RxJS, prom-client, pino):');
      console.log(
        top(s.total, 25, rounds, (k) => /^\S+ (?!main\.mjs)[\w.-]+\.(js|cjs|mjs):/.test(k)).join('\n'),
      );
    }
  }
}

await main();
