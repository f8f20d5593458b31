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
import { HELM, find, helmTemplate, parseManifests, render, toolsMissing } from './chart.js';
import { REPO_ROOT } from '../support/repo.js';
import { CERT_MANAGER, DEFAULTS, EVERYTHING, SPIFFE, VALUE_SETS, WINDOWS } from './value-sets.js';

type Obj = KubernetesObject & Record<string, unknown>;

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

function workloads(objs: KubernetesObject[]): (V1DaemonSet | V1Deployment)[] {
  return objs.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment') as (
    V1DaemonSet | V1Deployment
  )[];
}

describe.skipIf(toolsMissing(HELM))('security-relevant settings of the rendered chart', () => {
  it('CSIDriver: ephemeral only, no attach, pod info, a token for the issuer audience, republish, fsGroupPolicy File', async () => {
    const drv = find<{ spec: Record<string, unknown> }>(await render(DEFAULTS.values), 'CSIDriver');
    expect(drv.metadata?.name).toBe('csi.k8s.cert-driver');
    expect(drv.spec).toEqual({
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Ephemeral'],
      fsGroupPolicy: 'File',
      requiresRepublish: true,
      serviceAccountTokenInSecrets: false,
      tokenRequests: [{ audience: 'csi.k8s.cert-driver', expirationSeconds: 3600 }],
    });
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
    expect(await audiences(SPIFFE.values)).toEqual(['csi.k8s.cert-driver']);
    expect(await audiences(DEFAULTS.values)).toEqual(['csi.k8s.cert-driver']);
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
      // Every other volume is pod-local: memory-backed scratch, or a read-only trust bundle.
      const others = ds.spec!.template.spec!.volumes!.filter((v) => !v.hostPath);
      for (const v of others) expect(v.emptyDir?.medium === 'Memory' || v.configMap !== undefined).toBe(true);
      const trust = containers(ds)
        .flatMap((c) => c.volumeMounts ?? [])
        .filter((m) => m.name === 'trust-bundle');
      for (const m of trust) expect(m.readOnly).toBe(true);
    },
  );

  it('Linux DaemonSet: sidecars without privileges or capabilities; registrar registers the kubelet path', async () => {
    const objs = await render({ node: { kubeletRootDir: '/opt/rke/var/lib/kubelet' } });
    const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node');
    const spec = ds.spec!.template.spec!;
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.hostNetwork).toBeUndefined();
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
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
    expect(driver.args).toEqual(['node']);
    expect(env(driver)).toMatchObject({
      CSI_ENDPOINT: 'unix:///csi/csi.sock',
      NODE_ID: '<from fieldRef>',
      CERT_SERVICE_ADDR: 'certs-csi-cert-driver-issuer.csi-cert-driver.svc:50051',
      CERT_BASE_PATH: '/var/lib/csi-certs',
      API_LISTEN_ADDR: '127.0.0.1:8080',
      METRICS_LISTEN_ADDR: '0.0.0.0:9090',
    });
    // Liveness and readiness through the livenessprobe sidecar (CSI Probe over the socket).
    expect(driver.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
    expect(driver.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
    // The dashboard/API stays on loopback: no container port, reached by port-forward only.
    expect(driver.ports?.map((p) => `${p.name}:${p.containerPort}`)).toEqual([
      'healthz:9808',
      'metrics:9090',
    ]);
    expect(driver.resources?.limits?.memory).toBeDefined();
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
    });
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
    const tested = parseManifests(readFileSync(join(REPO_ROOT, 'deploy', 'rbac', 'issuer.yaml'), 'utf8'));
    const objs = await render(DEFAULTS.values);
    const rulesOf = (o: KubernetesObject | undefined) => (o as unknown as { rules: V1PolicyRule[] }).rules;
    expect(rulesOf(find(objs, 'ClusterRole', '-issuer'))).toEqual(
      rulesOf(tested.find((o) => o.kind === 'ClusterRole')),
    );
    // The tested Role names its own CA Secret; the chart names the release's.
    const testedRole = rulesOf(tested.find((o) => o.kind === 'Role')).map((r) => ({
      ...r,
      resourceNames: ['certs-csi-cert-driver-ca'],
    }));
    expect(rulesOf(find(objs, 'Role', '-issuer'))).toEqual(testedRole);
  });

  it('RBAC, CA mounted as files and auth none: the issuer has no API access at all', async () => {
    const objs = await render({ issuer: { caSource: 'files', auth: 'none' } });
    expect(objs.filter((o) => /Role/.test(o.kind ?? ''))).toEqual([]);
  });

  it('RBAC, cert-manager mode as the pod: the approver approves for its one ClusterIssuer; the node gets nothing', async () => {
    const objs = await render(CERT_MANAGER.values);
    expect(rules(objs, 'ClusterRole', '-approver')).toEqual([
      'cert-manager.io/certificaterequests/status: update',
      'cert-manager.io/certificaterequests: get,list,watch',
      'cert-manager.io/signers[clusterissuers.cert-manager.io/csi-ca]: approve',
      'core/events: create,patch',
    ]);
    expect(rules(objs, 'Role', '-approver')).toEqual([
      'coordination.k8s.io/leases: create',
      'coordination.k8s.io/leases[certs-csi-cert-driver-approver]: get,update',
    ]);
    expect(objs.filter((o) => /Role/.test(o.kind ?? '') && o.metadata?.name?.endsWith('-node'))).toEqual([]);
  });

  it('RBAC, SPIFFE mode with the driver identity: the node manages CertificateRequests; Issuer signer wildcard', async () => {
    const objs = await render(SPIFFE.values);
    expect(rules(objs, 'ClusterRole', '-node')).toEqual([
      'cert-manager.io/certificaterequests: create,get,list,watch,delete',
    ]);
    expect(rules(objs, 'ClusterRole', '-approver')).toContain(
      'cert-manager.io/signers[issuers.cert-manager.io/*]: approve',
    );
  });

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
        expect(binding.subjects).toEqual([
          { kind: 'ServiceAccount', name: b.metadata?.name, namespace: 'csi-cert-driver' },
        ]);
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
    expect(spec.volumes!.map((v) => v.hostPath?.path)).toEqual([
      'C:\\var\\lib\\kubelet\\plugins\\csi.k8s.cert-driver',
      'C:\\var\\lib\\kubelet\\plugins_registry',
      'C:\\var\\lib\\csi-certs',
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

  it('everything: NetworkPolicies admit the node drivers to the issuer and only monitoring to /metrics', async () => {
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
    for (const suffix of ['-issuer', '-node']) {
      const policy = find<Policy>(objs, 'NetworkPolicy', suffix);
      expect(policy.spec.ingress.find((r) => r.ports.some((p) => p.port === 'metrics'))?.from).toEqual(
        monitoring,
      );
    }
    // Probe ports stay open to kubelet; nothing else is admitted to the node pods.
    expect(
      find<Policy>(objs, 'NetworkPolicy', '-node').spec.ingress.map((r) => r.ports.map((p) => p.port)),
    ).toEqual([['healthz', 'registrar'], ['metrics']]);
  });
});
