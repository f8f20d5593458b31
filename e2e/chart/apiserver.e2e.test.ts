/**
 * The chart against a real kube-apiserver (e2e/kube/control-plane.ts: etcd + kube-apiserver,
 * RBAC on, no kubelet): every rendered object of every value set passes a server-side dry-run with
 * strict field validation; a real `helm install` / `upgrade` / `uninstall` keeps the generated CA
 * and the CertVolumeStatus CRD, whose objects the API server then validates; and the API server's
 * RBAC authorizer grants each service account exactly what it should, before and after an upgrade
 * to cert-manager + SPIFFE mode with the approver and status objects, and after going back.
 * Prometheus Operator kinds are checked against stand-in CRDs (fixtures/), named as such.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthorizationV1Api,
  type V1ConfigMap,
  type V1DaemonSet,
  type V1Deployment,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  HELM,
  KUBECTL,
  CHART_DIR,
  DEFAULT_CSIDRIVER_SPEC,
  NAMESPACE,
  RELEASE,
  helmTemplate,
  parseManifests,
  run,
  toolsMissing,
  valuesFile,
} from './chart.js';
import { APPROVER, EVERYTHING, VALUE_SETS, WINDOWS } from './value-sets.js';
import { controlPlaneMissing, startControlPlane, type ControlPlane } from '../kube/control-plane.js';
import { TestCluster } from '../kube/cluster.js';
import { startIssuerProcess } from '../kube/issuer-process.js';
import { freeLoopbackPort } from '../support/ports.js';
import { CERTIFICATE_REQUEST_CRD } from '../kube/cert-manager-fixtures.js';
import { waitFor } from '../support/wait.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the node's own TLS channel to the issuer, as the chart configures it
import { issuerChannelCredentials } from '../../server/src/issuer-client/issuer-channel.js';

const missing = toolsMissing(HELM, KUBECTL) ?? controlPlaneMissing();

/** cert-manager mode as the pod, SPIFFE mode, the approver for an Issuer in two namespaces, status objects and Events. */
const FEATURES = {
  ...APPROVER.values,
  status: { objects: true, podEvents: true },
};

interface Right {
  as: string;
  verb: string;
  what: string;
  ns: string;
  sub?: string;
  want: 'yes' | 'no';
}

/** What each role may do with FEATURES, as the API server's authorizer answers. */
const FEATURE_RIGHTS: Right[] = [
  // The node: its status objects (never read back), Events, and requests made as itself.
  ...['create', 'patch', 'delete', 'list'].map((verb): Right => ({
    as: 'node',
    verb,
    what: 'certvolumestatuses.csi-cert-driver.io',
    ns: 'apps',
    want: 'yes',
  })),
  ...['create', 'patch'].map((verb): Right => ({
    as: 'node',
    verb,
    what: 'events',
    ns: 'apps',
    want: 'yes',
  })),
  // Requests are made as the pod; the node watches its own and sweeps stale ones.
  ...['list', 'watch', 'delete'].map((verb): Right => ({
    as: 'node',
    verb,
    what: 'certificaterequests.cert-manager.io',
    ns: 'apps',
    want: 'yes',
  })),
  // The approver: the informer, the status subresource, approve on its two signers, its Lease.
  { as: 'approver', verb: 'list', what: 'certificaterequests.cert-manager.io', ns: '', want: 'yes' },
  { as: 'approver', verb: 'watch', what: 'certificaterequests.cert-manager.io', ns: '', want: 'yes' },
  {
    as: 'approver',
    verb: 'update',
    what: 'certificaterequests.cert-manager.io',
    sub: 'status',
    ns: 'apps',
    want: 'yes',
  },
  {
    as: 'approver',
    verb: 'approve',
    what: 'signers.cert-manager.io/issuers.cert-manager.io/apps.spiffe-ca',
    ns: '',
    want: 'yes',
  },
  {
    as: 'approver',
    verb: 'approve',
    what: 'signers.cert-manager.io/issuers.cert-manager.io/shop.spiffe-ca',
    ns: '',
    want: 'yes',
  },
  { as: 'approver', verb: 'create', what: 'events', ns: 'apps', want: 'yes' },
  {
    as: 'approver',
    verb: 'get',
    what: `leases.coordination.k8s.io/${RELEASE}-csi-cert-driver-approver`,
    ns: NAMESPACE,
    want: 'yes',
  },
  {
    as: 'approver',
    verb: 'update',
    what: `leases.coordination.k8s.io/${RELEASE}-csi-cert-driver-approver`,
    ns: NAMESPACE,
    want: 'yes',
  },
];

/** Rights no role gets with FEATURES (checked in the same upgrade). */
const FEATURE_DENIED: Right[] = [
  ...['get', 'watch', 'update'].map((verb): Right => ({
    as: 'node',
    verb,
    what: 'certvolumestatuses.csi-cert-driver.io',
    ns: 'apps',
    want: 'no',
  })),
  ...['create', 'get', 'update'].map((verb): Right => ({
    as: 'node',
    verb,
    what: 'certificaterequests.cert-manager.io',
    ns: 'apps',
    want: 'no',
  })),
  { as: 'node', verb: 'get', what: 'pods', ns: 'apps', want: 'no' },
  { as: 'node', verb: 'get', what: 'secrets', ns: 'apps', want: 'no' },
  { as: 'approver', verb: 'get', what: 'certificaterequests.cert-manager.io', ns: 'apps', want: 'no' },
  { as: 'approver', verb: 'update', what: 'certificaterequests.cert-manager.io', ns: 'apps', want: 'no' },
  {
    as: 'approver',
    verb: 'approve',
    what: 'signers.cert-manager.io/issuers.cert-manager.io/bank.spiffe-ca',
    ns: '',
    want: 'no',
  },
  {
    as: 'approver',
    verb: 'approve',
    what: 'signers.cert-manager.io/clusterissuers.cert-manager.io/spiffe-ca',
    ns: '',
    want: 'no',
  },
  {
    as: 'approver',
    verb: 'approve',
    what: 'signers.cert-manager.io/issuers.cert-manager.io/*',
    ns: '',
    want: 'no',
  },
  { as: 'approver', verb: 'update', what: 'leases.coordination.k8s.io/other', ns: NAMESPACE, want: 'no' },
  { as: 'approver', verb: 'patch', what: 'events', ns: 'apps', want: 'no' },
  { as: 'approver', verb: 'create', what: 'certvolumestatuses.csi-cert-driver.io', ns: 'apps', want: 'no' },
  { as: 'issuer', verb: 'create', what: 'certvolumestatuses.csi-cert-driver.io', ns: 'apps', want: 'no' },
  { as: 'issuer', verb: 'list', what: 'certificaterequests.cert-manager.io', ns: 'apps', want: 'no' },
];

describe.skipIf(missing)('the chart against a real kube-apiserver', () => {
  let cp: ControlPlane;
  const kubectl = (args: string[], input?: string) =>
    run(KUBECTL, args, { input, env: { KUBECONFIG: cp.kubeconfigPath } });
  /** `kubectl auth can-i` as one of the chart's service accounts: 'yes' or 'no'. */
  const canI = async ({ as, verb, what, ns, sub }: Right) => {
    const sa = `system:serviceaccount:${NAMESPACE}:${RELEASE}-csi-cert-driver-${as}`;
    if (verb === 'approve') {
      // A signer name holds a '/', which kubectl cannot pass: ask as cert-manager's webhook does.
      const [resource, ...name] = what.split('/');
      const review = await cp.kubeConfig.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
        body: {
          spec: {
            user: sa,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
            resourceAttributes: {
              group: 'cert-manager.io',
              resource: resource!.replace('.cert-manager.io', ''),
              name: name.join('/'),
              verb,
            },
          },
        },
      });
      return review.status?.allowed ? 'yes' : 'no';
    }
    const r = await kubectl([
      'auth',
      'can-i',
      verb,
      what,
      '--as',
      sa,
      ...(sub ? ['--subresource', sub] : []),
      ...(ns ? ['-n', ns] : ['--all-namespaces']),
    ]);
    return (
      r.stdout.trim() + (r.stdout.trim() === 'yes' || r.stdout.trim() === 'no' ? '' : ` (${r.stderr.trim()})`)
    );
  };
  const helm = (args: string[]) => run(HELM, args, { env: { KUBECONFIG: cp.kubeconfigPath } });
  /** Waits up to a minute for the CRDs named `crds` (`<plural>.<group>`) to be served. */
  const established = async (...crds: string[]) => {
    const r = await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...crds.map((c) => `crd/${c}`),
    ]);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    cp = await startControlPlane({ name: 'chart' });
    const ns = await kubectl(['create', 'namespace', NAMESPACE]);
    expect(ns.code, ns.stderr).toBe(0);
    const crds = await kubectl([
      'apply',
      '-f',
      fileURLToPath(new URL('./fixtures/monitoring-crds.stand-in.yaml', import.meta.url)),
      // cert-manager's CertificateRequest (e2e/kube's test CRD), so can-i resolves the resource.
      '-f',
      CERTIFICATE_REQUEST_CRD,
    ]);
    expect(crds.code, crds.stderr).toBe(0);
    await established(
      'podmonitors.monitoring.coreos.com',
      'servicemonitors.monitoring.coreos.com',
      'certificaterequests.cert-manager.io',
    );
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  });

  it.each(VALUE_SETS)(
    '$name: every object passes server-side dry-run with strict validation',
    async ({ values }) => {
      const r = await helmTemplate(values);
      expect(r.code, r.stderr).toBe(0);
      const objects = (r.stdout.match(/^kind: /gm) ?? []).length;
      const res = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], r.stdout);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect((res.stdout.match(/\(server dry run\)$/gm) ?? []).length).toBe(objects);
    },
  );

  it('the API server keeps every CSIDriver field the chart sets (none dropped by a feature gate)', async () => {
    const r = await helmTemplate(EVERYTHING.values);
    const csidriver = r.stdout.split(/^---$/m).find((d) => /^kind: CSIDriver$/m.test(d))!;
    const res = await kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], csidriver);
    expect(res.code, res.stderr).toBe(0);
    const spec = (JSON.parse(res.stdout) as { spec: Record<string, unknown> }).spec;
    expect(spec).toMatchObject({
      ...DEFAULT_CSIDRIVER_SPEC,
      preventPodSchedulingIfMissing: true,
      tokenRequests: [
        { audience: 'csi.k8s.cert-driver', expirationSeconds: 3600 },
        { audience: '', expirationSeconds: 3600 },
      ],
    });
  });

  it('the server refuses what the schemas miss: a misspelt field and a non-HostProcess Windows container', async () => {
    const r = await helmTemplate(WINDOWS.values);
    const typo = r.stdout.replace('requiresRepublish: true', 'requireRepublish: true');
    const bad = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], typo);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('requireRepublish');
    // A pod-level hostProcess with hostNetwork off is invalid: the API server enforces the pairing.
    const noHostNet = r.stdout.replace('hostNetwork: true', 'hostNetwork: false');
    const bad2 = await kubectl(['apply', '--dry-run=server', '-f', '-'], noHostNet);
    expect(bad2.code).not.toBe(0);
    expect(bad2.stderr).toMatch(/hostNetwork/);
  });

  describe('helm install, upgrade and uninstall for real (objects only: no kubelet runs)', () => {
    /** `helm <verb>` of the release (with the chart, but for uninstall) and `extra`; it must succeed. */
    const release = async (verb: 'install' | 'upgrade' | 'uninstall', ...extra: string[]) => {
      const chart = verb === 'uninstall' ? [] : [CHART_DIR];
      const r = await helm([verb, RELEASE, ...chart, '--namespace', NAMESPACE, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    /** One field of `object` (kubectl get's arguments), read with a jsonpath. */
    const jsonpath = (object: string[], path: string) =>
      kubectl(['get', ...object, '-o', `jsonpath=${path}`]);
    const caOf = async () => {
      const r = await jsonpath(
        ['-n', NAMESPACE, 'secret', `${RELEASE}-csi-cert-driver-ca`],
        '{.data.tls\\.crt}',
      );
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    /** Whether the node DaemonSet's pods get a service-account token. */
    const nodeToken = async () =>
      (
        await jsonpath(
          ['ds', '-n', NAMESPACE, `${RELEASE}-csi-cert-driver-node`],
          '{.spec.template.spec.automountServiceAccountToken}',
        )
      ).stdout;
    let firstCa = '';

    it('installs, and the CA generated on install is a CA', async () => {
      const r = await release('install');
      expect(r.stdout).toContain('kubectl get csidriver csi.k8s.cert-driver');
      firstCa = await caOf();
      expect(Buffer.from(firstCa, 'base64').toString()).toContain('BEGIN CERTIFICATE');
      const drv = await jsonpath(['csidriver', 'csi.k8s.cert-driver'], '{.spec.tokenRequests[0].audience}');
      expect(drv.stdout).toBe('csi.k8s.cert-driver');
    });

    it('an upgrade keeps the CA (looked up, not regenerated)', async () => {
      await release('upgrade', '--set', 'issuer.replicas=3');
      expect(await caOf()).toBe(firstCa);
    });

    it('the issuer runs with the chart’s settings and only the chart’s RBAC, and serves the chart’s CA', async () => {
      // The env of the rendered issuer container, as the pod would get it; the process talks to the
      // API server with a token of the chart's issuer service account (in-cluster config stand-in).
      const objs = parseManifests((await helmTemplate({})).stdout);
      const dep = objs.find(
        (o) => o.kind === 'Deployment' && o.metadata?.name === `${RELEASE}-csi-cert-driver-issuer`,
      ) as V1Deployment;
      const node = objs.find(
        (o) => o.kind === 'DaemonSet' && o.metadata?.name === `${RELEASE}-csi-cert-driver-node`,
      ) as V1DaemonSet;
      const env: Record<string, string> = {};
      for (const e of dep.spec!.template.spec!.containers[0]!.env ?? [])
        if (e.value !== undefined) env[e.name] = e.value;
      delete env.LISTEN_ADDR; // a free loopback port instead of 0.0.0.0:50051
      // The pod's emptyDir stands in for a directory of this test (never the host's /var/lib).
      expect(env.CA_STATE_DIR).toBe('/var/lib/csi-cert-driver/ca-state');
      env.CA_STATE_DIR = join(cp.dir, 'ca-state');
      env.METRICS_LISTEN_ADDR = `127.0.0.1:${await freeLoopbackPort()}`;
      // The chart's serving certificate and transport CA, as the pods mount them, in this test's
      // directory; the client is the node's own TLS channel with the node's server name.
      const serving = objs.find(
        (o) => o.metadata?.name === `${RELEASE}-csi-cert-driver-issuer-tls`,
      ) as V1Secret;
      const caMap = objs.find(
        (o) => o.metadata?.name === `${RELEASE}-csi-cert-driver-issuer-tls-ca`,
      ) as V1ConfigMap;
      const tlsDir = join(cp.dir, 'issuer-tls');
      mkdirSync(tlsDir, { recursive: true });
      for (const k of ['tls.crt', 'tls.key'])
        writeFileSync(join(tlsDir, k), Buffer.from(serving.data![k]!, 'base64'), { mode: 0o600 });
      writeFileSync(join(tlsDir, 'ca.crt'), caMap.data!['ca.crt']!);
      expect(env.LISTEN_TLS_CERT_FILE).toBe('/etc/csi-cert-driver/issuer-tls/tls.crt');
      env.LISTEN_TLS_CERT_FILE = join(tlsDir, 'tls.crt');
      env.LISTEN_TLS_KEY_FILE = join(tlsDir, 'tls.key');
      const nodeEnv = Object.fromEntries(
        (node.spec!.template.spec!.containers.find((c) => c.name === 'driver')!.env ?? []).map((e) => [
          e.name,
          e.value,
        ]),
      );
      const cluster = new TestCluster(cp);
      const token = await cluster.serviceAccountToken(NAMESPACE, `${RELEASE}-csi-cert-driver-issuer`);
      const { path } = cp.kubeconfigFor('chart-issuer', token);
      const issuer = await startIssuerProcess({
        suite: 'chart',
        name: 'issuer-with-chart-settings',
        cwd: cp.dir,
        settings: { ...env, KUBECONFIG: path },
        credentials: issuerChannelCredentials({
          caFile: join(tlsDir, 'ca.crt'),
          serverName: nodeEnv.ISSUER_TLS_SERVER_NAME,
        }),
      });
      try {
        const bundle = await issuer.client.caBundle();
        expect(bundle).toContain(Buffer.from(firstCa, 'base64').toString().trim());
        expect(issuer.proc.tail(200)).not.toMatch(/forbidden/i);
        // The rotation state (certificates only) lands in CA_STATE_DIR.
        const record = await waitFor('the CA rotation record', async () => {
          const file = join(env.CA_STATE_DIR!, 'ca-rotation.json');
          return existsSync(file)
            ? (JSON.parse(readFileSync(file, 'utf8')) as { active: { bundle: string } })
            : undefined;
        });
        expect(record.active.bundle).toContain(Buffer.from(firstCa, 'base64').toString().trim());
        expect(JSON.stringify(record)).not.toContain('PRIVATE KEY');
      } finally {
        await issuer.stop();
      }
    });

    it.each([
      // The issuer: TokenReview, pods, and only its own CA Secret.
      { as: 'issuer', verb: 'create', what: 'tokenreviews.authentication.k8s.io', ns: '', want: 'yes' },
      { as: 'issuer', verb: 'get', what: 'pods', ns: 'default', want: 'yes' },
      { as: 'issuer', verb: 'list', what: 'pods', ns: 'default', want: 'no' },
      { as: 'issuer', verb: 'get', what: `secret/${RELEASE}-csi-cert-driver-ca`, ns: NAMESPACE, want: 'yes' },
      {
        as: 'issuer',
        verb: 'watch',
        what: `secret/${RELEASE}-csi-cert-driver-ca`,
        ns: NAMESPACE,
        want: 'yes',
      },
      {
        as: 'issuer',
        verb: 'update',
        what: `secret/${RELEASE}-csi-cert-driver-ca`,
        ns: NAMESPACE,
        want: 'no',
      },
      { as: 'issuer', verb: 'get', what: 'secret/other', ns: NAMESPACE, want: 'no' },
      { as: 'issuer', verb: 'list', what: 'secrets', ns: NAMESPACE, want: 'no' },
      { as: 'issuer', verb: 'get', what: `secret/${RELEASE}-csi-cert-driver-ca`, ns: 'default', want: 'no' },
      // The node driver needs no API access with the built-in issuer.
      { as: 'node', verb: 'get', what: 'pods', ns: 'default', want: 'no' },
      { as: 'node', verb: 'get', what: 'secrets', ns: NAMESPACE, want: 'no' },
      { as: 'node', verb: 'create', what: 'certificaterequests.cert-manager.io', ns: 'default', want: 'no' },
      { as: 'node', verb: 'create', what: 'events', ns: 'default', want: 'no' },
      { as: 'node', verb: 'list', what: 'certvolumestatuses.csi-cert-driver.io', ns: '', want: 'no' },
    ])('RBAC: $as may $verb $what in "$ns": $want', async (row) => {
      expect(await canI(row as Right)).toBe(row.want);
    });

    it('the chart’s CRD serves CertVolumeStatus: a valid object passes a server-side dry-run, invalid ones are refused', async () => {
      await established('certvolumestatuses.csi-cert-driver.io');
      const example = (status: Record<string, unknown>) =>
        JSON.stringify({
          apiVersion: 'csi-cert-driver.io/v1alpha1',
          kind: 'CertVolumeStatus',
          metadata: {
            name: 'web-1-tls',
            namespace: 'default',
            labels: { 'csi-cert-driver.io/node': 'node-a' },
          },
          status: {
            node: 'node-a',
            pod: { name: 'web-1', uid: '0b6d3c1e-0000-4000-8000-000000000001', serviceAccount: 'web' },
            volumeId: 'csi-0123456789abcdef',
            issuer: { type: 'BuiltIn' },
            serialNumber: '0a1b2c',
            notBefore: '2026-01-01T00:00:00Z',
            notAfter: '2026-01-02T00:00:00Z',
            nextRenewal: '2026-01-01T16:00:00Z',
            lastRenewal: { time: '2026-01-01T00:00:00Z', kind: 'Issue', outcome: 'Success' },
            consecutiveFailures: 0,
            conditions: [
              { type: 'Ready', status: 'True', reason: 'Issued', lastTransitionTime: '2026-01-01T00:00:00Z' },
            ],
            ...status,
          },
        });
      const ok = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], example({}));
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toContain('certvolumestatus.csi-cert-driver.io/web-1-tls created (server dry run)');
      for (const [bad, field] of [
        [{ issuer: { type: 'Vault' } }, 'status.issuer.type'],
        [{ serialNumber: 'XYZ' }, 'status.serialNumber'],
        [
          { lastRenewal: { time: '2026-01-01T00:00:00Z', kind: 'Issue', outcome: 'Maybe' } },
          'status.lastRenewal.outcome',
        ],
        [{ node: undefined }, 'status.node'],
      ] as const) {
        const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], example(bad));
        expect(r.code, JSON.stringify(bad)).not.toBe(0);
        expect(r.stderr).toContain(field);
      }
      // The short name and the printer columns come from the chart's CRD.
      const get = await kubectl(['get', 'cvs', '-A']);
      expect(get.code, get.stderr).toBe(0);
      const cols = await jsonpath(
        ['crd', 'certvolumestatuses.csi-cert-driver.io'],
        '{.spec.versions[0].additionalPrinterColumns[*].name}',
      );
      expect(cols.stdout).toBe('Pod Node Serial Expires Next Renewal Last Result Age');
    });

    it('an upgrade to cert-manager + SPIFFE mode, the approver and status objects grants each role exactly its new rights', async () => {
      const r = await release('upgrade', '-f', valuesFile('upgrade-features', FEATURES));
      expect(r.stdout).toContain('kubectl get cvs -A');
      for (const row of [...FEATURE_RIGHTS, ...FEATURE_DENIED]) {
        expect(await canI(row), JSON.stringify(row)).toBe(row.want);
      }
      expect(await nodeToken()).toBe('true');
    });

    it('back to the defaults: the node loses every right and its token again', async () => {
      await release('upgrade', '--reset-values');
      for (const row of FEATURE_RIGHTS.filter((x) => x.as === 'node' || x.as === 'approver')) {
        expect(await canI(row), JSON.stringify(row)).toBe('no');
      }
      expect(await nodeToken()).toBe('false');
    });

    it('uninstall removes the release but keeps the CA and the CRD (helm.sh/resource-policy: keep)', async () => {
      await release('uninstall');
      const drv = await kubectl(['get', 'csidriver', 'csi.k8s.cert-driver']);
      expect(drv.code).not.toBe(0);
      expect(await caOf()).toBe(firstCa);
      const crd = await kubectl(['get', 'crd', 'certvolumestatuses.csi-cert-driver.io']);
      expect(crd.code, crd.stderr).toBe(0);
    });

    it('a reinstall adopts the kept CA', async () => {
      await release('install');
      expect(await caOf()).toBe(firstCa);
    });
  });
});
