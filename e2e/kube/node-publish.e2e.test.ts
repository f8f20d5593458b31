/**
 * A volume publish end to end with Kubernetes identity: kubelet (played by the CSI client) hands the
 * node driver a pod-bound token for the issuer's audience in the volume context, the node sends it
 * with the CSR, and the issuer (ISSUER_AUTH=kubernetes, CA from a Secret, least-privilege RBAC)
 * verifies it with TokenReview against a real kube-apiserver before it signs. A node that publishes
 * for a pod scheduled elsewhere gets the issuer's denial back.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverProcess } from '../support/driver-process.js';
import { opensslOk, verifyChain } from '../support/openssl.js';
import type { CsiClient } from '../support/product.js';
import { kubeletPublishRequest } from '../support/product.js';
import type { TestCluster } from './cluster.js';
import type { ControlPlane } from './control-plane.js';
import type { IssuerProcess } from './issuer-process.js';
import { startKubeNode } from './node-process.js';
import { APPS, AUDIENCE, TOKENS_KEY } from './names.js';
import { caSecret, startClusterIssuer, startKubeSuite, stopKubeSuite } from './harness.js';

const SUITE = 'kube-node-publish';

let cp: ControlPlane;
let cluster: TestCluster;
let issuer: IssuerProcess;
let node: DriverProcess | undefined;
let csi: CsiClient | undefined;
let tmp: string;
let caFile: string;
const pods: Record<string, V1Pod> = {};

beforeAll(async () => {
  ({ tmp, cp, cluster } = await startKubeSuite({
    suite: SUITE,
    tmpPrefix: 'kube-np',
    nodes: ['node-a', 'node-b'],
    rbac: ['issuer.yaml'],
  }));
  caFile = await caSecret(cluster, tmp);
  await cluster.serviceAccount(APPS, 'web');
  pods.here = await cluster.pod({ name: 'web-1', nodeName: 'node-a' });
  pods.elsewhere = await cluster.pod({ name: 'web-2', nodeName: 'node-b' });

  issuer = await startClusterIssuer({ cp, cluster, suite: SUITE, cwd: tmp });

  ({ proc: node, csi } = await startKubeNode({
    suite: SUITE,
    cwd: tmp,
    socket: join(tmp, 'csi.sock'),
    nodeId: 'node-a',
    issuerAddr: issuer.addr,
    baseDir: join(tmp, 'base'),
    logName: 'node.log',
  }));
});

afterAll(() =>
  stopKubeSuite({ cp, tmp }, [() => csi?.close(), () => node?.kill('SIGKILL'), () => issuer?.stop()]),
);

/** Publishes a `tls` volume for `pod` as kubelet would, with kubelet's token map for `audience`. */
async function publish(pod: V1Pod, token: string) {
  const uid = pod.metadata!.uid!;
  const parent = join(tmp, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'tls');
  mkdirSync(parent, { recursive: true });
  const targetPath = join(parent, 'mount');
  const expirationTimestamp = new Date(Date.now() + 600_000).toISOString();
  const req = kubeletPublishRequest({
    volumeId: `csi-${randomBytes(32).toString('hex')}`,
    targetPath,
    pod: {
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      uid,
      serviceAccount: pod.spec!.serviceAccountName!,
    },
    attributes: { [TOKENS_KEY]: JSON.stringify({ [AUDIENCE]: { token, expirationTimestamp } }) },
  });
  return { targetPath, call: csi!.call('Node', 'NodePublishVolume', req) };
}

describe('NodePublishVolume with ISSUER_AUTH=kubernetes', () => {
  it('issues the pod its own certificate, verified by TokenReview', async () => {
    const token = await cluster.podToken({ pod: pods.here!, audience: AUDIENCE });
    const { targetPath, call } = await publish(pods.here!, token);
    await call;
    const crt = join(targetPath, 'tls.crt');
    expect(existsSync(join(targetPath, 'tls.key'))).toBe(true);
    expect((await verifyChain(caFile, crt)).ok).toBe(true);
    const sans = await opensslOk(['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']);
    expect(sans).toContain('DNS:web-1');
    expect(issuer.proc.logText()).not.toContain(token);
    expect(node!.logText()).not.toContain(token);
  });

  it("fails the publish of a pod scheduled to another node with the issuer's denial", async () => {
    const token = await cluster.podToken({ pod: pods.elsewhere!, audience: AUDIENCE });
    const { call } = await publish(pods.elsewhere!, token);
    const err = await call.then(
      () => undefined,
      (e: { code?: number; details?: string }) => e,
    );
    expect(err?.code).toBe(7); // PERMISSION_DENIED
    expect(err?.details).toMatch(/node/);
    const denial = issuer.proc.logLines().find((l) => l.msg === 'issuance denied');
    expect(denial).toMatchObject({ pod: 'apps/web-2', node: 'node-a', decision: 'denied' });
  });
});
