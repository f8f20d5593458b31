/**
 * The approver role against a real kube-apiserver: the CertificateRequest CRD and the requester
 * policy that plays cert-manager's webhook (spec.username = the authenticated creator), real
 * `bin/csi-cert-driver approver` processes running as the ServiceAccount of deploy/rbac/approver.yaml
 * (a missing permission fails the suite), requests created by service accounts with their own
 * tokens. One row per rule: the request must end Approved, or Denied with a message naming the
 * rule, and carry an Event. Requests for other issuers and decided ones are left alone. Two
 * replicas: only the Lease holder decides; killing it hands the Lease (and the decisions) over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo.js';
import { sleep, waitFor } from '../support/wait.js';
import { TestCluster } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { installCertManagerFixtures } from './cert-manager-fixtures.js';
import {
  CrClient,
  eventsOf,
  readLease,
  startApprover,
  waitForDecision,
  type ApproverProcess,
} from './approver-process.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the rule table is shared with the unit tests
import {
  RULE_CASE_CONTEXT,
  RULE_CASES,
  requesterUsername,
  ruleCaseSpec,
  testCsr,
} from '../../server/src/approver/testing.js';
import { NS } from './names.js';

const SUITE = 'kube-approver';
const LEASE = 'csi-cert-driver-approver';
const ISSUER = { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' };
const CTX = RULE_CASE_CONTEXT;

let cp: ControlPlane;
let cluster: TestCluster;
let tmp: string;
let admin: CrClient;
const as: Record<'self' | 'other-namespace' | 'not-a-service-account', CrClient> = {} as never;
let approverKubeconfig: string;
const approvers: ApproverProcess[] = [];
let serial = 0;

function settings(): Record<string, string> {
  return {
    KUBECONFIG: approverKubeconfig,
    ISSUER_NAME: ISSUER.name,
    ISSUER_KIND: ISSUER.kind,
    ISSUER_GROUP: ISSUER.group,
    TRUST_DOMAIN: CTX.trustDomain,
    CERTIFICATE_DURATION: '1h',
    ALLOWED_KEYS: 'ECDSA-256,ECDSA-384',
    LEADER_ELECTION_NAMESPACE: NS,
    LEADER_ELECTION_LEASE_NAME: LEASE,
    LEADER_ELECTION_LEASE_DURATION: '3s',
    LEADER_ELECTION_RENEW_DEADLINE: '2s',
    LEADER_ELECTION_RETRY_PERIOD: '500ms',
  };
}

async function roleFor(namespace: string, subjects: { namespace: string; name: string }[]): Promise<void> {
  await cluster.objects.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'request-certificates', namespace },
    rules: [{ apiGroups: ['cert-manager.io'], resources: ['certificaterequests'], verbs: ['create', 'get'] }],
  } as never);
  await cluster.objects.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'request-certificates', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'request-certificates' },
    subjects: subjects.map((s) => ({ kind: 'ServiceAccount', ...s })),
  } as never);
}

async function clientAs(namespace: string, name: string): Promise<CrClient> {
  const token = await cluster.serviceAccountToken(namespace, name);
  return new CrClient(cp.kubeconfigFor(`${namespace}-${name}`, token).kubeConfig);
}

/** A correct request of shop/web for `issuerRef`, created as web. */
async function goodRequest(issuerRef = ISSUER): Promise<string> {
  const name = `cr-${++serial}`;
  const spec = await ruleCaseSpec(RULE_CASES[0]!, CTX, '1h');
  await as.self.create(CTX.namespace, name, {
    ...spec,
    issuerRef,
  });
  return name;
}

async function holder(kc: KubeConfig): Promise<string> {
  return (await readLease(kc, NS, LEASE))?.spec?.holderIdentity ?? '';
}

function decisionsLogged(a: ApproverProcess): string[] {
  return a.proc
    .logLines()
    .filter((l) => l.msg === 'approved CertificateRequest' || l.msg === 'denied CertificateRequest')
    .map((l) => String(l.certificateRequest));
}

beforeAll(async () => {
  tmp = mkdtempSync('/tmp/kube-approver-');
  cp = await startControlPlane({ name: SUITE });
  cluster = new TestCluster(cp);
  for (const ns of [NS, CTX.namespace, CTX.otherNamespace]) await cluster.namespace(ns);
  await installCertManagerFixtures(cluster);
  await cluster.apply(join(REPO_ROOT, 'deploy', 'rbac', 'approver.yaml'));
  await cluster.serviceAccount(CTX.namespace, CTX.serviceAccount);
  await cluster.serviceAccount(CTX.otherNamespace, CTX.otherServiceAccount);
  await roleFor(CTX.namespace, [
    { namespace: CTX.namespace, name: CTX.serviceAccount },
    { namespace: CTX.otherNamespace, name: CTX.otherServiceAccount },
  ]);
  admin = new CrClient(cp.kubeConfig);
  as.self = await clientAs(CTX.namespace, CTX.serviceAccount);
  as['other-namespace'] = await clientAs(CTX.otherNamespace, CTX.otherServiceAccount);
  as['not-a-service-account'] = admin;
  const token = await cluster.serviceAccountToken(NS, 'csi-cert-driver-approver');
  approverKubeconfig = cp.kubeconfigFor('approver', token).path;
  approvers.push(
    await startApprover({ suite: SUITE, podName: 'approver-a', cwd: tmp, settings: settings() }),
  );
  await waitFor('approver-a to hold the Lease', async () =>
    (await holder(cp.kubeConfig)).startsWith('approver-a_') ? true : undefined,
  );
}, 180_000);

afterAll(async () => {
  for (const a of approvers) await a.proc.kill('SIGKILL');
  await cp?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('approver: one request per rule', () => {
  it.each(RULE_CASES.map((rc) => ({ ...rc })))('$name → $want', async (rc) => {
    const name = `rule-${++serial}`;
    const spec = await ruleCaseSpec(rc, CTX, '1h');
    await as[rc.requester ?? 'self'].create(CTX.namespace, name, {
      ...spec,
      issuerRef: ISSUER,
    });
    // spec.username comes from whoever created the request, never from the client.
    const created = await admin.get(CTX.namespace, name);
    expect(created.spec.username).toBe(
      rc.requester === 'not-a-service-account' ? 'admin' : requesterUsername(rc, CTX),
    );
    const decision = await waitForDecision(admin, CTX.namespace, name);
    if (rc.want === 'approve') {
      expect(decision).toMatchObject({ type: 'Approved', status: 'True', reason: 'csi.k8s.cert-driver' });
      expect(decision.message).toContain(`spiffe://example.org/ns/shop/sa/web`);
    } else {
      expect(decision).toMatchObject({ type: 'Denied', status: 'True', reason: 'csi.k8s.cert-driver' });
      expect(decision.message).toMatch(new RegExp(`^Denied by rule ${rc.want}: `));
    }
    const cr = await admin.get(CTX.namespace, name);
    expect(cr.status?.conditions?.filter((c) => c.type === 'Approved' || c.type === 'Denied')).toHaveLength(
      1,
    );
    const events = await waitFor('the decision Event', async () => {
      const list = await eventsOf(cp.kubeConfig, CTX.namespace, name);
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]).toMatchObject({
      reason: rc.want === 'approve' ? 'Approved' : 'Denied',
      type: rc.want === 'approve' ? 'Normal' : 'Warning',
      message: decision.message,
    });
  });
});

describe('approver: what it leaves alone', () => {
  it.each([
    { name: 'another ClusterIssuer', ref: { ...ISSUER, name: 'other-ca' } },
    { name: 'an Issuer of the same name', ref: { ...ISSUER, kind: 'Issuer' } },
    { name: 'another issuer group', ref: { ...ISSUER, group: 'vault.example.org' } },
  ])('does not touch a request for $name', async ({ ref }) => {
    const other = await goodRequest(ref);
    const marker = await goodRequest();
    await waitForDecision(admin, CTX.namespace, marker); // decided after `other` was seen
    await sleep(500);
    expect((await admin.get(CTX.namespace, other)).status?.conditions ?? []).toEqual([]);
    expect(await eventsOf(cp.kubeConfig, CTX.namespace, other)).toEqual([]);
  });
});

describe('approver: leader election', () => {
  it('decides only on the Lease holder; a standby takes over when the leader dies, and never overrides a decision', async () => {
    const a = approvers[0]!;
    const b = await startApprover({ suite: SUITE, podName: 'approver-b', cwd: tmp, settings: settings() });
    approvers.push(b);
    const before = await readLease(cp.kubeConfig, NS, LEASE);
    expect(before?.spec?.holderIdentity).toMatch(/^approver-a_/);

    const first = await goodRequest();
    await waitForDecision(admin, CTX.namespace, first);
    await waitFor('approver-a to log its decision', () =>
      decisionsLogged(a).includes(`${CTX.namespace}/${first}`) ? true : undefined,
    );
    await sleep(1_000);
    expect(decisionsLogged(b)).toEqual([]);
    expect(await holder(cp.kubeConfig)).toMatch(/^approver-a_/);

    // The leader dies without releasing; a bad request arrives and a human approves it meanwhile.
    await a.stop('SIGKILL');
    const bad = `manual-${++serial}`;
    await as.self.create(CTX.namespace, bad, {
      ...(await ruleCaseSpec(
        RULE_CASES.find((c) => c.want === 'duration')!,
        CTX,
        '1h',
      )),
      issuerRef: ISSUER,
    });
    await admin.setCondition(CTX.namespace, bad, {
      type: 'Approved',
      status: 'True',
      reason: 'cmctl',
      message: 'manually approved',
    });

    const takeover = await waitFor(
      'approver-b to take the Lease',
      async () => {
        const lease = await readLease(cp.kubeConfig, NS, LEASE);
        return lease?.spec?.holderIdentity?.startsWith('approver-b_') ? lease : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(takeover.spec?.leaseTransitions).toBe((before?.spec?.leaseTransitions ?? 0) + 1);

    const second = await goodRequest();
    await waitForDecision(admin, CTX.namespace, second);
    await waitFor('approver-b to log its decision', () =>
      decisionsLogged(b).includes(`${CTX.namespace}/${second}`) ? true : undefined,
    );
    const manual = await admin.get(CTX.namespace, bad);
    expect(manual.status?.conditions).toEqual([
      expect.objectContaining({ type: 'Approved', reason: 'cmctl' }),
    ]);
    expect(decisionsLogged(b)).not.toContain(`${CTX.namespace}/${bad}`);

    // SIGTERM releases the Lease at once instead of letting it run out.
    await b.stop('SIGTERM');
    expect(b.proc.exitStatus?.code).toBe(0);
    expect(await holder(cp.kubeConfig)).toBe('');
  }, 90_000);
});

describe('approver: RBAC', () => {
  const SA = `system:serviceaccount:${NS}:csi-cert-driver-approver`;
  it.each([
    { verb: 'approve', resource: 'signers', name: 'clusterissuers.cert-manager.io/spiffe-ca', allowed: true },
    { verb: 'approve', resource: 'signers', name: 'clusterissuers.cert-manager.io/other-ca', allowed: false },
    { verb: 'approve', resource: 'signers', name: 'issuers.cert-manager.io/spiffe-ca', allowed: false },
    { verb: 'get', resource: 'certificaterequests', name: 'any', allowed: false },
    { verb: 'update', resource: 'certificaterequests', name: 'any', allowed: false },
    { verb: 'delete', resource: 'certificaterequests', name: 'any', allowed: false },
  ])('$verb $resource $name: $allowed', async ({ verb, resource, name, allowed }) => {
    const review = await cp.kubeConfig.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: SA,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`],
          resourceAttributes: { group: 'cert-manager.io', resource, verb, name, namespace: CTX.namespace },
        },
      },
    });
    expect(review.status?.allowed ?? false).toBe(allowed);
  });
});

describe('approver: health and metrics', () => {
  it('serves /healthz and /metrics with decisions by rule, and needs nothing beyond its RBAC', async () => {
    const c = await startApprover({ suite: SUITE, podName: 'approver-c', cwd: tmp, settings: settings() });
    approvers.push(c);
    await waitFor('approver-c to lead', async () =>
      (await holder(cp.kubeConfig)).startsWith('approver-c_') ? true : undefined,
    );
    const name = `metrics-${++serial}`;
    await as.self.create(CTX.namespace, name, {
      request: Buffer.from(
        await testCsr({ sans: [{ type: 'uri', value: 'spiffe://example.org/ns/shop/sa/web' }] }),
      ).toString('base64'),
      issuerRef: ISSUER,
      duration: '2h',
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    });
    await waitForDecision(admin, CTX.namespace, name);
    expect((await fetch(`${c.healthUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${c.healthUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /csi_cert_driver_approver_decisions_total\{decision="denied",rule="duration"\} 1/,
    );
    expect(metrics).toMatch(/csi_cert_driver_approver_leader 1/);
    for (const a of approvers) expect(a.proc.logText()).not.toMatch(/forbidden|HTTP 403/i);
  }, 60_000);
});
