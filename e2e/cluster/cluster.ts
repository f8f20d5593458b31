/**
 * Harness of the real single-node cluster (scripts/cluster.sh): bring it up with the product
 * installed by its chart, drive it with kubectl, run commands in pods, wait for outcomes, tear it
 * down. Every call runs a child process with an argument array (never a shell); a non-zero exit
 * throws with the command's stderr. Reusable by further cluster suites.
 *
 * `startCluster()` reuses a cluster that is already fully up (a developer's `cluster.sh up`) and
 * then leaves it up on `stop()`; otherwise it runs `cluster.sh up` and `stop()` runs `cluster.sh
 * down`, which works from any half-up state.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/repo.js';
import { waitFor } from '../support/wait.js';

export const CLUSTER_SCRIPT = join(REPO_ROOT, 'scripts', 'cluster.sh');
export const CLUSTER_DIR = process.env.CLUSTER_DIR || '/var/lib/csi-cert-cluster';
export const KUBECONFIG = join(CLUSTER_DIR, 'admin.kubeconfig');
export const KUBECTL = join(REPO_ROOT, '.cache', 'bin', 'kubectl');
export const HELM = join(REPO_ROOT, '.cache', 'bin', 'helm');
export const NODE_NAME = process.env.CLUSTER_NODE_NAME || 'csi-node';
export const NETNS = process.env.CLUSTER_NETNS || 'csi-cert-cluster';
export const KUBELET_DIR = '/var/lib/kubelet';
export const CERT_BASE = '/var/lib/csi-certs';
export const RELEASE = 'csi-cert-driver';
export const RELEASE_NS = 'csi-cert-driver';
export const DRIVER_NAME = 'csi.k8s.cert-driver';
/** The workload image of scripts/build-images.sh: /bin/sh and openssl. */
export const WORKLOAD_IMAGE = 'localhost/workload:dev';
export const PRODUCT_IMAGE = { repository: 'localhost/csi-cert-driver', tag: 'dev' };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with an optional stdin; resolves with the exit code (never rejects on one). */
export function run(
  file: string,
  args: string[],
  { input, timeoutMs = 120_000, env }: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: env ?? process.env },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function runOk(file: string, args: string[], opts?: Parameters<typeof run>[2]): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} exited ${r.code}:\n${(r.stderr || r.stdout).trim().slice(-4000)}`,
    );
  }
  return r.stdout;
}

/** Why the cluster suite cannot run here (it needs root on Linux), or undefined. */
export function clusterUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the cluster runs on Linux only';
  if (process.getuid?.() !== 0) return 'the cluster needs root';
  if (!existsSync('/sys/fs/cgroup')) return 'no cgroup file system';
  return undefined;
}

export type ExecResult = RunResult;

export interface Cluster {
  /** kubectl with the admin kubeconfig; throws on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** kubectl returning the exit code instead of throwing. */
  kubectlRun(args: string[], input?: string): Promise<RunResult>;
  /** `kubectl get ... -o json`, parsed. */
  getJson<T = Record<string, unknown>>(args: string[]): Promise<T>;
  /** helm with the admin kubeconfig; throws on a non-zero exit. */
  helm(args: string[], timeoutMs?: number): Promise<string>;
  /** Runs `argv` in a container of a pod (kubectl exec: API server → kubelet → containerd). */
  exec(
    namespace: string,
    pod: string,
    argv: string[],
    opts?: { container?: string; input?: string },
  ): Promise<ExecResult>;
  /** Creates `manifest` (YAML or JSON text) with `kubectl apply`. */
  apply(manifest: string): Promise<void>;
  /** Waits until the pod is Ready; on timeout the error carries its status and Events. */
  waitPodReady(namespace: string, pod: string, timeoutMs?: number): Promise<PodJson>;
  /** Waits until the pod no longer exists. */
  waitPodGone(namespace: string, pod: string, timeoutMs?: number): Promise<void>;
  /** Events whose involvedObject is the named object, as "Type Reason: message" lines. */
  events(namespace: string, name: string): Promise<string[]>;
  /**
   * The node driver's Prometheus /metrics, fetched from inside the cluster's network namespace
   * (the pod network is not routed to the host): sample name with labels → value.
   */
  nodeMetrics(): Promise<Map<string, number>>;
  /**
   * `kubectl port-forward` to `resource` (e.g. `svc/name`) on a free local port of 127.0.0.1, as an
   * operator reaches a Service; resolves once kubectl says it forwards. `close()` stops kubectl.
   */
  portForward(namespace: string, resource: string, remotePort: number): Promise<PortForward>;
  /** The last lines of a component's log (logs/NAME.log). */
  componentLog(name: string, lines?: number): Promise<string>;
  /** `scripts/cluster.sh down` when this harness brought the cluster up; else nothing. */
  stop(): Promise<void>;
  /** True when this harness ran `cluster.sh up` (and `stop()` tears it down). */
  readonly owned: boolean;
}

export interface PortForward {
  localPort: number;
  close(): Promise<void>;
}

export interface PodJson {
  metadata: { name: string; namespace: string; uid: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; state?: Record<string, unknown> }[];
  };
}

/** Runs `scripts/cluster.sh CMD`; the script logs to stderr. */
export function clusterScript(cmd: string, args: string[] = [], timeoutMs = 30 * 60_000): Promise<RunResult> {
  return run('bash', [CLUSTER_SCRIPT, cmd, ...args], { timeoutMs });
}

/** Whether every component of the cluster is running (`cluster.sh status` exits 0). */
export async function clusterIsUp(): Promise<boolean> {
  return (await clusterScript('status', [], 60_000)).code === 0;
}

/** Brings the cluster up (or reuses one that is up) and returns its harness. */
export async function startCluster(): Promise<Cluster> {
  const reuse = await clusterIsUp();
  if (!reuse) {
    const up = await clusterScript('up');
    if (up.code !== 0) {
      const logs = await clusterScript('status', [], 60_000);
      throw new Error(`cluster.sh up exited ${up.code}:\n${up.stderr.slice(-6000)}\n${logs.stdout}`);
    }
  }
  return harness(!reuse);
}

function harness(owned: boolean): Cluster {
  const env = { ...process.env, KUBECONFIG };
  const kubectlRun = (args: string[], input?: string) =>
    run(KUBECTL, args, { env, ...(input === undefined ? {} : { input }) });
  const kubectl = (args: string[], input?: string) =>
    runOk(KUBECTL, args, { env, ...(input === undefined ? {} : { input }) });
  const getJson = async <T>(args: string[]) => JSON.parse(await kubectl(['get', ...args, '-o', 'json'])) as T;
  const events = async (namespace: string, name: string) => {
    const list = await getJson<{ items: { type: string; reason: string; message: string }[] }>([
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.name=${name}`,
    ]);
    return list.items.map((e) => `${e.type} ${e.reason}: ${e.message}`);
  };
  return {
    owned,
    kubectl,
    kubectlRun,
    getJson,
    events,
    helm: (args, timeoutMs = 600_000) => runOk(HELM, ['--kubeconfig', KUBECONFIG, ...args], { timeoutMs }),
    exec: (namespace, pod, argv, opts = {}) =>
      run(
        KUBECTL,
        [
          'exec',
          ...(opts.input === undefined ? [] : ['-i']),
          '-n',
          namespace,
          pod,
          ...(opts.container ? ['-c', opts.container] : []),
          '--',
          ...argv,
        ],
        { env, ...(opts.input === undefined ? {} : { input: opts.input }) },
      ),
    apply: async (manifest) => {
      await kubectl(['apply', '-f', '-'], manifest);
    },
    waitPodReady: async (namespace, pod, timeoutMs = 180_000) => {
      try {
        return await waitFor(
          `pod ${namespace}/${pod} Ready`,
          async () => {
            const p = await getJson<PodJson>(['pod', '-n', namespace, pod]);
            return p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
              ? p
              : undefined;
          },
          { timeoutMs, intervalMs: 500 },
        );
      } catch (e) {
        const status = await kubectlRun(['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.status}']);
        throw new Error(
          `${(e as Error).message}\nstatus: ${status.stdout}\nevents:\n${(await events(namespace, pod)).join('\n')}`,
        );
      }
    },
    waitPodGone: async (namespace, pod, timeoutMs = 120_000) => {
      await waitFor(
        `pod ${namespace}/${pod} gone`,
        async () => {
          const r = await kubectlRun(['get', 'pod', '-n', namespace, pod, '-o', 'name']);
          return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
        },
        { timeoutMs, intervalMs: 500 },
      );
    },
    nodeMetrics: async () => {
      const ip = await kubectl([
        'get',
        'pods',
        '-n',
        RELEASE_NS,
        '-l',
        'app.kubernetes.io/component=node',
        '-o',
        'jsonpath={.items[0].status.podIP}',
      ]);
      const text = await getInPodNetwork(`http://${ip}:9090/metrics`);
      const samples = new Map<string, number>();
      for (const line of text.split('\n')) {
        const m = /^(\S+) (\S+)$/.exec(line);
        if (m && !line.startsWith('#')) samples.set(m[1]!, Number(m[2]));
      }
      return samples;
    },
    portForward: (namespace, resource, remotePort) =>
      new Promise((resolve, reject) => {
        const args = ['port-forward', '-n', namespace, resource, `:${remotePort}`, '--address=127.0.0.1'];
        const child = spawn(KUBECTL, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        let out = '';
        let err = '';
        const fail = (why: string) => {
          clearTimeout(timer);
          child.kill('SIGKILL');
          reject(new Error(`kubectl ${args.join(' ')}: ${why}\n${err.slice(-2000)}`));
        };
        const timer = setTimeout(() => fail('not forwarding after 60 s'), 60_000);
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (!m) return;
          clearTimeout(timer);
          resolve({
            localPort: Number(m[1]),
            close: async () => {
              child.kill('SIGTERM');
              await exited;
            },
          });
        });
        child.once('exit', (code) => fail(`exited ${code}`));
      }),
    componentLog: async (name, lines = 40) =>
      (await run('tail', ['-n', String(lines), join(CLUSTER_DIR, 'logs', `${name}.log`)])).stdout,
    stop: async () => {
      if (!owned) return;
      const down = await clusterScript('down', [], 10 * 60_000);
      if (down.code !== 0)
        throw new Error(`cluster.sh down exited ${down.code}:\n${down.stderr.slice(-4000)}`);
    },
  };
}

/**
 * GETs `url` with curl from inside the cluster's network namespace (the pod network is not routed
 * to the host); the body, or an error on a failed request.
 */
export function getInPodNetwork(url: string): Promise<string> {
  return runOk('nsenter', [`--net=/run/netns/${NETNS}`, '--', 'curl', '-fsS', '--max-time', '10', url]);
}

/** A pod of the workload image with one inline volume of the driver at /certs (read-only). */
export function certPod(
  name: string,
  namespace: string,
  {
    attributes = {},
    command = ['sleep', '3600'],
    labels = {},
  }: { attributes?: Record<string, string>; command?: string[]; labels?: Record<string, string> } = {},
): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'cert-e2e', ...labels } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: WORKLOAD_IMAGE,
          imagePullPolicy: 'Never',
          command,
          volumeMounts: [{ name: 'certs', mountPath: '/certs', readOnly: true }],
        },
      ],
      volumes: [
        {
          name: 'certs',
          csi: { driver: DRIVER_NAME, readOnly: true, volumeAttributes: attributes },
        },
      ],
    },
  });
}

/** kubelet's directory of a pod's CSI volume (its publish target path). */
export function podVolumePath(podUid: string, volume = 'certs'): string {
  return join(KUBELET_DIR, 'pods', podUid, 'volumes', 'kubernetes.io~csi', volume, 'mount');
}
