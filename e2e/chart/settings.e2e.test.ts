/**
 * Every setting the chart gives a container is one the driver knows, with a value its own parser
 * accepts: the rendered env of each role goes through the driver's config loaders (the code that
 * stops the process with exit code 2 on a bad value). A renamed setting or a chart value the
 * parser refuses fails here instead of in a CrashLoopBackOff. The Windows driver is started for
 * real under Wine with the Windows DaemonSet's settings (Windows paths only parse on Windows).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CustomObjectsApi,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Container,
  type V1DaemonSet,
  type V1Deployment,
} from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the driver's own settings table and parsers are the oracle
import { SETTINGS, loadIssuerConfig, loadNodeConfig } from '../../server/src/config/config.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the driver's own settings table and parsers are the oracle
import { APPROVER_SETTINGS, loadApproverConfig } from '../../server/src/config/approver-settings.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the driver's own settings table and parsers are the oracle
import { loadClusterViewConfig } from '../../server/src/config/cluster-view-settings.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the approver's rule cases build the requests
import { RULE_CASES, ruleCaseSpec } from '../../server/src/approver/testing.js';
import {
  HELM,
  KUBECTL,
  NAMESPACE,
  RELEASE,
  find,
  helmTemplate,
  parseManifests,
  render,
  run,
  toolsMissing,
} from './chart.js';
import {
  APPROVER,
  CERT_MANAGER,
  CERT_MANAGER_DRIVER,
  SPIFFE,
  STATUS,
  VALUE_SETS,
  WINDOWS,
  WINDOWS_KUBE,
  type ValueSet,
} from './value-sets.js';
import { REPO_ROOT, ensureBuilt } from '../support/repo.js';
import { DriverProcess } from '../support/driver-process.js';
import { waitForNodeReady } from '../support/node-ready.js';
import { RegistrationClient } from '../support/product.js';
import { waitFor } from '../support/wait.js';
import { freeLoopbackPort } from '../support/ports.js';
import { controlPlaneMissing, startControlPlane, type ControlPlane } from '../kube/control-plane.js';
import { TestCluster } from '../kube/cluster.js';
import { installCertManagerFixtures } from '../kube/cert-manager-fixtures.js';
import {
  CR,
  CrClient,
  eventsOf,
  readLease,
  startApprover,
  waitForDecision,
} from '../kube/approver-process.js';
import {
  WINE_KEEPALIVE_NODE_OPTIONS,
  WINE_SKIP_REASON,
  linuxPathOf,
  onZ,
  wineReady,
} from '../windows/support/wine.js';
import { withInClusterCredentials } from '../windows/support/in-cluster.js';
import { WineNodeProcess } from '../windows/support/wine-node-process.js';

/** The container's env as the process would see it (fieldRefs resolved to a plausible value). */
/** Writes the ca.crt of the chart's issuer TLS ConfigMap into `dir`; returns the file. */
function issuerCaFile(objs: KubernetesObject[], dir: string): string {
  const file = join(dir, 'issuer-ca.crt');
  writeFileSync(file, find<V1ConfigMap>(objs, 'ConfigMap', '-issuer-tls-ca').data!['ca.crt']!);
  return file;
}

function envOf(c: V1Container, fieldValues: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) out[e.name] = fieldValues[e.valueFrom.fieldRef.fieldPath] ?? 'x';
  }
  return out;
}

const POD_FIELDS = { 'spec.nodeName': 'node-a', 'metadata.name': 'pod-a' };

describe.skipIf(toolsMissing(HELM))('the chart’s settings, parsed by the driver', () => {
  it.each(VALUE_SETS)(
    '$name: node and issuer env are known settings the driver accepts',
    async ({ values }) => {
      const objs = await render(values);
      for (const ds of objs.filter((o) => o.kind === 'DaemonSet') as V1DaemonSet[]) {
        const driver = ds.spec!.template.spec!.containers.find((c) => c.name === 'driver')!;
        const env = envOf(driver, POD_FIELDS);
        expect(Object.keys(env).filter((k) => !(k in SETTINGS.node))).toEqual([]);
        // Windows paths parse as paths only on Windows: the Wine test below starts that driver.
        if (ds.spec!.template.spec!.nodeSelector?.['kubernetes.io/os'] === 'windows') continue;
        // In a pod: kubelet sets KUBERNETES_SERVICE_HOST (the in-cluster config of the Kubernetes features).
        const cfg = loadNodeConfig([], { ...env, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
        expect(cfg.nodeId).toBe('node-a');
        // Kubernetes features exactly as the chart's values say, never by the driver's `auto`.
        const v = values as {
          status?: { objects?: boolean; podEvents?: boolean };
          certManager?: { enabled?: boolean };
        };
        expect(cfg.status?.objects ?? false).toBe(v.status?.objects ?? false);
        expect(cfg.status?.events ?? false).toBe(v.status?.podEvents ?? false);
        expect(cfg.certManager !== undefined).toBe(v.certManager?.enabled ?? false);
        expect(cfg.spiffe !== undefined).toBe(
          (values as { spiffe?: { enabled?: boolean } }).spiffe?.enabled ?? false,
        );
        expect(cfg.csiEndpoint).toBe(env.CSI_ENDPOINT);
        expect(cfg.apiAllowedHosts ?? []).toEqual(
          (values as { node?: { api?: { allowedHosts?: string[] } } }).node?.api?.allowedHosts ?? [],
        );
        // registration=builtin: the driver registers with kubelet and serves the probes' /healthz.
        const builtin = (values as { node?: { registration?: string } }).node?.registration !== 'sidecars';
        expect(cfg.pluginRegistration !== undefined).toBe(builtin);
        expect(cfg.healthListenAddr !== undefined).toBe(builtin);
      }
      /** The environment of the Deployment `-<suffix>` when the values render it. */
      const deploymentEnv = (suffix: string): Record<string, string> | undefined => {
        const d = objs.find((o) => o.kind === 'Deployment' && o.metadata?.name?.endsWith(`-${suffix}`)) as
          V1Deployment | undefined;
        return d && envOf(d.spec!.template.spec!.containers[0]!, POD_FIELDS);
      };
      const issuerEnv = deploymentEnv('issuer');
      if (issuerEnv) {
        expect(Object.keys(issuerEnv).filter((k) => !(k in SETTINGS.issuer))).toEqual([]);
        // In a pod: KUBERNETES_SERVICE_HOST is set by kubelet.
        const cfg = loadIssuerConfig([], { ...issuerEnv, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
        expect(cfg.issuerAuth).toBe(issuerEnv.ISSUER_AUTH);
        expect(cfg.allowSystemSubjects).toBe(
          (values as { issuer?: { allowSystemSubjects?: boolean } }).issuer?.allowSystemSubjects ?? false,
        );
      }
      const approverEnv = deploymentEnv('approver');
      if (approverEnv) {
        const known = APPROVER_SETTINGS as readonly string[];
        expect(Object.keys(approverEnv).filter((k) => !known.includes(k))).toEqual([]);
        const cfg = loadApproverConfig([], approverEnv);
        expect(cfg.leaderElection.leaseName).toBe(approverEnv.LEADER_ELECTION_LEASE_NAME);
        expect(cfg.healthListenAddr).toBe(approverEnv.HEALTH_LISTEN_ADDR);
      }
      const viewEnv = deploymentEnv('cluster-view');
      if (viewEnv) {
        expect(Object.keys(viewEnv).filter((k) => !(k in SETTINGS['cluster-view']))).toEqual([]);
        const cfg = loadClusterViewConfig([], viewEnv);
        expect(cfg.listenAddr).toBe(viewEnv.API_LISTEN_ADDR);
        expect(cfg.caBundleFile).toBe(viewEnv.CA_BUNDLE_FILE);
      }
    },
  );

  it('defaults: the node talks to the release’s issuer Service, the issuer watches the release’s CA', async () => {
    const objs = await render({});
    const node = loadNodeConfig(
      [],
      envOf(
        find<V1DaemonSet>(objs, 'DaemonSet', '-node').spec!.template.spec!.containers.find(
          (c) => c.name === 'driver',
        )!,
        POD_FIELDS,
      ),
    );
    expect(node.certServiceAddr).toBe('certs-csi-cert-driver-issuer.csi-cert-driver.svc:50051');
    expect(node.certBasePath).toBe('/var/lib/csi-certs');
    const issuer = loadIssuerConfig([], {
      ...envOf(
        find<V1Deployment>(objs, 'Deployment', '-issuer').spec!.template.spec!.containers[0]!,
        POD_FIELDS,
      ),
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    });
    expect(issuer.caSecret).toEqual({ name: 'certs-csi-cert-driver-ca', namespace: 'csi-cert-driver' });
    expect(issuer.issuerAuth).toBe('kubernetes');
  });

  it('files mode: the issuer reads the CA from the mounted Secret’s files', async () => {
    const dep = find<V1Deployment>(await render({ issuer: { caSource: 'files' } }), 'Deployment', '-issuer');
    const c = dep.spec!.template.spec!.containers[0]!;
    const cfg = loadIssuerConfig([], { ...envOf(c, POD_FIELDS), KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(cfg.caSecret).toBeUndefined();
    const mount = c.volumeMounts!.find((m) => m.name === 'ca')!;
    expect(cfg.caCertFile).toBe(`${mount.mountPath}/tls.crt`);
    expect(cfg.caKeyFile).toBe(`${mount.mountPath}/tls.key`);
  });
});

describe.skipIf(toolsMissing(HELM) ?? (wineReady ? undefined : WINE_SKIP_REASON))(
  'the Windows driver with the chart’s settings, under Wine with the Windows node.exe',
  () => {
    let proc: WineNodeProcess | undefined;
    let stateDir: string | undefined;
    afterAll(async () => {
      await proc?.kill();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it(
      'starts, recovers its (empty) state and serves CSI on the pipe the proxy forwards to',
      { timeout: 300_000 },
      async () => {
        ensureBuilt();
        const objs = await render(WINDOWS.values);
        const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node-windows').spec!.template.spec!;
        const env = envOf(
          spec.containers.find((c) => c.name === 'driver')!,
          POD_FIELDS,
        );
        const proxyTo = envOf(
          spec.containers.find((c) => c.name === 'csi-grpc-proxy')!,
          POD_FIELDS,
        ).PROXY_TO!;
        // The chart's settings as rendered; only the host ports move to free loopback ports, since
        // several suites share this machine.
        const [api, metrics] = [await freeLoopbackPort(), await freeLoopbackPort()];
        const settings = {
          ...env,
          API_LISTEN_ADDR: `127.0.0.1:${api}`,
          METRICS_LISTEN_ADDR: `127.0.0.1:${metrics}`,
          // The issuer's CA from the chart's ConfigMap, through Wine's Z: drive (the host's /).
          ISSUER_TLS_CA_FILE: `Z:${issuerCaFile(objs, mkdtempSync(join(tmpdir(), 'chart-win-ca-'))).replaceAll('/', '\\')}`,
        };
        stateDir = linuxPathOf(env.CERT_BASE_PATH!);
        const logDir = join(REPO_ROOT, 'test-results', 'e2e', 'chart');
        mkdirSync(logDir, { recursive: true });
        // A fresh log: the process appends, and a previous run's "serving" line must not count.
        const logFile = join(logDir, 'windows-driver.log');
        rmSync(logFile, { force: true });
        proc = new WineNodeProcess(settings, logFile, REPO_ROOT);
        const serving = await proc.waitServing(240_000);
        expect(serving.nodeId).toBe('node-a');
        // The driver's bind address and the proxy's npipe:// target name the same pipe.
        expect(serving.endpoint).toBe(String.raw`unix:\\.\pipe\csi-cert-driver\csi`);
        expect(`unix:${proxyTo.replace(/^npipe:\/\//, '').replaceAll('/', '\\')}`).toBe(serving.endpoint);
        // Its state lives where the chart's hostPath volume says, on the node's C: drive.
        expect(existsSync(stateDir)).toBe(true);
      },
    );
  },
);

const kubeMissing = toolsMissing(HELM, KUBECTL) ?? controlPlaneMissing();

/**
 * The Linux node and the approver started for real with the env the chart renders, talking to a
 * real kube-apiserver with only the ServiceAccounts, RBAC and CRD the chart renders for that value
 * set (a token of the chart's service account stands in for the in-cluster config; without a
 * token, as the chart renders the pod, the process gets none). The node must start, answer Probe
 * and do its start-up API work under that RBAC: the status re-sync deletes a stale
 * CertVolumeStatus of its node, the cert-manager cleanup a stale CertificateRequest. The approver
 * must become ready, take the Lease the chart names and decide with the chart's policy settings.
 */
describe.skipIf(kubeMissing)(
  'the node and approver with the chart’s env and RBAC, against a real kube-apiserver',
  () => {
    let cp: ControlPlane;
    let cluster: TestCluster;
    let custom: CustomObjectsApi;
    let tmp: string;
    const procs: DriverProcess[] = [];
    const kubectl = (args: string[], input?: string) =>
      run(KUBECTL, args, { input, env: { KUBECONFIG: cp.kubeconfigPath } });

    beforeAll(async () => {
      ensureBuilt();
      tmp = mkdtempSync('/tmp/chart-settings-');
      cp = await startControlPlane({ name: 'chart-settings' });
      cluster = new TestCluster(cp);
      custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
      await cluster.namespace(NAMESPACE);
      await cluster.namespace('apps');
      await cluster.node('node-a');
      await installCertManagerFixtures(cluster);
    }, 180_000);

    afterAll(async () => {
      for (const p of procs) await p.kill('SIGKILL');
      await cp?.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    /** Creates the set's ServiceAccounts, RBAC and CRD as rendered; returns a function deleting the RBAC. */
    async function applyAccess(set: ValueSet): Promise<() => Promise<void>> {
      const kinds = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
      const objs = parseManifests((await helmTemplate(set.values)).stdout);
      const yaml = (list: KubernetesObject[]) => list.map((o) => JSON.stringify(o)).join('\n---\n');
      const access = objs.filter((o) => kinds.includes(o.kind!));
      const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition');
      const r = await kubectl(['apply', '--server-side', '-f', '-'], yaml([...crds, ...access]));
      expect(r.code, r.stderr).toBe(0);
      for (const crd of crds) {
        const w = await kubectl([
          'wait',
          '--for=condition=Established',
          '--timeout=60s',
          `crd/${crd.metadata!.name}`,
        ]);
        expect(w.code, w.stderr).toBe(0);
      }
      return async () => {
        const d = await kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], yaml(access));
        expect(d.code, d.stderr).toBe(0);
      };
    }

    async function tokenConfig(component: string): Promise<string> {
      const sa = `${RELEASE}-csi-cert-driver-${component}`;
      return cp.kubeconfigFor(`chart-${component}`, await cluster.serviceAccountToken(NAMESPACE, sa)).path;
    }

    async function gone(what: string, read: () => Promise<unknown>): Promise<void> {
      await waitFor(
        `${what} to be deleted`,
        async () => {
          try {
            await read();
            return undefined;
          } catch {
            return true;
          }
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    }

    const cvs = { group: 'csi-cert-driver.io', version: 'v1alpha1', plural: 'certvolumestatuses' };

    /**
     * Stale objects of node-a, left by a previous driver, for the features the rendered env turns
     * on: a CertVolumeStatus (status objects) and a CertificateRequest (cert-manager mode). The
     * driver's start-up work must remove them.
     */
    async function plantStale(
      name: string,
      rendered: Record<string, string>,
    ): Promise<{ statusOn: boolean; certManagerOn: boolean }> {
      const statusOn = rendered.STATUS_OBJECTS === 'true';
      const certManagerOn = rendered.CERT_MANAGER_ENABLED === 'true';
      const stale = `stale-${name}`;
      if (statusOn) {
        await custom.createNamespacedCustomObject({
          ...cvs,
          namespace: 'apps',
          body: {
            apiVersion: 'csi-cert-driver.io/v1alpha1',
            kind: 'CertVolumeStatus',
            metadata: { name: stale, labels: { 'csi-cert-driver.io/node': 'node-a' } },
            status: {
              node: 'node-a',
              pod: { name: 'gone', uid: '0b6d3c1e-0000-4000-8000-000000000001' },
              volumeId: `csi-${stale}`,
              issuer: { type: 'BuiltIn' },
            },
          },
        });
      }
      if (certManagerOn) {
        await custom.createNamespacedCustomObject({
          ...CR,
          namespace: 'apps',
          body: {
            apiVersion: 'cert-manager.io/v1',
            kind: 'CertificateRequest',
            metadata: {
              name: stale,
              labels: { 'csi.k8s.cert-driver/node': 'node-a' },
              annotations: { 'csi.k8s.cert-driver/volume-id': `csi-${stale}` },
            },
            spec: { request: Buffer.from('stale').toString('base64'), issuerRef: { name: 'gone' } },
          },
        });
      }
      return { statusOn, certManagerOn };
    }

    /** The stale objects of `plantStale(name)` are deleted by the driver whose log `logLines` reads. */
    async function expectStaleGone(
      name: string,
      on: { statusOn: boolean; certManagerOn: boolean },
      logLines: () => { msg?: unknown; deleted?: unknown }[],
    ): Promise<void> {
      const stale = `stale-${name}`;
      if (on.statusOn) {
        await gone('the stale CertVolumeStatus', () =>
          custom.getNamespacedCustomObject({ ...cvs, namespace: 'apps', name: stale }),
        );
        await waitFor('the re-sync log line', async () =>
          logLines().find((l) => l.msg === 'status objects re-synced' && l.deleted === 1),
        );
      }
      if (on.certManagerOn) {
        await gone('the stale CertificateRequest', () =>
          custom.getNamespacedCustomObject({ ...CR, namespace: 'apps', name: stale }),
        );
      }
    }

    it.each([SPIFFE, CERT_MANAGER, CERT_MANAGER_DRIVER, STATUS, APPROVER])(
      '$name: the node starts with the chart’s env and does its API work with the chart’s RBAC',
      { timeout: 150_000 },
      async (set) => {
        const removeAccess = await applyAccess(set);
        try {
          const objs = await render(set.values);
          const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node').spec!.template.spec!;
          const rendered = envOf(
            spec.containers.find((c) => c.name === 'driver')!,
            POD_FIELDS,
          );
          const dir = mkdtempSync(join(tmp, `${set.name}-`));
          const endpoint = `unix://${join(dir, 'csi.sock')}`;
          const settings: Record<string, string> = {
            ...rendered,
            // Host-specific values only: a socket, state dir and ports of this test; no key pool.
            CSI_ENDPOINT: endpoint,
            CERT_BASE_PATH: join(dir, 'base'),
            API_LISTEN_ADDR: 'off',
            METRICS_LISTEN_ADDR: `127.0.0.1:${await freeLoopbackPort()}`,
            // The pod's /registration mount and health port (node.registration=builtin), here.
            ...(rendered.PLUGIN_REGISTRATION_DIR ? { PLUGIN_REGISTRATION_DIR: join(dir, 'registry') } : {}),
            ...(rendered.HEALTH_LISTEN_ADDR
              ? { HEALTH_LISTEN_ADDR: `127.0.0.1:${await freeLoopbackPort()}` }
              : {}),
            KEY_POOL_SIZE: '0',
            // The issuer's CA, as the chart's ConfigMap holds it, in this test's directory.
            ISSUER_TLS_CA_FILE: issuerCaFile(objs, dir),
            // As in any pod: kubelet sets these whether or not a token is mounted.
            KUBERNETES_SERVICE_HOST: '127.0.0.1',
            KUBERNETES_SERVICE_PORT: '1',
          };
          if (spec.automountServiceAccountToken) settings.KUBECONFIG = await tokenConfig('node');
          const { statusOn, certManagerOn } = await plantStale(set.name, rendered);
          const node = new DriverProcess({
            role: 'node',
            cwd: dir,
            logFile: join(REPO_ROOT, 'test-results', 'e2e', 'chart-settings', `node-${set.name}.log`),
            settings,
          });
          procs.push(node);
          await waitForNodeReady(node, endpoint, 60_000);
          await expectStaleGone(set.name, { statusOn, certManagerOn }, () => node.logLines());
          // Registered as the chart says: the registration socket names the host's CSI socket.
          if (rendered.PLUGIN_REGISTRATION_DIR) {
            const socket = join(dir, 'registry', 'csi.k8s.cert-driver-reg.sock');
            await waitFor('the registration socket', () => (existsSync(socket) ? true : undefined));
            const kubelet = new RegistrationClient(socket);
            try {
              expect((await kubelet.getInfo()).endpoint).toBe(rendered.KUBELET_CSI_ENDPOINT);
            } finally {
              kubelet.close();
            }
            expect((await fetch(`http://${settings.HEALTH_LISTEN_ADDR}/healthz`)).status).toBe(200);
          }
          // Without a Kubernetes feature the driver never loads a Kubernetes client at all.
          if (!spec.automountServiceAccountToken) expect(statusOn || certManagerOn).toBe(false);
          expect(node.logText()).not.toMatch(/forbidden/i);
          expect(node.exitStatus).toBeUndefined();
          await node.kill('SIGTERM');
        } finally {
          await removeAccess();
        }
      },
    );

    it.skipIf(!wineReady)(
      `Windows: the driver under Wine starts with the Windows DaemonSet’s env and in-cluster config and does its API work with the chart’s RBAC${wineReady ? '' : ` (skipped: ${WINE_SKIP_REASON})`}`,
      { timeout: 300_000 },
      async () => {
        const set = WINDOWS_KUBE;
        const removeAccess = await applyAccess(set);
        let proc: WineNodeProcess | undefined;
        const name = `chart-settings-${randomBytes(4).toString('hex')}`;
        const cRoot = `C:\\${name}`;
        try {
          const objs = await render(set.values);
          const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node-windows').spec!.template.spec!;
          expect(spec.automountServiceAccountToken).toBe(true);
          const rendered = envOf(
            spec.containers.find((c) => c.name === 'driver')!,
            POD_FIELDS,
          );
          expect([rendered.STATUS_OBJECTS, rendered.POD_EVENTS, rendered.CERT_MANAGER_ENABLED]).toEqual([
            'true',
            'true',
            'true',
          ]);
          const dir = mkdtempSync(join(tmp, `${set.name}-`));
          // The working directory on C:, as a HostProcess container's: `/var/run/secrets/…` of the
          // in-cluster config then resolves to C:\var\run\secrets\….
          const cwd = linuxPathOf(`${cRoot}\\cwd`);
          mkdirSync(cwd, { recursive: true });
          const token = await cluster.serviceAccountToken(NAMESPACE, `${RELEASE}-csi-cert-driver-node`);
          const on = await plantStale(set.name, rendered);
          await withInClusterCredentials(
            { server: cp.server, caPem: cp.caPem, token, namespace: NAMESPACE },
            async (inCluster) => {
              const settings: Record<string, string> = {
                ...rendered,
                // Host-specific values only: a pipe, state dir and ports of this test; no key pool.
                CSI_ENDPOINT: `\\\\.\\pipe\\${name}`,
                CERT_BASE_PATH: `${cRoot}\\base`,
                API_LISTEN_ADDR: 'off',
                METRICS_LISTEN_ADDR: `127.0.0.1:${await freeLoopbackPort()}`,
                KEY_POOL_SIZE: '0',
                ISSUER_TLS_CA_FILE: onZ(issuerCaFile(objs, dir)),
                // No KUBECONFIG: the pod's in-cluster config, the token where containerd 1.7+ mounts it.
                ...inCluster.env,
                NODE_OPTIONS: WINE_KEEPALIVE_NODE_OPTIONS,
              };
              proc = new WineNodeProcess(
                settings,
                join(REPO_ROOT, 'test-results', 'e2e', 'chart-settings', `node-${set.name}.log`),
                cwd,
              );
              await proc.waitServing(240_000);
              await expectStaleGone(set.name, on, () => proc!.logLines());
              expect(proc.logText()).not.toMatch(/forbidden/i);
              expect(proc.exitStatus).toBeUndefined();
              await proc.kill();
            },
          );
        } finally {
          await proc?.kill();
          rmSync(linuxPathOf(cRoot), { recursive: true, force: true });
          await removeAccess();
        }
      },
    );

    it(
      'approver: starts with the chart’s env, takes the chart’s Lease, approves a correct SVID request and denies a bad one',
      { timeout: 150_000 },
      async () => {
        const removeAccess = await applyAccess(APPROVER);
        try {
          const dep = find<V1Deployment>(await render(APPROVER.values), 'Deployment', '-approver');
          expect(dep.spec!.template.spec!.automountServiceAccountToken).toBe(true);
          const rendered = envOf(dep.spec!.template.spec!.containers[0]!, { 'metadata.name': 'approver-0' });
          // startApprover picks a free health port and sets POD_NAME; everything else is the chart's.
          const { HEALTH_LISTEN_ADDR: _health, POD_NAME: _pod, ...chartEnv } = rendered;
          const approver = await startApprover({
            suite: 'chart-settings',
            podName: 'approver-0',
            cwd: tmp,
            settings: { ...chartEnv, KUBECONFIG: await tokenConfig('approver') },
          });
          procs.push(approver.proc);
          const lease = await waitFor('the approver to hold the chart’s Lease', async () => {
            const l = await readLease(cp.kubeConfig, NAMESPACE, rendered.LEADER_ELECTION_LEASE_NAME!);
            return l?.spec?.holderIdentity?.startsWith('approver-0_') ? l : undefined;
          });
          expect(lease.metadata?.name).toBe(`${RELEASE}-csi-cert-driver-approver`);

          // A workload's service account creates its requests (the requester policy sets spec.username).
          await cluster.serviceAccount('apps', 'web');
          await cluster.objects.create({
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'request-certificates', namespace: 'apps' },
            rules: [
              {
                apiGroups: ['cert-manager.io'],
                resources: ['certificaterequests'],
                verbs: ['create', 'get'],
              },
            ],
          } as KubernetesObject);
          await cluster.objects.create({
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'request-certificates', namespace: 'apps' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'request-certificates' },
            subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'apps' }],
          } as KubernetesObject);
          const web = new CrClient(
            cp.kubeconfigFor('web', await cluster.serviceAccountToken('apps', 'web')).kubeConfig,
          );
          const ctx = {
            trustDomain: 'example.org',
            namespace: 'apps',
            serviceAccount: 'web',
            otherNamespace: 'bank',
            otherServiceAccount: 'teller',
          };
          const issuerRef = { name: 'spiffe-ca', kind: 'Issuer', group: 'cert-manager.io' };
          const good = RULE_CASES.find((c) => c.want === 'approve')!;
          const bad = RULE_CASES.find((c) => c.want === 'request-parse')!;
          // The chart's CERTIFICATE_DURATION is what a request must carry.
          await web.create('apps', 'web-good', { ...(await ruleCaseSpec(good, ctx, '1h')), issuerRef });
          await web.create('apps', 'web-bad', { ...(await ruleCaseSpec(bad, ctx, '1h')), issuerRef });
          expect(await waitForDecision(web, 'apps', 'web-good')).toMatchObject({
            type: 'Approved',
            status: 'True',
          });
          const denied = await waitForDecision(web, 'apps', 'web-bad');
          expect(denied).toMatchObject({ type: 'Denied', status: 'True' });
          expect(denied.message).toContain('request-parse');
          await waitFor('an Event on the denied request', async () => {
            const events = await eventsOf(cp.kubeConfig, 'apps', 'web-bad');
            return events.length > 0 ? events : undefined;
          });
          expect(approver.proc.logText()).not.toMatch(/forbidden/i);
          await approver.stop();
        } finally {
          await removeAccess();
        }
      },
    );
  },
);
