/**
 * The product on a real node: scripts/cluster.sh brings up etcd, kube-apiserver, the controller
 * manager, the scheduler, containerd, kubelet, kube-proxy and CoreDNS on this machine, and installs
 * the chart with default values plus image overrides. Pods with an inline volume then read their
 * certificates through kubectl exec, talk mTLS over the pod network, and leave nothing behind.
 * Tests that need other values (token placement, the cluster view) upgrade the release and give it
 * back its values exactly (`withValues`).
 *
 * Needs root (skipped otherwise). Reuses a cluster that is already up and leaves it up; else brings
 * one up and tears it down at the end, also when a test fails.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterChangeEvent, ClusterNode, ClusterVolumePage } from '@csi-cert-driver/api-contract';
import { launchChromium, screenshotDir } from '../dashboard/browser.js';
import { mountsUnder } from '../support/host.js';
import { opensslOk } from '../support/openssl.js';
import { REPO_ROOT } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import {
  CERT_BASE,
  certPod,
  CLUSTER_DIR,
  clusterScript,
  clusterUnavailable,
  DRIVER_NAME,
  getInPodNetwork,
  KUBELET_DIR,
  NETNS,
  NODE_NAME,
  podVolumePath,
  RELEASE,
  RELEASE_NS,
  startCluster,
  type Cluster,
  type PodJson,
} from './cluster.js';

const unavailable = clusterUnavailable();

/** SIGKILLs every process of one container (its cgroup under kubepods); returns how many. */
/** Every process's command line on this host, as argv arrays (containers' processes included). */
function hostCommandLines(): string[][] {
  const lines: string[][] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    } catch {
      // The process ended while the list was read.
    }
  }
  return lines;
}

function killCgroup(podUid: string, containerId: string): number {
  const pids = new Set<number>();
  for (const qos of ['', 'burstable/', 'besteffort/']) {
    const procs = `/sys/fs/cgroup/pids/kubepods/${qos}pod${podUid}/${containerId}/cgroup.procs`;
    if (!existsSync(procs)) continue;
    for (const line of readFileSync(procs, 'utf8').split('\n')) if (line) pids.add(Number(line));
  }
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids.size;
}
const NS = 'cluster-e2e';

/**
 * The port-forwarded cluster dashboard in Chromium: cluster mode, the node, the pod's volume row.
 * The screenshot goes to docs/screenshots with UPDATE_SCREENSHOTS=1.
 */
async function dashboardShows(base: string, pod: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/`);
    await page.waitForSelector('html[data-ready=true][data-mode=cluster]', { timeout: 30_000 });
    await page.locator(`[data-testid=nodes-table] tr[data-node=${NODE_NAME}]`).waitFor({ timeout: 20_000 });
    await page.locator('[data-testid=cv-volumes] tbody tr', { hasText: pod }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(screenshotDir(), 'cluster-real-node.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}
/** Every workload pod serves TLS on 8443 with its volume, requiring and verifying a client certificate. */
const TLS_SERVER = [
  'sh',
  '-c',
  'while true; do openssl s_server -quiet -accept 8443 -cert /certs/tls.crt -key /certs/tls.key ' +
    '-CAfile /certs/ca.crt -Verify 1 -verify_return_error -rev; done',
];

describe.skipIf(unavailable !== undefined)('a real node: kubelet, containerd, the chart', () => {
  let cluster: Cluster | undefined;
  let stopped = false;
  const c = (): Cluster => {
    if (!cluster) throw new Error('the cluster did not come up');
    return cluster;
  };
  /** The `serial=…` line of the certificate a container of the test namespace sees. */
  const serialInPod = async (pod: string): Promise<string> => {
    const r = await c().exec(NS, pod, ['openssl', 'x509', '-noout', '-serial', '-in', '/certs/tls.crt']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  /** Polls `read` until it returns something other than `first`; resolves to that. */
  const changeOf = <T>(
    what: string,
    first: T,
    read: () => Promise<T>,
    timeoutMs: number,
    intervalMs: number,
  ) =>
    waitFor(
      what,
      async () => {
        const now = await read();
        return now !== first ? now : undefined;
      },
      { timeoutMs, intervalMs },
    );
  /** `openssl verify` of tls.crt against ca.crt inside a container of the test namespace. */
  const verifiesInPod = async (pod: string): Promise<void> => {
    const r = await c().exec(NS, pod, ['openssl', 'verify', '-CAfile', '/certs/ca.crt', '/certs/tls.crt']);
    expect(r.code, `${pod}: ${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/\/certs\/tls.crt: OK/);
  };
  /**
   * Inside the container: the chain verifies and tls.key is the key of tls.crt, all read from one
   * generation of the volume (`..data`, so a renewal swapping files meanwhile cannot mix two).
   */
  const keyPairInPod = async (pod: string): Promise<void> => {
    const r = await c().exec(NS, pod, [
      'sh',
      '-c',
      'cd /certs/..data && openssl verify -CAfile ca.crt tls.crt && ' +
        'openssl x509 -noout -pubkey -in tls.crt && openssl pkey -pubout -in tls.key',
    ]);
    expect(r.code, `${pod}: ${r.stderr}`).toBe(0);
    const keys = r.stdout.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
    expect(keys, pod).toHaveLength(2);
    expect(keys[0], `${pod}: key matches certificate`).toBe(keys[1]);
  };
  /** The release's pods of one component (`node`, `issuer`, `cluster-view`). */
  const componentPods = async (component: string): Promise<PodJson[]> =>
    (
      await c().getJson<{ items: PodJson[] }>([
        'pods',
        '-n',
        RELEASE_NS,
        '-l',
        `app.kubernetes.io/component=${component}`,
      ])
    ).items;
  /**
   * Runs `body` with the release upgraded by `args` on top of its values, then gives the release
   * back its values exactly (only the image overrides), also when `body` fails.
   */
  const withValues = async (args: string[], body: () => Promise<void>): Promise<void> => {
    const chart = join(REPO_ROOT, 'charts', 'csi-cert-driver');
    const values = await c().helm(['get', 'values', RELEASE, '-n', RELEASE_NS, '-o', 'json']);
    const saved = join(mkdtempSync(join(tmpdir(), 'cluster-e2e-')), 'values.json');
    writeFileSync(saved, values);
    const upgrade = (more: string[]) =>
      c().helm(['upgrade', RELEASE, chart, '-n', RELEASE_NS, ...more, '--wait', '--timeout', '300s']);
    try {
      await upgrade(['--reuse-values', ...args]);
      await body();
    } finally {
      await upgrade(['--reset-values', '-f', saved]);
      rmSync(dirname(saved), { recursive: true, force: true });
    }
  };

  beforeAll(async () => {
    cluster = await startCluster();
    await c().kubectlRun(['create', 'namespace', NS]);
  }, 45 * 60_000);

  afterAll(async () => {
    if (stopped) return;
    if (!cluster) {
      // `up` failed half-way: tear down what it started.
      await clusterScript('down', [], 10 * 60_000);
      return;
    }
    if (!cluster.owned) {
      await cluster.kubectlRun(['delete', 'namespace', NS, '--timeout=120s']);
    }
    await cluster.stop();
  }, 15 * 60_000);

  it('helm install with default values: the DaemonSet and both issuer replicas are Ready, CSINode lists the driver', async () => {
    const ds = await c().getJson<{ status: { desiredNumberScheduled: number; numberReady: number } }>([
      'daemonset',
      '-n',
      RELEASE_NS,
      '-l',
      'app.kubernetes.io/component=node',
    ]);
    const list = ds as unknown as {
      items: { status: { desiredNumberScheduled: number; numberReady: number } }[];
    };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]!.status).toMatchObject({ desiredNumberScheduled: 1, numberReady: 1 });
    const deploys = await c().getJson<{
      items: { spec: { replicas: number }; status: { readyReplicas?: number } }[];
    }>(['deployment', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/component=issuer']);
    expect(deploys.items).toHaveLength(1);
    expect(deploys.items[0]!.spec.replicas).toBe(2);
    expect(deploys.items[0]!.status.readyReplicas).toBe(2);
    const values = JSON.parse(
      await c().helm(['get', 'values', RELEASE, '-n', RELEASE_NS, '-o', 'json']),
    ) as Record<string, unknown>;
    expect(Object.keys(values), 'only image overrides').toEqual(['image']);
    // The node dials the issuer by its Service name, resolved by the cluster DNS.
    const env = await c().kubectl([
      'get',
      'daemonset',
      '-n',
      RELEASE_NS,
      '-l',
      'app.kubernetes.io/component=node',
      '-o',
      'jsonpath={.items[0].spec.template.spec.containers[0].env[?(@.name=="CERT_SERVICE_ADDR")].value}',
    ]);
    expect(env).toBe(`${RELEASE}-issuer.${RELEASE_NS}.svc:50051`);
    const csinode = await waitFor('CSINode lists the driver', async () => {
      const n = await c().getJson<{ spec: { drivers: { name: string }[] | null } }>(['csinode', NODE_NAME]);
      return n.spec.drivers?.some((d) => d.name === DRIVER_NAME) ? n : undefined;
    });
    expect(csinode.spec.drivers?.map((d) => d.name)).toContain(DRIVER_NAME);
    // The image's entrypoint started the node role and both issuer replicas from their startup
    // snapshots (ADR 26), not from dist/main.mjs: their processes, seen from the host, name the
    // blobs the image made.
    const lines = hostCommandLines();
    for (const [role, count] of [
      ['node', 1],
      ['issuer', 2],
    ] as const) {
      const blob = `/app/dist/${role}-snapshot.blob`;
      const fromSnapshot = lines.filter((args) => args.includes(blob));
      expect(fromSnapshot, `processes started from ${blob}`).toHaveLength(count);
      for (const args of fromSnapshot) {
        const at = args.indexOf('--snapshot-blob');
        expect(args.slice(at, at + 3)).toEqual(['--snapshot-blob', blob, role]);
      }
    }
  });

  describe('a pod with an inline volume and default attributes', () => {
    let pod: PodJson;
    beforeAll(async () => {
      await c().apply(certPod('cert-a', NS, { command: TLS_SERVER }));
      pod = await c().waitPodReady(NS, 'cert-a');
    }, 300_000);

    const inPod = async (argv: string[]) => {
      const r = await c().exec(NS, 'cert-a', argv);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };

    it('tls.key matches tls.crt and the chain verifies against ca.crt, inside the container', async () => {
      const fromCert = await inPod(['openssl', 'x509', '-noout', '-pubkey', '-in', '/certs/tls.crt']);
      const fromKey = await inPod(['openssl', 'pkey', '-pubout', '-in', '/certs/tls.key']);
      expect(fromCert).toMatch(/BEGIN PUBLIC KEY/);
      expect(fromKey).toBe(fromCert);
      expect(await inPod(['openssl', 'verify', '-CAfile', '/certs/ca.crt', '/certs/tls.crt'])).toMatch(
        /\/certs\/tls.crt: OK/,
      );
    });

    it('subject and SANs are the documented defaults (CN pod.namespace.svc.cluster.local, DNS SAN the pod name)', async () => {
      const text = await inPod([
        'openssl',
        'x509',
        '-noout',
        '-subject',
        '-ext',
        'subjectAltName',
        '-nameopt',
        'RFC2253',
        '-in',
        '/certs/tls.crt',
      ]);
      expect(text).toMatch(new RegExp(`subject=CN=cert-a\\.${NS}\\.svc\\.cluster\\.local\\n`));
      expect(text).toMatch(/X509v3 Subject Alternative Name: ?\n\s+DNS:cert-a\n/);
    });

    it('the mount is read-only in the container', async () => {
      const write = await c().exec(NS, 'cert-a', ['sh', '-c', 'echo x > /certs/probe']);
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
      const mounts = await inPod(['cat', '/proc/mounts']);
      const line = mounts.split('\n').find((l) => l.split(' ')[1] === '/certs');
      expect(line, '/certs in /proc/mounts').toBeDefined();
      expect(line!.split(' ')[3]!.split(',')).toContain('ro');
    });

    it('on the node, kubelet’s target path holds the volume’s tmpfs', () => {
      // Only the fs type and source: the driver's read-only remount happens in its own mount
      // namespace and does not propagate, so the host lists the bind with the tmpfs's own options.
      // The container's view is read-only because kubelet mounts a CSI volume with readOnly: true
      // read-only (checked above).
      const target = podVolumePath(pod.metadata.uid);
      const at = mountsUnder(target).filter((m) => m.mountPoint === target);
      expect(at.map((m) => `${m.fsType} ${m.source}`)).toEqual(['tmpfs csi-cert-driver']);
    });

    it('requiresRepublish: kubelet’s periodic republish neither remounts nor reissues', async () => {
      // cert-a is the only pod with our volume now, so any further NodePublishVolume is its republish.
      const PUBLISHES = 'csi_cert_driver_csi_requests_total{method="NodePublishVolume",code="OK"}';
      const ISSUED = 'csi_cert_driver_issuance_duration_seconds_count{outcome="success"}';
      const target = podVolumePath(pod.metadata.uid);
      const mountBefore = mountsUnder(target).filter((m) => m.mountPoint === target);
      const serial = async () =>
        (await inPod(['openssl', 'x509', '-noout', '-serial', '-in', '/certs/tls.crt'])).trim();
      const serialBefore = await serial();
      const before = await c().nodeMetrics();
      expect(before.get(PUBLISHES), PUBLISHES).toBeGreaterThanOrEqual(1);
      const after = await waitFor(
        'a republish by kubelet',
        async () => {
          const now = await c().nodeMetrics();
          return (now.get(PUBLISHES) ?? 0) > before.get(PUBLISHES)! ? now : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 5000 },
      );
      expect(after.get(ISSUED), 'certificates issued').toBe(before.get(ISSUED));
      expect(await serial()).toBe(serialBefore);
      const mountAfter = mountsUnder(target).filter((m) => m.mountPoint === target);
      expect(mountAfter.map((m) => m.mountId)).toEqual(mountBefore.map((m) => m.mountId));
      expect(mountAfter).toHaveLength(1);
    });

    it('two pods do mTLS with each other over the pod network, each verifying the other', async () => {
      await c().apply(certPod('cert-b', NS, { command: TLS_SERVER }));
      await c().waitPodReady(NS, 'cert-b');
      const a = await c().getJson<PodJson>(['pod', '-n', NS, 'cert-a']);
      expect(a.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      // cert-b dials cert-a with its own certificate and checks cert-a's name; cert-a's server
      // requires a client certificate from the same CA and answers the line reversed.
      const client = (withCert: boolean) =>
        c().exec(NS, 'cert-b', [
          'sh',
          '-c',
          // The line, then 2 s to read the answer before stdin closes the connection.
          `(printf 'hello-mtls\\n'; sleep 2) | timeout 20 openssl s_client -brief -connect ${a.status.podIP}:8443 ` +
            `-CAfile /certs/ca.crt -verify_return_error -verify_hostname cert-a ` +
            (withCert ? '-cert /certs/tls.crt -key /certs/tls.key' : ''),
        ]);
      const ok = await client(true);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('sltm-olleh');
      expect(ok.stderr).toMatch(/Verification: OK/);
      expect(ok.stderr).toMatch(/Verified peername: cert-a/);
      const refused = await client(false);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).not.toContain('sltm-olleh');
      expect(refused.stderr).toMatch(/certificate required/);
    });

    it('pod deletion unpublishes: no mount, no volume directory, no state left', async () => {
      const target = podVolumePath(pod.metadata.uid);
      const targetMount = mountsUnder(target).find((m) => m.mountPoint === target);
      expect(targetMount, 'the volume at kubelet’s target path').toBeDefined();
      // The target is a bind of the volume's tmpfs at certBasePath/mounts/<volume id>: same device.
      const dataMount = mountsUnder(join(CERT_BASE, 'mounts')).find(
        (m) => m.major === targetMount!.major && m.minor === targetMount!.minor,
      );
      expect(dataMount, 'the volume’s tmpfs under certBasePath/mounts').toBeDefined();
      const volumeId = dataMount!.mountPoint.slice(join(CERT_BASE, 'mounts').length + 1).split('/')[0]!;
      expect(existsSync(join(CERT_BASE, 'state', `${volumeId}.json`)), 'state file while published').toBe(
        true,
      );

      await c().kubectl(['delete', 'pod', '-n', NS, 'cert-a', '--wait=false']);
      await c().waitPodGone(NS, 'cert-a');
      expect(mountsUnder(join(KUBELET_DIR, 'pods', pod.metadata.uid))).toEqual([]);
      expect(mountsUnder(join(CERT_BASE, 'mounts', volumeId))).toEqual([]);
      expect(existsSync(join(CERT_BASE, 'mounts', volumeId))).toBe(false);
      expect(existsSync(join(CERT_BASE, 'state', `${volumeId}.json`))).toBe(false);
    });
  });

  it('caller authentication (the chart’s default): a pod asking for a name that is not its own never starts, a Warning Event says why', async () => {
    await c().apply(
      certPod('cert-liar', NS, { attributes: { 'csi.k8s.cert-driver/dns-names': 'someone-else' } }),
    );
    const warning = await waitFor(
      'a FailedMount Event on cert-liar',
      async () => (await c().events(NS, 'cert-liar')).find((e) => e.startsWith('Warning FailedMount')),
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(warning).toMatch(/PermissionDenied/);
    expect(warning).toMatch(/dns SAN 'someone-else' is not allowed for pod cluster-e2e\/cert-liar/);
    const pod = await c().getJson<PodJson>(['pod', '-n', NS, 'cert-liar']);
    expect(pod.status.phase).toBe('Pending');
    // Before the kubelet has tried the volume, the pod has no container status at all.
    expect(pod.status.containerStatuses?.[0]?.state ?? {}).not.toHaveProperty('running');
    await c().kubectl(['delete', 'pod', '-n', NS, 'cert-liar', '--wait=false']);
  });

  it('a short-lived certificate renews while the container runs: a new serial, the key still matches', async () => {
    await c().apply(
      certPod('cert-short', NS, {
        attributes: { 'csi.k8s.cert-driver/duration': '1m', 'csi.k8s.cert-driver/renew-before': '50s' },
      }),
    );
    await c().waitPodReady(NS, 'cert-short');
    const serial = () => serialInPod('cert-short');
    const first = await serial();
    expect(first).toMatch(/^serial=[0-9A-F]+$/);
    const renewed = await changeOf('a renewed certificate in the container', first, serial, 90_000, 2000);
    expect(renewed).not.toBe(first);
    // The key read next to the renewed certificate belongs to it (files swapped together).
    await keyPairInPod('cert-short');
    await c().kubectl(['delete', 'pod', '-n', NS, 'cert-short', '--wait=false']);
  });

  it('fsGroup: a non-root container reads tls.key through the pod’s fsGroup', async () => {
    const manifest = JSON.parse(certPod('cert-nonroot', NS)) as { spec: Record<string, unknown> };
    manifest.spec.securityContext = { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, runAsNonRoot: true };
    await c().apply(JSON.stringify(manifest));
    await c().waitPodReady(NS, 'cert-nonroot');
    const r = await c().exec(NS, 'cert-nonroot', [
      'sh',
      '-c',
      'id -u && stat -c "%a %g" /certs/..data/tls.key && openssl pkey -in /certs/tls.key -pubout',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [uid, modeAndGroup] = r.stdout.split('\n');
    expect(uid).toBe('1000');
    expect(modeAndGroup).toBe('440 2000');
    expect(r.stdout).toMatch(/BEGIN PUBLIC KEY/);
    await c().kubectl(['delete', 'pod', '-n', NS, 'cert-nonroot', '--wait=false']);
  });

  it('kubelet killed and restarted: a running volume keeps renewing meanwhile, the pod keeps running, new pods start', async () => {
    await c().apply(
      certPod('cert-kubelet', NS, {
        attributes: { 'csi.k8s.cert-driver/duration': '1m', 'csi.k8s.cert-driver/renew-before': '50s' },
      }),
    );
    const pod = await c().waitPodReady(NS, 'cert-kubelet');
    // Read on the node: kubectl exec needs the kubelet that is about to be killed.
    const crt = join(podVolumePath(pod.metadata.uid), 'tls.crt');
    const serialOnNode = async () => (await opensslOk(['x509', '-noout', '-serial', '-in', crt])).trim();
    const pid = Number(readFileSync(join(CLUSTER_DIR, 'pids', 'kubelet.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    const first = await serialOnNode();
    const renewed = await changeOf('a renewal while kubelet is down', first, serialOnNode, 60_000, 1000);
    expect(renewed).not.toBe(first);
    const up = await clusterScript('up', [], 10 * 60_000);
    expect(up.code, up.stderr.slice(-3000)).toBe(0);
    const after = await c().waitPodReady(NS, 'cert-kubelet');
    expect(after.metadata.uid).toBe(pod.metadata.uid);
    const restarts = await c().kubectl([
      'get',
      'pod',
      '-n',
      NS,
      'cert-kubelet',
      '-o',
      'jsonpath={.status.containerStatuses[0].restartCount}',
    ]);
    expect(restarts).toBe('0');
    await verifiesInPod('cert-kubelet');
    await c().apply(certPod('cert-after-kubelet', NS));
    await c().waitPodReady(NS, 'cert-after-kubelet');
    await c().kubectl(['delete', 'pod', '-n', NS, 'cert-kubelet', 'cert-after-kubelet', '--wait=false']);
  });

  it('the driver SIGKILLed during a burst of 20 pod starts: all end Running with valid certificates, no stray mounts', async () => {
    await c().kubectl(['delete', 'pods', '-n', NS, '--all', '--wait=true', '--timeout=120s']);
    expect(mountsUnder(join(CERT_BASE, 'mounts')), 'no volume before the burst').toEqual([]);
    const names = Array.from({ length: 20 }, (_, i) => `cert-burst-${i}`);
    await c().apply(
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((n) => JSON.parse(certPod(n, NS))) }),
    );
    // Kill the driver's processes (its container's cgroup) once the first volumes are published.
    await waitFor(
      'the first volumes of the burst',
      () => (mountsUnder(join(CERT_BASE, 'mounts')).length >= 2 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    const driver = (await componentPods('node'))[0] as PodJson & {
      status: { containerStatuses: { containerID: string; restartCount: number }[] };
    };
    const containerId = driver.status.containerStatuses[0]!.containerID.replace(/^containerd:\/\//, '');
    const killed = killCgroup(driver.metadata.uid, containerId);
    expect(killed, 'driver processes killed').toBeGreaterThan(0);
    for (const n of names) await c().waitPodReady(NS, n, 300_000);
    const restarted = await c().getJson<{ status: { containerStatuses: { restartCount: number }[] } }>([
      'pod',
      '-n',
      RELEASE_NS,
      driver.metadata.name,
    ]);
    expect(
      restarted.status.containerStatuses[0]!.restartCount,
      'the driver container restarted',
    ).toBeGreaterThan(driver.status.containerStatuses[0]!.restartCount);
    const targets = new Set<string>();
    for (const n of names) {
      const p = await c().getJson<PodJson>(['pod', '-n', NS, n]);
      const target = podVolumePath(p.metadata.uid);
      const at = mountsUnder(target).filter((m) => m.mountPoint === target);
      expect(at, `one mount at ${n}'s target`).toHaveLength(1);
      targets.add(`${at[0]!.major}:${at[0]!.minor}`);
      await keyPairInPod(n);
    }
    expect(targets.size, 'every pod has its own volume').toBe(20);
    // Exactly one data tmpfs per pod, each the one bound at a pod's target: none left over.
    const data = mountsUnder(join(CERT_BASE, 'mounts'));
    expect(data.map((m) => `${m.major}:${m.minor}`).sort()).toEqual([...targets].sort());
    await c().kubectl(['delete', 'pods', '-n', NS, '--all', '--wait=true', '--timeout=180s']);
    expect(mountsUnder(join(CERT_BASE, 'mounts'))).toEqual([]);
  });

  // The driver's read-only remount of a target bind lives in its own mount namespace: a new node pod
  // sees the host's copy read-write and must still take the volume as published (ADR 3), or the
  // running container, bound to the old tmpfs, would never see a renewal again.
  it('helm upgrade rolls the DaemonSet while pods run: their certificates keep renewing, new pods start', async () => {
    await c().apply(
      certPod('cert-rolling', NS, {
        attributes: { 'csi.k8s.cert-driver/duration': '1m', 'csi.k8s.cert-driver/renew-before': '50s' },
      }),
    );
    await c().waitPodReady(NS, 'cert-rolling');
    const nodePod = async () => (await componentPods('node')).map((p) => p.metadata.uid);
    const [before] = await nodePod();
    // A changed pod annotation rolls the DaemonSet (a new node pod replaces the old one).
    await c().helm([
      'upgrade',
      RELEASE,
      join(REPO_ROOT, 'charts', 'csi-cert-driver'),
      '-n',
      RELEASE_NS,
      '--reuse-values',
      '--set',
      'node.podAnnotations.rollout=e2e',
      '--wait',
      '--timeout',
      '300s',
    ]);
    const after = await nodePod();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    // What the container sees: kubelet bound the volume into it when it started, so only renewals
    // into that same tmpfs reach it.
    const first = await serialInPod('cert-rolling');
    await changeOf('a renewal the container sees', first, () => serialInPod('cert-rolling'), 60_000, 2000);
    await verifiesInPod('cert-rolling');
    await c().apply(certPod('cert-after-rollout', NS));
    await c().waitPodReady(NS, 'cert-after-rollout');
    await c().kubectl(['delete', 'pod', '-n', NS, 'cert-rolling', 'cert-after-rollout', '--wait=false']);
  });

  it('a non-root container without fsGroup reads tls.crt and ca.crt and lists the volume, but not tls.key', async () => {
    const manifest = JSON.parse(certPod('cert-nofsgroup', NS)) as { spec: Record<string, unknown> };
    manifest.spec.securityContext = { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true };
    await c().apply(JSON.stringify(manifest));
    await c().waitPodReady(NS, 'cert-nofsgroup');
    const inPod = (script: string) => c().exec(NS, 'cert-nofsgroup', ['sh', '-c', script]);
    const readable = await inPod(
      'id -u && ls /certs && openssl verify -CAfile /certs/ca.crt /certs/tls.crt && openssl x509 -noout -subject -in /certs/tls.crt',
    );
    expect(readable.code, readable.stderr).toBe(0);
    const [uid, ...rest] = readable.stdout.split('\n');
    expect(uid).toBe('1000');
    expect(rest.slice(0, 3)).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(readable.stdout).toMatch(/\/certs\/tls.crt: OK/);
    expect(readable.stdout).toMatch(/subject=CN ?= ?cert-nofsgroup\./);
    const key = await inPod('cat /certs/tls.key');
    expect(key.code).not.toBe(0);
    expect(key.stderr).toMatch(/Permission denied/);
    expect(key.stdout).not.toMatch(/PRIVATE KEY/);
    await c().kubectl(['delete', 'pod', '-n', NS, 'cert-nofsgroup', '--wait=false']);
  });

  // kubelet passes the pod's tokens in NodePublishVolumeRequest.secrets when the CSIDriver says
  // serviceAccountTokenInSecrets (the chart's default on 1.35+), else in the volume context; the node
  // reads both. The field is mutable: `helm upgrade` patches the CSIDriver in place.
  it('token placement: tokens in secrets (the default) and, after helm upgrade, in the volume context both issue', async () => {
    const inSecrets = async () =>
      (await c().getJson<{ spec: { serviceAccountTokenInSecrets?: boolean } }>(['csidriver', DRIVER_NAME]))
        .spec.serviceAccountTokenInSecrets;
    const startsAndVerifies = async (name: string) => {
      await c().apply(certPod(name, NS));
      await c().waitPodReady(NS, name);
      await verifiesInPod(name);
    };
    expect(await inSecrets(), 'the chart’s default').toBe(true);
    await startsAndVerifies('cert-token-secrets');
    await withValues(['--set', 'csiDriver.serviceAccountTokenInSecrets=false'], async () => {
      expect(await inSecrets(), 'the CSIDriver after the upgrade').toBe(false);
      await startsAndVerifies('cert-token-context');
    });
    expect(await inSecrets(), 'restored').toBe(true);
    await c().kubectl([
      'delete',
      'pod',
      '-n',
      NS,
      'cert-token-secrets',
      'cert-token-context',
      '--wait=false',
    ]);
  });

  // Issue 19 §1: the restarted node must renew the volumes it recovers on time, with the pod's token,
  // without waiting for kubelet's next republish to bring one (the token is kept with the volume's
  // state, ADR 22).
  it('the node pod restarted: a short-lived certificate renews on time, no renewal fails', async () => {
    await c().apply(
      certPod('cert-node-restart', NS, {
        attributes: { 'csi.k8s.cert-driver/duration': '1m', 'csi.k8s.cert-driver/renew-before': '50s' },
      }),
    );
    await c().waitPodReady(NS, 'cert-node-restart');
    try {
      const [before] = await componentPods('node');
      await c().kubectl(['delete', 'pod', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/component=node']);
      const replacement = await waitFor(
        'a new node pod',
        async () => {
          const pods = await componentPods('node');
          const fresh = pods.find((p) => p.metadata.uid !== before!.metadata.uid);
          return pods.length === 1 && fresh ? fresh : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      await c().waitPodReady(RELEASE_NS, replacement.metadata.name);
      const certInPod = async () => {
        const r = await c().exec(NS, 'cert-node-restart', [
          'openssl',
          'x509',
          '-noout',
          '-serial',
          '-enddate',
          '-in',
          '/certs/tls.crt',
        ]);
        expect(r.code, r.stderr).toBe(0);
        const serial = /serial=(\S+)/.exec(r.stdout)![1]!;
        const notAfter = Date.parse(/notAfter=(.+)/.exec(r.stdout)![1]!);
        return { serial, notAfter };
      };
      const first = await certInPod();
      // Before the certificate the container holds expires: at most one lifetime (1 minute).
      const renewed = await waitFor(
        'a renewal the container sees after the node restart',
        async () => {
          const now = await certInPod();
          return now.serial !== first.serial ? { ...now, at: Date.now() } : undefined;
        },
        { timeoutMs: 70_000, intervalMs: 1000 },
      );
      expect(renewed.at, 'renewed before the old certificate expired').toBeLessThanOrEqual(first.notAfter);
      const metrics = await c().nodeMetrics();
      expect(metrics.get('csi_cert_driver_renewals_total{outcome="success"}'), 'renewals').toBeGreaterThan(0);
      expect(
        metrics.get('csi_cert_driver_renewals_total{outcome="failure"}') ?? 0,
        'renewals that failed since the restart',
      ).toBe(0);
      await verifiesInPod('cert-node-restart');
    } finally {
      await c().kubectlRun(['delete', 'pod', '-n', NS, 'cert-node-restart', '--wait=false']);
    }
  });

  it('one issuer replica killed during a burst of 10 pod starts: all end Ready with valid certificates', async () => {
    await c().kubectl(['delete', 'pods', '-n', NS, '--all', '--wait=true', '--timeout=120s']);
    const issuers = await componentPods('issuer');
    expect(issuers).toHaveLength(2);
    // Certificates each replica has signed, from its /metrics (read inside the pod network).
    const signed = async () => {
      const counts = new Map<string, number>();
      for (const p of issuers) {
        const text = await getInPodNetwork(`http://${p.status.podIP}:9090/metrics`);
        let n = 0;
        for (const m of text.matchAll(/^csi_cert_driver_issuer_signatures_total\S* (\S+)$/gm))
          n += Number(m[1]);
        counts.set(p.metadata.name, n);
      }
      return counts;
    };
    // The node's gRPC connection goes to one replica: the one that signs a first pod's certificate.
    const before = await signed();
    await c().apply(certPod('cert-issuer-warm', NS));
    await c().waitPodReady(NS, 'cert-issuer-warm');
    const after = await signed();
    const victim = [...after].find(([name, n]) => n > before.get(name)!)?.[0];
    expect(victim, 'the replica that signed for the node').toBeDefined();
    const names = Array.from({ length: 10 }, (_, i) => `cert-issuer-burst-${i}`);
    await c().apply(
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: names.map((n) => JSON.parse(certPod(n, NS))) }),
    );
    // The warm pod's volume plus fewer than the burst's 10 as the kill is sent: it lands while the
    // burst runs (counted after the kill, a fast burst could have finished while kubectl ran).
    const mountedAtKill = mountsUnder(join(CERT_BASE, 'mounts')).length;
    await c().kubectl(['delete', 'pod', '-n', RELEASE_NS, victim!, '--grace-period=0', '--force']);
    expect(mountedAtKill, 'killed during the burst').toBeLessThan(11);
    for (const n of names) {
      await c().waitPodReady(NS, n, 300_000);
      await keyPairInPod(n);
    }
    const replicas = await componentPods('issuer');
    expect(replicas.map((p) => p.metadata.name)).not.toContain(victim);
    await c().kubectl(['delete', 'pods', '-n', NS, '--all', '--wait=true', '--timeout=180s']);
  });

  // Issue 18: the chart's cluster dashboard, reached as an operator reaches it (`kubectl
  // port-forward` to its Service), shows the pods this suite starts and follows them by watch.
  it('the cluster view (status objects on), port-forwarded: the running pods’ volumes with node, pod and expiry, a deleted pod gone live', async () => {
    const pods = ['cert-view-0', 'cert-view-1'];
    await withValues(['--set', 'status.objects=true', '--set', 'clusterView.enabled=true'], async () => {
      // The same local image as the node (the chart has one image for every role).
      const images = async (kind: string, component: string) =>
        c().kubectl([
          'get',
          kind,
          '-n',
          RELEASE_NS,
          '-l',
          `app.kubernetes.io/component=${component}`,
          '-o',
          'jsonpath={.items[*].spec.template.spec.containers[*].image}',
        ]);
      expect(await images('deployment', 'cluster-view')).toBe(await images('daemonset', 'node'));
      expect(await componentPods('cluster-view')).toHaveLength(1);
      await c().apply(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: pods.map((n) => JSON.parse(certPod(n, NS))),
        }),
      );
      for (const n of pods) await c().waitPodReady(NS, n);
      const fwd = await c().portForward(RELEASE_NS, `svc/${RELEASE}-cluster-view`, 8080);
      const events: string[] = [];
      const ac = new AbortController();
      try {
        // `localhost`, as a browser on the operator's machine names it (the Host check passes it).
        const base = `http://localhost:${fwd.localPort}`;
        const volumes = async () => {
          const res = await fetch(`${base}/api/v1/cluster/volumes?namespace=${NS}`);
          expect(res.status, await res.clone().text()).toBe(200);
          return ((await res.json()) as ClusterVolumePage).items;
        };
        const listed = await waitFor(
          'the pods’ volumes in the cluster view',
          async () => {
            const items = await volumes();
            return pods.every((n) => items.some((v) => v.pod === n && v.notAfter)) ? items : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 1000 },
        );
        for (const n of pods) {
          const v = listed.find((x) => x.pod === n)!;
          const pod = await c().getJson<PodJson>(['pod', '-n', NS, n]);
          expect(v).toMatchObject({
            nodeId: NODE_NAME,
            namespace: NS,
            podUid: pod.metadata.uid,
            state: 'healthy',
          });
          // The expiry of the certificate the container holds.
          const end = await c().exec(NS, n, [
            'openssl',
            'x509',
            '-noout',
            '-enddate',
            '-in',
            '/certs/tls.crt',
          ]);
          expect(end.code, end.stderr).toBe(0);
          expect(new Date(v.notAfter!).toISOString()).toBe(
            new Date(/notAfter=(.+)/.exec(end.stdout)![1]!).toISOString(),
          );
        }
        const overview = (await (await fetch(`${base}/api/v1/cluster/nodes`)).json()) as {
          items: ClusterNode[];
        };
        expect(overview.items.find((x) => x.nodeId === NODE_NAME)).toMatchObject({ health: 'ok' });

        // A deleted pod leaves the view through its watch: a change event names its volume.
        // Ends with an AbortError when aborted below (or in `finally` when an assertion fails).
        const stream = fetch(`${base}/api/v1/cluster/events`, { signal: ac.signal })
          .then(async (res) => {
            const reader = res.body!.getReader();
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              events.push(Buffer.from(value).toString());
            }
          })
          .catch(() => undefined);
        await waitFor('the event stream', () =>
          events.join('').includes('event: hello') ? true : undefined,
        );
        const gone = listed.find((x) => x.pod === pods[1])!;
        await c().kubectl(['delete', 'pod', '-n', NS, pods[1]!, '--wait=false']);
        await waitFor(
          'a change event deleting the volume',
          () => {
            const changes = events
              .join('')
              .split('\n\n')
              .filter((e) => e.startsWith('event: change\n'))
              .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as ClusterChangeEvent);
            return changes.some((e) => e.deleted.includes(gone.id)) ? true : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500 },
        );
        const left = (await volumes()).map((v) => v.pod);
        expect(left).toContain(pods[0]);
        expect(left).not.toContain(pods[1]);
        ac.abort();
        await stream;
        await dashboardShows(base, pods[0]!);
      } finally {
        ac.abort();
        await fwd.close();
      }
    });
    expect(await componentPods('cluster-view'), 'the cluster view removed with the values').toEqual([]);
    await c().kubectl(['delete', 'pods', '-n', NS, '--all', '--wait=true', '--timeout=120s']);
  });

  it('helm uninstall after the pods are gone leaves no volume mount behind', async () => {
    await c().kubectl(['delete', 'pods', '-n', NS, '--all', '--wait=true', '--timeout=120s']);
    await c().helm(['uninstall', RELEASE, '-n', RELEASE_NS, '--wait', '--timeout', '180s']);
    await waitFor(
      'the driver pods gone',
      async () => {
        const pods = await c().getJson<{ items: unknown[] }>(['pods', '-n', RELEASE_NS]);
        return pods.items.length === 0 ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    // Only the state tmpfs stays at certBasePath (documented: until reboot); no volume anywhere.
    expect(
      mountsUnder(join(KUBELET_DIR, 'pods')).filter((m) => m.mountPoint.includes('kubernetes.io~csi')),
    ).toEqual([]);
    expect(mountsUnder(join(CERT_BASE, 'mounts'))).toEqual([]);
    expect(mountsUnder(join(KUBELET_DIR, 'plugins'))).toEqual([]);
    if (!c().owned) {
      // A reused cluster gets the product back as it was.
      const up = await clusterScript('up');
      expect(up.code, up.stderr).toBe(0);
    }
  });

  it('cluster.sh down leaves the machine as it found it (when this suite brought it up)', async () => {
    if (!c().owned) return;
    const before = readFileSync(join(CLUSTER_DIR, 'sysctls.saved'), 'utf8');
    await c().stop();
    stopped = true;
    expect(existsSync(`/run/netns/${NETNS}`)).toBe(false);
    expect(mountsUnder(KUBELET_DIR)).toEqual([]);
    expect(mountsUnder(CERT_BASE)).toEqual([]);
    expect(existsSync('/sys/fs/cgroup/memory/kubepods')).toBe(false);
    for (const line of before.trim().split('\n')) {
      const [key, value] = line.split('=') as [string, string];
      expect(readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim(), key).toBe(value.trim());
    }
  });
});
