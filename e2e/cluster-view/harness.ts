/**
 * The cluster view against a real kube-apiserver: the CRD and deploy/rbac/cluster-view.yaml applied,
 * status objects written with the admin credentials as nodes would write them, and the
 * `bin/csi-cert-driver cluster-view` process running as the ServiceAccount of that file. Shared by
 * the API suite, the browser suite and the benchmark.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the CRD's object type the node writes
import type { CertVolumeStatusObject } from '../../server/src/kube/status/status-object.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the status-object fakes shared with the unit tests
import { fakeStatusObject, type FakeVolume } from '../../server/src/cluster-view/testing.js';
import { DriverProcess } from '../support/driver-process.js';
import { ensureBuilt, REPO_ROOT } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import { TestCluster } from '../kube/cluster.js';
import { startControlPlane, type ControlPlane } from '../kube/control-plane.js';
import { freeLoopbackPort } from '../support/ports.js';
import { makeCa } from '../support/openssl.js';

export const NS = 'csi-cert-driver';
const GROUP = 'csi-cert-driver.io';
const VERSION = 'v1alpha1';
const PLURAL = 'certvolumestatuses';

export interface ClusterViewEnv {
  cp: ControlPlane;
  cluster: TestCluster;
  objects: KubernetesObjectApi;
  custom: CustomObjectsApi;
  tmp: string;
  /** The CA bundle file given to the view (one CA). */
  caFile: string;
  /** Creates namespaces as needed, then the objects, `concurrency` at a time. */
  write(vols: FakeVolume[], now?: number, concurrency?: number): Promise<CertVolumeStatusObject[]>;
  /** Replaces an object's status (as a node's server-side apply would). */
  update(v: FakeVolume, now?: number): Promise<CertVolumeStatusObject>;
  remove(v: FakeVolume): Promise<void>;
  /** Starts `cluster-view` with this ServiceAccount's kubeconfig; waits for /readyz. */
  startView(settings?: Record<string, string>): Promise<ClusterViewProcess>;
  stop(): Promise<void>;
}

export interface ClusterViewProcess {
  url: string;
  port: number;
  proc: DriverProcess;
  token: string;
  stop(): Promise<void>;
}

export async function startClusterViewEnv(suite: string): Promise<ClusterViewEnv> {
  ensureBuilt();
  const tmp = mkdtempSync('/tmp/cluster-view-');
  const cp = await startControlPlane({ name: suite });
  const cluster = new TestCluster(cp);
  const objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  await cluster.namespace(NS);
  await cluster.apply(join(REPO_ROOT, 'deploy', 'crds', `${PLURAL}.${GROUP}.yaml`));
  await cluster.apply(join(REPO_ROOT, 'deploy', 'rbac', 'cluster-view.yaml'));
  await waitFor('the CRD to be served', () =>
    custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }),
  );
  const caFile = join(tmp, 'ca.crt');
  await makeCa(caFile, join(tmp, 'ca.key'));
  rmSync(join(tmp, 'ca.key'));
  const namespaces = new Set<string>([NS]);
  const logDir = join(REPO_ROOT, 'test-results', 'e2e', suite);
  mkdirSync(logDir, { recursive: true });
  const views: ClusterViewProcess[] = [];

  const env: ClusterViewEnv = {
    cp,
    cluster,
    objects,
    custom,
    tmp,
    caFile,
    async write(vols, now = Date.now(), concurrency = 16) {
      for (const ns of new Set(vols.map((v) => v.namespace))) {
        if (!namespaces.has(ns)) {
          await cluster.namespace(ns);
          namespaces.add(ns);
        }
      }
      const out: CertVolumeStatusObject[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < vols.length) {
            const obj = fakeStatusObject(vols[next++]!, now);
            await objects.create(obj);
            out.push(obj);
          }
        }),
      );
      return out;
    },
    async update(v, now = Date.now()) {
      const obj = fakeStatusObject(v, now);
      await objects.patch(
        obj,
        undefined,
        undefined,
        'csi-cert-driver-node',
        true,
        'application/apply-patch+yaml',
      );
      return obj;
    },
    async remove(v) {
      const obj = fakeStatusObject(v);
      await objects.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata });
    },
    async startView(settings = {}) {
      const token = await cluster.serviceAccountToken(NS, 'csi-cert-driver-cluster-view');
      const kubeconfig = cp.kubeconfigFor(`cluster-view-${views.length}`, token).path;
      const port = await freeLoopbackPort();
      const proc = new DriverProcess({
        role: 'cluster-view',
        cwd: tmp,
        logFile: join(logDir, `cluster-view-${views.length}.log`),
        settings: {
          LOG_LEVEL: 'debug',
          KUBECONFIG: kubeconfig,
          API_LISTEN_ADDR: `127.0.0.1:${port}`,
          CA_BUNDLE_FILE: caFile,
          ...settings,
        },
      });
      const url = `http://127.0.0.1:${port}`;
      await waitFor(
        'the cluster view to be ready',
        async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined),
        { timeoutMs: 60_000 },
      );
      const view = { url, port, proc, token, stop: async () => void (await proc.kill('SIGTERM')) };
      views.push(view);
      return view;
    },
    async stop() {
      for (const v of views) await v.proc.kill('SIGKILL');
      await cp.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return env;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
