/**
 * SPIFFE mode through cert-manager, the whole chain against a real kube-apiserver: the node in
 * SPIFFE and cert-manager mode creates a CertificateRequest as the pod's service account, the
 * requester policy (cert-manager's webhook stand-in) sets spec.username, the real
 * `bin/csi-cert-driver approver` (RBAC of deploy/rbac/approver.yaml) approves it by the SPIFFE rules,
 * and the fake signer (which approves nothing itself) signs only what the approver approved. The
 * pod's files hold its SVID.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverProcess } from '../support/driver-process.js';
import { certKeyInfo, sansOf, usagesOf, verifyChain } from '../support/openssl.js';
import type { CsiClient } from '../support/product.js';
import { waitFor } from '../support/wait.js';
import { startApprover, type ApproverProcess } from './approver-process.js';
import type { TestCluster } from './cluster.js';
import { SERVICE_ACCOUNT_ISSUER, type ControlPlane } from './control-plane.js';
import type { FakeCertManagerSigner } from './fake-cert-manager-signer.js';
import { startKubeNode } from './node-process.js';
import { APPS, NS } from './names.js';
import {
  podPublishRequest,
  podVolume,
  startFakeCertManager,
  startKubeSuite,
  stopKubeSuite,
  tokensAttribute,
} from './harness.js';

const SUITE = 'kube-spiffe-cert-manager';
const NODE = 'node-a';
const TD = 'example.org';
const ISSUER_REF = { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' };
const P = 'csi.k8s.cert-driver/';

let cp: ControlPlane;
let cluster: TestCluster;
let node: DriverProcess | undefined;
let approver: ApproverProcess | undefined;
let signer: FakeCertManagerSigner | undefined;
let csi: CsiClient | undefined;
let tmp: string;
let caFile: string;

/** The real approver as the csi-cert-driver-approver service account, approving SVIDs of `TD` with `allowedKeys`. */
async function startSpiffeApprover(podName: string, allowedKeys: string): Promise<ApproverProcess> {
  const approverToken = await cluster.serviceAccountToken(NS, 'csi-cert-driver-approver');
  return startApprover({
    suite: SUITE,
    podName,
    cwd: tmp,
    settings: {
      KUBECONFIG: cp.kubeconfigFor(podName, approverToken).path,
      ISSUER_NAME: ISSUER_REF.name,
      TRUST_DOMAIN: TD,
      CERTIFICATE_DURATION: '1h',
      ALLOWED_KEYS: allowedKeys,
      LEADER_ELECTION_NAMESPACE: NS,
    },
  });
}

beforeAll(async () => {
  const suite = await startKubeSuite({
    suite: SUITE,
    tmpPrefix: 'kube-spiffe-cm',
    nodes: [NODE],
    rbac: ['node.yaml', 'approver.yaml'],
  });
  ({ tmp, cp, cluster } = suite);
  ({ signer, caFile } = await startFakeCertManager(suite, {
    caName: 'SPIFFE test CA',
    issuerRef: ISSUER_REF,
    autoApprove: false,
  }));

  approver = await startSpiffeApprover('approver', 'ECDSA-256');

  const nodeToken = await cluster.serviceAccountToken(NS, 'csi-cert-driver-node');
  ({ proc: node, csi } = await startKubeNode({
    suite: SUITE,
    cwd: tmp,
    socket: join(tmp, 'csi.sock'),
    nodeId: NODE,
    issuerAddr: '127.0.0.1:9',
    baseDir: join(tmp, 'base'),
    logName: 'node.log',
    settings: {
      KEY_POOL_SIZE: '0',
      STATUS_OBJECTS: 'false',
      POD_EVENTS: 'false',
      KUBECONFIG: cp.kubeconfigFor('node', nodeToken).path,
      CERT_MANAGER_ENABLED: 'true',
      CERT_MANAGER_TIMEOUT: '20s',
      SPIFFE_TRUST_DOMAIN: TD,
      SPIFFE_CERTIFICATE_DURATION: '1h',
    },
  }));
}, 180_000);

afterAll(() =>
  stopKubeSuite({ cp, tmp }, [
    () => csi?.close(),
    () => node?.kill('SIGKILL'),
    () => approver?.proc.kill('SIGKILL'),
    () => signer?.stop(),
  ]),
);

/** Publishes a SPIFFE volume for a new pod `name` (service account web) with the pod's API token. */
async function publish(name: string): Promise<{ targetPath: string; call: Promise<unknown> }> {
  const pod = await cluster.pod({ name, nodeName: NODE });
  const apiToken = await cluster.podToken({ pod, audience: SERVICE_ACCOUNT_ISSUER });
  const v = podVolume(tmp, pod, 'spiffe');
  const req = podPublishRequest(pod, v, {
    [`${P}issuer-name`]: ISSUER_REF.name,
    [`${P}issuer-kind`]: ISSUER_REF.kind,
    ...tokensAttribute({ '': apiToken }),
  });
  const { targetPath } = v;
  const call = csi!.call('Node', 'NodePublishVolume', req);
  return { targetPath, call };
}

describe('SPIFFE mode through cert-manager and the approver', () => {
  it('issues the pod its SVID only after the approver approved the request', async () => {
    const { targetPath, call } = await publish('web-1');
    await call;
    const crt = join(targetPath, 'tls.crt');
    expect((await verifyChain(caFile, crt)).ok).toBe(true);
    expect((await sansOf(crt)).uri).toEqual([`spiffe://${TD}/ns/${APPS}/sa/web`]);
    expect(await certKeyInfo(crt)).toMatchObject({ algorithm: 'EC', curve: 'P-256' });
    expect((await usagesOf(crt)).extKeyUsage).toEqual([
      'TLS Web Client Authentication',
      'TLS Web Server Authentication',
    ]);
    const approved = await waitFor('the approver to log its approval', () =>
      approver!.proc.logLines().find((l) => l.msg === 'approved CertificateRequest'),
    );
    expect(String(approved.certificateRequest)).toMatch(/^apps\/web-1-/);
    expect(approved.message).toContain(`spiffe://${TD}/ns/${APPS}/sa/web`);
    expect(signer!.handled.size).toBe(1);
  }, 60_000);

  it("fails the publish with the approver's denial when the policy does not allow the node's key", async () => {
    // Hand the Lease to an approver that only allows P-384 (SIGTERM releases it at once).
    await approver!.stop('SIGTERM');
    approver = await startSpiffeApprover('approver-p384', 'ECDSA-384');
    const proc = approver.proc;
    await waitFor('approver-p384 to lead', () =>
      proc.logLines().some((l) => l.msg === 'became the leader') ? true : undefined,
    );
    const { call } = await publish('web-2');
    const err = await call.then(
      () => undefined,
      (e: { code?: number; details?: string }) => e,
    );
    expect(err?.code).toBe(7); // PERMISSION_DENIED
    expect(err?.details).toMatch(/Denied by rule key-size: ECDSA P-256 is not allowed/);
    expect(signer!.handled.size).toBe(1); // nothing more was signed
  }, 60_000);
});
