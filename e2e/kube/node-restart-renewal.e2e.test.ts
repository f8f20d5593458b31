/**
 * Renewals after a node restart with caller authentication on (ADR 22): the issuer runs with
 * ISSUER_AUTH=kubernetes against a real kube-apiserver; a volume with a short-lived certificate is
 * published with a pod-bound token, the node process is SIGKILLed and started again on the same
 * CERT_BASE_PATH, and the recovered volume renews on time with the token it kept in its state,
 * without any republish from kubelet.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../support/openssl.js';
import { waitFor } from '../support/wait.js';
import { AUDIENCE } from './names.js';
import { KubeNodeSuite, podPublishRequest, podVolume, tokensAttribute } from './harness.js';

const PREFIX = 'csi.k8s.cert-driver/';

let s: KubeNodeSuite;
let pod: V1Pod;

beforeAll(async () => {
  s = await KubeNodeSuite.start({ suite: 'kube-node-restart-renewal', nodes: ['node-a'] });
  pod = await s.cluster.pod({ name: 'web-1', serviceAccount: 'web', nodeName: 'node-a' });
  await s.startNode();
});

afterAll(() => s?.stop());

describe('a node-role restart with ISSUER_AUTH=kubernetes', () => {
  it('renews a recovered volume on time with the token kept in its state, without a republish', async () => {
    const token = await s.cluster.podToken({ pod, audience: AUDIENCE, expirationSeconds: 3600 });
    const { volumeId, targetPath } = podVolume(s.tmp, pod);
    const req = podPublishRequest(
      pod,
      { volumeId, targetPath },
      {
        // Lifetime 1m (+60 s back-dating), renewal 50 s before the end: due 5–10 s after issue.
        [`${PREFIX}duration`]: '1m',
        [`${PREFIX}renew-before`]: '50s',
        ...tokensAttribute({ [AUDIENCE]: token }, 3_600_000),
      },
    );
    await s.publish(req);
    const crt = join(targetPath, 'tls.crt');
    const first = new X509Certificate(readFileSync(crt)).serialNumber;
    const stateFile = join(s.tmp, 'base', 'state', `${volumeId}.json`);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    // Restart the node role before the renewal is due; kubelet sends nothing from here on.
    await s.stopNode('SIGKILL');
    await s.startNode();
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { nextRenewalAt: string };
    const due = Date.parse(state.nextRenewalAt);

    await waitFor(
      'the renewed certificate in the volume',
      () => (new X509Certificate(readFileSync(crt)).serialNumber !== first ? true : undefined),
      { timeoutMs: 40_000 },
    );
    // On time: the first attempt after the restart succeeded (no failed renewal, no backoff).
    const log = s.node!.logLines();
    expect(log.filter((l) => l.msg === 'renewal failed; current certificate kept')).toEqual([]);
    const renewed = log.find((l) => l.msg === 'certificate renewed');
    expect(renewed).toBeDefined();
    expect(Date.parse(String(renewed!.time))).toBeGreaterThanOrEqual(due - 1000);
    expect((await verifyChain(s.caFile, crt)).ok).toBe(true);
    expect(s.node!.logText()).not.toContain(token);
    expect(s.issuer.proc.logLines().some((l) => l.msg === 'issuance denied')).toBe(false);
  });
});
