/**
 * Renewals after a node restart with caller authentication on (ADR 22): the issuer runs with
 * ISSUER_AUTH=kubernetes against a real kube-apiserver; a volume with a short-lived certificate is
 * published with a pod-bound token, the node process is SIGKILLed and started again on the same
 * CERT_BASE_PATH, and the recovered volume renews on time with the token it kept in its state,
 * without any republish from kubelet.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverProcess } from '../support/driver-process.js';
import { unmountAllUnder } from '../support/host.js';
import { verifyChain } from '../support/openssl.js';
import type { CsiClient } from '../support/product.js';
import { kubeletPublishRequest } from '../support/product.js';
import { REPO_ROOT } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import { TestCluster } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import type { IssuerProcess } from './issuer-process.js';
import { startKubeNode } from './node-process.js';
import { APPS, AUDIENCE, NS, TOKENS_KEY } from './names.js';
import { caSecret, startClusterIssuer } from './harness.js';

const SUITE = 'kube-node-restart-renewal';
const PREFIX = 'csi.k8s.cert-driver/';

let cp: ControlPlane;
let cluster: TestCluster;
let issuer: IssuerProcess;
let node: DriverProcess | undefined;
let csi: CsiClient | undefined;
let tmp: string;
let caFile: string;
let pod: V1Pod;

const startNode = async (n: number): Promise<void> => {
  ({ proc: node, csi } = await startKubeNode({
    suite: SUITE,
    cwd: tmp,
    socket: join(tmp, 'csi.sock'),
    nodeId: 'node-a',
    issuerAddr: issuer.addr,
    baseDir: join(tmp, 'base'),
    logName: `node-${n}.log`,
  }));
};

beforeAll(async () => {
  tmp = mkdtempSync('/tmp/kube-nr-');
  cp = await startControlPlane({ name: SUITE });
  cluster = new TestCluster(cp);
  await cluster.namespace(NS);
  await cluster.namespace(APPS);
  await cluster.apply(join(REPO_ROOT, 'deploy', 'rbac', 'issuer.yaml'));
  caFile = await caSecret(cluster, tmp);
  await cluster.node('node-a');
  await cluster.serviceAccount(APPS, 'web');
  pod = await cluster.pod({ namespace: APPS, name: 'web-1', serviceAccount: 'web', nodeName: 'node-a' });
  issuer = await startClusterIssuer({ cp, cluster, suite: SUITE, cwd: tmp });
  await startNode(1);
});

afterAll(async () => {
  csi?.close();
  await node?.kill('SIGKILL');
  await issuer?.stop();
  await cp?.stop();
  if (tmp) {
    await unmountAllUnder(tmp);
    rmSync(tmp, { recursive: true, force: true });
  }
});

describe('a node-role restart with ISSUER_AUTH=kubernetes', () => {
  it('renews a recovered volume on time with the token kept in its state, without a republish', async () => {
    const token = await cluster.podToken({ pod, audience: AUDIENCE, expirationSeconds: 3600 });
    const uid = pod.metadata!.uid!;
    const parent = join(tmp, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'tls');
    mkdirSync(parent, { recursive: true });
    const targetPath = join(parent, 'mount');
    const volumeId = `csi-${randomBytes(32).toString('hex')}`;
    const req = kubeletPublishRequest({
      volumeId,
      targetPath,
      pod: { name: 'web-1', namespace: APPS, uid, serviceAccount: 'web' },
      attributes: {
        // Lifetime 1m (+60 s back-dating), renewal 50 s before the end: due 5–10 s after issue.
        [`${PREFIX}duration`]: '1m',
        [`${PREFIX}renew-before`]: '50s',
        [TOKENS_KEY]: JSON.stringify({
          [AUDIENCE]: { token, expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
        }),
      },
    });
    await csi!.call('Node', 'NodePublishVolume', req);
    const crt = join(targetPath, 'tls.crt');
    const first = new X509Certificate(readFileSync(crt)).serialNumber;
    const stateFile = join(tmp, 'base', 'state', `${volumeId}.json`);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    // Restart the node role before the renewal is due; kubelet sends nothing from here on.
    await node!.kill('SIGKILL');
    csi!.close();
    await startNode(2);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { nextRenewalAt: string };
    const due = Date.parse(state.nextRenewalAt);

    await waitFor(
      'the renewed certificate in the volume',
      () => (new X509Certificate(readFileSync(crt)).serialNumber !== first ? true : undefined),
      { timeoutMs: 40_000 },
    );
    // On time: the first attempt after the restart succeeded (no failed renewal, no backoff).
    const log = node!.logLines();
    expect(log.filter((l) => l.msg === 'renewal failed; current certificate kept')).toEqual([]);
    const renewed = log.find((l) => l.msg === 'certificate renewed');
    expect(renewed).toBeDefined();
    expect(Date.parse(String(renewed!.time))).toBeGreaterThanOrEqual(due - 1000);
    expect((await verifyChain(caFile, crt)).ok).toBe(true);
    expect(node!.logText()).not.toContain(token);
    expect(issuer.proc.logLines().some((l) => l.msg === 'issuance denied')).toBe(false);
  });
});
