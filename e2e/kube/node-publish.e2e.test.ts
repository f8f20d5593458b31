/**
 * A volume publish end to end with Kubernetes identity: kubelet (played by the CSI client) hands the
 * node driver a pod-bound token for the issuer's audience in the volume context, the node sends it
 * with the CSR, and the issuer (ISSUER_AUTH=kubernetes, CA from a Secret, least-privilege RBAC)
 * verifies it with TokenReview against a real kube-apiserver before it signs. A node that publishes
 * for a pod scheduled elsewhere gets the issuer's denial back.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslOk, verifyChain } from '../support/openssl.js';
import { AUDIENCE } from './names.js';
import { KubeNodeSuite, podPublishRequest, podVolume, tokensAttribute } from './harness.js';

let s: KubeNodeSuite;
const pods: Record<string, V1Pod> = {};

beforeAll(async () => {
  s = await KubeNodeSuite.start({ suite: 'kube-node-publish', nodes: ['node-a', 'node-b'] });
  pods.here = await s.cluster.pod({ name: 'web-1', nodeName: 'node-a' });
  pods.elsewhere = await s.cluster.pod({ name: 'web-2', nodeName: 'node-b' });
  await s.startNode();
});

afterAll(() => s?.stop());

/** Publishes a `tls` volume for `pod` as kubelet would, with kubelet's token map for `audience`. */
function publish(pod: V1Pod, token: string) {
  const v = podVolume(s.tmp, pod);
  const req = podPublishRequest(pod, v, tokensAttribute({ [AUDIENCE]: token }));
  return { targetPath: v.targetPath, call: s.publish(req) };
}

describe('NodePublishVolume with ISSUER_AUTH=kubernetes', () => {
  it('issues the pod its own certificate, verified by TokenReview', async () => {
    const token = await s.cluster.podToken({ pod: pods.here!, audience: AUDIENCE });
    const { targetPath, call } = publish(pods.here!, token);
    await call;
    const crt = join(targetPath, 'tls.crt');
    expect(existsSync(join(targetPath, 'tls.key'))).toBe(true);
    expect((await verifyChain(s.caFile, crt)).ok).toBe(true);
    const sans = await opensslOk(['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']);
    expect(sans).toContain('DNS:web-1');
    expect(s.issuer.proc.logText()).not.toContain(token);
    expect(s.node!.logText()).not.toContain(token);
  });

  it("fails the publish of a pod scheduled to another node with the issuer's denial", async () => {
    const token = await s.cluster.podToken({ pod: pods.elsewhere!, audience: AUDIENCE });
    const { call } = publish(pods.elsewhere!, token);
    const err = await call.then(
      () => undefined,
      (e: { code?: number; details?: string }) => e,
    );
    expect(err?.code).toBe(7); // PERMISSION_DENIED
    expect(err?.details).toMatch(/node/);
    const denial = s.issuer.proc.logLines().find((l) => l.msg === 'issuance denied');
    expect(denial).toMatchObject({ pod: 'apps/web-2', node: 'node-a', decision: 'denied' });
  });
});
