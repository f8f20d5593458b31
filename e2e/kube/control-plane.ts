/**
 * A real Kubernetes control plane for tests, envtest-style: Debian's etcd and a kube-apiserver built
 * by scripts/install-kube.sh, both on loopback with random free ports and a data directory under
 * /tmp. RBAC is on (Node,RBAC), service-account tokens are signed with a fresh RSA key, and the
 * harness authenticates with a static admin token in system:masters. No controller-manager,
 * scheduler or kubelet runs: tests create what those would (service accounts, nodes, pods bound
 * with spec.nodeName).
 *
 * `startControlPlane()` cleans up after itself when it fails; `stop()` kills both processes and
 * removes the directory. Every process started here is SIGKILLed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { REPO_ROOT } from '../support/repo.js';
import { sleep } from '../support/wait.js';
import { freeLoopbackPorts as freePorts } from '../support/ports.js';

export const KUBE_BIN = join(REPO_ROOT, '.cache', 'bin');
export const KUBE_APISERVER = join(KUBE_BIN, 'kube-apiserver');
export const ETCD = existsSync(join(KUBE_BIN, 'etcd')) ? join(KUBE_BIN, 'etcd') : '/usr/bin/etcd';
/** The issuer (`iss`) and default audience of service-account tokens. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** PEM of the CA that signed the API server's self-signed serving certificate. */
  caPem: string;
  /** Kubeconfig of the admin user (system:masters): a file and the loaded object. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** Writes a kubeconfig that authenticates with `token` (e.g. a service account's). */
  kubeconfigFor(name: string, token: string): { path: string; kubeConfig: KubeConfig };
  /** Scratch directory of this control plane (removed by stop()). */
  dir: string;
  /** The last lines of the API server's log, for failure messages. */
  apiServerLogTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Names the log folder test-results/e2e/<name>, emptied at start (the suite logs its other processes there too). */
  name: string;
  /** How long to wait for /readyz; default 100 s (a cold start on 2 busy cores). */
  readyTimeoutMs?: number;
  /** More kube-apiserver flags, after the defaults. */
  apiServerArgs?: string[];
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Whether the binaries exist; tests skip with this message when not. */
export function controlPlaneMissing(): string | undefined {
  for (const bin of [KUBE_APISERVER, ETCD]) {
    if (!existsSync(bin)) return `${bin} is missing: run scripts/install-kube.sh`;
  }
  return undefined;
}

function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, {
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** GET `url` over https with the admin token; resolves to the status code and body (never rejects on HTTP errors). */
function httpsGet(url: string, caPem: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: caPem, headers: { Authorization: `Bearer ${token}` }, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function kubeconfigText(server: string, caPem: string, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test',
        cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'test', user } }],
    'current-context': user,
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The last certificate of a PEM bundle (the serving cert file ends with its self-signed CA). */
function lastCertificate(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const last = blocks[blocks.length - 1];
  if (!last) throw new Error('the API server wrote no serving certificate');
  return `${last}\n`;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const missing = controlPlaneMissing();
  if (missing) throw new Error(missing);
  // A fresh log folder per run: suites read their processes' logs and must not see an earlier run's.
  const logDir = join(REPO_ROOT, 'test-results', 'e2e', opts.name);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const dir = mkdtempSync('/tmp/kcp-');
  const etcdLog = join(logDir, 'etcd.log');
  const apiLog = join(logDir, 'kube-apiserver.log');
  let etcd: ChildProcess | undefined;
  let apiserver: ChildProcess | undefined;
  const stop = async () => {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, securePort] = (await freePorts(3)) as [number, number, number];
    etcd = startProcess(
      ETCD,
      [
        '--name=kcp',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=kcp=http://127.0.0.1:${etcdPeer}`,
        '--log-level=warn',
      ],
      etcdLog,
    );

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });
    const certDir = join(dir, 'pki');

    apiserver = startProcess(
      KUBE_APISERVER,
      [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // No controller runs to keep the kubernetes Service's endpoints, and they may not be loopback.
        '--endpoint-reconciler-type=none',
        `--secure-port=${securePort}`,
        `--cert-dir=${certDir}`,
        '--authorization-mode=Node,RBAC',
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...(opts.apiServerArgs ?? []),
      ],
      apiLog,
    );

    const server = `https://127.0.0.1:${securePort}`;
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 100_000);
    let caPem = '';
    let last = '';
    for (;;) {
      for (const [name, child] of [
        ['etcd', etcd],
        ['kube-apiserver', apiserver],
      ] as const) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${name} exited (${child.exitCode ?? child.signalCode}):\n${tail(name === 'etcd' ? etcdLog : apiLog, 30)}`,
          );
        }
      }
      const crt = join(certDir, 'apiserver.crt');
      if (!caPem && existsSync(crt)) caPem = lastCertificate(readFileSync(crt, 'utf8'));
      if (caPem) {
        try {
          const res = await httpsGet(`${server}/readyz`, caPem, adminToken);
          if (res.status === 200) break;
          last = `HTTP ${res.status}: ${res.body.slice(0, 500)}`;
        } catch (e) {
          last = (e as Error).message;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `kube-apiserver not ready after ${opts.readyTimeoutMs ?? 100_000} ms (${last}):\n${tail(apiLog, 30)}`,
        );
      }
      await sleep(250);
    }

    const kubeconfigFor = (name: string, token: string) => {
      const path = join(dir, `${name}.kubeconfig`);
      const text = kubeconfigText(server, caPem, name, token);
      writeFileSync(path, text, { mode: 0o600 });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromString(text);
      return { path, kubeConfig };
    };
    const admin = kubeconfigFor('admin', adminToken);
    return {
      server,
      caPem,
      kubeconfigPath: admin.path,
      kubeConfig: admin.kubeConfig,
      kubeconfigFor,
      dir,
      apiServerLogTail: (lines = 30) => tail(apiLog, lines),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
