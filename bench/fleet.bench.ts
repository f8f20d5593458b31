/**
 * Fleet cost (issue 16): what one node and the issuer cost a cluster, each figure beside its goal
 * and the openssl baseline of the same run. Absolute times move with the host, so latency is
 * reported as a ratio to the openssl pipeline (genpkey + req + x509, bench/lib/openssl-baseline.ts)
 * and throughput as a fraction of `openssl speed ecdsap256`'s sign rate, both measured here.
 *
 * Part N, the node (built-in issuer, started as the image starts it: `bin/csi-cert-driver node` with
 *   the image's ENV, i.e. from the node role's startup snapshot; `--node-entry main` runs dist/main.mjs):
 *   start to CSI Probe ready, RSS idle and with 110 volumes, node and issuer CPU per publish
 *   (sequential ECDSA publishes after the first, which starts the key pool and is reported apart),
 *   then a SIGKILL and a restart with 110 volumes: start to Probe ready (Probe answers only after
 *   every volume is recovered and its renewal re-armed).
 * Part F, the issuer at fleet scale with ISSUER_AUTH=kubernetes against a real kube-apiserver
 *   (e2e/kube/control-plane.ts): pods bound to fake nodes, pod-bound tokens from the TokenRequest
 *   API as kubelet makes them. "steady": each pod renews once with a fresh token (what 5,000 nodes ×
 *   110 pods with 24 h certificates do, spread over the day); "restart": every pod at once, two
 *   volumes per pod with the same token (a mass restart). Reported: issuances per issuer CPU-second,
 *   p99 latency, API calls (kube-apiserver's own request counters) and kube-apiserver CPU per issuance.
 * Part C, the node in cert-manager mode against a real kube-apiserver with the e2e suite's fake
 *   signer (not cert-manager's controller): bench/fleet-cert-manager.ts.
 *
 * Usage: scripts/bench.sh fleet [--only node|issuer|cert-manager] [--pods 400] [--nodes 20]
 *        [--cm-identity pod,driver] [--cm-sequential 50] [--cm-warmup 1] [--node-entry image|main]
 *        [--quick] [--json file]
 * Needs root (tmpfs mounts), openssl, and .cache/bin/kube-apiserver (scripts/install-kube.sh).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify, parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../server/src/common/protos.js';
import { CsiClient } from '../server/src/demo/csi-client.js';
import { createDevCaPem, generateDevCa } from '../server/src/issuer/index.js';
import { buildCsr } from '../server/src/pki/csr.js';
import { generateKey } from '../server/src/pki/keys.js';
import { testSpec } from '../server/src/pki/testing/openssl.js';
import { TestCluster } from '../e2e/kube/cluster.js';
import { controlPlaneMissing, startControlPlane } from '../e2e/kube/control-plane.js';
import { apiServerPid, apiServerRequests } from './lib/api-server.js';
import { sweepMounts } from './lib/cleanup.js';
import {
  certManagerReport,
  partCertManager,
  threadCpuMs,
  threadDelta,
  type RequestIdentity,
} from './fleet-cert-manager.js';
import { imageEnv, nodeRoleCommand, processCpuMs, processMemory, type NodeEntry } from './lib/machine.js';
import { opensslVolume } from './lib/openssl-baseline.js';
import { startDriver, startIssuer, type DriverProcess } from './lib/processes.js';
import { pool, summarize } from './lib/stats.js';
import { DAY_LONG_ECDSA, publishNewVolume } from './lib/volumes.js';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '400' },
    nodes: { type: 'string', default: '20' },
    volumes: { type: 'string', default: '110' },
    quick: { type: 'boolean', default: false },
    /** `node`, `issuer` or `cert-manager`: run one part only (the report then shows only its rows). */
    only: { type: 'string' },
    /** cert-manager part: the request identities to run (`pod`, `driver` or both). */
    'cm-identity': { type: 'string', default: 'pod,driver' },
    /** cert-manager part: sequential publishes (the burst is --volumes). */
    'cm-sequential': { type: 'string', default: '50' },
    /** cert-manager part: publishes before measuring (JIT warm-up). */
    'cm-warmup': { type: 'string', default: '1' },
    /**
     * How the node starts: `image` (default) as the image's ENTRYPOINT, bin/csi-cert-driver, which
     * starts the node role from its startup snapshot (ADR 26); `main`: node on dist/main.mjs.
     */
    'node-entry': { type: 'string', default: 'image' },
    /**
     * How the issuer starts: `image` (default) bin/csi-cert-driver, from the issuer role's startup
     * snapshot (ADR 26); `main`: the same launcher with CSI_CERT_DRIVER_SNAPSHOT=off (dist/main.mjs).
     */
    'issuer-entry': { type: 'string', default: 'image' },
    json: { type: 'string' },
  },
});
const PODS = flags.quick ? 60 : Number(flags.pods);
const NODES = flags.quick ? 5 : Number(flags.nodes);
const VOLUMES = Number(flags.volumes);
const log = (m: string) => process.stderr.write(`[fleet] ${m}\n`);
/** `--node-entry` or `--issuer-entry`, checked: how every part of this benchmark starts that role. */
function entryOf(flag: 'node-entry' | 'issuer-entry'): NodeEntry {
  const entry = flags[flag];
  if (entry !== 'image' && entry !== 'main') throw new Error(`--${flag}: image or main, not ${entry}`);
  return entry;
}
const nodeEntry = () => entryOf('node-entry');
const results: Record<string, number> = {};

// --- baselines -------------------------------------------------------------------------------

/** `openssl speed ecdsap256`: ECDSA P-256 signatures per second on one core. */
async function opensslSignRate(): Promise<number> {
  const { stdout } = await run('openssl', ['speed', '-seconds', '3', 'ecdsap256'], { encoding: 'utf8' });
  const line = stdout.split('\n').find((l) => /256 bits ecdsa \(nistp256\)/.test(l));
  const nums = line?.match(/[\d.]+/g)?.map(Number) ?? [];
  // "256 bits ecdsa (nistp256)   0.0000s   0.0001s  35245.2  11623.5": sign/s, then verify/s.
  const signPerS = nums[nums.length - 2];
  if (!signPerS) throw new Error(`openssl speed: no sign rate in:\n${stdout}`);
  return signPerS;
}

/** Median wall time of the openssl CLI pipeline for one ECDSA volume. */
async function opensslPipelineMs(dir: string, n: number): Promise<number> {
  const ca = await generateDevCa({ dir: path.join(dir, 'baseline-ca') });
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await opensslVolume(path.join(dir, 'baseline', String(i)), 'ECDSA', ca, {
      name: `p${i}`,
      namespace: 'b',
    });
    ms.push(performance.now() - t);
  }
  return summarize(ms).p50;
}

const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';

// --- part N: the node -------------------------------------------------------------------------

const csiProto = loadProto('csi.proto') as unknown as {
  csi: { v1: { Identity: grpc.ServiceClientConstructor } };
};

/** One Probe on a channel of its own (a shared subchannel would back off ~1 s after a refused connect). */
function probeOnce(sock: string): Promise<boolean> {
  const c = new csiProto.csi.v1.Identity(`unix://${sock}`, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  return new Promise<boolean>((resolve) => {
    (c as unknown as Record<string, (...a: unknown[]) => void>).Probe!(
      {},
      { deadline: Date.now() + 2_000 },
      (err: unknown, res?: { ready?: { value?: boolean } }) => {
        c.close();
        resolve(!err && res?.ready?.value === true);
      },
    );
  });
}

/**
 * startIssuer with the image's ENV and --issuer-entry applied; logs the start's wall time (to listening, polled) and CPU.
 */
async function timedIssuerStart(
  dir: string,
  o: Parameters<typeof startIssuer>[1],
): Promise<Awaited<ReturnType<typeof startIssuer>>> {
  const t0 = performance.now();
  // The image's ENV (NODE_ENV=production: no source maps), as the node gets it.
  const settings = {
    ...imageEnv(repoRoot),
    ...o?.settings,
    ...(entryOf('issuer-entry') === 'main' ? { CSI_CERT_DRIVER_SNAPSHOT: 'off' } : {}),
  };
  const started = await startIssuer(dir, { ...o, settings });
  log(
    `issuer (${entryOf('issuer-entry') === 'main' ? 'dist/main.mjs' : 'image entry'}) listening after ${(performance.now() - t0).toFixed(0)} ms wall, ${processCpuMs(started.proc.pid).toFixed(0)} ms CPU`,
  );
  return started;
}

/** Start to the first Probe that answers ready, polled every 5 ms once the socket exists. */
async function msToProbeReady(proc: DriverProcess, sock: string, t0: number): Promise<number> {
  for (;;) {
    proc.assertAlive();
    if (existsSync(sock) && (await probeOnce(sock))) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error(`node not ready:\n${proc.tail()}`);
    await sleep(5);
  }
}

async function partNode(dir: string): Promise<void> {
  const { proc: issuer, addr } = await timedIssuerStart(dir, {});
  const sock = path.join(dir, 'csi.sock');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...imageEnv(repoRoot),
    LOG_LEVEL: 'warn',
    CSI_ENDPOINT: `unix://${sock}`,
    NODE_ID: 'fleet-node',
    CERT_SERVICE_ADDR: addr,
    CERT_BASE_PATH: path.join(dir, 'base'),
    // The volumes' target paths lie under dir/kubelet (bench/lib/volumes.ts).
    KUBELET_ROOT_DIR: path.join(dir, 'kubelet'),
    API_LISTEN_ADDR: 'off',
    // e.g. FLEET_NODE_NODE_OPTIONS="--max-semi-space-size=1" in place of the image's NODE_OPTIONS
    ...(process.env.FLEET_NODE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.FLEET_NODE_NODE_OPTIONS } : {}),
  };
  const nodeArgs = (process.env.FLEET_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const start = () => {
    const t0 = performance.now();
    const p = startDriver({
      dir,
      role: 'node',
      settings: env,
      // e.g. FLEET_NODE_ARGS="--single-threaded-gc" (node flags NODE_OPTIONS refuses; --node-entry main)
      command: nodeRoleCommand(repoRoot, nodeEntry(), nodeArgs),
    });
    return { p, t0 };
  };
  let { p: node, t0 } = start();
  try {
    results.nodeStartMs = await msToProbeReady(node, sock, t0);
    results.nodeStartCpuMs = processCpuMs(node.pid);
    await sleep(5_000);
    results.nodeIdleRssMiB = processMemory(node.pid).rssMiB;
    results.issuerIdleRssMiB = processMemory(issuer.pid).rssMiB;
    log(
      `node ready in ${results.nodeStartMs.toFixed(0)} ms; idle RSS ${results.nodeIdleRssMiB.toFixed(1)} MiB`,
    );
    const client = new CsiClient(`unix://${sock}`, 60_000);
    const publishOne = () => publishNewVolume(client, path.join(dir, 'kubelet'), DAY_LONG_ECDSA);
    // The first publish starts the key pool (ADR 23): its thread and first fill are counted apart,
    // over 2 s, and the steady per-publish cost over the other publishes.
    const firstCpu0 = processCpuMs(node.pid);
    await publishOne();
    await sleep(2_000);
    results.nodeFirstPublishCpuMs = processCpuMs(node.pid) - firstCpu0;
    const nodeCpu0 = processCpuMs(node.pid);
    const issuerCpu0 = processCpuMs(issuer.pid);
    const threads0 = threadCpuMs(node.pid);
    for (let i = 1; i < VOLUMES; i++) await publishOne();
    results.nodeCpuPerPublishMs = (processCpuMs(node.pid) - nodeCpu0) / (VOLUMES - 1);
    log(`node CPU by thread, ms per publish: ${threadDelta(threads0, threadCpuMs(node.pid), VOLUMES - 1)}`);
    results.issuerCpuPerPublishMs = (processCpuMs(issuer.pid) - issuerCpu0) / (VOLUMES - 1);
    client.close();
    await sleep(5_000);
    results.nodeRss110MiB = processMemory(node.pid).rssMiB;
    results.issuerRss110MiB = processMemory(issuer.pid).rssMiB;
    log(`${VOLUMES} volumes: node RSS ${results.nodeRss110MiB.toFixed(1)} MiB`);
    node.killNow();
    await sleep(500);
    ({ p: node, t0 } = start());
    results.nodeRestartMs = await msToProbeReady(node, sock, t0);
    results.nodeRestartCpuMs = processCpuMs(node.pid);
    log(`restart with ${VOLUMES} volumes: ready in ${results.nodeRestartMs.toFixed(0)} ms`);
  } finally {
    await node.stop();
    await issuer.stop();
    await sweepMounts(dir);
  }
}

// --- part F: the issuer at fleet scale ---------------------------------------------------------

interface NodeChannel {
  sign(req: object): Promise<{ certificate_pem: string }>;
  close(): void;
}

/**
 * What one node's driver holds: one channel to the issuer, opened once and kept, with the options
 * of `GrpcIssuerClient`. Its own subchannel pool, so that every node has its own HTTP/2 connection
 * (grpc-js otherwise shares one connection between channels to the same address).
 */
function nodeChannel(addr: string): NodeChannel {
  const pkg = loadProto('issuer.proto') as unknown as {
    csicertdriver: { issuer: { v1: { CertificateIssuer: grpc.ServiceClientConstructor } } };
  };
  const stub = new pkg.csicertdriver.issuer.v1.CertificateIssuer(addr, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 60_000,
    'grpc.use_local_subchannel_pool': 1,
  });
  return {
    sign: (req) =>
      new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + 60_000);
        const call = stub['SignCertificate'] as (
          r: object,
          o: grpc.CallOptions,
          cb: (e: grpc.ServiceError | null, res?: { certificate_pem: string }) => void,
        ) => void;
        call.call(stub, req, { deadline }, (err, res) => (err ? reject(err) : resolve(res!)));
      }),
    close: () => stub.close(),
  };
}

interface Phase {
  issuances: number;
  perIssuerCpuS: number;
  p50Ms: number;
  p99Ms: number;
  callsPerIssuance: number;
  apiCpuMsPerIssuance: number;
  issuerCpuMsPerIssuance: number;
}

interface Fleet {
  steady: Phase;
  restart: Phase;
  /** The issuer's VmRSS 2 s after it serves, after the steady phase, after the restart phase. */
  rss: { idle: number; steady: number; restart: number };
}

async function partFleet(dir: string): Promise<Fleet> {
  const missing = controlPlaneMissing();
  if (missing) throw new Error(missing);
  const cp = await startControlPlane({ name: 'bench-fleet' });
  let issuer: DriverProcess | undefined;
  let clients = new Map<string, NodeChannel>();
  try {
    const cluster = new TestCluster(cp);
    await cluster.namespace('csi-cert-driver');
    await cluster.namespace('apps');
    await cluster.apply(path.join(repoRoot, 'deploy', 'rbac', 'issuer.yaml'));
    await cluster.serviceAccount('apps', 'web');
    for (let n = 0; n < NODES; n++) await cluster.node(`node-${n}`);
    log(`creating ${PODS} pods on ${NODES} nodes`);
    const pods = await pool(
      Array.from(
        { length: PODS },
        (_, i) => () =>
          cluster.pod({
            namespace: 'apps',
            name: `web-${i}`,
            serviceAccount: 'web',
            nodeName: `node-${i % NODES}`,
          }),
      ),
      8,
    );
    const issuerToken = await cluster.serviceAccountToken('csi-cert-driver', 'csi-cert-driver-issuer');
    const kubeconfig = cp.kubeconfigFor('issuer', issuerToken);
    // The CA from its watched Secret, as the chart runs the issuer (deploy/rbac/issuer.yaml names it).
    const ca = await createDevCaPem('fleet bench CA');
    await cluster.tlsSecret('csi-cert-driver', 'csi-ca-secret', { crt: ca.certPem, key: ca.keyPem });
    let addr: string;
    ({ proc: issuer, addr } = await timedIssuerStart(dir, {
      settings: {
        ISSUER_AUTH: 'kubernetes',
        CA_SECRET_NAME: 'csi-ca-secret',
        CA_SECRET_NAMESPACE: 'csi-cert-driver',
        KUBECONFIG: kubeconfig.path,
        // The chart's level: one audit line per issuance, as in a cluster. FLEET_ISSUER_LOG_LEVEL=warn
        // leaves it out.
        LOG_LEVEL: process.env.FLEET_ISSUER_LOG_LEVEL ?? 'info',
        // e.g. FLEET_ISSUER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the issuer
        ...(process.env.FLEET_ISSUER_NODE_OPTIONS
          ? { NODE_OPTIONS: process.env.FLEET_ISSUER_NODE_OPTIONS }
          : {}),
      },
    }));
    // One channel per node, kept for the whole run, as each node's driver keeps one: a local
    // subchannel pool, or grpc-js would let every "node" share one HTTP/2 connection.
    clients = new Map(Array.from({ length: NODES }, (_, n) => [`node-${n}`, nodeChannel(addr)]));
    const keys = await Promise.all(
      Array.from({ length: 4 }, () => generateKey({ algorithm: 'ECDSA', size: 256 })),
    );
    const apiPid = apiServerPid(cp);
    const clientOf = (node: string) => clients.get(node)!;
    await sleep(2_000);
    const rssIdleMiB = processMemory(issuer.pid).rssMiB;
    log(`issuer (kubernetes, CA Secret) RSS idle ${rssIdleMiB.toFixed(1)} MiB`);

    const phase = async (name: string, volumesPerPod: number, concurrency: number): Promise<Phase> => {
      log(`${name}: ${PODS} pod tokens`);
      const tokens = await pool(
        pods.map(
          (pod) => () => cluster.podToken({ pod, audience: 'csi.k8s.cert-driver', expirationSeconds: 3600 }),
        ),
        8,
      );
      const csrs = await Promise.all(
        pods.map((pod, i) => {
          const name = pod.metadata!.name!;
          return buildCsr(
            testSpec({
              subject: { ...testSpec().subject, commonName: `${name}.apps.svc.cluster.local` },
              dnsNames: [name, `${name}.apps.svc`],
              uris: ['spiffe://cluster.local/ns/apps/sa/web'],
            }),
            keys[i % keys.length]!,
          );
        }),
      );
      const before = await apiServerRequests(cp);
      const apiCpu0 = processCpuMs(apiPid, { reaped: false });
      const issuerCpu0 = processCpuMs(issuer!.pid);
      const lat: number[] = [];
      const jobs = pods.flatMap((pod, i) =>
        Array.from({ length: volumesPerPod }, (_, v) => async () => {
          const t = performance.now();
          const res = await clientOf(pod.spec!.nodeName!).sign({
            csr_pem: csrs[i]!,
            pod: {
              name: pod.metadata!.name!,
              namespace: 'apps',
              uid: pod.metadata!.uid!,
              service_account: 'web',
            },
            node_id: pod.spec!.nodeName!,
            volume_id: `csi-${pod.metadata!.uid}-${v}`,
            duration_seconds: '86400',
            is_ca: false,
            usages: [],
            token: tokens[i]!,
          });
          if (!res.certificate_pem.startsWith('-----BEGIN CERTIFICATE-----'))
            throw new Error(`no certificate for ${pod.metadata!.name}`);
          lat.push(performance.now() - t);
        }),
      );
      await pool(jobs, concurrency);
      const issuerCpu = processCpuMs(issuer!.pid) - issuerCpu0;
      const apiCpu = processCpuMs(apiPid, { reaped: false }) - apiCpu0;
      const after = await apiServerRequests(cp);
      const issuerCalls = ['POST tokenreviews', 'GET pods'].reduce(
        (sum, k) => sum + (after.get(k) ?? 0) - (before.get(k) ?? 0),
        0,
      );
      const n = jobs.length;
      const p: Phase = {
        issuances: n,
        perIssuerCpuS: (n * 1000) / issuerCpu,
        p50Ms: summarize(lat).p50,
        p99Ms: summarize(lat).p99,
        callsPerIssuance: issuerCalls / n,
        apiCpuMsPerIssuance: apiCpu / n,
        issuerCpuMsPerIssuance: issuerCpu / n,
      };
      log(`${name}: ${JSON.stringify(p)} (load ${loadAvg()})`);
      return p;
    };
    const steady = await phase('steady', 1, 8);
    const rssSteadyMiB = processMemory(issuer.pid).rssMiB;
    const restart = await phase('restart', 2, 64);
    const rssRestartMiB = processMemory(issuer.pid).rssMiB;
    log(
      `issuer RSS after steady ${rssSteadyMiB.toFixed(1)} MiB, after restart ${rssRestartMiB.toFixed(1)} MiB`,
    );
    return { steady, restart, rss: { idle: rssIdleMiB, steady: rssSteadyMiB, restart: rssRestartMiB } };
  } finally {
    for (const c of clients.values()) c.close();
    await issuer?.stop();
    await cp.stop();
  }
}

// --- report -------------------------------------------------------------------------------------

const dir = await mkdtemp('/dev/shm/csi-fleet-');
try {
  log(`load ${loadAvg()}; baselines`);
  const signRate = await opensslSignRate();
  const pipelineMs = await opensslPipelineMs(dir, flags.quick ? 5 : 15);
  results.opensslSignPerS = signRate;
  results.opensslPipelineMs = pipelineMs;
  const doNode = !flags.only || flags.only === 'node';
  const doFleet = !flags.only || flags.only === 'issuer';
  const doCertManager = !flags.only || flags.only === 'cert-manager';
  if (doNode) await partNode(dir);
  const fleet = doFleet ? await partFleet(dir) : undefined;
  const certManager = doCertManager
    ? await partCertManager({
        repoRoot,
        dir,
        identities: flags['cm-identity'].split(',') as RequestIdentity[],
        sequential: flags.quick ? 10 : Number(flags['cm-sequential']),
        burst: flags.quick ? 20 : VOLUMES,
        warmup: Math.max(1, Number(flags['cm-warmup'])),
        log,
        // e.g. FLEET_NODE_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the node
        nodeOptions: process.env.FLEET_NODE_NODE_OPTIONS,
        nodeEntry: nodeEntry(),
      })
    : [];
  const afterSignRate = await opensslSignRate();
  results.opensslSignPerSAfter = afterSignRate;

  const steadyRate = (5_000 * 110) / (86_400 * 0.8);
  const row = (figure: string, value: string, goal: string, ok: boolean | undefined) =>
    `| ${figure} | ${value} | ${goal} | ${ok === undefined ? '' : ok ? 'met' : 'not met'} |`;
  const f1 = (x: number) => x.toFixed(1);
  const lines = [
    `Fleet benchmark, ${new Date().toISOString()}, load ${loadAvg()} (2 cores shared), ` +
      `openssl speed ecdsap256: ${signRate.toFixed(0)} sign/s before, ${afterSignRate.toFixed(0)} after; ` +
      `openssl pipeline (genpkey + req + x509) p50 ${pipelineMs.toFixed(0)} ms.` +
      (doNode
        ? ` Node started ${nodeEntry() === 'main' ? 'from dist/main.mjs' : 'by bin/csi-cert-driver (startup snapshot)'}.`
        : ''),
    '',
    '| figure | this run | goal | |',
    '|---|---:|---|---|',
  ];
  if (doNode) {
    lines.push(
      row(
        'node: start to CSI Probe ready',
        `${results.nodeStartMs!.toFixed(0)} ms (${(results.nodeStartMs! / pipelineMs).toFixed(1)}× the openssl pipeline; ${results.nodeStartCpuMs!.toFixed(0)} ms CPU)`,
        '≤ 200 ms',
        results.nodeStartMs! <= 200,
      ),
      row('node: RSS idle', `${f1(results.nodeIdleRssMiB!)} MiB`, '≤ 65 MiB', results.nodeIdleRssMiB! <= 65),
      row(
        `node: RSS with ${VOLUMES} volumes`,
        `${f1(results.nodeRss110MiB!)} MiB`,
        '≤ 75 MiB',
        results.nodeRss110MiB! <= 75,
      ),
      row(
        'node: CPU per publish (built-in, sequential)',
        `${results.nodeCpuPerPublishMs!.toFixed(2)} ms (+${results.issuerCpuPerPublishMs!.toFixed(2)} ms in the issuer); the first, with the key pool's start and fill: ${results.nodeFirstPublishCpuMs!.toFixed(0)} ms`,
        '≤ 4 ms',
        results.nodeCpuPerPublishMs! <= 4,
      ),
      row(
        `node: restart with ${VOLUMES} volumes to Probe ready (all recovered, renewals armed)`,
        `${results.nodeRestartMs!.toFixed(0)} ms (${results.nodeRestartCpuMs!.toFixed(0)} ms CPU)`,
        '≤ 1 s',
        results.nodeRestartMs! <= 1000,
      ),
      row(
        'issuer (ISSUER_AUTH=none): RSS idle / with 110',
        `${f1(results.issuerIdleRssMiB!)} / ${f1(results.issuerRss110MiB!)} MiB`,
        '≤ 80 MiB',
        results.issuerRss110MiB! <= 80,
      ),
    );
  }
  if (fleet) {
    lines.push(
      row(
        'issuer (kubernetes auth, CA Secret): RSS idle / after steady / after restart',
        `${f1(fleet.rss.idle)} / ${f1(fleet.rss.steady)} / ${f1(fleet.rss.restart)} MiB`,
        '≤ 80 MiB',
        fleet.rss.restart <= 80,
      ),
    );
    results.fleetIssuerRssIdleMiB = fleet.rss.idle;
    results.fleetIssuerRssSteadyMiB = fleet.rss.steady;
    results.fleetIssuerRssRestartMiB = fleet.rss.restart;
  }
  for (const [name, p] of fleet
    ? ([
        ['steady', fleet.steady],
        ['restart', fleet.restart],
      ] as const)
    : []) {
    lines.push(
      row(
        `issuer, kubernetes auth, ${name}: issuances per issuer CPU-second`,
        `${p.perIssuerCpuS.toFixed(0)} (${((p.perIssuerCpuS / signRate) * 100).toFixed(1)} % of openssl's sign rate)`,
        '≥ 1,000',
        p.perIssuerCpuS >= 1000,
      ),
      row(
        `issuer, ${name}: p50 / p99 latency`,
        `${(p.p50Ms / pipelineMs).toFixed(2)}× / ${(p.p99Ms / pipelineMs).toFixed(2)}× the openssl pipeline (${p.p50Ms.toFixed(1)} / ${p.p99Ms.toFixed(1)} ms)`,
        '',
        undefined,
      ),
      row(
        `issuer, ${name}: API calls per issuance`,
        p.callsPerIssuance.toFixed(2),
        name === 'steady' ? '≤ 1' : '',
        name === 'steady' ? p.callsPerIssuance <= 1 : undefined,
      ),
      row(
        `issuer, ${name}: kube-apiserver CPU per issuance`,
        `${p.apiCpuMsPerIssuance.toFixed(2)} ms`,
        '',
        undefined,
      ),
    );
    results[`${name}PerIssuerCpuS`] = p.perIssuerCpuS;
    results[`${name}CallsPerIssuance`] = p.callsPerIssuance;
    results[`${name}ApiCpuMsPerIssuance`] = p.apiCpuMsPerIssuance;
    results[`${name}P50Ms`] = p.p50Ms;
    results[`${name}P99Ms`] = p.p99Ms;
  }
  if (fleet) {
    const cores = steadyRate / fleet.steady.perIssuerCpuS;
    lines.push(
      '',
      `5,000 nodes × 110 pods, 24 h certificates renewed at 80 %: ${steadyRate.toFixed(1)} issuances/s, ` +
        `${(cores * 100).toFixed(1)} % of one issuer core at the steady rate measured here, ` +
        `${(steadyRate * fleet.steady.callsPerIssuance).toFixed(1)} API calls/s.`,
    );
  }
  if (certManager.length > 0) lines.push('', ...certManagerReport(certManager, pipelineMs));
  for (const f of certManager) {
    for (const [k, v] of Object.entries(f))
      if (typeof v === 'number') results[`certManager_${f.identity}_${k}`] = v;
  }
  console.log(lines.join('\n'));
  if (flags.json) writeFileSync(flags.json, JSON.stringify(results, null, 2));
} finally {
  await rm(dir, { recursive: true, force: true });
}
