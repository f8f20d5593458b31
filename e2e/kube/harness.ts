/**
 * Steps every Kubernetes suite takes the same way: the control plane with the two namespaces and the
 * nodes, its teardown, the CA Secret the built-in issuer reads, that issuer started as the chart runs
 * it (ISSUER_AUTH=kubernetes, the CA from the watched Secret, its own service account's RBAC from
 * deploy/rbac/issuer.yaml), cert-manager's requester role bound to a workload, the node role behind
 * that issuer (`KubeNodeSuite`), and a pod's volume as kubelet publishes it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import type { DriverProcess } from '../support/driver-process.js';
import { unmountAllUnder } from '../support/host.js';
import { makeCa } from '../support/openssl.js';
import { kubeletPublishRequest, type CsiClient } from '../support/product.js';
import { REPO_ROOT } from '../support/repo.js';
import { installCertManagerFixtures } from './cert-manager-fixtures.js';
import { TestCluster } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { FakeCertManagerSigner, type FakeSignerOptions } from './fake-cert-manager-signer.js';
import { startIssuerProcess, type IssuerProcess } from './issuer-process.js';
import { startKubeNode } from './node-process.js';
import { APPS, NS, TOKENS_KEY } from './names.js';

/** A suite's control plane, its client and its temporary folder. */
export interface KubeSuite {
  tmp: string;
  cp: ControlPlane;
  cluster: TestCluster;
}

/**
 * Makes a temporary folder `/tmp/<tmpPrefix>-XXXXXX`, starts a control plane for `suite`, creates the
 * `NS` and `APPS` namespaces (plus `namespaces`), the Node objects `nodes` and applies the RBAC files
 * `rbac` of deploy/rbac/. A failure stops what was started and removes the folder.
 */
export async function startKubeSuite(o: {
  suite: string;
  tmpPrefix: string;
  nodes?: readonly string[];
  namespaces?: readonly string[];
  rbac?: readonly string[];
}): Promise<KubeSuite> {
  const tmp = mkdtempSync(`/tmp/${o.tmpPrefix}-`);
  let cp: ControlPlane | undefined;
  try {
    cp = await startControlPlane({ name: o.suite });
    const cluster = new TestCluster(cp);
    for (const ns of [NS, APPS, ...(o.namespaces ?? [])]) await cluster.namespace(ns);
    for (const n of o.nodes ?? []) await cluster.node(n);
    for (const file of o.rbac ?? []) await cluster.apply(join(REPO_ROOT, 'deploy', 'rbac', file));
    return { tmp, cp, cluster };
  } catch (e) {
    await stopKubeSuite({ tmp, cp });
    throw e;
  }
}

/**
 * Runs `steps` in order (each one must cope with what it stops never having started), then stops the
 * control plane, unmounts whatever is still mounted under the suite's folder and removes it.
 */
export async function stopKubeSuite(
  s: { tmp?: string; cp?: ControlPlane },
  steps: readonly (() => unknown)[] = [],
): Promise<void> {
  for (const step of steps) await step();
  await s.cp?.stop();
  if (s.tmp) {
    await unmountAllUnder(s.tmp);
    rmSync(s.tmp, { recursive: true, force: true });
  }
}

/**
 * Binds deploy/rbac/node.yaml's `csi-cert-driver-certificate-requester` ClusterRole to the service
 * account `serviceAccount` of `APPS`: that workload may create CertificateRequests there.
 */
export async function grantCertificateRequester(cp: ControlPlane, serviceAccount: string): Promise<void> {
  await cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: APPS,
    body: {
      metadata: { name: `${serviceAccount}-certificate-requester` },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'csi-cert-driver-certificate-requester',
      },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: APPS }],
    },
  });
}

/** The Secret the built-in issuer takes its CA from. */
export const CA_SECRET = 'csi-ca-secret';

/**
 * Makes a CA in `dir` (`<name>.crt`, `<name>.key`) and stores it as the `kubernetes.io/tls` Secret
 * `CA_SECRET` in `NS`; returns the certificate's path.
 */
export async function caSecret(
  cluster: TestCluster,
  dir: string,
  name = 'ca',
  commonName?: string,
): Promise<string> {
  const { certFile, crt, key } = await writeCa(dir, name, commonName);
  await cluster.tlsSecret(NS, CA_SECRET, { crt, key });
  return certFile;
}

/** Makes a CA in `dir` (`<name>.crt`, `<name>.key`); returns the certificate's path and both PEMs. */
export async function writeCa(
  dir: string,
  name: string,
  commonName?: string,
): Promise<{ certFile: string; crt: string; key: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await makeCa(certFile, keyFile, commonName);
  return { certFile, crt: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/**
 * Starts the built-in issuer with its service account's token (deploy/rbac/issuer.yaml must be
 * applied), its CA from `CA_SECRET`, and `settings` on top.
 */
export async function startClusterIssuer(o: {
  cp: ControlPlane;
  cluster: TestCluster;
  suite: string;
  cwd: string;
  settings?: Record<string, string>;
}): Promise<IssuerProcess> {
  const token = await o.cluster.serviceAccountToken(NS, 'csi-cert-driver-issuer');
  return startIssuerProcess({
    suite: o.suite,
    name: 'issuer',
    cwd: o.cwd,
    settings: {
      ISSUER_AUTH: 'kubernetes',
      CA_SECRET_NAME: CA_SECRET,
      CA_SECRET_NAMESPACE: NS,
      KUBECONFIG: o.cp.kubeconfigFor('issuer', token).path,
      ...o.settings,
    },
  });
}

/**
 * cert-manager's side of a suite: its CRDs, the `web` service account of `APPS` allowed to create
 * CertificateRequests, and the fake signer started with a fresh CA (`ca.crt`, `ca.key` in the suite's
 * folder, subject `caName`); returns the signer and the CA certificate's path.
 */
export async function startFakeCertManager(
  s: KubeSuite,
  o: Omit<FakeSignerOptions, 'cluster' | 'caCertPem' | 'caKeyPem'> & { caName: string },
): Promise<{ signer: FakeCertManagerSigner; caFile: string }> {
  await installCertManagerFixtures(s.cluster);
  await s.cluster.serviceAccount(APPS, 'web');
  await grantCertificateRequester(s.cp, 'web');
  const { caName, ...signerOptions } = o;
  const ca = await writeCa(s.tmp, 'ca', caName);
  const signer = await new FakeCertManagerSigner({
    ...signerOptions,
    cluster: s.cluster,
    caCertPem: ca.crt,
    caKeyPem: ca.key,
  }).start();
  return { signer, caFile: ca.certFile };
}

/** One inline volume of a pod as kubelet lays it out under `<tmp>/kubelet` (the parent is made). */
export function podVolume(tmp: string, pod: V1Pod, name = 'tls'): { volumeId: string; targetPath: string } {
  const parent = join(tmp, 'kubelet', 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~csi', name);
  mkdirSync(parent, { recursive: true });
  return { volumeId: `csi-${randomBytes(32).toString('hex')}`, targetPath: join(parent, 'mount') };
}

/** kubelet's volume-context entry for the pod's tokens (`audience → token`), all expiring in `ttlMs`. */
export function tokensAttribute(tokens: Record<string, string>, ttlMs = 600_000): Record<string, string> {
  const expirationTimestamp = new Date(Date.now() + ttlMs).toISOString();
  const map = Object.fromEntries(
    Object.entries(tokens).map(([audience, token]) => [audience, { token, expirationTimestamp }]),
  );
  return { [TOKENS_KEY]: JSON.stringify(map) };
}

/** NodePublishVolume for volume `v` of `pod`, shaped as kubelet sends it. */
export function podPublishRequest(
  pod: V1Pod,
  v: { volumeId: string; targetPath: string },
  attributes: Record<string, string>,
): object {
  return kubeletPublishRequest({
    ...v,
    pod: {
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      uid: pod.metadata!.uid!,
      serviceAccount: pod.spec!.serviceAccountName!,
    },
    attributes,
  });
}

/**
 * A suite whose node role publishes through the built-in issuer: `startKubeSuite` (with
 * deploy/rbac/issuer.yaml), the CA Secret (`<tmp>/ca.crt`), the `web` service account of `APPS` and the
 * issuer; then the node `node-a` on `<tmp>/csi.sock` with CERT_BASE_PATH `<tmp>/base`, restartable
 * on both (logs `node-<n>.log`). `stop()` tears all of it down, whatever was started.
 */
export class KubeNodeSuite implements KubeSuite {
  node: DriverProcess | undefined;
  csi: CsiClient | undefined;
  private starts = 0;

  private constructor(
    readonly suite: string,
    readonly tmp: string,
    readonly cp: ControlPlane,
    readonly cluster: TestCluster,
    readonly caFile: string,
    readonly issuer: IssuerProcess,
  ) {}

  static async start(o: {
    suite: string;
    /** Default: the suite's name. */
    tmpPrefix?: string;
    nodes: readonly string[];
    /** deploy/rbac/ files besides issuer.yaml. */
    rbac?: readonly string[];
    issuerSettings?: Record<string, string>;
  }): Promise<KubeNodeSuite> {
    const s = await startKubeSuite({
      ...o,
      tmpPrefix: o.tmpPrefix ?? o.suite,
      rbac: ['issuer.yaml', ...(o.rbac ?? [])],
    });
    try {
      const caFile = await caSecret(s.cluster, s.tmp);
      await s.cluster.serviceAccount(APPS, 'web');
      const issuer = await startClusterIssuer({
        ...s,
        suite: o.suite,
        cwd: s.tmp,
        settings: o.issuerSettings,
      });
      return new KubeNodeSuite(o.suite, s.tmp, s.cp, s.cluster, caFile, issuer);
    } catch (e) {
      await stopKubeSuite(s);
      throw e;
    }
  }

  /** The CSI socket path. */
  get socket(): string {
    return join(this.tmp, 'csi.sock');
  }

  /** Starts the node role with `settings` over startKubeNode's; resolves once Probe answers ready. */
  async startNode(settings: Record<string, string> = {}): Promise<void> {
    ({ proc: this.node, csi: this.csi } = await startKubeNode({
      suite: this.suite,
      cwd: this.tmp,
      socket: this.socket,
      nodeId: 'node-a',
      issuerAddr: this.issuer.addr,
      baseDir: join(this.tmp, 'base'),
      logName: `node-${++this.starts}.log`,
      settings,
    }));
  }

  /** Closes the CSI client and ends the node role with `signal`. */
  async stopNode(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.csi?.close();
    this.csi = undefined;
    await this.node?.kill(signal);
  }

  /** NodePublishVolume over the node's socket. */
  publish(req: object): Promise<unknown> {
    return this.csi!.call('Node', 'NodePublishVolume', req);
  }

  stop(): Promise<void> {
    return stopKubeSuite(this, [() => this.stopNode(), () => this.issuer.stop()]);
  }
}
