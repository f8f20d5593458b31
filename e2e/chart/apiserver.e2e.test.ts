/**
 * The chart against a real kube-apiserver (e2e/kube/control-plane.ts: etcd + kube-apiserver,
 * RBAC on, no kubelet): every rendered object of every value set passes a server-side dry-run with
 * strict field validation; a real `helm install` / `upgrade` / `uninstall` keeps the generated CA;
 * and the API server's RBAC authorizer grants each service account exactly what it should.
 * Prometheus Operator kinds are checked against stand-in CRDs (fixtures/), named as such.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  HELM,
  KUBECTL,
  CHART_DIR,
  NAMESPACE,
  RELEASE,
  helmTemplate,
  parseManifests,
  run,
  toolsMissing,
} from './chart.js';
import { EVERYTHING, VALUE_SETS, WINDOWS } from './value-sets.js';
import { controlPlaneMissing, startControlPlane, type ControlPlane } from '../kube/control-plane.js';
import { TestCluster } from '../kube/cluster.js';
import { freeLoopbackPort, startIssuerProcess } from '../kube/issuer-process.js';

const missing = toolsMissing(HELM, KUBECTL) ?? controlPlaneMissing();

describe.skipIf(missing)('the chart against a real kube-apiserver', () => {
  let cp: ControlPlane;
  const kubectl = (args: string[], input?: string) =>
    run(KUBECTL, args, { input, env: { KUBECONFIG: cp.kubeconfigPath } });
  const helm = (args: string[]) => run(HELM, args, { env: { KUBECONFIG: cp.kubeconfigPath } });

  beforeAll(async () => {
    cp = await startControlPlane({ name: 'chart' });
    const ns = await kubectl(['create', 'namespace', NAMESPACE]);
    expect(ns.code, ns.stderr).toBe(0);
    const crds = await kubectl([
      'apply',
      '-f',
      fileURLToPath(new URL('./fixtures/monitoring-crds.stand-in.yaml', import.meta.url)),
    ]);
    expect(crds.code, crds.stderr).toBe(0);
    const est = await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/podmonitors.monitoring.coreos.com',
      'crd/servicemonitors.monitoring.coreos.com',
    ]);
    expect(est.code, est.stderr).toBe(0);
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
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Ephemeral'],
      fsGroupPolicy: 'File',
      requiresRepublish: true,
      serviceAccountTokenInSecrets: false,
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
    const caOf = async () => {
      const r = await kubectl([
        '-n',
        NAMESPACE,
        'get',
        'secret',
        `${RELEASE}-csi-cert-driver-ca`,
        '-o',
        'jsonpath={.data.tls\\.crt}',
      ]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    let firstCa = '';

    it('installs, and the CA generated on install is a CA', async () => {
      const r = await helm(['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('kubectl get csidriver csi.k8s.cert-driver');
      firstCa = await caOf();
      expect(Buffer.from(firstCa, 'base64').toString()).toContain('BEGIN CERTIFICATE');
      const drv = await kubectl([
        'get',
        'csidriver',
        'csi.k8s.cert-driver',
        '-o',
        'jsonpath={.spec.tokenRequests[0].audience}',
      ]);
      expect(drv.stdout).toBe('csi.k8s.cert-driver');
    });

    it('an upgrade keeps the CA (looked up, not regenerated)', async () => {
      const r = await helm([
        'upgrade',
        RELEASE,
        CHART_DIR,
        '--namespace',
        NAMESPACE,
        '--set',
        'issuer.replicas=3',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(await caOf()).toBe(firstCa);
    });

    it('the issuer runs with the chart’s settings and only the chart’s RBAC, and serves the chart’s CA', async () => {
      // The env of the rendered issuer container, as the pod would get it; the process talks to the
      // API server with a token of the chart's issuer service account (in-cluster config stand-in).
      const dep = parseManifests((await helmTemplate({})).stdout).find(
        (o) => o.kind === 'Deployment' && o.metadata?.name === `${RELEASE}-csi-cert-driver-issuer`,
      ) as V1Deployment;
      const env: Record<string, string> = {};
      for (const e of dep.spec!.template.spec!.containers[0]!.env ?? [])
        if (e.value !== undefined) env[e.name] = e.value;
      delete env.LISTEN_ADDR; // a free loopback port instead of 0.0.0.0:50051
      env.METRICS_LISTEN_ADDR = `127.0.0.1:${await freeLoopbackPort()}`;
      const cluster = new TestCluster(cp);
      const token = await cluster.serviceAccountToken(NAMESPACE, `${RELEASE}-csi-cert-driver-issuer`);
      const { path } = cp.kubeconfigFor('chart-issuer', token);
      const issuer = await startIssuerProcess({
        suite: 'chart',
        name: 'issuer-with-chart-settings',
        cwd: cp.dir,
        settings: { ...env, KUBECONFIG: path },
      });
      try {
        const bundle = await issuer.client.caBundle();
        expect(bundle).toContain(Buffer.from(firstCa, 'base64').toString().trim());
        expect(issuer.proc.tail(200)).not.toMatch(/forbidden/i);
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
    ])('RBAC: $as may $verb $what in "$ns": $want', async ({ as, verb, what, ns, want }) => {
      const sa = `system:serviceaccount:${NAMESPACE}:${RELEASE}-csi-cert-driver-${as}`;
      const r = await kubectl([
        'auth',
        'can-i',
        verb,
        what,
        '--as',
        sa,
        ...(ns ? ['-n', ns] : ['--all-namespaces']),
      ]);
      expect(r.stdout.trim()).toBe(want);
    });

    it('uninstall removes the release but keeps the CA (helm.sh/resource-policy: keep)', async () => {
      const r = await helm(['uninstall', RELEASE, '--namespace', NAMESPACE]);
      expect(r.code, r.stderr).toBe(0);
      const drv = await kubectl(['get', 'csidriver', 'csi.k8s.cert-driver']);
      expect(drv.code).not.toBe(0);
      expect(await caOf()).toBe(firstCa);
    });

    it('a reinstall adopts the kept CA', async () => {
      const r = await helm(['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE]);
      expect(r.code, r.stderr).toBe(0);
      expect(await caOf()).toBe(firstCa);
    });
  });
});
