/**
 * The issuer with ISSUER_AUTH=kubernetes and its CA in a watched Secret, against a real
 * kube-apiserver + etcd. The issuer runs as `bin/csi-cert-driver issuer` with the token of the
 * ServiceAccount from deploy/rbac/issuer.yaml (not admin), so a permission missing from that file
 * fails these tests. Requests come from the node's own issuer client with pod-bound tokens made by
 * the TokenRequest API, as kubelet makes them for CSIDriver tokenRequests.
 *
 * The issuers run with a module-resolution hook (client-library.ts): with a token kubeconfig the
 * issuer never loads @kubernetes/client-node (ADR 30); with an exec-plugin kubeconfig it does, and
 * reads its CA Secret and reviews tokens just the same.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslOk, verifyChain } from '../support/openssl.js';
import { waitFor } from '../support/wait.js';
import type { TestCluster } from './cluster.js';
import { SERVICE_ACCOUNT_ISSUER, type ControlPlane } from './control-plane.js';
import { makeCsr, type CsrNames } from './csr.js';
import { startIssuerProcess, type IssuerProcess } from './issuer-process.js';
import { APPS, AUDIENCE, NS } from './names.js';
import { CA_SECRET, startKubeSuite, stopKubeSuite, writeCa } from './harness.js';
import { execPluginKubeconfig, LIBRARY_MARKER, libraryHookNodeOptions } from './client-library.js';

const SUITE = 'kube-issuer';
const POD_IP = '10.244.0.11';

let cp: ControlPlane;
let cluster: TestCluster;
let issuer: IssuerProcess;
let tmp: string;
let hookOptions: string;
const pods: Record<'web1' | 'web2' | 'db1', V1Pod> = {} as Record<'web1' | 'web2' | 'db1', V1Pod>;
const tokens: Record<string, string> = {};

const ca = (name: string) => writeCa(tmp, name, `csi-cert-driver e2e ${name}`);

interface SignInput {
  pod: V1Pod;
  token: string;
  csr: CsrNames;
  nodeId?: string;
  uid?: string;
  serviceAccount?: string;
}

function sign(i: SignInput, client = issuer.client) {
  return makeCsr(i.csr).then((csrPem) =>
    client.sign({
      csrPem,
      pod: {
        name: i.pod.metadata!.name!,
        namespace: i.pod.metadata!.namespace!,
        uid: i.uid ?? i.pod.metadata!.uid!,
        serviceAccount: i.serviceAccount ?? i.pod.spec!.serviceAccountName!,
      },
      nodeId: i.nodeId ?? i.pod.spec!.nodeName!,
      volumeId: `csi-${i.pod.metadata!.uid}`,
      durationSeconds: 3600,
      isCA: false,
      usages: [],
      token: i.token,
    }),
  );
}

/** The gRPC status name a call ended with. */
async function statusOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'number') throw e;
    return grpc.status[code] ?? String(code);
  }
}

const own = (pod: string, sa = 'web'): CsrNames => ({
  commonName: `${pod}.${APPS}.svc.cluster.local`,
  dns: [pod, `${pod}.${APPS}.svc`],
  uris: [`spiffe://cluster.local/ns/${APPS}/sa/${sa}`],
});

beforeAll(async () => {
  ({ tmp, cp, cluster } = await startKubeSuite({
    suite: SUITE,
    tmpPrefix: 'kube-issuer',
    nodes: ['node-a', 'node-b'],
    rbac: ['issuer.yaml'],
  }));
  const ca1 = await ca('ca1');
  await cluster.tlsSecret(NS, CA_SECRET, { crt: ca1.crt, key: ca1.key });
  for (const sa of ['web', 'db']) await cluster.serviceAccount(APPS, sa);
  pods.web1 = await cluster.pod({ name: 'web-1', nodeName: 'node-a' });
  pods.web2 = await cluster.pod({ name: 'web-2', nodeName: 'node-b' });
  pods.db1 = await cluster.pod({ name: 'db-1', serviceAccount: 'db', nodeName: 'node-a' });
  pods.web1 = await cluster.podIPs(pods.web1, [POD_IP]);
  for (const [key, pod] of Object.entries(pods))
    tokens[key] = await cluster.podToken({ pod, audience: AUDIENCE });
  tokens.web1OtherAudience = await cluster.podToken({ pod: pods.web1, audience: SERVICE_ACCOUNT_ISSUER });
  tokens.webUnbound = await cluster.serviceAccountToken(APPS, 'web', AUDIENCE);

  const issuerToken = await cluster.serviceAccountToken(NS, 'csi-cert-driver-issuer');
  const kubeconfig = cp.kubeconfigFor('issuer', issuerToken);
  hookOptions = libraryHookNodeOptions(tmp);
  issuer = await startIssuerProcess({
    suite: SUITE,
    name: 'issuer',
    cwd: tmp,
    settings: { ...issuerSettings(kubeconfig.path), CA_ROTATION_DELAY: '2s' },
  });
});

/** The issuer's settings in this suite, with the module-resolution hook, for one kubeconfig. */
function issuerSettings(kubeconfig: string): Record<string, string> {
  return {
    NODE_OPTIONS: hookOptions,
    ISSUER_AUTH: 'kubernetes',
    CA_SECRET_NAME: CA_SECRET,
    CA_SECRET_NAMESPACE: NS,
    KUBECONFIG: kubeconfig,
    ISSUER_ALLOWED_DNS_NAMES: '${SERVICE_ACCOUNT}.${POD_NAMESPACE}.svc.${CLUSTER_DOMAIN}',
  };
}

afterAll(() => stopKubeSuite({ cp, tmp }, [() => issuer?.stop()]));

describe('SignCertificate with ISSUER_AUTH=kubernetes', () => {
  const cases: { name: string; input: () => SignInput; want: string }[] = [
    {
      name: 'own names and SPIFFE ID',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: own('web-1') }),
      want: 'OK',
    },
    {
      name: 'DNS name allowed by ISSUER_ALLOWED_DNS_NAMES',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: { dns: ['web.apps.svc.cluster.local'] } }),
      want: 'OK',
    },
    {
      name: 'own pod IP',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: { commonName: 'web-1', ips: [POD_IP] } }),
      want: 'OK',
    },
    {
      name: "another pod's DNS name",
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: { commonName: 'web-1', dns: ['web-2'] } }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: "another pod's common name",
      input: () => ({
        pod: pods.web1,
        token: tokens.web1!,
        csr: { commonName: 'db-1.apps.svc.cluster.local' },
      }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: "another service account's SPIFFE ID",
      input: () => ({
        pod: pods.web1,
        token: tokens.web1!,
        csr: { uris: ['spiffe://cluster.local/ns/apps/sa/db'] },
      }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'a policy name of another service account',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: { dns: ['db.apps.svc.cluster.local'] } }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'an IP that is not the pod IP',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: { commonName: 'web-1', ips: ['10.0.0.1'] } }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'the calling node is not the pod node',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: own('web-1'), nodeId: 'node-b' }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: "a node presents its pod's token for a pod on another node",
      input: () => ({ pod: pods.web2, token: tokens.web1!, csr: own('web-2'), nodeId: 'node-a' }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: "a pod's token for another pod of the same node",
      input: () => ({ pod: pods.db1, token: tokens.web1!, csr: own('db-1', 'db') }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'a request naming another uid',
      input: () => ({
        pod: pods.web1,
        token: tokens.web1!,
        csr: own('web-1'),
        uid: '00000000-0000-0000-0000-000000000000',
      }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'a request naming another service account',
      input: () => ({ pod: pods.web1, token: tokens.web1!, csr: own('web-1'), serviceAccount: 'db' }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'a service-account token not bound to a pod',
      input: () => ({ pod: pods.web1, token: tokens.webUnbound!, csr: own('web-1') }),
      want: 'PERMISSION_DENIED',
    },
    {
      name: 'a pod token for another audience',
      input: () => ({ pod: pods.web1, token: tokens.web1OtherAudience!, csr: own('web-1') }),
      want: 'UNAUTHENTICATED',
    },
    {
      name: 'no token',
      input: () => ({ pod: pods.web1, token: '', csr: own('web-1') }),
      want: 'UNAUTHENTICATED',
    },
    {
      name: 'a forged token',
      input: () => ({ pod: pods.web1, token: `${tokens.web1!.slice(0, -4)}AAAA`, csr: own('web-1') }),
      want: 'UNAUTHENTICATED',
    },
  ];

  it.each(cases)('$name → $want', async ({ input, want }) => {
    expect(await statusOf(sign(input()))).toBe(want);
  });

  it('writes an audit line per signature and per denial, with pod, node, caller and reason, never a token', () => {
    const denials = issuer.proc.logLines().filter((l) => l.msg === 'issuance denied');
    expect(denials.length).toBe(cases.filter((c) => c.want !== 'OK').length);
    const wrongNode = denials.find((l) => l.pod === 'apps/web-1' && l.node === 'node-b');
    expect(wrongNode).toMatchObject({
      audit: 'issuance',
      decision: 'denied',
      caller: 'system:serviceaccount:apps:web',
    });
    expect(String(wrongNode?.reason)).toMatch(/node_id: .*node-a.*node-b/);
    const signed = issuer.proc
      .logLines()
      .find((l) => l.msg === 'certificate signed' && l.pod === 'apps/web-1');
    expect(signed).toMatchObject({ caller: 'system:serviceaccount:apps:web', node: 'node-a' });
    const log = issuer.proc.logText();
    for (const token of Object.values(tokens)) expect(log).not.toContain(token);
  });

  it('denies a pod that was deleted, even with its still unexpired token', async () => {
    const gone = await cluster.pod({ name: 'gone-1', nodeName: 'node-a' });
    const token = await cluster.podToken({ pod: gone, audience: AUDIENCE });
    expect(await statusOf(sign({ pod: gone, token, csr: own('gone-1') }))).toBe('OK');
    await cluster.core.deleteNamespacedPod({ namespace: APPS, name: 'gone-1', gracePeriodSeconds: 0 });
    await waitFor('the pod to be gone', async () => {
      try {
        await cluster.core.readNamespacedPod({ namespace: APPS, name: 'gone-1' });
        return undefined;
      } catch {
        return true;
      }
    });
    expect(await statusOf(sign({ pod: gone, token, csr: own('gone-1') }))).toMatch(
      /^(UNAUTHENTICATED|PERMISSION_DENIED)$/,
    );
  });
});

describe('issuer RBAC (deploy/rbac/issuer.yaml)', () => {
  it('grants nothing beyond TokenReview, pods get and the one CA Secret', async () => {
    const token = await cluster.serviceAccountToken(NS, 'csi-cert-driver-issuer');
    const core = cp.kubeconfigFor('issuer-probe', token).kubeConfig.makeApiClient(CoreV1Api);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: { code?: number }) => e.code,
      );
    expect(await code(core.readNamespacedSecret({ namespace: NS, name: CA_SECRET }))).toBe(200);
    expect(await code(core.readNamespacedPod({ namespace: APPS, name: 'web-1' }))).toBe(200);
    expect(await code(core.listNamespacedSecret({ namespace: NS }))).toBe(403);
    expect(await code(core.listNamespacedPod({ namespace: APPS }))).toBe(403);
    await cluster.tlsSecret(APPS, 'other-secret', { crt: 'x', key: 'y' });
    expect(await code(core.readNamespacedSecret({ namespace: APPS, name: 'other-secret' }))).toBe(403);
    expect(await code(core.deleteNamespacedPod({ namespace: APPS, name: 'web-1', dryRun: 'All' }))).toBe(403);
  });
});

describe('CA from a watched Secret', () => {
  it('signs with a rotated CA without a restart, and keeps the CA when the Secret turns invalid', async () => {
    const ca1File = join(tmp, 'ca1.crt');
    const first = await sign({ pod: pods.web1, token: tokens.web1!, csr: own('web-1') });
    writeFileSync(join(tmp, 'first.crt'), first.certificatePem);
    expect((await verifyChain(ca1File, join(tmp, 'first.crt'))).ok).toBe(true);

    const ca2 = await ca('ca2');
    await cluster.tlsSecret(NS, CA_SECRET, { crt: ca2.crt, key: ca2.key, ca: ca2.crt });
    // Trust first (the bundle gains CA 2 while CA 1 still signs), then CA 2 signs after CA_ROTATION_DELAY.
    await waitFor('CA 2 in the trust bundle', async () =>
      (await issuer.client.caBundle()).includes(ca2.crt.trim()) ? true : undefined,
    );
    const rotated = await waitFor(
      'a certificate from the rotated CA',
      async () => {
        const res = await sign({ pod: pods.web1, token: tokens.web1!, csr: own('web-1') });
        writeFileSync(join(tmp, 'rotated.crt'), res.certificatePem);
        return (await verifyChain(ca2.certFile, join(tmp, 'rotated.crt'))).ok ? res : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect((await verifyChain(ca1File, join(tmp, 'rotated.crt'))).ok).toBe(false);
    // CA 1 stays trusted while certificates it signed can still be valid.
    expect(rotated.caBundlePem).toContain(ca2.crt.trim());
    expect(rotated.caBundlePem).toContain(readFileSync(ca1File, 'utf8').trim());
    expect(issuer.proc.exitStatus).toBeUndefined();

    // A broken rotation (the key of another CA) is refused; the issuer keeps signing with CA 2.
    await cluster.tlsSecret(NS, CA_SECRET, { crt: ca2.crt, key: (await ca('ca3')).key });
    await waitFor('the invalid CA Secret to be logged', () =>
      issuer.proc.logLines().some((l) => l.msg === 'CA Secret changed but is invalid; keeping the CA in use')
        ? true
        : undefined,
    );
    const after = await sign({ pod: pods.web1, token: tokens.web1!, csr: own('web-1') });
    writeFileSync(join(tmp, 'after.crt'), after.certificatePem);
    expect((await verifyChain(ca2.certFile, join(tmp, 'after.crt'))).ok).toBe(true);
    const text = await opensslOk(['x509', '-in', join(tmp, 'after.crt'), '-noout', '-ext', 'subjectAltName']);
    expect(text).toContain('URI:spiffe://cluster.local/ns/apps/sa/web');
  });

  it('refuses to start when the CA Secret does not exist, naming CA_SECRET_NAME', async () => {
    const token = await cluster.serviceAccountToken(NS, 'csi-cert-driver-issuer');
    const bad = await startIssuerProcess({
      suite: SUITE,
      name: 'issuer-missing-secret',
      cwd: tmp,
      waitReady: false,
      settings: {
        ISSUER_AUTH: 'kubernetes',
        CA_SECRET_NAME: 'no-such-secret',
        CA_SECRET_NAMESPACE: NS,
        KUBECONFIG: cp.kubeconfigFor('issuer-2', token).path,
      },
    });
    const exit = await bad.proc.exited;
    bad.client.close();
    expect(exit.code).not.toBe(0);
    // RBAC names only csi-ca-secret, so the API server answers 403 before it could say 404.
    expect(bad.proc.logText()).toMatch(/CA_SECRET_NAME \(Secret csi-cert-driver\/no-such-secret\)/);
  });
});

describe('Kubernetes access without the client library (ADR 30)', () => {
  it('never loads @kubernetes/client-node with a token kubeconfig: TokenReview, pods, CA Secret read and watch', () => {
    // By now this issuer has reviewed tokens, read pods, read its CA Secret and rotated from its watch.
    const log = issuer.proc.logText();
    expect(log).toContain('"transport":"https"');
    expect(log).toContain('CA rotated from Secret');
    expect(issuer.proc.logLines().filter((l) => l.msg === 'certificate signed').length).toBeGreaterThan(3);
    expect(log).not.toContain(LIBRARY_MARKER);
  });

  it('falls back to the client library for an exec-plugin kubeconfig, and works the same', async () => {
    // A valid CA in the Secret again (the test above left the key of another CA in it).
    const ca4 = await ca('ca4');
    await cluster.tlsSecret(NS, CA_SECRET, { crt: ca4.crt, key: ca4.key });
    const token = await cluster.serviceAccountToken(NS, 'csi-cert-driver-issuer');
    const exec = await startIssuerProcess({
      suite: SUITE,
      name: 'issuer-exec',
      cwd: tmp,
      settings: issuerSettings(
        execPluginKubeconfig({ dir: tmp, name: 'issuer-exec', server: cp.server, caPem: cp.caPem, token }),
      ),
    });
    try {
      const res = await sign({ pod: pods.web1, token: tokens.web1!, csr: own('web-1') }, exec.client);
      writeFileSync(join(tmp, 'exec.crt'), res.certificatePem);
      expect((await verifyChain(ca4.certFile, join(tmp, 'exec.crt'))).ok).toBe(true);
      // A forged token is refused over this path too.
      const forged = await statusOf(
        sign({ pod: pods.web1, token: `${tokens.web1!.slice(0, -4)}AAAA`, csr: own('web-1') }, exec.client),
      );
      expect(forged).toBe('UNAUTHENTICATED');
      // The hook's positive control: it sees the library's load.
      expect(exec.proc.logText()).toContain(LIBRARY_MARKER);
      expect(exec.proc.logText()).toContain('"transport":"library"');
    } finally {
      await exec.stop();
    }
  });
});
