/**
 * Pod start on a real node (issue 14, "Measured"): on the single-node cluster of scripts/cluster.sh
 * (reused when it is up, else brought up and torn down at the end), the time from pod creation to
 * Running for the same workload pod with our inline volume and with an emptyDir, interleaved one pod
 * at a time in one run, and the node pod's memory.
 *
 * A sample is the wall time from starting `kubectl create` to `kubectl wait --for=jsonpath=
 * {.status.phase}=Running` returning (a watch, so no polling interval). Both variants carry the same
 * kubectl process overhead; the difference of the p50s is the time our volume adds. Pods are kept
 * until the end (no unpublish runs during a sample) and deleted afterwards.
 *
 * Node pod memory: the sum of VmRSS of the processes in the node container's cgroup, and the cgroup
 * v1 memory.stat rss, idle (no volume of ours) and with the measured volumes published.
 *
 * Run `scripts/bench.sh cluster-pod-start [--pods N] [--json out.json]` as root. Markdown on stdout,
 * progress on stderr.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  certPod,
  KUBECONFIG,
  KUBECTL,
  RELEASE_NS,
  run,
  startCluster,
  type Cluster,
} from '../e2e/cluster/cluster.js';
import { fmtMs, fmtRatio, summarize, table, type Summary } from './lib/stats.js';

const { values: flags } = parseArgs({
  options: { pods: { type: 'string' }, json: { type: 'string' } },
});
const PODS = Number(flags.pods ?? 20);
const WARMUP = 2;
const NS = 'bench-pod-start';
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const env = { ...process.env, KUBECONFIG };

/** The same pod as certPod() with an emptyDir at /certs instead of our volume. */
function emptyDirPod(name: string): string {
  const pod = JSON.parse(certPod(name, NS)) as {
    spec: { volumes: Record<string, unknown>[] };
  };
  pod.spec.volumes = [{ name: 'certs', emptyDir: {} }];
  return JSON.stringify(pod);
}

async function startMs(manifest: string, name: string): Promise<number> {
  const t0 = performance.now();
  const created = await run(KUBECTL, ['create', '-f', '-'], { input: manifest, env });
  if (created.code !== 0) throw new Error(`create ${name}: ${created.stderr}`);
  const waited = await run(
    KUBECTL,
    ['wait', '-n', NS, `pod/${name}`, '--for=jsonpath={.status.phase}=Running', '--timeout=180s'],
    { env, timeoutMs: 200_000 },
  );
  if (waited.code !== 0) throw new Error(`wait ${name}: ${waited.stderr}`);
  return performance.now() - t0;
}

interface NodeMemory {
  processes: number;
  vmRssMiB: number;
  cgroupRssMiB: number;
}

/** The node container's processes (its cgroup under kubepods) and their memory. */
async function nodeMemory(cluster: Cluster): Promise<NodeMemory> {
  const pods = await cluster.getJson<{
    items: {
      metadata: { uid: string };
      status: { containerStatuses: { name: string; containerID: string }[] };
    }[];
  }>(['pods', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/component=node']);
  const pod = pods.items[0]!;
  const status =
    pod.status.containerStatuses.find((s) => s.name === 'node') ?? pod.status.containerStatuses[0]!;
  const id = status.containerID.replace(/^containerd:\/\//, '');
  for (const qos of ['', 'burstable/', 'besteffort/']) {
    const dir = `/sys/fs/cgroup/memory/kubepods/${qos}pod${pod.metadata.uid}/${id}`;
    if (!existsSync(dir)) continue;
    const pids = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean);
    let rssKiB = 0;
    for (const pid of pids) {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rssKiB += Number(m?.[1] ?? 0);
    }
    const stat = readFileSync(`${dir}/memory.stat`, 'utf8');
    const rss = Number(/^rss (\d+)$/m.exec(stat)?.[1] ?? NaN);
    return { processes: pids.length, vmRssMiB: rssKiB / 1024, cgroupRssMiB: rss / 2 ** 20 };
  }
  throw new Error(`no memory cgroup for the node container ${id}`);
}

async function main(): Promise<void> {
  const cluster = await startCluster();
  try {
    await cluster.kubectlRun(['delete', 'namespace', NS, '--wait=true', '--timeout=180s']);
    await cluster.kubectl(['create', 'namespace', NS]);
    await cluster.kubectl(['wait', '-n', NS, '--for=create', 'serviceaccount/default', '--timeout=60s']);
    const idle = await nodeMemory(cluster);
    const samples = { volume: [] as number[], emptyDir: [] as number[] };
    for (let i = 0; i < WARMUP + PODS; i++) {
      // Alternate which variant goes first, so neither always follows the other.
      const order = i % 2 === 0 ? (['volume', 'emptyDir'] as const) : (['emptyDir', 'volume'] as const);
      for (const kind of order) {
        const name = `${kind === 'volume' ? 'vol' : 'empty'}-${i}`;
        const ms = await startMs(kind === 'volume' ? certPod(name, NS) : emptyDirPod(name), name);
        if (i >= WARMUP) samples[kind].push(ms);
        log(`${name}: ${fmtMs(ms)} ms`);
      }
    }
    const loaded = await nodeMemory(cluster);
    const vol = summarize(samples.volume);
    const empty = summarize(samples.emptyDir);
    const row = (name: string, s: Summary) => [name, String(s.n), ...[s.min, s.p50, s.p90, s.max].map(fmtMs)];
    console.log(`## Pod start on a real node: ${PODS} pods each, creation → Running (ms)\n`);
    console.log(
      table(['pod', 'n', 'min', 'p50', 'p90', 'max'], [row('our volume', vol), row('emptyDir', empty)]),
    );
    console.log(
      `\np50 with our volume / with an emptyDir: ${fmtRatio(vol.p50 / empty.p50)}; added: ${fmtMs(vol.p50 - empty.p50)} ms\n`,
    );
    console.log('## Node pod memory (MiB)\n');
    const mem = (name: string, m: NodeMemory) => [
      name,
      String(m.processes),
      m.vmRssMiB.toFixed(1),
      m.cgroupRssMiB.toFixed(1),
    ];
    console.log(
      table(
        ['when', 'processes', 'VmRSS sum', 'cgroup rss'],
        [mem('idle (no volume)', idle), mem(`${PODS + WARMUP} volumes published`, loaded)],
      ),
    );
    if (flags.json) {
      writeFileSync(
        flags.json,
        JSON.stringify({ volume: vol, emptyDir: empty, samples, idle, loaded }, null, 2),
      );
    }
  } finally {
    log('deleting the benchmark namespace');
    await cluster.kubectlRun(['delete', 'namespace', NS, '--wait=true', '--timeout=300s']);
    await cluster.stop();
  }
}

await main();
