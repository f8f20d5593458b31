/**
 * The chart with the real tools: `helm lint --strict` and `helm template` for every value set, the
 * values schema refusing typos, and kubeconform (strict) validating every rendered object against
 * schemas made from Kubernetes' own OpenAPI document.
 */
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  HELM,
  KUBECONFORM,
  KUBE_VERSION,
  NAMESPACE,
  RELEASE,
  find,
  helmTemplate,
  kindsOf,
  parseManifests,
  render,
  run,
  toolsMissing,
  valuesFile,
} from './chart.js';
import { kubernetesSwaggerPath, writeKubeconformSchemas } from './kube-schemas.js';
import { DEFAULTS, SIDECARS, VALUE_SETS, WINDOWS } from './value-sets.js';

const helmMissing = toolsMissing(HELM);

describe.skipIf(helmMissing)('helm lint and helm template', () => {
  it.each(VALUE_SETS)('$name: helm lint --strict passes', async ({ name, values }) => {
    const r = await run(HELM, [
      'lint',
      CHART_DIR,
      '--strict',
      '--namespace',
      NAMESPACE,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      valuesFile(`lint-${name}`, values),
    ]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it.each(VALUE_SETS)(
    '$name: renders, every object in the release namespace or cluster-scoped',
    async ({ values }) => {
      const objs = await render(values);
      expect(objs.length).toBeGreaterThan(5);
      const clusterScoped = new Set([
        'CSIDriver',
        'ClusterRole',
        'ClusterRoleBinding',
        'CustomResourceDefinition',
      ]);
      for (const o of objs) {
        expect(o.metadata?.name, `${o.kind} has a name`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        expect(o.metadata?.namespace, `${o.kind}/${o.metadata?.name}`).toBe(
          clusterScoped.has(o.kind ?? '') ? undefined : NAMESPACE,
        );
        expect(o.metadata?.labels?.['app.kubernetes.io/instance']).toBe(RELEASE);
      }
    },
  );

  it('defaults render exactly the base objects', async () => {
    expect(kindsOf(await render(DEFAULTS.values))).toEqual([
      'CSIDriver/csi.k8s.cert-driver',
      'ClusterRole/certs-csi-cert-driver-certvolumestatuses-view',
      'ClusterRole/certs-csi-cert-driver-issuer',
      'ClusterRoleBinding/certs-csi-cert-driver-issuer',
      'ConfigMap/certs-csi-cert-driver-issuer-tls-ca',
      'CustomResourceDefinition/certvolumestatuses.csi-cert-driver.io',
      'DaemonSet/certs-csi-cert-driver-node',
      'Deployment/certs-csi-cert-driver-issuer',
      'PodDisruptionBudget/certs-csi-cert-driver-issuer',
      'Role/certs-csi-cert-driver-issuer',
      'RoleBinding/certs-csi-cert-driver-issuer',
      'Secret/certs-csi-cert-driver-ca',
      'Secret/certs-csi-cert-driver-issuer-tls',
      'Secret/certs-csi-cert-driver-transport-ca',
      'Service/certs-csi-cert-driver-issuer',
      'ServiceAccount/certs-csi-cert-driver-issuer',
      'ServiceAccount/certs-csi-cert-driver-node',
    ]);
  });

  it('node.registration=sidecars changes the node DaemonSet only, and keeps the image set of before', async () => {
    const base = await render(DEFAULTS.values);
    const sidecars = await render(SIDECARS.values);
    expect(kindsOf(sidecars)).toEqual(kindsOf(base));
    const images = (objs: typeof base) =>
      find<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
        objs,
        'DaemonSet',
        '-node',
      ).spec.template.spec.containers.map((c) => c.image.replace(/:.*$/, ''));
    expect(images(base)).toEqual(['ghcr.io/csi-cert-driver/csi-cert-driver']);
    expect(images(sidecars)).toEqual([
      'ghcr.io/csi-cert-driver/csi-cert-driver',
      'registry.k8s.io/sig-storage/csi-node-driver-registrar',
      'registry.k8s.io/sig-storage/livenessprobe',
    ]);
  });

  it('windows.enabled adds the Windows DaemonSet and nothing else', async () => {
    const base = kindsOf(await render(DEFAULTS.values));
    const win = kindsOf(await render(WINDOWS.values));
    expect(win.filter((k) => !base.includes(k))).toEqual(['DaemonSet/certs-csi-cert-driver-node-windows']);
  });

  it.each([
    {
      name: 'a misspelt key',
      set: 'node.kubletRootDir=/x',
      want: "additional properties 'kubletRootDir' not allowed",
    },
    {
      name: 'an unknown top-level key',
      set: 'issuers.replicas=3',
      want: "additional properties 'issuers' not allowed",
    },
    { name: 'a wrong type', set: 'issuer.replicas=two', want: '/issuer/replicas' },
    { name: 'a value outside the enum', set: 'issuer.auth=anonymous', want: '/issuer/auth' },
    { name: 'an unknown registration mode', set: 'node.registration=both', want: '/node/registration' },
    {
      name: 'a relative kubelet dir',
      set: 'node.kubeletRootDir=var/lib/kubelet',
      want: '/node/kubeletRootDir',
    },
    {
      name: 'a Linux path for Windows',
      set: 'windows.kubeletRootDir=/var/lib/kubelet',
      want: '/windows/kubeletRootDir',
    },
    {
      name: 'a tmpfs size tmpfs cannot spell',
      set: 'node.stateTmpfs.size=64M',
      want: '/node/stateTmpfs/size',
    },
    { name: 'a bad duration', set: 'issuer.maxDuration=30days', want: '/issuer/maxDuration' },
    {
      name: 'a short token lifetime',
      set: 'csiDriver.tokenExpirationSeconds=60',
      want: 'tokenExpirationSeconds',
    },
    {
      name: 'a misspelt status key',
      set: 'status.podEvent=true',
      want: "additional properties 'podEvent' not allowed",
    },
    { name: 'a status rate of 0', set: 'status.qps=0', want: '/status/qps' },
    {
      name: 'an unknown request identity',
      set: 'certManager.requestIdentity=node',
      want: '/certManager/requestIdentity',
    },
    { name: 'a cert-manager timeout in days', set: 'certManager.timeout=1d', want: '/certManager/timeout' },
    { name: 'an RSA SVID key size', set: 'spiffe.keySize=2048', want: '/spiffe/keySize' },
    {
      name: 'an upper-case trust domain',
      set: 'spiffe.trustDomain=Example.org',
      want: '/spiffe/trustDomain',
    },
    {
      name: 'a key shape the approver cannot parse',
      set: 'approver.allowedKeys=ecdsa256',
      want: '/approver/allowedKeys',
    },
    {
      name: 'a namespace that is not a DNS label',
      set: 'approver.issuerRef.namespaces={Apps}',
      want: '/approver/issuerRef/namespaces',
    },
    {
      name: 'a misspelt CRD key',
      set: 'crds.instal=true',
      want: "additional properties 'instal' not allowed",
    },
    {
      name: 'a misspelt issuer caState key',
      set: 'issuer.caState.enable=false',
      want: "additional properties 'enable' not allowed",
    },
  ])('$name fails helm template and helm install', async ({ set, want }) => {
    const tpl = await helmTemplate({}, ['--set', set]);
    expect(tpl.code).not.toBe(0);
    expect(tpl.stderr).toContain(want);
    const install = await run(HELM, ['install', RELEASE, CHART_DIR, '--dry-run=client', '--set', set]);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain(want);
  });

  it.each([
    {
      name: 'approver without cert-manager',
      values: { approver: { enabled: true, issuerRef: { name: 'x' } } },
      want: 'approver.enabled needs certManager.enabled',
    },
    {
      name: 'approver without SPIFFE mode',
      values: { certManager: { enabled: true }, approver: { enabled: true, issuerRef: { name: 'x' } } },
      want: 'approver.enabled needs spiffe.enabled',
    },
    {
      name: 'approver with requests made as the driver',
      values: {
        certManager: { enabled: true, requestIdentity: 'driver' },
        spiffe: { enabled: true },
        approver: { enabled: true, issuerRef: { name: 'x' } },
      },
      want: 'approver.enabled needs certManager.requestIdentity=pod',
    },
    {
      name: 'approver without an issuer',
      values: { certManager: { enabled: true }, spiffe: { enabled: true }, approver: { enabled: true } },
      want: 'approver.issuerRef.name is required',
    },
    {
      name: 'namespaces for a ClusterIssuer',
      values: {
        certManager: { enabled: true },
        spiffe: { enabled: true },
        approver: { enabled: true, issuerRef: { name: 'x', namespaces: ['apps'] } },
      },
      want: 'namespaces applies to kind Issuer only',
    },
    {
      name: 'the pod API token audience equal to the issuer audience',
      values: { certManager: { enabled: true, tokenAudience: 'csi.k8s.cert-driver' } },
      want: 'certManager.tokenAudience must differ',
    },
    {
      name: 'no issuer and no address',
      values: { issuer: { enabled: false } },
      want: 'needs node.issuerAddress',
    },
  ])('$name fails rendering with a message', async ({ values, want }) => {
    const r = await helmTemplate(values);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(want);
  });

  it('the generated CA is a CA certificate with its key', async () => {
    const secret = (await render({})).find((o) => o.kind === 'Secret') as unknown as {
      type: string;
      data: Record<string, string>;
    };
    expect(secret.type).toBe('kubernetes.io/tls');
    const crt = Buffer.from(secret.data['tls.crt']!, 'base64').toString();
    const key = Buffer.from(secret.data['tls.key']!, 'base64').toString();
    const { X509Certificate, createPrivateKey } = await import('node:crypto');
    const x509 = new X509Certificate(crt);
    expect(x509.ca).toBe(true);
    expect(x509.subject).toContain('CN=csi-cert-driver CA');
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
  });
});

const kubeconformMissing =
  toolsMissing(HELM, KUBECONFORM) ??
  (kubernetesSwaggerPath()
    ? undefined
    : `k8s.io/kubernetes@v${KUBE_VERSION} swagger.json not in Go's module cache: run scripts/install-kube.sh`);

describe.skipIf(kubeconformMissing)(
  'kubeconform (strict) against Kubernetes v' + KUBE_VERSION + ' schemas',
  () => {
    // Prometheus Operator kinds have no schema here (their CRDs are not in Kubernetes' OpenAPI
    // document); the server-side dry-run checks them against stand-in CRDs.
    const SKIP = ['monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/ServiceMonitor'];

    it.each(VALUE_SETS)('$name: every rendered object is valid', async ({ values }) => {
      const r = await helmTemplate(values);
      expect(r.code, r.stderr).toBe(0);
      const objs = parseManifests(r.stdout);
      const kinds = new Set(objs.map((o) => `${o.apiVersion}/${o.kind}`));
      const location = writeKubeconformSchemas(kubernetesSwaggerPath()!, kinds);
      const res = await run(
        KUBECONFORM,
        [
          '-strict',
          '-summary',
          '-output',
          'json',
          '-schema-location',
          location,
          '-skip',
          SKIP.join(','),
          '-',
        ],
        { input: r.stdout },
      );
      const report = JSON.parse(res.stdout) as {
        resources: { kind: string; name: string; status: string; msg: string }[];
        summary: { valid: number; invalid: number; errors: number; skipped: number };
      };
      expect(
        report.resources.filter((x) => x.status !== 'statusValid' && x.status !== 'statusSkipped'),
      ).toEqual([]);
      const skippable = objs.filter((o) => SKIP.includes(`${o.apiVersion}/${o.kind}`)).length;
      expect(report.summary).toMatchObject({ invalid: 0, errors: 0, valid: objs.length - skippable });
      expect(res.code).toBe(0);
    });

    it('kubeconform catches a misspelt field (the schemas are strict)', async () => {
      const r = await helmTemplate({});
      const broken = r.stdout.replace('mountPropagation: Bidirectional', 'mountPropogation: Bidirectional');
      expect(broken).not.toBe(r.stdout);
      const location = writeKubeconformSchemas(kubernetesSwaggerPath()!, ['apps/v1/DaemonSet']);
      const res = await run(
        KUBECONFORM,
        [
          '-strict',
          '-schema-location',
          location,
          '-skip',
          'CSIDriver,ClusterRole,ClusterRoleBinding,CustomResourceDefinition,Deployment,PodDisruptionBudget,Role,RoleBinding,Secret,Service,ServiceAccount',
          '-',
        ],
        {
          input: broken,
        },
      );
      expect(res.code).not.toBe(0);
      expect(res.stdout).toContain('mountPropogation');
    });
  },
);
