/**
 * cert-manager mode end to end against a real kube-apiserver: the node (the built binary, as the
 * csi-cert-driver-node service account under deploy/rbac/node.yaml) publishes volumes with
 * issuer-name. It creates CertificateRequests as the pod's own service account (the pod's API token
 * from kubelet's token map), the test fake signer plays cert-manager's CA issuer, and the requester
 * policy plays cert-manager's webhook (spec.username from the authenticated user). Checks the
 * request's owner, labels, username, usages and duration, the files with OpenSSL, the cleanup, the
 * codes and pod Events of Denied, Failed and timeouts, renewal through cert-manager, the stale-request
 * cleanup, and that a workload without RBAC for CertificateRequests is refused.
 *
 * Every node here runs with a module-resolution hook (NODE_OPTIONS=--import) that prints a marker
 * when @kubernetes/client-node is resolved: a node whose kubeconfig holds a token never loads the
 * library (ADR 27); one whose kubeconfig uses an exec plugin does, and publishes just the same.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverProcess } from '../support/driver-process.js';
import { opensslOk, serialOf, validityOf, verifyChain } from '../support/openssl.js';
import type { CsiClient } from '../support/product.js';
import { waitFor } from '../support/wait.js';
import type { TestCluster } from './cluster.js';
import {
  CM_GROUP,
  CM_PLURAL,
  CM_VERSION,
  listCertificateRequests,
  type CertificateRequestObject,
} from './cert-manager-fixtures.js';
import { SERVICE_ACCOUNT_ISSUER, type ControlPlane } from './control-plane.js';
import { CLOCK_SKEW_MS, type Decision, type FakeCertManagerSigner } from './fake-cert-manager-signer.js';
import type { IssuerProcess } from './issuer-process.js';
import { startKubeNode } from './node-process.js';
import { execPluginKubeconfig, LIBRARY_MARKER, libraryHookNodeOptions } from './client-library.js';
import { APPS, NS } from './names.js';
import {
  caSecret,
  podPublishRequest,
  podVolume,
  startClusterIssuer,
  startFakeCertManager,
  startKubeSuite,
  stopKubeSuite,
  tokensAttribute,
} from './harness.js';

const SUITE = 'kube-cert-manager';
const NODE = 'node-a';
const ISSUER_AUDIENCE = 'csi.k8s.cert-driver';
const P = 'csi.k8s.cert-driver/';
const ISSUER_REF = { name: 'ca-issuer', kind: 'Issuer', group: 'cert-manager.io' };
const TIMEOUT_S = 4;

let cp: ControlPlane;
let cluster: TestCluster;
let node: DriverProcess | undefined;
let csi: CsiClient | undefined;
let nodeKubeconfig: string;
let builtIn: IssuerProcess | undefined;
const processes: DriverProcess[] = [];
const clients: CsiClient[] = [];
let signer: FakeCertManagerSigner | undefined;
let tmp: string;
let caFile: string;
let hookOptions: string;
/** Every request the signer saw, as it first saw it (before the node deletes it). */
const seen = new Map<string, CertificateRequestObject>();

/** Pods named `<decision>-<n>` get that decision from the fake signer. */
function decide(cr: CertificateRequestObject): Decision {
  seen.set(cr.metadata!.name!, structuredClone(cr));
  const pod = cr.metadata!.ownerReferences?.[0]?.name ?? '';
  if (pod.startsWith('denied-'))
    return { action: 'deny', reason: 'PolicyDenied', message: 'namespace apps may not use ca-issuer' };
  if (pod.startsWith('failed-')) return { action: 'fail', message: 'the CA key is not available' };
  if (pod.startsWith('slow-')) return { action: 'ignore' };
  return { action: 'sign' };
}

beforeAll(async () => {
  const suite = await startKubeSuite({
    suite: SUITE,
    tmpPrefix: 'kube-cm',
    nodes: [NODE, 'node-b', 'node-exec'],
    // The built-in issuer runs on the same node, verifying pod tokens for its own audience (TokenReview).
    rbac: ['node.yaml', 'issuer.yaml'],
  });
  ({ tmp, cp, cluster } = suite);
  hookOptions = libraryHookNodeOptions(tmp);
  // Only `web` may request certificates in apps (deploy/rbac/node.yaml's requester role); `norbac` may not.
  ({ signer, caFile } = await startFakeCertManager(suite, {
    caName: 'fake cert-manager CA',
    issuerRef: ISSUER_REF,
    decide,
  }));
  await cluster.serviceAccount(APPS, 'norbac');

  await caSecret(cluster, tmp, 'builtin-ca', 'built-in issuer CA');
  builtIn = await startClusterIssuer({ cp, cluster, suite: SUITE, cwd: tmp });

  nodeKubeconfig = cp.kubeconfigFor(
    'node',
    await cluster.serviceAccountToken(NS, 'csi-cert-driver-node'),
  ).path;
  ({ proc: node, client: csi } = await startNode('node-a', {}));
});

/** The node driver as the csi-cert-driver-node service account, in cert-manager mode. */
async function startNode(nodeId: string, extra: Record<string, string>) {
  const { proc, csi: client } = await startKubeNode({
    suite: SUITE,
    cwd: tmp,
    socket: join(tmp, `${nodeId}.sock`),
    nodeId,
    issuerAddr: builtIn!.addr,
    baseDir: join(tmp, `base-${nodeId}`),
    logName: `${nodeId}.log`,
    settings: {
      NODE_OPTIONS: hookOptions,
      KEY_POOL_SIZE: '0',
      STATUS_OBJECTS: 'false',
      POD_EVENTS: 'false',
      KUBECONFIG: nodeKubeconfig,
      CERT_MANAGER_ENABLED: 'true',
      CERT_MANAGER_TIMEOUT: `${TIMEOUT_S}s`,
      CERT_MANAGER_CLEANUP_INTERVAL: '1s',
      ...extra,
    },
  });
  processes.push(proc);
  clients.push(client);
  return { proc, client };
}

afterAll(() =>
  stopKubeSuite({ cp, tmp }, [
    () => clients.forEach((c) => c.close()),
    () => Promise.all(processes.map((p) => p.kill('SIGKILL'))),
    () => signer?.stop(),
    () => builtIn?.stop(),
  ]),
);

interface Published {
  pod: V1Pod;
  volumeId: string;
  targetPath: string;
  tokens: string[];
  call: Promise<unknown>;
}

/**
 * A pod on a node (node-a by default) and its volume published as kubelet would, with both tokens in
 * the token map unless `on.tokens` is false.
 */
async function publish(
  name: string,
  attributes: Record<string, string>,
  serviceAccount = 'web',
  on: { nodeName: string; client: CsiClient; tokens: boolean; builtIn?: boolean } = {
    nodeName: NODE,
    client: csi!,
    tokens: true,
  },
): Promise<Published> {
  const pod = await cluster.pod({ namespace: APPS, name, serviceAccount, nodeName: on.nodeName });
  const apiToken = await cluster.podToken({ pod, audience: SERVICE_ACCOUNT_ISSUER });
  const issuerToken = await cluster.podToken({ pod, audience: ISSUER_AUDIENCE });
  const { volumeId, targetPath } = podVolume(tmp, pod);
  const req = podPublishRequest(
    pod,
    { volumeId, targetPath },
    {
      ...(on.builtIn ? {} : { [`${P}issuer-name`]: ISSUER_REF.name }),
      ...attributes,
      // kubelet's map for tokenRequests [{audience: ""}, {audience: csi.k8s.cert-driver}]
      ...(on.tokens ? tokensAttribute({ '': apiToken, [ISSUER_AUDIENCE]: issuerToken }) : {}),
    },
  );
  return {
    pod,
    volumeId,
    targetPath,
    tokens: [apiToken, issuerToken],
    call: on.client.call('Node', 'NodePublishVolume', req),
  };
}

function failure(p: Promise<unknown>): Promise<{ code?: number; details?: string } | undefined> {
  return p.then(
    () => undefined,
    (e: { code?: number; details?: string }) => e,
  );
}

/** The first hex characters of sha256(volumeId): the volume-id label of kubelet's long ids. */
const volumeLabel = (volumeId: string) => createHash('sha256').update(volumeId).digest('hex').slice(0, 63);

async function podEvents(pod: V1Pod) {
  const list = await cluster.core.listNamespacedEvent({
    namespace: APPS,
    fieldSelector: `involvedObject.uid=${pod.metadata!.uid!}`,
  });
  return list.items;
}

function requestsFor(volumeId: string) {
  return listCertificateRequests(cluster, APPS, `${P}volume-id=${volumeLabel(volumeId)}`);
}

function expectNoSecrets(text: string, tokens: string[]) {
  for (const t of tokens) expect(text).not.toContain(t);
  expect(text).not.toMatch(/PRIVATE KEY/);
}

describe('cert-manager mode', () => {
  it('publishes through a CertificateRequest made as the pod, then deletes it', async () => {
    const p = await publish('web-1', {
      [`${P}duration`]: '2h',
      [`${P}key-usages`]: 'digital signature,server auth',
      [`${P}dns-names`]: 'web-1.apps.svc',
    });
    await p.call;

    const crt = join(p.targetPath, 'tls.crt');
    expect((await verifyChain(caFile, crt)).ok).toBe(true);
    const sans = await opensslOk(['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']);
    expect(sans).toContain('DNS:web-1.apps.svc');
    const { notBefore, notAfter } = await validityOf(crt);
    // The signer back-dates notBefore by its clock-skew allowance.
    expect(notAfter.getTime() - notBefore.getTime()).toBe(2 * 3600_000 + CLOCK_SKEW_MS);
    expect(readFileSync(join(p.targetPath, 'ca.crt'), 'utf8').trim()).toBe(
      readFileSync(caFile, 'utf8').trim(),
    );
    await opensslOk(['pkey', '-in', join(p.targetPath, 'tls.key'), '-noout']);

    const cr = [...seen.values()].find((c) => c.metadata!.ownerReferences?.[0]?.uid === p.pod.metadata!.uid);
    expect(cr).toBeDefined();
    expect(cr!.metadata!.namespace).toBe(APPS);
    expect(cr!.metadata!.name).toMatch(/^web-1-[a-z0-9]{5}$/);
    expect(cr!.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: p.pod.metadata!.uid }),
    ]);
    expect(cr!.metadata!.labels).toEqual({ [`${P}node`]: NODE, [`${P}volume-id`]: volumeLabel(p.volumeId) });
    expect(cr!.metadata!.annotations).toMatchObject({ [`${P}volume-id`]: p.volumeId });
    // Set by the requester policy from the authenticated user: the node acted as the pod.
    expect(cr!.spec.username).toBe('system:serviceaccount:apps:web');
    expect(cr!.spec.groups).toContain('system:serviceaccounts:apps');
    expect(cr!.spec).toMatchObject({
      issuerRef: ISSUER_REF,
      duration: '2h0m0s',
      isCA: false,
      usages: ['digital signature', 'server auth'],
    });
    const csrFile = join(tmp, 'web-1.csr');
    writeFileSync(csrFile, Buffer.from(cr!.spec.request, 'base64'));
    // The CSR verifies, and its key is the volume's key (the one in tls.crt).
    await opensslOk(['req', '-in', csrFile, '-noout', '-verify']);
    const csrKey = await opensslOk(['req', '-in', csrFile, '-noout', '-pubkey']);
    expect(csrKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(csrKey).toBe(await opensslOk(['x509', '-in', crt, '-noout', '-pubkey']));

    await waitFor('the request to be deleted', async () =>
      (await requestsFor(p.volumeId)).length === 0 ? true : undefined,
    );
    expectNoSecrets(node!.logText(), p.tokens);
  });

  it('refuses a Denied request with PERMISSION_DENIED naming the reason, and a pod Event', async () => {
    const p = await publish('denied-1', {});
    const err = await failure(p.call);
    expect(err?.code).toBe(7);
    expect(err?.details).toMatch(/denied .*PolicyDenied: namespace apps may not use ca-issuer/);
    const events = await waitFor('a pod Event', async () => {
      const e = (await podEvents(p.pod)).filter((x) => x.reason === 'CertificateRequestDenied');
      return e.length > 0 ? e : undefined;
    });
    expect(events[0]).toMatchObject({
      type: 'Warning',
      involvedObject: { kind: 'Pod', name: 'denied-1', uid: p.pod.metadata!.uid },
    });
    expect(events[0]!.message).toMatch(/namespace apps may not use ca-issuer/);
    expectNoSecrets(JSON.stringify(events), p.tokens);
  });

  it('refuses a Failed request with FAILED_PRECONDITION naming the request, and a pod Event', async () => {
    const p = await publish('failed-1', {});
    const err = await failure(p.call);
    expect(err?.code).toBe(9);
    expect(err?.details).toMatch(
      /CertificateRequest apps\/failed-1-[a-z0-9]{5} .*failed: Failed: the CA key is not available/,
    );
    const events = await waitFor('a pod Event', async () => {
      const e = (await podEvents(p.pod)).filter((x) => x.reason === 'CertificateRequestFailed');
      return e.length > 0 ? e : undefined;
    });
    expectNoSecrets(JSON.stringify(events), p.tokens);
  });

  it('gives up after CERT_MANAGER_TIMEOUT with DEADLINE_EXCEEDED, a pod Event, and deletes the request', async () => {
    const p = await publish('slow-1', {});
    const err = await failure(p.call);
    expect(err?.code).toBe(4);
    expect(err?.details).toMatch(new RegExp(`within ${TIMEOUT_S}s \\(Approved=True`));
    await waitFor('a pod Event', async () =>
      (await podEvents(p.pod)).some((x) => x.reason === 'CertificateRequestTimeout') ? true : undefined,
    );
    await waitFor('the request to be deleted', async () =>
      (await requestsFor(p.volumeId)).length === 0 ? true : undefined,
    );
  });

  it('renews through cert-manager with a new request', async () => {
    // 1m certificates renewed 55 s before expiry: the first renewal is due ~5 s after issuance.
    const p = await publish('renew-1', { [`${P}duration`]: '1m', [`${P}renew-before`]: '55s' });
    await p.call;
    const crt = join(p.targetPath, 'tls.crt');
    const first = await serialOf(crt);
    const second = await waitFor(
      'a renewed certificate',
      async () => {
        const s = await serialOf(crt);
        return s !== first ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(second).not.toBe(first);
    expect((await verifyChain(caFile, crt)).ok).toBe(true);
    const requests = [...seen.values()].filter((c) => c.metadata!.ownerReferences?.[0]?.name === 'renew-1');
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.every((c) => c.spec.username === 'system:serviceaccount:apps:web')).toBe(true);
  });

  it("deletes this node's stale requests and leaves other nodes' alone", async () => {
    const objects = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    const create = (nodeName: string, volumeId: string) =>
      objects.createNamespacedCustomObject({
        group: CM_GROUP,
        version: CM_VERSION,
        namespace: APPS,
        plural: CM_PLURAL,
        body: {
          apiVersion: `${CM_GROUP}/${CM_VERSION}`,
          kind: 'CertificateRequest',
          metadata: {
            generateName: 'stale-',
            labels: { [`${P}node`]: nodeName, [`${P}volume-id`]: volumeLabel(volumeId) },
            annotations: { [`${P}volume-id`]: volumeId },
          },
          spec: { request: Buffer.from('x').toString('base64'), issuerRef: { name: 'elsewhere' } },
        },
      }) as Promise<CertificateRequestObject>;
    const mine = await create(NODE, 'csi-gone-volume');
    const theirs = await create('node-b', 'csi-gone-volume');
    await waitFor(
      'the stale request to be deleted',
      async () => {
        const names = (await listCertificateRequests(cluster, APPS)).map((c) => c.metadata!.name);
        return names.includes(mine.metadata!.name) ? undefined : names;
      },
      { timeoutMs: 15_000 },
    );
    const names = (await listCertificateRequests(cluster, APPS)).map((c) => c.metadata!.name);
    expect(names).toContain(theirs.metadata!.name);
  });

  it('refuses a pod whose service account may not create CertificateRequests (RBAC)', async () => {
    const p = await publish('norbac-1', {}, 'norbac');
    const err = await failure(p.call);
    expect(err?.code).toBe(7);
    expect(err?.details).toMatch(
      /service account apps\/norbac may not create cert-manager.io certificaterequests in namespace apps/,
    );
    expect(await requestsFor(p.volumeId)).toEqual([]);
  });

  it('creates requests as the node itself with CERT_MANAGER_IDENTITY=driver (no pod token needed)', async () => {
    const b = await startNode('node-b', { CERT_MANAGER_IDENTITY: 'driver' });
    const p = await publish('driver-1', {}, 'norbac', {
      nodeName: 'node-b',
      client: b.client,
      tokens: false,
    });
    await p.call;
    expect((await verifyChain(caFile, join(p.targetPath, 'tls.crt'))).ok).toBe(true);
    const cr = [...seen.values()].find((c) => c.metadata!.ownerReferences?.[0]?.uid === p.pod.metadata!.uid);
    expect(cr?.spec.username).toBe(`system:serviceaccount:${NS}:csi-cert-driver-node`);
    expect(cr?.metadata!.labels).toMatchObject({ [`${P}node`]: 'node-b' });
    await waitFor('the request to be deleted', async () =>
      (await requestsFor(p.volumeId)).length === 0 ? true : undefined,
    );
  });

  it('gives the built-in issuer its own token on the same node, never the API token', async () => {
    const p = await publish('builtin-1', {}, 'web', {
      nodeName: NODE,
      client: csi!,
      tokens: true,
      builtIn: true,
    });
    await p.call; // TokenReview for csi.k8s.cert-driver fails with the API-audience token
    expect((await verifyChain(join(tmp, 'builtin-ca.crt'), join(p.targetPath, 'tls.crt'))).ok).toBe(true);
    expect(await requestsFor(p.volumeId)).toEqual([]);
    expectNoSecrets(builtIn!.proc.logText(), p.tokens);
  });

  it('never loads @kubernetes/client-node for a kubeconfig with a token (pod and driver identity)', () => {
    // node-a (pod identity) has published, been refused, timed out, renewed and cleaned up by now;
    // node-b (driver identity) has published.
    const nodes = processes.filter((p) => /node-(a|b)\.log$/.test(p.options.logFile));
    expect(nodes).toHaveLength(2);
    for (const p of nodes) {
      expect(p.logText()).toContain('cert-manager mode on');
      expect(p.logText()).toContain('"transport":"https"');
      expect(p.logText()).not.toContain(LIBRARY_MARKER);
    }
  });

  it('falls back to the client library for an exec-plugin kubeconfig, and publishes the same', async () => {
    const token = await cluster.serviceAccountToken(NS, 'csi-cert-driver-node');
    const kubeconfig = execPluginKubeconfig({
      dir: tmp,
      name: 'node-exec',
      server: cp.server,
      caPem: cp.caPem,
      token,
    });
    const c = await startNode('node-exec', { KUBECONFIG: kubeconfig });
    const p = await publish('exec-1', {}, 'web', { nodeName: 'node-exec', client: c.client, tokens: true });
    await p.call;
    expect((await verifyChain(caFile, join(p.targetPath, 'tls.crt'))).ok).toBe(true);
    await waitFor('the request to be deleted', async () =>
      (await requestsFor(p.volumeId)).length === 0 ? true : undefined,
    );
    // The hook's positive control: it sees the library's load.
    expect(c.proc.logText()).toContain(LIBRARY_MARKER);
    expect(c.proc.logText()).toContain('"transport":"library"');
  });
});
