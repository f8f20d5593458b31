/**
 * Status objects and pod Events against a real kube-apiserver: the node process runs as the
 * ServiceAccount of deploy/rbac/node-status.yaml (and the issuer as that of issuer.yaml, with
 * ISSUER_AUTH=kubernetes), publishes volumes for real pods, and the suite reads what the node wrote
 * with the admin credentials: CertVolumeStatus objects (fields against the certificate on disk,
 * printer columns from the API server's Table output, renewal, unpublish, restart re-sync), a pod
 * Event for a denied issuance, the RBAC role with a verb removed, and the API writes of 110
 * renewing volumes against the token bucket.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  Watch,
  type KubernetesObject,
  type V1ClusterRole,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseSerial, serialOf, validityOf } from '../support/openssl.js';
import { REPO_ROOT } from '../support/repo.js';
import { sleep, waitFor } from '../support/wait.js';
import type { TestCluster } from './cluster.js';
import { KUBE_BIN, type ControlPlane } from './control-plane.js';
import { freeLoopbackPort } from '../support/ports.js';
import { APPS, AUDIENCE, NS } from './names.js';
import { KubeNodeSuite, podPublishRequest, podVolume, tokensAttribute } from './harness.js';

const GROUP = 'csi-cert-driver.io';
const VERSION = 'v1alpha1';
const PLURAL = 'certvolumestatuses';
const ROLE = 'csi-cert-driver-node-status';
const a = (n: string) => `csi.k8s.cert-driver/${n}`;
/** Renewed 5–10 s after each issue (lifetime 1m plus the issuer's 60 s back-dating). */
const SHORT = { [a('duration')]: '1m', [a('renew-before')]: '50s' };
const LONG = { [a('duration')]: '1h' };
const BULK = 110;
const QPS = 5;
const BURST = 10;

interface Cvs extends KubernetesObject {
  status: {
    node: string;
    pod: { name: string; uid: string };
    volumeId: string;
    serialNumber?: string;
    notAfter?: string;
    nextRenewal?: string;
    lastRenewal?: { kind: string; outcome: string; time: string };
    conditions: { type: string; status: string; reason: string }[];
  };
}

interface Volume {
  pod: V1Pod;
  volumeId: string;
  targetPath: string;
}

let s: KubeNodeSuite;
let cp: ControlPlane;
let cluster: TestCluster;
let tmp: string;
let custom: CustomObjectsApi;
let metricsAddr: string;
let nodeKubeconfig: string;

const startNode = (): Promise<void> =>
  s.startNode({
    LOG_LEVEL: 'info',
    METRICS_LISTEN_ADDR: metricsAddr,
    KEY_POOL_SIZE: '0',
    KUBECONFIG: nodeKubeconfig,
    STATUS_OBJECTS: 'true',
    POD_EVENTS: 'true',
    STATUS_QPS: String(QPS),
    STATUS_BURST: String(BURST),
  });

beforeAll(async () => {
  s = await KubeNodeSuite.start({
    suite: 'kube-status',
    tmpPrefix: 'kube-st',
    nodes: ['node-a', 'node-b'],
    rbac: ['node-status.yaml'],
  });
  ({ tmp, cp, cluster } = s);
  metricsAddr = `127.0.0.1:${await freeLoopbackPort()}`;
  custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  await cluster.apply(join(REPO_ROOT, 'deploy', 'crds', `${PLURAL}.${GROUP}.yaml`));
  await waitFor('the CRD to be served', () =>
    custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: APPS, plural: PLURAL }),
  );
  const nodeToken = await cluster.serviceAccountToken(NS, 'csi-cert-driver-node');
  nodeKubeconfig = cp.kubeconfigFor('node', nodeToken).path;
  await startNode();
}, 180_000);

afterAll(() => s?.stop());

async function newPod(name: string, nodeName = 'node-a'): Promise<V1Pod> {
  return cluster.pod({ name, nodeName });
}

/** Publishes a `tls` volume for `pod` as kubelet would; resolves to the volume or rejects with the gRPC error. */
async function publish(
  pod: V1Pod,
  attributes: Record<string, string>,
  volumeId = `csi-${randomBytes(32).toString('hex')}`,
): Promise<Volume> {
  const v = { ...podVolume(tmp, pod), volumeId };
  const token = await cluster.podToken({ pod, audience: AUDIENCE, expirationSeconds: 3600 });
  await s.publish(
    podPublishRequest(pod, v, { ...attributes, ...tokensAttribute({ [AUDIENCE]: token }, 3_600_000) }),
  );
  return { pod, ...v };
}

async function unpublish(v: Volume): Promise<void> {
  await s.csi!.call('Node', 'NodeUnpublishVolume', { volume_id: v.volumeId, target_path: v.targetPath });
}

/** The status objects of a pod (by the pod-uid label), read as admin. */
async function objectsOf(pod: V1Pod): Promise<Cvs[]> {
  const list = (await custom.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: APPS,
    plural: PLURAL,
    labelSelector: `${GROUP}/pod-uid=${pod.metadata!.uid!}`,
  })) as { items: Cvs[] };
  return list.items;
}

async function objectOf(pod: V1Pod): Promise<Cvs | undefined> {
  const items = await objectsOf(pod);
  return items.length === 1 ? items[0] : undefined;
}

/** Current serial and notAfter of the certificate on disk. */
async function diskCert(v: Volume): Promise<{ serial: string; notAfter: Date }> {
  const crt = join(v.targetPath, 'tls.crt');
  return { serial: normaliseSerial(await serialOf(crt)), notAfter: (await validityOf(crt)).notAfter };
}

/** Prometheus text → value of one series (sum over series whose labels include `labels`). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://${metricsAddr}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** GET as admin with a given Accept header. */
function adminGet(path: string, accept: string): Promise<{ status: number; body: string }> {
  const token = (cp.kubeConfig.getCurrentUser()?.token ?? '') as string;
  return new Promise((resolve, reject) => {
    const req = request(
      `${cp.server}${path}`,
      { ca: cp.caPem, headers: { Authorization: `Bearer ${token}`, Accept: accept } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const vols: Record<string, Volume> = {};

describe('CertVolumeStatus objects', () => {
  it('appear on publish with the certificate on disk, owned by the pod and labelled with node and pod', async () => {
    vols.long = await publish(await newPod('web-1'), LONG);
    const pod = vols.long.pod;
    const obj = await waitFor('the status object of web-1', () => objectOf(pod), { timeoutMs: 15_000 });
    const disk = await diskCert(vols.long);
    expect(normaliseSerial(obj.status.serialNumber!)).toBe(disk.serial);
    expect(Date.parse(obj.status.notAfter!)).toBe(disk.notAfter.getTime());
    expect(obj.status).toMatchObject({
      node: 'node-a',
      pod: { name: 'web-1', uid: pod.metadata!.uid },
      volumeId: vols.long.volumeId,
      lastRenewal: { kind: 'Issue', outcome: 'Success' },
    });
    expect(obj.status.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Issued' }),
    ]);
    expect(Date.parse(obj.status.nextRenewal!)).toBeLessThan(disk.notAfter.getTime());
    expect(obj.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: pod.metadata!.uid }),
    ]);
    expect(obj.metadata?.labels).toMatchObject({ [`${GROUP}/node`]: 'node-a', [`${GROUP}/pod`]: 'web-1' });
    expect(obj.metadata?.name).toMatch(/^web-1-[0-9a-f]{10}$/);
  });

  it('shows Pod, Node, Serial, Expires, Next Renewal and Last Result as printer columns', async () => {
    const res = await adminGet(
      `/apis/${GROUP}/${VERSION}/namespaces/${APPS}/${PLURAL}`,
      'application/json;as=Table;g=meta.k8s.io;v=v1',
    );
    expect(res.status).toBe(200);
    const table = JSON.parse(res.body) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    expect(table.kind).toBe('Table');
    const names = table.columnDefinitions.map((c) => c.name);
    expect(names).toEqual(['Name', 'Pod', 'Node', 'Serial', 'Expires', 'Next Renewal', 'Last Result', 'Age']);
    const obj = (await objectOf(vols.long!.pod))!;
    const row = table.rows.find((r) => r.cells[0] === obj.metadata!.name)!;
    const cell = (n: string) => row.cells[names.indexOf(n)];
    expect(cell('Pod')).toBe('web-1');
    expect(cell('Node')).toBe('node-a');
    expect(cell('Serial')).toBe(obj.status.serialNumber);
    expect(cell('Expires')).toBe(obj.status.notAfter);
    expect(cell('Next Renewal')).toBe(obj.status.nextRenewal);
    expect(cell('Last Result')).toBe('Success');
    const { stdout } = await promisify(execFile)(join(KUBE_BIN, 'kubectl'), [
      `--kubeconfig=${cp.kubeconfigPath}`,
      'get',
      'cvs',
      '-n',
      APPS,
    ]);
    expect(stdout).toMatch(/NAME\s+POD\s+NODE\s+EXPIRES\s+NEXT RENEWAL\s+LAST RESULT\s+AGE/);
    expect(stdout).toContain(obj.status.notAfter);
    expect(stdout).not.toContain('<invalid>');
  });

  it('follows renewals: a new serial that matches the certificate on disk, lastRenewal Renew', async () => {
    vols.short = await publish(await newPod('web-2'), SHORT);
    const first = await waitFor('the first status object of web-2', () => objectOf(vols.short!.pod));
    const renewed = await waitFor(
      'a renewal of web-2 in its status object, equal to the certificate on disk',
      async () => {
        const obj = await objectOf(vols.short!.pod);
        if (!obj || obj.status.lastRenewal?.kind !== 'Renew') return undefined;
        const disk = await diskCert(vols.short!);
        return normaliseSerial(obj.status.serialNumber!) === disk.serial ? obj : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(renewed.status.serialNumber).not.toBe(first.status.serialNumber);
    expect(renewed.status.lastRenewal).toMatchObject({ outcome: 'Success' });
    expect(renewed.status.conditions[0]).toMatchObject({ status: 'True', reason: 'Renewed' });
  });

  it('records a failing renewal: lastRenewal Failure, Ready RenewalFailing, and a pod Event', async () => {
    const pod = await newPod('web-doomed');
    const v = await publish(pod, SHORT);
    await waitFor('the status object of web-doomed', () => objectOf(pod));
    // Without its pod, the pod-bound token no longer passes the issuer's TokenReview.
    await cluster.core.deleteNamespacedPod({ name: 'web-doomed', namespace: APPS, gracePeriodSeconds: 0 });
    const failing = await waitFor(
      'a failed renewal in the status object',
      async () => {
        const o = await objectOf(pod);
        return o?.status.lastRenewal?.outcome === 'Failure' ? o : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(failing.status.conditions[0]).toMatchObject({ status: 'True', reason: 'RenewalFailing' });
    expect(failing.status).toMatchObject({ lastRenewal: { kind: 'Renew' } });
    const event = await waitFor('a Renew Event on the pod', async () => {
      const list = await cluster.core.listNamespacedEvent({
        namespace: APPS,
        fieldSelector: `involvedObject.uid=${pod.metadata!.uid!}`,
      });
      return list.items.find((e) => e.action === 'Renew');
    });
    expect(event).toMatchObject({ type: 'Warning', reason: 'IssuanceDenied' });
    expect(event.message).toContain(v.volumeId);
    await unpublish(v);
  });

  it('is deleted on unpublish', async () => {
    const pod = vols.long!.pod;
    await unpublish(vols.long!);
    await waitFor('the status object of web-1 to go', async () =>
      (await objectsOf(pod)).length === 0 ? true : undefined,
    );
  });

  it('is re-synced after a restart: stale objects deleted, missing ones written again, unchanged ones left', async () => {
    vols.keep = await publish(await newPod('web-keep'), LONG);
    const kept = await waitFor('the status object of web-keep', () => objectOf(vols.keep!.pod));
    await s.stopNode('SIGTERM');
    const live = (await objectOf(vols.short!.pod))!;
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: APPS,
      plural: PLURAL,
      name: live.metadata!.name!,
    });
    const ghost = await newPod('ghost');
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: APPS,
      plural: PLURAL,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'CertVolumeStatus',
        metadata: {
          name: 'ghost-0123456789',
          labels: { [`${GROUP}/node`]: 'node-a', [`${GROUP}/pod-uid`]: ghost.metadata!.uid! },
        },
        status: {
          node: 'node-a',
          pod: { name: 'ghost', uid: ghost.metadata!.uid! },
          volumeId: 'csi-gone',
          issuer: { type: 'BuiltIn' },
          consecutiveFailures: 0,
          conditions: [],
        },
      },
    });
    await startNode();
    await waitFor('the stale object to be deleted', async () =>
      (await objectsOf(ghost)).length === 0 ? true : undefined,
    );
    const back = await waitFor("the live volume's object to be written again", () =>
      objectOf(vols.short!.pod),
    );
    expect(back.status.volumeId).toBe(vols.short!.volumeId);
    expect(s.node!.logLines().find((l) => l.msg === 'status objects re-synced')).toMatchObject({
      volumes: 2,
      deleted: 1,
      unchanged: 1,
    });
    // Not written again: same resourceVersion as before the restart.
    expect((await objectOf(vols.keep.pod))?.metadata?.resourceVersion).toBe(kept.metadata?.resourceVersion);
  });
});

describe('pod Events', () => {
  it('records a denied issuance on the pod, once with a count for repeats, without the token', async () => {
    const pod = await newPod('web-elsewhere', 'node-b');
    const token = await cluster.podToken({ pod, audience: AUDIENCE });
    const volumeId = `csi-${randomBytes(32).toString('hex')}`;
    for (let i = 0; i < 2; i++) {
      // kubelet retries the same volume
      const err = await publish(pod, LONG, volumeId).then(
        () => undefined,
        (e: { code?: number }) => e,
      );
      expect(err?.code).toBe(7); // PERMISSION_DENIED
    }
    const event = await waitFor(
      'an IssuanceDenied Event with count 2',
      async () => {
        const list = await cluster.core.listNamespacedEvent({
          namespace: APPS,
          fieldSelector: `involvedObject.uid=${pod.metadata!.uid!}`,
        });
        const e = list.items.find((ev) => ev.reason === 'IssuanceDenied');
        return e && e.count === 2 ? e : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(event).toMatchObject({
      type: 'Warning',
      involvedObject: { kind: 'Pod', name: 'web-elsewhere' },
      source: { component: 'csi-cert-driver-node', host: 'node-a' },
    });
    expect(event.message).toMatch(/denied/);
    expect(event.message).not.toContain(token.slice(0, 20));
    expect(event.message).not.toContain('BEGIN');
  });
});

describe('RBAC of deploy/rbac/node-status.yaml', () => {
  it('grants the node nothing beyond its rules', async () => {
    const sa = `system:serviceaccount:${NS}:csi-cert-driver-node`;
    const can = async (...args: string[]) =>
      promisify(execFile)(join(KUBE_BIN, 'kubectl'), [
        `--kubeconfig=${cp.kubeconfigPath}`,
        'auth',
        'can-i',
        ...args,
        `--as=${sa}`,
      ]).then(
        (r) => r.stdout.trim(),
        (e: { stdout?: string }) => (e.stdout ?? '').trim(),
      );
    expect(await can('patch', `${PLURAL}.${GROUP}`, '-A')).toBe('yes');
    for (const verb of ['get', 'update', 'watch'])
      expect(await can(verb, `${PLURAL}.${GROUP}`, '-A')).toBe('no');
    expect(await can('get', 'pods', '-A')).toBe('no');
    expect(await can('get', 'secrets', '-A')).toBe('no');
    expect(await can('delete', 'events', '-A')).toBe('no');
  });

  it('without patch the status is not written (publish still succeeds, failure counted); restored, the retry writes it', async () => {
    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const role: V1ClusterRole = await rbac.readClusterRole({ name: ROLE });
    const without = structuredClone(role);
    without.rules = role.rules!.map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'patch') }));
    await rbac.replaceClusterRole({ name: ROLE, body: without });
    try {
      const failuresBefore = await metric('csi_cert_driver_status_api_requests_total', {
        resource: PLURAL,
        verb: 'apply',
        outcome: 'failure',
      });
      vols.denied = await publish(await newPod('web-norbac'), LONG);
      await waitFor('a failed apply', async () =>
        (await metric('csi_cert_driver_status_api_requests_total', {
          resource: PLURAL,
          verb: 'apply',
          outcome: 'failure',
        })) > failuresBefore
          ? true
          : undefined,
      );
      expect(await objectsOf(vols.denied.pod)).toEqual([]);
      expect(
        s
          .node!.logLines()
          .some((l) => l.msg === 'Kubernetes API write failed; will retry' && String(l.err).includes('403')),
      ).toBe(true);
    } finally {
      const current = await rbac.readClusterRole({ name: ROLE });
      await rbac.replaceClusterRole({ name: ROLE, body: { ...current, rules: role.rules } });
    }
    await waitFor('the retried apply', () => objectOf(vols.denied!.pod), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });
});

describe('110 renewing volumes', () => {
  it(`coalesces their status writes within the token bucket (${QPS}/s, burst ${BURST})`, async () => {
    const pods: V1Pod[] = [];
    for (let i = 0; i < BULK; i++) pods.push(await newPod(`bulk-${i}`));
    const bulk: Volume[] = [];
    for (let i = 0; i < BULK; i += 10) {
      bulk.push(...(await Promise.all(pods.slice(i, i + 10).map((p) => publish(p, SHORT)))));
    }
    // Writes seen by the API server: every ADDED/MODIFIED/DELETED of a status object in the namespace.
    const writes: number[] = [];
    const watch = await new Watch(cp.kubeConfig).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${APPS}/${PLURAL}`,
      {},
      (type) => {
        if (type !== 'BOOKMARK') writes.push(Date.now());
      },
      () => undefined,
    );
    try {
      await waitFor(
        `${BULK} status objects`,
        async () => {
          const list = (await custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: APPS,
            plural: PLURAL,
            labelSelector: `${GROUP}/pod`,
          })) as { items: Cvs[] };
          return list.items.filter((o) => o.status.pod.name.startsWith('bulk-')).length === BULK
            ? true
            : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1000 },
      );
      const renewalsBefore = await metric('csi_cert_driver_renewals_total');
      const appliesBefore = await metric('csi_cert_driver_status_api_requests_total', { resource: PLURAL });
      const from = Date.now();
      const WINDOW_S = 20;
      await sleep(WINDOW_S * 1000);
      const to = Date.now();
      const renewals = (await metric('csi_cert_driver_renewals_total')) - renewalsBefore;
      const requests =
        (await metric('csi_cert_driver_status_api_requests_total', { resource: PLURAL })) - appliesBefore;
      const seen = writes.filter((t) => t >= from && t < to).length;
      const bound = BURST + QPS * ((to - from) / 1000) + 2;
      console.log(
        `110 volumes, ${WINDOW_S} s: ${renewals} renewals, ${requests} status API requests (metric), ${seen} writes seen by a watch, bound ${bound.toFixed(0)}, coalesced ${await metric('csi_cert_driver_status_writes_coalesced_total')}`,
      );
      expect(renewals).toBeGreaterThan(BULK); // every volume renewed at least once in the window, on average
      expect(requests).toBeLessThanOrEqual(bound);
      expect(seen).toBeLessThanOrEqual(bound);
      expect(seen).toBeGreaterThan(0);
      expect(requests).toBeLessThan(renewals);
    } finally {
      watch.abort();
    }
  }, 300_000);
});
