/**
 * SPIFFE mode on the node, end to end with the built-in issuer: the node runs with
 * SPIFFE_TRUST_DOMAIN, kubelet (played by the CSI client) publishes a volume with a pod-bound token,
 * and the issuer (ISSUER_AUTH=kubernetes, TRUST_DOMAIN the same) verifies the token and signs. The
 * written certificate, read with OpenSSL, is the pod's SVID: one URI SAN, empty subject, ECDSA P-256,
 * the fixed usages and the configured duration. Identity attributes are refused with
 * INVALID_ARGUMENT naming the attribute.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverProcess } from '../support/driver-process.js';
import {
  certKeyInfo,
  privateKeyInfo,
  sansOf,
  subjectOf,
  usagesOf,
  validityOf,
  verifyChain,
} from '../support/openssl.js';
import type { CsiClient } from '../support/product.js';
import { kubeletPublishRequest } from '../support/product.js';
import type { TestCluster } from './cluster.js';
import type { ControlPlane } from './control-plane.js';
import type { IssuerProcess } from './issuer-process.js';
import { startKubeNode } from './node-process.js';
import { APPS, AUDIENCE, TOKENS_KEY } from './names.js';
import { caSecret, startClusterIssuer, startKubeSuite, stopKubeSuite } from './harness.js';

const SUITE = 'kube-spiffe-node';
const TD = 'example.org';

let cp: ControlPlane;
let cluster: TestCluster;
let issuer: IssuerProcess;
let node: DriverProcess | undefined;
let csi: CsiClient | undefined;
let tmp: string;
let caFile: string;
let pod: V1Pod;

beforeAll(async () => {
  ({ tmp, cp, cluster } = await startKubeSuite({
    suite: SUITE,
    tmpPrefix: 'kube-spiffe',
    nodes: ['node-a'],
    rbac: ['issuer.yaml'],
  }));
  caFile = await caSecret(cluster, tmp);
  await cluster.serviceAccount(APPS, 'web');
  pod = await cluster.pod({ name: 'web-1', nodeName: 'node-a' });

  issuer = await startClusterIssuer({
    cp,
    cluster,
    suite: SUITE,
    cwd: tmp,
    settings: {
      TRUST_DOMAIN: TD,
    },
  });

  ({ proc: node, csi } = await startKubeNode({
    suite: SUITE,
    cwd: tmp,
    socket: join(tmp, 'csi.sock'),
    nodeId: 'node-a',
    issuerAddr: issuer.addr,
    baseDir: join(tmp, 'base'),
    logName: 'node.log',
    settings: { SPIFFE_TRUST_DOMAIN: TD, SPIFFE_CERTIFICATE_DURATION: '1h' },
  }));
}, 180_000);

afterAll(() =>
  stopKubeSuite({ cp, tmp }, [() => csi?.close(), () => node?.kill('SIGKILL'), () => issuer?.stop()]),
);

/** Publishes a volume for the pod as kubelet would, with `attributes` and a fresh pod-bound token. */
async function publish(attributes: Record<string, string> = {}) {
  const token = await cluster.podToken({ pod, audience: AUDIENCE });
  const uid = pod.metadata!.uid!;
  const name = `v${randomBytes(4).toString('hex')}`;
  const parent = join(tmp, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', name);
  mkdirSync(parent, { recursive: true });
  const targetPath = join(parent, 'mount');
  const req = kubeletPublishRequest({
    volumeId: `csi-${randomBytes(32).toString('hex')}`,
    targetPath,
    pod: { name: pod.metadata!.name!, namespace: APPS, uid, serviceAccount: 'web' },
    attributes: {
      ...attributes,
      [TOKENS_KEY]: JSON.stringify({
        [AUDIENCE]: { token, expirationTimestamp: new Date(Date.now() + 600_000).toISOString() },
      }),
    },
  });
  return { targetPath, call: csi!.call('Node', 'NodePublishVolume', req) };
}

describe('SPIFFE mode with the built-in issuer', () => {
  it("writes the pod's SVID: one SPIFFE URI SAN, no subject, ECDSA P-256, fixed usages, 1h", async () => {
    const { targetPath, call } = await publish();
    const started = Date.now();
    await call;
    const crt = join(targetPath, 'tls.crt');
    expect((await verifyChain(caFile, crt)).ok).toBe(true);
    expect(await sansOf(crt)).toEqual({
      dns: [],
      ip: [],
      uri: [`spiffe://${TD}/ns/${APPS}/sa/web`],
      email: [],
    });
    expect(await subjectOf(crt)).toEqual({});
    expect(await certKeyInfo(crt)).toMatchObject({ algorithm: 'EC', curve: 'P-256' });
    expect(await privateKeyInfo(join(targetPath, 'tls.key'))).toMatchObject({
      algorithm: 'EC',
      curve: 'P-256',
    });
    expect(await usagesOf(crt)).toEqual({
      keyUsage: ['Digital Signature', 'Key Encipherment'],
      keyUsageCritical: true,
      extKeyUsage: ['TLS Web Client Authentication', 'TLS Web Server Authentication'],
      isCA: false,
    });
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
