/**
 * Part C of the fleet benchmark (bench/fleet.bench.ts --only cert-manager): the node role in
 * cert-manager mode (CERT_MANAGER_ENABLED=true, docs/cert-manager.md) against a real
 * kube-apiserver, once per request identity the chart offers (`pod`, `driver`).
 *
 * The signer is the e2e suite's TEST FAKE (e2e/kube/fake-cert-manager-signer.ts), not
 * cert-manager's controller (which cannot be built here): it lists every CertificateRequest every
 * 100 ms, approves, then signs through the status subresource as the admin, in this process. Its
 * polling costs the API server CPU whether or not anything is published; that cost is measured in
 * an idle window and reported apart (see `apiCpuMsPerPublishNet`). Its two status writes per request
 * stay in the figures, as cert-manager's approver and CA issuer would make them too.
 *
 * Per identity: a fresh node process (started as the image starts it, or on dist/main.mjs with
 * `--node-entry main`; the image's ENV), as the
 * csi-cert-driver-node service account under deploy/rbac/node.yaml, status objects and Events off
 * as the chart's defaults), RSS idle, `sequential` ECDSA publishes one after the other, then a burst
 * of `burst` at once, RSS with the burst's volumes, every volume verified (tls.crt holds tls.key's
 * public key and is signed by the fake's CA, ca.crt is that CA).
 */
import { X509Certificate, createPrivateKey, randomUUID, createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { CsiClient, kubeletPublishRequest } from '../server/src/demo/csi-client.js';
import { SERVICE_ACCOUNT_ISSUER } from '../e2e/kube/control-plane.js';
import { startFakeCertManager, startKubeSuite, stopKubeSuite } from '../e2e/kube/harness.js';
import type { FakeCertManagerSigner } from '../e2e/kube/fake-cert-manager-signer.js';
import { APPS, NS, TOKENS_KEY } from '../e2e/kube/names.js';
import { apiServerPid, apiServerRequests, requestDelta } from './lib/api-server.js';
import { sweepMounts } from './lib/cleanup.js';
import { imageEnv, nodeRoleCommand, processCpuMs, processMemory, type NodeEntry } from './lib/machine.js';
import { startDriver, type DriverProcess } from './lib/processes.js';
import { waitForNodeReady } from '../e2e/support/node-ready.js';
import { pool, summarize } from './lib/stats.js';
import { KEY_ATTRIBUTES } from './lib/volumes.js';

export type RequestIdentity = 'pod' | 'driver';

/** What one identity's run measured. Times in ms, memory in MiB, "per publish" over a phase. */
export interface CertManagerFigures {
  identity: RequestIdentity;
  rssIdleMiB: number;
  rssBurstMiB: number;
  nodeCpuMsPerPublish: number;
  nodeCpuMsPerPublishBurst: number;
  /** kube-apiserver CPU during the sequential phase / publishes, everything included. */
  apiCpuMsPerPublish: number;
  /**
   * The same minus the fake signer's polls: polls during the phase × the API server's CPU per poll
   * in an idle window (which includes its own background work).
   */
  apiCpuMsPerPublishNet: number;
  apiCpuMsPerPublishBurst: number;
  apiCpuMsPerPublishBurstNet: number;
  /** The node's CertificateRequest calls per sequential publish by `<VERB> <resource>[/<sub>]`. */
  nodeCallsPerPublish: Record<string, number>;
  /** The fake signer's calls per sequential publish (its polls and status writes). */
  signerCallsPerPublish: Record<string, number>;
  /** API calls per second while the node was idle (the fake signer's polls). */
  idleCallsPerS: Record<string, number>;
  idleApiCpuMsPerS: number;
  /** The node's own CPU while idle (no publish in flight, the watch open). */
  nodeIdleCpuMsPerS: number;
  apiCpuMsPerSignerPoll: number;
  latencyP50Ms: number;
  burstWallMs: number;
}

export interface CertManagerOptions {
  repoRoot: string;
  /** A tmpfs folder for the node's state and kubelet's target paths. */
  dir: string;
  identities: readonly RequestIdentity[];
  sequential: number;
  burst: number;
  /** Publishes (each unpublished) before anything is measured; at least 1. */
  warmup: number;
  log: (m: string) => void;
  /** Added to the node's NODE_OPTIONS, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
  nodeOptions?: string | undefined;
  /** How the node starts (`--node-entry`): as the image does (default) or on dist/main.mjs. */
  nodeEntry: NodeEntry;
}

/** Quiet time after the warm-up before the idle window, and the window (10 ms CPU ticks: ±1 ms per s). */
const SETTLE_MS = 10_000;
const IDLE_MS = 10_000;

const ISSUER_REF = { name: 'ca-issuer', kind: 'Issuer', group: 'cert-manager.io' };
const P = 'csi.k8s.cert-driver/';

interface Volume {
  volumeId: string;
  targetPath: string;
  request: object;
}

export async function partCertManager(o: CertManagerOptions): Promise<CertManagerFigures[]> {
  const nodeIds = o.identities.map((id) => `cm-node-${id}`);
  const suite = await startKubeSuite({
    suite: 'bench-fleet-cert-manager',
    tmpPrefix: 'bench-fleet-cm',
    nodes: nodeIds,
    rbac: ['node.yaml'],
  });
  const { signer, caFile } = await startFakeCertManager(suite, {
    caName: 'fake cert-manager CA (test signer)',
    issuerRef: ISSUER_REF,
  });
  const ca = new X509Certificate(await readFile(caFile));
  const out: CertManagerFigures[] = [];
  try {
    const nodeToken = await suite.cluster.serviceAccountToken(NS, 'csi-cert-driver-node');
    const kubeconfig = suite.cp.kubeconfigFor('node', nodeToken).path;
    const apiPid = apiServerPid(suite.cp);
    for (const [i, identity] of o.identities.entries()) {
      const nodeId = nodeIds[i]!;
      const count = Math.max(o.sequential, o.burst);
      o.log(`cert-manager (${identity}): ${count} pods on ${nodeId}`);
      const pods = await pool(
        Array.from(
          { length: count },
          (_, n) => () =>
            suite.cluster.pod({
              namespace: APPS,
              name: `${identity}-${n}`,
              serviceAccount: 'web',
              nodeName: nodeId,
            }),
        ),
        8,
      );
      const tokens =
        identity === 'pod'
          ? await pool(
              pods.map(
                (pod) => () =>
                  suite.cluster.podToken({ pod, audience: SERVICE_ACCOUNT_ISSUER, expirationSeconds: 3600 }),
              ),
              8,
            )
          : [];
      const base = path.join(o.dir, `cm-${identity}`);
      const volume = async (n: number): Promise<Volume> =>
        kubeletVolume(path.join(base, 'kubelet'), pods[n]!, tokens[n]);
      const sock = path.join(base, 'csi.sock');
      await mkdir(base, { recursive: true });
      const env = imageEnv(o.repoRoot);
      const node = startDriver({
        dir: base,
        role: 'node',
        command: nodeRoleCommand(o.repoRoot, o.nodeEntry),
        settings: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...env,
          ...(o.nodeOptions ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${o.nodeOptions}`.trim() } : {}),
          LOG_LEVEL: 'warn',
          CSI_ENDPOINT: `unix://${sock}`,
          NODE_ID: nodeId,
          // No volume of this part goes to the built-in issuer.
          CERT_SERVICE_ADDR: '127.0.0.1:9',
          CERT_BASE_PATH: path.join(base, 'state'),
          KUBELET_ROOT_DIR: path.join(base, 'kubelet'),
          API_LISTEN_ADDR: 'off',
          KUBECONFIG: kubeconfig,
          STATUS_OBJECTS: 'false',
          POD_EVENTS: 'false',
          CERT_MANAGER_ENABLED: 'true',
          CERT_MANAGER_IDENTITY: identity,
        },
      });
      const client = new CsiClient(`unix://${sock}`, 120_000);
      try {
        await waitForNodeReady(node, `unix://${sock}`, 60_000);
        out.push(await measure({ ...o, node, client, apiPid, suite, ca, volume, identity, signer }));
      } finally {
        client.close();
        await node.stop();
        await sweepMounts(base);
      }
    }
  } finally {
    await stopKubeSuite(suite, [() => signer.stop()]);
  }
  if (signer.lastError) o.log(`fake signer's last error: ${String(signer.lastError)}`);
  return out;
}

/** A kubelet-shaped publish of one cert-manager volume for `pod`, with its API token when given. */
async function kubeletVolume(kubeletRoot: string, pod: V1Pod, token: string | undefined): Promise<Volume> {
  const uid = pod.metadata!.uid!;
  const parent = path.join(kubeletRoot, 'pods', uid, 'volumes', 'kubernetes.io~csi', `tls-${randomUUID()}`);
  await mkdir(parent, { recursive: true });
  const volumeId = `csi-${createHash('sha256').update(parent).digest('hex')}`;
  const targetPath = path.join(parent, 'mount');
  const expirationTimestamp = new Date(Date.now() + 3_600_000).toISOString();
  const request = kubeletPublishRequest({
    volumeId,
    targetPath,
    pod: { name: pod.metadata!.name!, namespace: APPS, uid, serviceAccount: 'web' },
    attributes: {
      ...KEY_ATTRIBUTES.ECDSA,
      [`${P}duration`]: '24h',
      [`${P}issuer-name`]: ISSUER_REF.name,
      ...(token ? { [TOKENS_KEY]: JSON.stringify({ '': { token, expirationTimestamp } }) } : {}),
    },
  });
  return { volumeId, targetPath, request };
}

/** tls.crt holds tls.key's public key and is signed by `ca`; ca.crt is `ca`. Throws otherwise. */
async function verifyVolume(v: Volume, ca: X509Certificate): Promise<void> {
  const [crt, key, caPem] = await Promise.all(
    ['tls.crt', 'tls.key', 'ca.crt'].map((f) => readFile(path.join(v.targetPath, f), 'utf8')),
  );
  const leaf = new X509Certificate(crt!);
  if (!leaf.checkPrivateKey(createPrivateKey(key!)))
    throw new Error(`${v.targetPath}: tls.crt does not match tls.key`);
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new Error(`${v.targetPath}: tls.crt is not signed by the fake signer's CA`);
  }
  if (new X509Certificate(caPem!).fingerprint256 !== ca.fingerprint256) {
    throw new Error(`${v.targetPath}: ca.crt is not the fake signer's CA`);
  }
}

interface MeasureContext extends CertManagerOptions {
  node: DriverProcess;
  client: CsiClient;
  apiPid: number;
  suite: Awaited<ReturnType<typeof startKubeSuite>>;
  ca: X509Certificate;
  volume: (n: number) => Promise<Volume>;
  identity: RequestIdentity;
  signer: FakeCertManagerSigner;
}

async function measure(c: MeasureContext): Promise<CertManagerFigures> {
  const { node, client, apiPid, suite } = c;
  const publish = (v: Volume) => client.call('Node', 'NodePublishVolume', v.request);
  const unpublish = (v: Volume) =>
    client.call('Node', 'NodeUnpublishVolume', { volume_id: v.volumeId, target_path: v.targetPath });

  // Warm-up: the first publishes load the code paths lazily loaded, open the connections and give
  // the JIT its hot functions (its compiles run on other threads and would count as publishes).
  for (let i = 0; i < c.warmup; i++) {
    const warm = await c.volume(i % c.sequential);
    await publish(warm);
    await verifyVolume(warm, c.ca);
    await unpublish(warm);
  }

  // Idle window: the node does nothing, the fake signer polls. It starts SETTLE_MS after the
  // warm-up: until then the node still finishes the warm-up's work (V8's memory reducer collects
  // ~5–8 s after the last allocation burst, ~70 ms of CPU; compiles on helper threads), which a
  // window right after it caught or missed by chance (2–16 ms per s; ADR 27).
  await sleep(SETTLE_MS);
  const idleCalls0 = await apiServerRequests(suite.cp);
  const idleApi0 = processCpuMs(apiPid, { reaped: false });
  const idleNode0 = processCpuMs(node.pid);
  const idlePolls0 = c.signer.polls;
  const idleT0 = performance.now();
  await sleep(IDLE_MS);
  const idleWallS = (performance.now() - idleT0) / 1000;
  const idleApiCpuMs = processCpuMs(apiPid, { reaped: false }) - idleApi0;
  const nodeIdleCpuMsPerS = (processCpuMs(node.pid) - idleNode0) / idleWallS;
  const idlePolls = c.signer.polls - idlePolls0;
  const idleCalls = requestDelta(idleCalls0, await apiServerRequests(suite.cp));
  // What one poll of the fake signer costs the API server (with the API server's own background).
  const apiCpuMsPerPoll = idleApiCpuMs / Math.max(1, idlePolls);
  const rssIdleMiB = processMemory(node.pid).rssMiB;
  c.log(
    `cert-manager (${c.identity}): RSS idle ${rssIdleMiB.toFixed(1)} MiB; API server idle ` +
      `${(idleApiCpuMs / idleWallS).toFixed(1)} ms CPU/s, ${apiCpuMsPerPoll.toFixed(2)} ms per signer poll; ` +
      `node idle ${nodeIdleCpuMsPerS.toFixed(1)} ms CPU/s`,
  );

  const phase = async (volumes: Volume[], concurrency: number) => {
    const calls0 = await apiServerRequests(suite.cp);
    const api0 = processCpuMs(apiPid, { reaped: false });
    const node0 = processCpuMs(node.pid);
    const threads0 = threadCpuMs(node.pid);
    const polls0 = c.signer.polls;
    const t0 = performance.now();
    const lat: number[] = [];
    await pool(
      volumes.map((v) => async () => {
        const t = performance.now();
        await publish(v);
        lat.push(performance.now() - t);
      }),
      concurrency,
    );
    const wallMs = performance.now() - t0;
    const nodeCpu = processCpuMs(node.pid) - node0;
    c.log(
      `node CPU by thread, ms per publish: ${threadDelta(threads0, threadCpuMs(node.pid), volumes.length)}`,
    );
    const apiCpu = processCpuMs(apiPid, { reaped: false }) - api0;
    const polls = c.signer.polls - polls0;
    const calls = requestDelta(calls0, await apiServerRequests(suite.cp));
    const n = volumes.length;
    for (const v of volumes) await verifyVolume(v, c.ca);
    const per = (k: string, minus = 0) => ((calls.get(k) ?? 0) - minus) / n;
    const nodeCalls: Record<string, number> = {};
    for (const k of calls.keys()) {
      if (k.endsWith(' certificaterequests'))
        nodeCalls[k] = per(k, k === 'LIST certificaterequests' ? polls : 0);
    }
    return {
      wallMs,
      latencyP50Ms: summarize(lat).p50,
      nodeCpuMsPerPublish: nodeCpu / n,
      apiCpuMsPerPublish: apiCpu / n,
      apiCpuMsPerPublishNet: (apiCpu - polls * apiCpuMsPerPoll) / n,
      nodeCallsPerPublish: nodeCalls,
      signerCallsPerPublish: {
        'LIST certificaterequests': polls / n,
        'PUT certificaterequests/status': per('PUT certificaterequests/status'),
      },
    };
  };

  const seqVolumes = await Promise.all(Array.from({ length: c.sequential }, (_, n) => c.volume(n)));
  const seq = await phase(seqVolumes, 1);
  c.log(`cert-manager (${c.identity}): sequential ${JSON.stringify(seq)} (load ${loadAvg()})`);
  for (const v of seqVolumes) await unpublish(v);

  const burstVolumes = await Promise.all(Array.from({ length: c.burst }, (_, n) => c.volume(n)));
  const burst = await phase(burstVolumes, burstVolumes.length);
  c.log(
    `cert-manager (${c.identity}): burst wall ${burst.wallMs.toFixed(0)} ms, node CPU/publish ${burst.nodeCpuMsPerPublish.toFixed(2)} ms`,
  );
  await sleep(5_000);
  const rssBurstMiB = processMemory(node.pid).rssMiB;
  for (const v of burstVolumes) await unpublish(v);

  return {
    identity: c.identity,
    rssIdleMiB,
    rssBurstMiB,
    nodeCpuMsPerPublish: seq.nodeCpuMsPerPublish,
    nodeCpuMsPerPublishBurst: burst.nodeCpuMsPerPublish,
    apiCpuMsPerPublish: seq.apiCpuMsPerPublish,
    apiCpuMsPerPublishNet: seq.apiCpuMsPerPublishNet,
    apiCpuMsPerPublishBurst: burst.apiCpuMsPerPublish,
    apiCpuMsPerPublishBurstNet: burst.apiCpuMsPerPublishNet,
    nodeCallsPerPublish: seq.nodeCallsPerPublish,
    signerCallsPerPublish: seq.signerCallsPerPublish,
    idleCallsPerS: Object.fromEntries([...idleCalls].map(([k, v]) => [k, v / idleWallS])),
    idleApiCpuMsPerS: idleApiCpuMs / idleWallS,
    nodeIdleCpuMsPerS,
    apiCpuMsPerSignerPoll: apiCpuMsPerPoll,
    latencyP50Ms: seq.latencyP50Ms,
    burstWallMs: burst.wallMs,
  };
}

/** User and system CPU ms of each thread of `pid`, summed by thread name and kind (`user`/`sys`). */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}${tid === String(pid) ? ' (main)' : ''}`;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      for (const [kind, i] of [
        ['user', 11],
        ['sys', 12],
      ] as const) {
        const key = `${name} ${kind}`;
        out.set(key, (out.get(key) ?? 0) + Number(f[i]) * 10);
      }
    } catch {
      // the thread ended
    }
  }
  return out;
}

export function threadDelta(before: Map<string, number>, after: Map<string, number>, n: number): string {
  return [...after]
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / n] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}

const loadAvg = (): string => loadavg()[0]!.toFixed(1);

/** The part's Markdown rows, each figure beside its goal (issue 16) and the peer's figure. */
export function certManagerReport(figures: readonly CertManagerFigures[], pipelineMs: number): string[] {
  const lines = [
    "cert-manager mode: the signer is the e2e suite's fake (e2e/kube/fake-cert-manager-signer.ts, " +
      "polling every 100 ms), not cert-manager's controller; the peer column is cert-manager csi-driver " +
      'v0.16.0 with cert-manager v1.21.1 from issue 16.',
    '',
    '| figure | identity | this run | peer | goal | |',
    '|---|---|---:|---:|---|---|',
  ];
  const row = (
    figure: string,
    f: CertManagerFigures,
    value: string,
    peer: string,
    goal: string,
    ok?: boolean,
  ) =>
    lines.push(
      `| ${figure} | ${f.identity} | ${value} | ${peer} | ${goal} | ${ok === undefined ? '' : ok ? 'met' : 'not met'} |`,
    );
  const calls = (c: Record<string, number>) =>
    Object.entries(c)
      .filter(([, v]) => Math.abs(v) >= 0.005)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ');
  for (const f of figures) {
    row(
      "node: RSS idle / with the burst's volumes",
      f,
      `${f.rssIdleMiB.toFixed(1)} / ${f.rssBurstMiB.toFixed(1)} MiB`,
      '40 / 49–51 MiB',
      '≤ 65 / ≤ 75 MiB',
      f.rssIdleMiB <= 65 && f.rssBurstMiB <= 75,
    );
    row(
      'node: CPU per publish, sequential',
      f,
      `${f.nodeCpuMsPerPublish.toFixed(2)} ms`,
      '10.4–11.8 ms',
      '≤ 10 ms',
      f.nodeCpuMsPerPublish <= 10,
    );
    row('node: CPU while idle', f, `${f.nodeIdleCpuMsPerS.toFixed(1)} ms per s`, '', '', undefined);
    row('node: CPU per publish, burst', f, `${f.nodeCpuMsPerPublishBurst.toFixed(2)} ms`, '', '', undefined);
    row(
      "kube-apiserver: CPU per publish, sequential (all / minus the fake signer's polls)",
      f,
      `${f.apiCpuMsPerPublish.toFixed(1)} / ${f.apiCpuMsPerPublishNet.toFixed(1)} ms`,
      '26.6–30.2 ms',
      '≤ the peer',
      f.apiCpuMsPerPublishNet <= 26.6,
    );
    row(
      "kube-apiserver: CPU per publish, burst (all / minus the fake signer's polls)",
      f,
      `${f.apiCpuMsPerPublishBurst.toFixed(1)} / ${f.apiCpuMsPerPublishBurstNet.toFixed(1)} ms`,
      '',
      '',
      undefined,
    );
    row('node: API calls per publish, sequential', f, calls(f.nodeCallsPerPublish), '', '', undefined);
    row(
      'fake signer: API calls per publish, sequential',
      f,
      calls(f.signerCallsPerPublish),
      '',
      '',
      undefined,
    );
    row(
      "idle: API calls per second (the fake signer's polls) / kube-apiserver CPU",
      f,
      `${calls(f.idleCallsPerS)} / ${f.idleApiCpuMsPerS.toFixed(1)} ms per s (${f.apiCpuMsPerSignerPoll.toFixed(2)} ms per poll)`,
      '',
      '',
      undefined,
    );
    row(
      'publish p50, sequential',
      f,
      `${(f.latencyP50Ms / pipelineMs).toFixed(2)}× the openssl pipeline (includes the fake's 100 ms polls)`,
      '',
      '',
      undefined,
    );
    row(
      'burst wall',
      f,
      `${(f.burstWallMs / 1000).toFixed(2)} s`,
      '1.9 s (client limit raised to 50 qps)',
      '',
      undefined,
    );
  }
  return lines;
}
