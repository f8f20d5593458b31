/**
 * SPIFFE mode on the node, end to end with the built-in issuer: the node runs with
 * SPIFFE_TRUST_DOMAIN, kubelet (played by the CSI client) publishes a volume with a pod-bound token,
 * and the issuer (ISSUER_AUTH=kubernetes, TRUST_DOMAIN the same) verifies the token and signs. The
 * written certificate, read with OpenSSL, is the pod's SVID: one URI SAN, empty subject, ECDSA P-256,
 * the fixed usages and the configured duration. Identity attributes are refused with
 * INVALID_ARGUMENT naming the attribute.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sansOf, validityOf } from '../support/openssl.js';
import { DEFAULT_WANT, expectIssued } from '../support/publish-table.js';
import { APPS, AUDIENCE } from './names.js';
import { KubeNodeSuite, podPublishRequest, podVolume, tokensAttribute } from './harness.js';

const TD = 'example.org';

let s: KubeNodeSuite;
let pod: V1Pod;

beforeAll(async () => {
  s = await KubeNodeSuite.start({
    suite: 'kube-spiffe-node',
    nodes: ['node-a'],
    issuerSettings: { TRUST_DOMAIN: TD },
  });
  pod = await s.cluster.pod({ name: 'web-1', nodeName: 'node-a' });
  await s.startNode({ SPIFFE_TRUST_DOMAIN: TD, SPIFFE_CERTIFICATE_DURATION: '1h' });
}, 180_000);

afterAll(() => s?.stop());

/** Publishes a volume for the pod as kubelet would, with `attributes` and a fresh pod-bound token. */
async function publish(attributes: Record<string, string> = {}) {
  const token = await s.cluster.podToken({ pod, audience: AUDIENCE });
  const v = podVolume(s.tmp, pod, `v${randomBytes(4).toString('hex')}`);
  const req = podPublishRequest(pod, v, { ...attributes, ...tokensAttribute({ [AUDIENCE]: token }) });
  return { targetPath: v.targetPath, call: s.publish(req) };
}

describe('SPIFFE mode with the built-in issuer', () => {
  it("writes the pod's SVID: one SPIFFE URI SAN, no subject, ECDSA P-256, fixed usages, 1h", async () => {
    const { targetPath, call } = await publish();
    const started = Date.now();
    await call;
    // The SVID: chain, no subject, the one URI SAN, 1h, the fixed usages, ECDSA P-256 (SEC1).
    await expectIssued({
      dir: targetPath,
      caCert: s.caFile,
      pod: { name: 'web-1', namespace: APPS, uid: pod.metadata!.uid!, serviceAccount: 'web' },
      want: {
        ...DEFAULT_WANT,
        subject: () => ({}),
        sans: () => ({ uri: [`spiffe://${TD}/ns/${APPS}/sa/web`] }),
        durationSeconds: 3600,
        usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      },
    });
    const crt = join(targetPath, 'tls.crt');
    const { notAfter } = await validityOf(crt);
    // The issuer may backdate notBefore; the lifetime from now is the configured hour (± clock slack).
    expect(Math.abs(notAfter.getTime() - started - 3600_000)).toBeLessThan(120_000);
  });

  it('keeps fs-group and file names, as csi-driver-spiffe', async () => {
    const { targetPath, call } = await publish({
      'csi.k8s.cert-driver/fs-group': '456',
      'csi.k8s.cert-driver/certificate-file': 'svid.pem',
      'csi.k8s.cert-driver/privatekey-file': 'svid_key.pem',
      'csi.k8s.cert-driver/ca-file': 'bundle.pem',
    });
    await call;
    expect((await sansOf(join(targetPath, 'svid.pem'))).uri).toEqual([`spiffe://${TD}/ns/${APPS}/sa/web`]);
    expect(statSync(join(targetPath, 'svid_key.pem')).gid).toBe(456);
    expect(readFileSync(join(targetPath, 'bundle.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it.each([
    'csi.k8s.cert-driver/dns-names',
    'csi.k8s.cert-driver/uri-sans',
    'csi.k8s.cert-driver/common-name',
    'csi.cert-manager.io/duration',
    'csi.k8s.cert-driver/key-algorithm',
    'csi.k8s.cert-driver/key-usages',
    'csi.k8s.cert-driver/is-ca',
  ])('refuses %s with INVALID_ARGUMENT naming it', async (key) => {
    const { call } = await publish({ [key]: 'x' });
    const err = await call.then(
      () => undefined,
      (e: { code?: number; details?: string }) => e,
    );
    expect(err?.code).toBe(3);
    expect(err?.details).toContain(key);
    expect(err?.details).toMatch(/not allowed in SPIFFE mode/);
  });
});
