/**
 * The security-relevant settings of the rendered chart, asserted so that a careless edit fails CI:
 * which containers are privileged, which mounts propagate, what each role may do in the API, how
 * kubelet calls the driver, HostProcess on Windows, and that the Windows pipe addresses agree with
 * the driver's own endpoint parser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type {
  KubernetesObject,
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1PolicyRule,
} from '@kubernetes/client-node';
import { pipeBindAddress } from '@csi-cert-driver/platform-windows';
import {
  CHART_DIR,
  DEFAULT_CSIDRIVER_SPEC,
  HELM,
  find,
  helmTemplate,
  parseManifests,
  render,
  toolsMissing,
} from './chart.js';
import { REPO_ROOT } from '../support/repo.js';
import {
  APPROVER,
  CERT_MANAGER_DRIVER,
  CERT_MANAGER,
  DEFAULTS,
  EVERYTHING,
  SPIFFE,
  STATUS,
  VALUE_SETS,
  WINDOWS,
} from './value-sets.js';

type Obj = KubernetesObject & Record<string, unknown>;

/** The node env of the Kubernetes features (cert-manager mode, status objects, pod Events). */
const KUBE_ENV = /^(STATUS_|POD_EVENTS$|CERT_MANAGER_)/;

function containers(w: V1DaemonSet | V1Deployment): V1Container[] {
  const spec = w.spec!.template.spec!;
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** `name:mountPath` of every volume mount with Bidirectional propagation, per container. */
function bidirectional(w: V1DaemonSet | V1Deployment): string[] {
  return containers(w).flatMap((c) =>
    (c.volumeMounts ?? [])
      .filter((m) => m.mountPropagation === 'Bidirectional')
      .map((m) => `${c.name}:${m.mountPath}`),
  );
}

function env(c: V1Container): Record<string, string | undefined> {
  return Object.fromEntries(
    (c.env ?? []).map((e) => [e.name, e.value ?? `<from ${Object.keys(e.valueFrom ?? {})}>`]),
  );
}

/** Rules of a (Cluster)Role as `group/resource[names]: verbs` lines, sorted. */
function rules(objs: KubernetesObject[], kind: 'ClusterRole' | 'Role', suffix: string): string[] {
  const role = find<{ rules: V1PolicyRule[] }>(objs, kind, suffix);
  return role.rules
    .flatMap((r) =>
      (r.apiGroups ?? ['']).flatMap((g) =>
        (r.resources ?? []).map(
          (res) =>
            `${g || 'core'}/${res}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}: ${r.verbs.join(',')}`,
        ),
      ),
    )
    .sort();
}

function rulesOf(o: KubernetesObject | undefined): V1PolicyRule[] {
  return (o as unknown as { rules: V1PolicyRule[] }).rules;
}

/** The objects of a tested manifest in deploy/rbac/. */
function testedManifest(file: string): KubernetesObject[] {
  return parseManifests(readFileSync(join(REPO_ROOT, 'deploy', 'rbac', file), 'utf8'));
}

function named(objs: KubernetesObject[], name: string): KubernetesObject {
  const o = objs.find((x) => /Role$/.test(x.kind ?? '') && x.metadata?.name === name);
  if (!o) throw new Error(`no role ${name} in the tested manifest`);
  return o;
}

/** The rules with their resourceNames replaced: tested manifests name their own objects. */
function withNames(rules: V1PolicyRule[], names: string[]): V1PolicyRule[] {
  return rules.map((r) => (r.resourceNames ? { ...r, resourceNames: names } : r));
}

function workloads(objs: KubernetesObject[]): (V1DaemonSet | V1Deployment)[] {
  return objs.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment') as (
    V1DaemonSet | V1Deployment
  )[];
}

describe.skipIf(toolsMissing(HELM))('security-relevant settings of the rendered chart', () => {
  it('CSIDriver: ephemeral only, no attach, pod info, a token for the issuer audience, republish, fsGroupPolicy File', async () => {
    const drv = find<{ spec: Record<string, unknown> }>(await render(DEFAULTS.values), 'CSIDriver');
    expect(drv.metadata?.name).toBe('csi.k8s.cert-driver');
    expect(drv.spec).toEqual(DEFAULT_CSIDRIVER_SPEC);
  });

  it('CSIDriver: the 1.35+ fields are left out for older clusters', async () => {
    const r = await helmTemplate({ csiDriver: { preventPodSchedulingIfMissing: true } }, [
      '--kube-version',
      '1.34.0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const spec = find<{ spec: Record<string, unknown> }>(parseManifests(r.stdout), 'CSIDriver').spec;
    expect(spec.serviceAccountTokenInSecrets).toBeUndefined();
    expect(spec.preventPodSchedulingIfMissing).toBeUndefined();
    const now = find<{ spec: Record<string, unknown> }>(
      await render({ csiDriver: { preventPodSchedulingIfMissing: true } }),
      'CSIDriver',
    ).spec;
    expect(now.preventPodSchedulingIfMissing).toBe(true);
  });

  it('CSIDriver: an API-server token is requested only when cert-manager requests are made as the pod', async () => {
    const audiences = async (values: object) =>
      find<{ spec: { tokenRequests: { audience: string }[] } }>(
        await render(values),
        'CSIDriver',
      ).spec.tokenRequests.map((t) => t.audience);
    expect(await audiences(CERT_MANAGER.values)).toEqual(['csi.k8s.cert-driver', '']);
    expect(
      await audiences({ certManager: { enabled: true, tokenAudience: 'https://kubernetes.default.svc' } }),
    ).toEqual(['csi.k8s.cert-driver', 'https://kubernetes.default.svc']);
    expect(await audiences(APPROVER.values)).toEqual(['csi.k8s.cert-driver', '']);
    expect(await audiences(CERT_MANAGER_DRIVER.values)).toEqual(['csi.k8s.cert-driver']);
    expect(await audiences(SPIFFE.values)).toEqual(['csi.k8s.cert-driver']);
    expect(await audiences(STATUS.values)).toEqual(['csi.k8s.cert-driver']);
    expect(await audiences(DEFAULTS.values)).toEqual(['csi.k8s.cert-driver']);
  });

  it.each([
    { name: 'defaults', values: DEFAULTS.values, kube: false },
    { name: 'SPIFFE with the built-in issuer', values: SPIFFE.values, kube: false },
    { name: 'cert-manager mode', values: CERT_MANAGER.values, kube: true },
    { name: 'status objects only', values: { status: { objects: true } }, kube: true },
    { name: 'pod Events only', values: { status: { podEvents: true } }, kube: true },
    { name: 'everything', values: EVERYTHING.values, kube: true },
  ])(
    '$name: both node DaemonSets get the service-account token exactly when they use the API ($kube), with the same Kubernetes env',
    async ({ values, kube }) => {
      const objs = await render({ ...values, windows: { enabled: true } });
      const podSpec = (suffix: string) => find<V1DaemonSet>(objs, 'DaemonSet', suffix).spec!.template.spec!;
      for (const suffix of ['-node', '-node-windows']) {
        expect(podSpec(suffix).serviceAccountName, suffix).toBe('certs-csi-cert-driver-node');
        expect(podSpec(suffix).automountServiceAccountToken, suffix).toBe(kube);
      }
      const kubeEnv = (suffix: string) =>
        Object.fromEntries(
          Object.entries(env(podSpec(suffix).containers.find((c) => c.name === 'driver')!)).filter(([k]) =>
            KUBE_ENV.test(k),
          ),
        );
      const linux = kubeEnv('-node');
      // Without a token the driver must not try the API: its `auto` default would in a pod.
      const kubeOn =
        linux.STATUS_OBJECTS === 'true' ||
        linux.POD_EVENTS === 'true' ||
        linux.CERT_MANAGER_ENABLED === 'true';
      expect(kubeOn).toBe(kube);
      expect(linux.STATUS_OBJECTS).toMatch(/^(true|false)$/);
      expect(linux.POD_EVENTS).toMatch(/^(true|false)$/);
      expect(kubeEnv('-node-windows')).toEqual(linux);
      // No binding names the node's service account unless the drivers have a token.
      const nodeBindings = objs.filter(
        (o) =>
          o.kind?.endsWith('Binding') &&
          (o as unknown as { subjects: { name: string }[] }).subjects.some(
            (x) => x.name === 'certs-csi-cert-driver-node',
          ),
      );
      expect(nodeBindings.length > 0).toBe(kube);
    },
  );

  it('Windows nodes only (node.enabled=false): the Windows DaemonSet keeps the Kubernetes features, token and RBAC', async () => {
    const objs = await render({
      node: { enabled: false },
      windows: { enabled: true },
      certManager: { enabled: true, requestIdentity: 'driver' },
      status: { objects: true, podEvents: true },
    });
    expect(objs.filter((o) => o.kind === 'DaemonSet').map((o) => o.metadata!.name)).toEqual([
      'certs-csi-cert-driver-node-windows',
    ]);
    const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node-windows').spec!.template.spec!;
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(env(spec.containers.find((c) => c.name === 'driver')!)).toMatchObject({
      STATUS_OBJECTS: 'true',
      POD_EVENTS: 'true',
      CERT_MANAGER_ENABLED: 'true',
      CERT_MANAGER_IDENTITY: 'driver',
    });
    const bound = objs
      .filter(
        (o) =>
          o.kind === 'ClusterRoleBinding' &&
          (o as unknown as { subjects: { name: string }[] }).subjects.some(
            (x) => x.name === 'certs-csi-cert-driver-node',
          ),
      )
      .map((o) => (o as unknown as { roleRef: { name: string } }).roleRef.name)
      .sort();
    expect(bound).toEqual([
      'certs-csi-cert-driver-node-cert-manager',
      'certs-csi-cert-driver-node-cert-manager-requests',
      'certs-csi-cert-driver-node-status',
    ]);
    expect(find(objs, 'ServiceAccount', '-node').metadata!.name).toBe('certs-csi-cert-driver-node');
  });

  it('Windows DaemonSet: the trust bundle ConfigMap as on Linux (env, read-only mount, volume)', async () => {
    const objs = await render(EVERYTHING.values);
    const parts = (suffix: string) => {
      const spec = find<V1DaemonSet>(objs, 'DaemonSet', suffix).spec!.template.spec!;
      const driver = spec.containers.find((c) => c.name === 'driver')!;
      return {
        file: env(driver).TRUST_BUNDLE_FILE,
        mount: driver.volumeMounts!.find((m) => m.name === 'trust-bundle'),
        volume: spec.volumes!.find((v) => v.name === 'trust-bundle'),
      };
    };
    const linux = parts('-node');
    expect(linux).toEqual({
      file: '/etc/csi-cert-driver/trust-bundle/roots.pem',
      mount: { name: 'trust-bundle', mountPath: '/etc/csi-cert-driver/trust-bundle', readOnly: true },
      volume: {
        name: 'trust-bundle',
        configMap: { name: 'corp-roots', items: [{ key: 'roots.pem', path: 'roots.pem' }] },
      },
    });
    expect(parts('-node-windows')).toEqual(linux);
    const none = find<V1DaemonSet>(await render(WINDOWS.values), 'DaemonSet', '-node-windows').spec!.template
      .spec!;
    expect(none.volumes!.map((v) => v.name)).not.toContain('trust-bundle');
    expect(env(none.containers.find((c) => c.name === 'driver')!).TRUST_BUNDLE_FILE).toBeUndefined();
  });

  it.each(VALUE_SETS)(
    '$name: only the Linux driver (and its state-tmpfs init) is privileged, as root',
    async ({ values }) => {
      const objs = await render(values);
      const privileged = workloads(objs).flatMap((w) =>
        containers(w)
          .filter((c) => c.securityContext?.privileged)
          .map((c) => `${w.metadata!.name}:${c.name}:uid=${c.securityContext?.runAsUser}`),
      );
      expect(privileged).toEqual([
        'certs-csi-cert-driver-node:state-tmpfs:uid=0',
        'certs-csi-cert-driver-node:driver:uid=0',
      ]);
    },
  );

  it.each(VALUE_SETS)(
    '$name: Bidirectional propagation only on the driver’s pods dir and certBasePath',
    async ({ values }) => {
      const objs = await render(values);
      const kubelet =
        (values as { node?: { kubeletRootDir?: string } }).node?.kubeletRootDir ?? '/var/lib/kubelet';
      const all = workloads(objs).flatMap((w) => bidirectional(w).map((m) => `${w.metadata!.name}/${m}`));
      expect(all).toEqual([
        'certs-csi-cert-driver-node/state-tmpfs:/var/lib/csi-certs',
        `certs-csi-cert-driver-node/driver:${kubelet}/pods`,
        'certs-csi-cert-driver-node/driver:/var/lib/csi-certs',
      ]);
      // The propagated host paths are exactly those directories, not kubelet's whole root.
      const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node');
      const hostPaths = ds
        .spec!.template.spec!.volumes!.filter((v) => v.hostPath)
        .map((v) => `${v.name}=${v.hostPath!.path}`);
      expect(hostPaths).toEqual([
        `socket-dir=${kubelet}/plugins/csi.k8s.cert-driver`,
        `registration-dir=${kubelet}/plugins_registry`,
        `pods-dir=${kubelet}/pods`,
        'cert-base=/var/lib/csi-certs',
      ]);
      // Every other volume is pod-local: memory-backed scratch, a read-only trust bundle or issuer CA,
      // or (mTLS) the node drivers' client certificate for the issuer.
      const others = ds.spec!.template.spec!.volumes!.filter((v) => !v.hostPath);
      for (const v of others)
        expect(v.emptyDir?.medium === 'Memory' || v.configMap !== undefined || v.name === 'node-tls').toBe(
          true,
        );
      const trust = containers(ds)
        .flatMap((c) => c.volumeMounts ?? [])
        .filter((m) => ['trust-bundle', 'issuer-tls-ca', 'node-tls'].includes(m.name));
      for (const m of trust) expect(m.readOnly).toBe(true);
    },
  );

  it('Linux DaemonSet: scheduling and the driver container, whichever registers it', async () => {
    for (const registration of ['builtin', 'sidecars']) {
      const objs = await render({ node: { registration, kubeletRootDir: '/opt/rke/var/lib/kubelet' } });
      const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node').spec!.template.spec!;
      expect(spec.priorityClassName).toBe('system-node-critical');
      expect(spec.hostNetwork).toBeUndefined();
      expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
      expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
      const driver = spec.containers.find((c) => c.name === 'driver')!;
      expect(driver.args).toEqual(['node']);
      expect(env(driver)).toMatchObject({
        CSI_ENDPOINT: 'unix:///csi/csi.sock',
        NODE_ID: '<from fieldRef>',
        CERT_SERVICE_ADDR: 'certs-csi-cert-driver-issuer.csi-cert-driver.svc:50051',
        CERT_BASE_PATH: '/var/lib/csi-certs',
        API_LISTEN_ADDR: '127.0.0.1:8080',
        METRICS_LISTEN_ADDR: '0.0.0.0:9090',
      });
      // Liveness and readiness: CSI Probe over the socket, answered on the pod's healthz port (by the
      // driver itself, or by the livenessprobe sidecar sharing the pod's network).
      expect(driver.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
      expect(driver.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
      // The dashboard/API stays on loopback: no container port, reached by port-forward only.
      expect(driver.ports?.map((p) => `${p.name}:${p.containerPort}`)).toEqual([
        'healthz:9808',
        'metrics:9090',
      ]);
      expect(driver.resources?.limits?.memory).toBeDefined();
    }
  });

  it('Linux DaemonSet, registration=builtin (default): one container that registers the kubelet path itself', async () => {
    const objs = await render({ node: { kubeletRootDir: '/opt/rke/var/lib/kubelet', healthHost: '::' } });
    const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node').spec!.template.spec!;
    expect(spec.containers.map((c) => c.name)).toEqual(['driver']);
    const driver = spec.containers[0]!;
    const e = env(driver);
    expect(e).toMatchObject({
      PLUGIN_REGISTRATION_DIR: '/registration',
      KUBELET_CSI_ENDPOINT: '/opt/rke/var/lib/kubelet/plugins/csi.k8s.cert-driver/csi.sock',
      HEALTH_LISTEN_ADDR: '[::]:9808',
    });
    // kubelet's plugin registry, created when missing; the CSI socket dir as before.
    expect(driver.volumeMounts?.filter((m) => ['registration-dir', 'socket-dir'].includes(m.name))).toEqual([
      { name: 'socket-dir', mountPath: '/csi' },
      { name: 'registration-dir', mountPath: '/registration' },
    ]);
    expect(spec.volumes!.find((v) => v.name === 'registration-dir')!.hostPath).toEqual({
      path: '/opt/rke/var/lib/kubelet/plugins_registry',
      type: 'DirectoryOrCreate',
    });
  });

  it('Linux DaemonSet, registration=sidecars: unprivileged sidecars; registrar registers the kubelet path', async () => {
    const objs = await render({
      node: { registration: 'sidecars', kubeletRootDir: '/opt/rke/var/lib/kubelet' },
    });
    const spec = find<V1DaemonSet>(objs, 'DaemonSet', '-node').spec!.template.spec!;
    expect(spec.containers.map((c) => c.name)).toEqual(['driver', 'node-driver-registrar', 'liveness-probe']);
    for (const name of ['node-driver-registrar', 'liveness-probe']) {
      const c = spec.containers.find((x) => x.name === name)!;
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    const registrar = spec.containers.find((c) => c.name === 'node-driver-registrar')!;
    expect(registrar.args).toContain(
      '--kubelet-registration-path=/opt/rke/var/lib/kubelet/plugins/csi.k8s.cert-driver/csi.sock',
    );
    const driver = spec.containers.find((c) => c.name === 'driver')!;
    const e = env(driver);
    for (const name of ['PLUGIN_REGISTRATION_DIR', 'KUBELET_CSI_ENDPOINT', 'HEALTH_LISTEN_ADDR'])
      expect(e[name]).toBeUndefined();
    expect(driver.volumeMounts?.map((m) => m.name)).not.toContain('registration-dir');
    expect(spec.volumes!.find((v) => v.name === 'registration-dir')!.hostPath).toEqual({
      path: '/opt/rke/var/lib/kubelet/plugins_registry',
      type: 'Directory',
    });
  });

  it.each(VALUE_SETS)(
    '$name: issuer and approver run as non-root with no capabilities',
    async ({ values }) => {
      const objs = await render(values);
      for (const d of objs.filter((o) => o.kind === 'Deployment') as V1Deployment[]) {
        const spec = d.spec!.template.spec!;
        expect(spec.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(spec.hostNetwork).toBeUndefined();
        for (const c of spec.containers) {
          expect(c.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.volumeMounts?.some((m) => m.mountPropagation)).toBe(false);
        }
        expect(spec.volumes?.some((v) => v.hostPath)).toBe(false);
      }
    },
  );

  it('issuer: 2 replicas, a PDB, a Service, the CA Secret watched through the API', async () => {
    const objs = await render(DEFAULTS.values);
    const dep = find<V1Deployment>(objs, 'Deployment', '-issuer');
    expect(dep.spec?.replicas).toBe(2);
    expect(find<{ spec: { minAvailable: number } }>(objs, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
    expect(
      find<{ spec: { ports: { port: number }[] } }>(objs, 'Service', '-issuer').spec.ports[0]!.port,
    ).toBe(50051);
    expect(env(dep.spec!.template.spec!.containers[0]!)).toMatchObject({
      CA_SECRET_NAME: 'certs-csi-cert-driver-ca',
      CA_SECRET_NAMESPACE: 'csi-cert-driver',
      ISSUER_AUTH: 'kubernetes',
      ISSUER_TOKEN_AUDIENCE: 'csi.k8s.cert-driver',
      CA_STATE_DIR: '/var/lib/csi-cert-driver/ca-state',
    });
    // The CA rotation state (certificates only) on a pod-local emptyDir, never a host path.
    const spec = dep.spec!.template.spec!;
    const mount = spec.containers[0]!.volumeMounts!.find((m) => m.name === 'ca-state')!;
    expect(mount.mountPath).toBe('/var/lib/csi-cert-driver/ca-state');
    expect(spec.volumes!.find((v) => v.name === 'ca-state')).toEqual({
      name: 'ca-state',
      emptyDir: { sizeLimit: '1Mi' },
    });
    expect(spec.automountServiceAccountToken).toBe(true);
    const files = find<V1Deployment>(
      await render({ issuer: { caSource: 'files', auth: 'none', caState: { enabled: false } } }),
      'Deployment',
      '-issuer',
    ).spec!.template.spec!;
    expect(files.automountServiceAccountToken).toBe(false);
    expect(env(files.containers[0]!).CA_STATE_DIR).toBeUndefined();
    expect(files.volumes!.map((v) => v.name)).toEqual(['tmp', 'ca', 'issuer-tls']);
  });

  it('RBAC, default install: the issuer may review tokens, read pods and watch only its CA Secret; the node gets nothing', async () => {
    const objs = await render(DEFAULTS.values);
    expect(rules(objs, 'ClusterRole', '-issuer')).toEqual([
      'authentication.k8s.io/tokenreviews: create',
      'core/pods: get',
    ]);
    expect(rules(objs, 'Role', '-issuer')).toEqual(['core/secrets[certs-csi-cert-driver-ca]: get,watch']);
    expect(objs.filter((o) => /Role/.test(o.kind ?? '') && o.metadata?.name?.endsWith('-node'))).toEqual([]);
  });

  it('RBAC: the issuer gets exactly the rules of the tested manifest deploy/rbac/issuer.yaml', async () => {
    const tested = testedManifest('issuer.yaml');
    const objs = await render(DEFAULTS.values);
    expect(rulesOf(find(objs, 'ClusterRole', '-issuer'))).toEqual(
      rulesOf(named(tested, 'csi-cert-driver-issuer')),
    );
    // The tested Role names its own CA Secret; the chart names the release's.
    expect(rulesOf(find(objs, 'Role', '-issuer'))).toEqual(
      withNames(rulesOf(named(tested, 'csi-cert-driver-issuer-ca')), ['certs-csi-cert-driver-ca']),
    );
  });

  it.each([
    {
      name: 'node, cert-manager mode as the pod (deploy/rbac/node.yaml)',
      values: CERT_MANAGER.values,
      file: 'node.yaml',
      pairs: [
        ['-node-cert-manager', 'csi-cert-driver-node-cert-manager'],
        ['-certificate-requester', 'csi-cert-driver-certificate-requester'],
      ],
      absent: ['-node-cert-manager-requests', '-node-status'],
    },
    {
      name: 'node, cert-manager mode as the driver (deploy/rbac/node.yaml)',
      values: CERT_MANAGER_DRIVER.values,
      file: 'node.yaml',
      pairs: [
        ['-node-cert-manager', 'csi-cert-driver-node-cert-manager'],
        ['-node-cert-manager-requests', 'csi-cert-driver-node-cert-manager-requests'],
      ],
      absent: ['-certificate-requester', '-node-status'],
    },
    {
      name: 'node, status objects and pod Events (deploy/rbac/node-status.yaml)',
      values: STATUS.values,
      file: 'node-status.yaml',
      pairs: [
        ['-node-status', 'csi-cert-driver-node-status'],
        ['-certvolumestatuses-view', 'csi-cert-driver-certvolumestatuses-view'],
      ],
      absent: ['-node-cert-manager', '-node-cert-manager-requests', '-certificate-requester'],
    },
  ])('RBAC: $name: exactly the tested rules', async ({ values, file, pairs, absent }) => {
    const tested = testedManifest(file);
    const objs = await render(values);
    for (const [suffix, testedName] of pairs) {
      expect(rulesOf(find(objs, 'ClusterRole', suffix!)), suffix).toEqual(
        rulesOf(named(tested, testedName!)),
      );
    }
    const roles = objs.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata!.name!);
    for (const suffix of absent) expect(roles.filter((n) => n.endsWith(suffix))).toEqual([]);
    // The aggregated read role carries the same aggregation labels as the tested one.
    if (file === 'node-status.yaml') {
      const view = find(objs, 'ClusterRole', '-certvolumestatuses-view');
      const want = named(tested, 'csi-cert-driver-certvolumestatuses-view').metadata!.labels!;
      expect(view.metadata!.labels).toMatchObject(want);
    }
  });

  it('RBAC: the approver gets exactly the rules of deploy/rbac/approver.yaml, for the configured signer and Lease', async () => {
    const tested = testedManifest('approver.yaml');
    const objs = await render({
      certManager: { enabled: true },
      spiffe: { enabled: true },
      approver: { enabled: true, issuerRef: { name: 'spiffe-ca' } },
    });
    expect(rulesOf(find(objs, 'ClusterRole', '-approver'))).toEqual(
      rulesOf(named(tested, 'csi-cert-driver-approver')),
    );
    expect(rulesOf(find(objs, 'Role', '-approver'))).toEqual(
      withNames(rulesOf(named(tested, 'csi-cert-driver-approver-lease')), ['certs-csi-cert-driver-approver']),
    );
    // The Lease the RBAC names is the one the approver is told to hold.
    const approverEnv = env(
      find<V1Deployment>(objs, 'Deployment', '-approver').spec!.template.spec!.containers[0]!,
    );
    expect(approverEnv.LEADER_ELECTION_LEASE_NAME).toBe('certs-csi-cert-driver-approver');
    expect(approverEnv.LEADER_ELECTION_NAMESPACE).toBe('csi-cert-driver');
  });

  it('cluster view: the rules of deploy/rbac/cluster-view.yaml, only the CA certificate mounted, a ClusterIP Service on its port', async () => {
    const tested = testedManifest('cluster-view.yaml');
    const objs = await render({ status: { objects: true }, clusterView: { enabled: true } });
    expect(rulesOf(find(objs, 'ClusterRole', '-cluster-view'))).toEqual(
      rulesOf(named(tested, 'csi-cert-driver-cluster-view')),
    );
    const d = find<V1Deployment>(objs, 'Deployment', '-cluster-view');
    const pod = d.spec!.template.spec!;
    expect(pod.serviceAccountName).toBe('certs-csi-cert-driver-cluster-view');
    const ca = pod.volumes!.find((v) => v.name === 'ca')!;
    expect(ca.secret!.items).toEqual([{ key: 'tls.crt', path: 'tls.crt' }]);
    const e = env(pod.containers[0]!);
    expect(e.CA_BUNDLE_FILE).toBe('/etc/csi-cert-driver/ca/tls.crt');
    expect(e.API_ALLOWED_HOSTS!.split(',')).toContain(
      'certs-csi-cert-driver-cluster-view.csi-cert-driver.svc',
    );
    const svc = find<{ spec: { type: string; ports: { port: number; targetPort: string }[] } }>(
      objs,
      'Service',
      '-cluster-view',
    );
    expect([svc.spec.type, svc.spec.ports[0]!.port, svc.spec.ports[0]!.targetPort]).toEqual([
      'ClusterIP',
      8080,
      'http',
    ]);
    expect(await render({})).not.toContainEqual(
      expect.objectContaining({
        kind: 'Deployment',
        metadata: expect.objectContaining({ name: 'certs-csi-cert-driver-cluster-view' }),
      }),
    );
  });

  it('CRD: the chart installs exactly deploy/crds/certvolumestatuses.csi-cert-driver.io.yaml, kept on uninstall', async () => {
    const file = 'certvolumestatuses.csi-cert-driver.io.yaml';
    const tested = readFileSync(join(REPO_ROOT, 'deploy', 'crds', file), 'utf8');
    // The chart's copy is the same text, and renders to the same spec.
    expect(readFileSync(join(CHART_DIR, 'files', 'crds', file), 'utf8')).toBe(tested);
    const crd = find<{ spec: unknown; metadata: { annotations: Record<string, string> } }>(
      await render(STATUS.values),
      'CustomResourceDefinition',
    );
    const want = parseManifests(tested)[0] as unknown as { metadata: { name: string }; spec: unknown };
    expect(crd.metadata.name).toBe(want.metadata.name);
    expect(crd.spec).toEqual(want.spec);
    expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    const off = await render({ crds: { install: false } });
    expect(off.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
  });

  it('RBAC, CA mounted as files and auth none: the issuer has no API access at all', async () => {
    const objs = await render({ issuer: { caSource: 'files', auth: 'none' } });
    // Only the aggregated read role for people (with the CRD) remains; it binds to no service account.
    expect(objs.filter((o) => /Role/.test(o.kind ?? '')).map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual(
      ['ClusterRole/certs-csi-cert-driver-certvolumestatuses-view'],
    );
  });

  it('RBAC, cert-manager mode as the pod: the node may list, watch and delete requests and create and patch Events, nothing else', async () => {
    const objs = await render(CERT_MANAGER.values);
    expect(rules(objs, 'ClusterRole', '-node-cert-manager')).toEqual([
      'cert-manager.io/certificaterequests: list,watch,delete',
      'core/events: create,patch',
    ]);
    expect(rules(objs, 'ClusterRole', '-certificate-requester')).toEqual([
      'cert-manager.io/certificaterequests: create,get',
    ]);
    // The requester role is for workloads: the chart binds it to nobody.
    expect(
      objs.filter((o) => o.kind?.endsWith('Binding') && o.metadata?.name?.endsWith('-certificate-requester')),
    ).toEqual([]);
  });

  it('RBAC, approver for a namespaced Issuer: approve only on the configured signers; the Lease by name', async () => {
    const objs = await render(APPROVER.values);
    expect(rules(objs, 'ClusterRole', '-approver')).toEqual([
      'cert-manager.io/certificaterequests/status: update',
      'cert-manager.io/certificaterequests: list,watch',
      'cert-manager.io/signers[issuers.cert-manager.io/apps.spiffe-ca,issuers.cert-manager.io/shop.spiffe-ca]: approve',
      'core/events: create',
    ]);
    expect(rules(objs, 'Role', '-approver')).toEqual([
      'coordination.k8s.io/leases: create',
      'coordination.k8s.io/leases[certs-csi-cert-driver-approver]: get,update',
    ]);
    // Requests are made as the pod (the approver checks the requester): the node cannot create them.
    expect(
      objs.filter(
        (o) => o.kind === 'ClusterRole' && o.metadata?.name?.endsWith('-node-cert-manager-requests'),
      ),
    ).toEqual([]);
  });

  it.each([
    { kind: 'ClusterIssuer', namespaces: [], want: ['clusterissuers.cert-manager.io/ca'] },
    { kind: 'Issuer', namespaces: [], want: ['issuers.cert-manager.io/*'] },
    { kind: 'Issuer', namespaces: ['a'], want: ['issuers.cert-manager.io/a.ca'] },
  ])('RBAC: approve on $kind $namespaces is granted on $want only', async ({ kind, namespaces, want }) => {
    const objs = await render({
      certManager: { enabled: true },
      spiffe: { enabled: true },
      approver: { enabled: true, issuerRef: { name: 'ca', kind, namespaces } },
    });
    const approving = objs
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .flatMap((r) => rulesOf(r).map((rule) => ({ role: r.metadata!.name, rule })))
      .filter(({ rule }) => rule.verbs.includes('approve') || rule.resources?.includes('signers'));
    expect(approving).toEqual([
      {
        role: 'certs-csi-cert-driver-approver',
        rule: {
          apiGroups: ['cert-manager.io'],
          resources: ['signers'],
          resourceNames: want,
          verbs: ['approve'],
        },
      },
    ]);
  });

  it.each(VALUE_SETS)(
    '$name: the node writes status only to CertVolumeStatuses and Events, and never reads them back',
    async ({ values }) => {
      const objs = await render(values);
      const nodeRoles = objs.filter(
        (o) => o.kind === 'ClusterRole' && o.metadata?.labels?.['app.kubernetes.io/component'] === 'node',
      );
      for (const role of nodeRoles) {
        for (const rule of rulesOf(role)) {
          const what = `${rule.apiGroups!.join()}/${rule.resources!.join()}`;
          expect(rule.resourceNames, what).toBeUndefined();
          expect(
            ['csi-cert-driver.io/certvolumestatuses', '/events', 'cert-manager.io/certificaterequests'],
            what,
          ).toContain(what);
          if (what === 'csi-cert-driver.io/certvolumestatuses') {
            expect(rule.verbs).toEqual(['create', 'patch', 'delete', 'list']);
          }
          for (const verb of [
            'get',
            'watch',
            'update',
            'deletecollection',
            'escalate',
            'bind',
            'impersonate',
          ]) {
            // Requests: `get` with requestIdentity driver; `watch` of the node's own (by label),
            // which reads nothing `list` does not already.
            if (what !== 'cert-manager.io/certificaterequests' || (verb !== 'get' && verb !== 'watch'))
              expect(rule.verbs, `${role.metadata!.name} ${what}`).not.toContain(verb);
          }
        }
      }
      // Only the node roles touch our CRD for writing.
      const writers = objs
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
        .filter((r) =>
          rulesOf(r).some(
            (x) =>
              x.resources?.includes('certvolumestatuses') &&
              x.verbs.some((v) => v !== 'get' && v !== 'list' && v !== 'watch'),
          ),
        )
        .map((r) => r.metadata!.name);
      expect(writers).toEqual(
        (values as { status?: { objects?: boolean } }).status?.objects
          ? ['certs-csi-cert-driver-node-status']
          : [],
      );
    },
  );

  it.each(VALUE_SETS)(
    '$name: every RoleBinding binds the role of the same name to that service account only',
    async ({ values }) => {
      const objs = (await render(values)) as Obj[];
      for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
        const binding = b as unknown as {
          roleRef: { kind: string; name: string };
          subjects: { kind: string; name: string }[];
        };
        expect(binding.roleRef.name).toBe(b.metadata?.name);
        expect(binding.roleRef.kind).toBe(b.kind === 'RoleBinding' ? 'Role' : 'ClusterRole');
        const component = b.metadata?.labels?.['app.kubernetes.io/component'];
        expect(binding.subjects).toEqual([
          {
            kind: 'ServiceAccount',
            name: `certs-csi-cert-driver-${component}`,
            namespace: 'csi-cert-driver',
          },
        ]);
        expect(
          objs.some((o) => o.kind === 'ServiceAccount' && o.metadata?.name === binding.subjects[0]!.name),
        ).toBe(true);
      }
      // No wildcard verbs or resources anywhere.
      for (const r of objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
        for (const rule of (r as unknown as { rules: V1PolicyRule[] }).rules) {
          expect(rule.verbs).not.toContain('*');
          expect(rule.resources).not.toContain('*');
          expect(rule.apiGroups).not.toContain('*');
        }
      }
    },
  );

  it('Windows DaemonSet: HostProcess as SYSTEM, host network, Windows nodes, Windows kubelet paths, registrar .exe', async () => {
    const objs = await render(WINDOWS.values);
    const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node-windows');
    const spec = ds.spec!.template.spec!;
    expect(spec.securityContext?.windowsOptions).toEqual({
      hostProcess: true,
      runAsUserName: 'NT AUTHORITY\\SYSTEM',
    });
    expect(spec.hostNetwork).toBe(true);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'windows' });
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.containers.map((c) => c.name)).toEqual([
      'driver',
      'csi-grpc-proxy',
      'node-driver-registrar',
      'liveness-probe',
    ]);
    for (const c of spec.containers) {
      expect(c.securityContext?.privileged).toBeUndefined();
      expect(c.volumeMounts?.some((m) => m.mountPropagation)).toBe(false);
    }
    const socket = 'C:\\var\\lib\\kubelet\\plugins\\csi.k8s.cert-driver\\csi.sock';
    const registrar = spec.containers.find((c) => c.name === 'node-driver-registrar')!;
    expect(registrar.command).toEqual(['csi-node-driver-registrar.exe']);
    expect(registrar.args).toEqual([
      `--csi-address=unix://${socket}`,
      `--kubelet-registration-path=${socket}`,
      '--plugin-registration-path=C:\\var\\lib\\kubelet\\plugins_registry',
      '--v=2',
    ]);
    expect(registrar.livenessProbe?.exec?.command).toContain('--mode=kubelet-registration-probe');
    // Host paths, plus the issuer's CA (a ConfigMap).
    expect(spec.volumes!.map((v) => v.hostPath?.path ?? v.configMap?.name)).toEqual([
      'C:\\var\\lib\\kubelet\\plugins\\csi.k8s.cert-driver',
      'C:\\var\\lib\\kubelet\\plugins_registry',
      'C:\\var\\lib\\csi-certs',
      'certs-csi-cert-driver-issuer-tls-ca',
    ]);
  });

  it('Windows: the proxy binds the socket kubelet is told about and forwards to the pipe the driver serves', async () => {
    const spec = find<V1DaemonSet>(await render(WINDOWS.values), 'DaemonSet', '-node-windows').spec!.template
      .spec!;
    const driverEnv = env(spec.containers.find((c) => c.name === 'driver')!);
    const proxyEnv = env(spec.containers.find((c) => c.name === 'csi-grpc-proxy')!);
    const registrar = spec.containers.find((c) => c.name === 'node-driver-registrar')!;
    const registered = registrar
      .args!.find((a) => a.startsWith('--kubelet-registration-path='))!
      .split('=')[1];
    expect(proxyEnv.BIND_TO).toBe(`unix://${registered}`);
    // The driver's own parser (platform/windows) and the proxy's npipe:// address name one pipe.
    const driverPipe = pipeBindAddress(driverEnv.CSI_ENDPOINT!);
    expect(driverPipe).toBe('unix:\\\\.\\pipe\\csi-cert-driver\\csi');
    const proxyPipe = proxyEnv.PROXY_TO!.replace(/^npipe:\/\//, '').replace(/\//g, '\\');
    expect(`unix:${proxyPipe}`).toBe(driverPipe);
    const liveness = spec.containers.find((c) => c.name === 'liveness-probe')!;
    expect(liveness.args).toContain(`--csi-address=unix://${registered}`);
  });

  it('everything: NetworkPolicies admit the node drivers to the issuer and only monitoring to /metrics (node, issuer, approver)', async () => {
    const objs = await render(EVERYTHING.values);
    const issuer = find<{ spec: { ingress: { from: unknown[]; ports: unknown[] }[] } }>(
      objs,
      'NetworkPolicy',
      '-issuer',
    );
    expect(issuer.spec.ingress[0]).toEqual({
      ports: [{ port: 'grpc', protocol: 'TCP' }],
      from: [
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': 'csi-cert-driver',
              'app.kubernetes.io/instance': 'certs',
              'app.kubernetes.io/component': 'node',
            },
          },
        },
        { ipBlock: { cidr: '10.240.0.0/16' } },
      ],
    });
    type Policy = { spec: { ingress: { from?: unknown[]; ports: { port: string }[] }[] } };
    const monitoring = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ];
    for (const suffix of ['-issuer', '-node', '-approver']) {
      const policy = find<Policy>(objs, 'NetworkPolicy', suffix);
      expect(policy.spec.ingress.find((r) => r.ports.some((p) => p.port === 'metrics'))?.from).toEqual(
        monitoring,
      );
    }
    // The approver admits only the scrapers, on its one port.
    expect(find<Policy>(objs, 'NetworkPolicy', '-approver').spec.ingress).toEqual([
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: monitoring },
    ]);
    // Probe ports stay open to kubelet; nothing else is admitted to the node pods.
    expect(
      find<Policy>(objs, 'NetworkPolicy', '-node').spec.ingress.map((r) => r.ports.map((p) => p.port)),
    ).toEqual([['healthz'], ['metrics']]);
    // With the sidecars, node-driver-registrar's health port too.
    const sidecars = await render({ ...EVERYTHING.values, node: { registration: 'sidecars' } });
    expect(
      find<Policy>(sidecars, 'NetworkPolicy', '-node').spec.ingress.map((r) => r.ports.map((p) => p.port)),
    ).toEqual([['healthz', 'registrar'], ['metrics']]);
  });
});
