import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { Code, UnauthenticatedError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { buildCsr } from '../../pki/csr.js';
import { generateKey, type KeyPair } from '../../pki/keys.js';
import { testSpec } from '../../pki/testing/openssl.js';
import type {
  CallerRequest,
  PodFacts,
  PodReader,
  ReviewedToken,
  TokenReviewer,
} from './caller-authorizer.js';
import { KubernetesAuthorizer } from './kubernetes-authorizer.js';

const AUD = 'csi.k8s.cert-driver';
const web1: PodFacts = {
  name: 'web-1',
  namespace: 'apps',
  uid: 'uid-web-1',
  serviceAccount: 'web',
  nodeName: 'node-a',
  phase: 'Pending',
  podIPs: ['10.244.0.11', 'fd00::b'],
  hostname: 'web-1',
  subdomain: 'web',
};
const web1Token: ReviewedToken = {
  username: 'system:serviceaccount:apps:web',
  namespace: 'apps',
  serviceAccount: 'web',
  podName: 'web-1',
  podUid: 'uid-web-1',
  nodeName: 'node-a',
};

/** Fake TokenReview: 'good' is web-1's token, anything else is rejected as the API server would. */
const reviewToken = (async (token) => {
  if (token === 'good') return web1Token;
  if (token === 'no-node') return { ...web1Token, nodeName: undefined };
  if (token === 'cached') return { ...web1Token, fromCache: true };
  if (token === 'unbound')
    return { ...web1Token, podName: undefined, podUid: undefined, nodeName: undefined };
  throw new UnauthenticatedError(`token: not valid for audience "${AUD}"`);
}) satisfies TokenReviewer;

function podReader(pods: PodFacts[]): PodReader {
  return async (ns, name) => pods.find((p) => p.namespace === ns && p.name === name);
}

let keys: KeyPair;
beforeAll(async () => {
  keys = await generateKey({ algorithm: 'ECDSA', size: 256 });
});

interface Names {
  cn?: string;
  dns?: string[];
  uris?: string[];
  ips?: string[];
  emails?: string[];
}

async function request(names: Names, over: Partial<CallerRequest> = {}): Promise<CallerRequest> {
  const base = testSpec();
  const csrPem = await buildCsr(
    testSpec({
      subject: { ...base.subject, commonName: names.cn },
      dnsNames: names.dns ?? [],
      uris: names.uris ?? [],
      ipAddresses: names.ips ?? [],
      emailAddresses: names.emails ?? [],
    }),
    keys,
  );
  return {
    token: 'good',
    pod: { name: 'web-1', namespace: 'apps', uid: 'uid-web-1', serviceAccount: 'web' },
    nodeId: 'node-a',
    volumeId: 'csi-1',
    csrPem,
    ...over,
  };
}

function authorizer(
  pods: PodFacts[] = [web1],
  allowedDnsNames: string[] = [],
  podLookup: 'always' | 'when-needed' = 'always',
) {
  const out = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  out.on('data', (b: Buffer) =>
    b
      .toString()
      .split('\n')
      .filter(Boolean)
      .forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
  );
  const reads: string[] = [];
  const read = podReader(pods);
  const a = new KubernetesAuthorizer({
    reviewToken,
    readPod: (ns, name) => (reads.push(`${ns}/${name}`), read(ns, name)),
    podLookup,
    identity: { clusterDomain: 'cluster.local', trustDomain: 'example.org', allowedDnsNames },
    audience: AUD,
    logger: createLogger({ level: 'info', role: 'issuer', destination: out }),
  });
  return { a, lines, reads };
}

const PD = Code.PERMISSION_DENIED;
const UA = Code.UNAUTHENTICATED;

describe('KubernetesAuthorizer', () => {
  it.each<{
    name: string;
    names: Names;
    over?: Partial<CallerRequest>;
    pods?: PodFacts[];
    allow?: string[];
    want: number | 'ok';
  }>([
    { name: 'own default names', names: { cn: 'web-1.apps.svc.cluster.local', dns: ['web-1'] }, want: 'ok' },
    { name: 'pod.ns and pod.ns.svc', names: { dns: ['web-1.apps', 'web-1.apps.svc'] }, want: 'ok' },
    { name: 'hostname.subdomain form', names: { dns: ['web-1.web.apps.svc.cluster.local'] }, want: 'ok' },
    { name: 'own SPIFFE ID', names: { uris: ['spiffe://example.org/ns/apps/sa/web'] }, want: 'ok' },
    {
      name: 'pod IPs (v6 spelled differently)',
      names: { cn: 'web-1', ips: ['10.244.0.11', 'fd00:0:0::b'] },
      want: 'ok',
    },
    {
      name: 'policy pattern',
      names: { dns: ['api.apps.example.com'] },
      allow: ['*.${POD_NAMESPACE}.example.com'],
      want: 'ok',
    },
    { name: 'other pod name', names: { dns: ['web-2'] }, want: PD },
    { name: 'other namespace', names: { dns: ['web-1.other.svc'] }, want: PD },
    { name: 'other CN', names: { cn: 'kubernetes.default.svc' }, want: PD },
    {
      name: 'SPIFFE ID of another trust domain',
      names: { uris: ['spiffe://cluster.local/ns/apps/sa/web'] },
      want: PD,
    },
    { name: 'other URI', names: { cn: 'web-1', uris: ['https://web-1'] }, want: PD },
    { name: 'email SAN', names: { cn: 'web-1', emails: ['web@apps'] }, want: PD },
    { name: 'foreign IP', names: { cn: 'web-1', ips: ['10.0.0.1'] }, want: PD },
    {
      name: 'pattern of another namespace',
      names: { dns: ['api.other.example.com'] },
      allow: ['*.${POD_NAMESPACE}.example.com'],
      want: PD,
    },
    { name: 'no token', names: { dns: ['web-1'] }, over: { token: '' }, want: UA },
    { name: 'invalid token', names: { dns: ['web-1'] }, over: { token: 'forged' }, want: UA },
    { name: 'token not bound to a pod', names: { dns: ['web-1'] }, over: { token: 'unbound' }, want: PD },
    {
      name: 'token of another pod',
      names: { dns: ['web-2'] },
      over: { pod: { name: 'web-2', namespace: 'apps', uid: 'uid-web-2', serviceAccount: 'web' } },
      want: PD,
    },
    {
      name: 'token of another namespace',
      names: { dns: ['web-1'] },
      over: { pod: { name: 'web-1', namespace: 'other', uid: 'uid-web-1', serviceAccount: 'web' } },
      want: PD,
    },
    {
      name: 'wrong uid',
      names: { dns: ['web-1'] },
      over: { pod: { ...web1, uid: 'x', serviceAccount: 'web' } },
      want: PD,
    },
    {
      name: 'wrong service account',
      names: { dns: ['web-1'] },
      over: { pod: { ...web1, serviceAccount: 'db' } },
      want: PD,
    },
    { name: 'token from another node', names: { dns: ['web-1'] }, over: { nodeId: 'node-b' }, want: PD },
    { name: 'pod deleted', names: { dns: ['web-1'] }, pods: [], want: PD },
    {
      name: 'pod replaced (new uid)',
      names: { dns: ['web-1'] },
      pods: [{ ...web1, uid: 'uid-new' }],
      want: PD,
    },
    {
      name: 'pod moved to another node',
      names: { dns: ['web-1'] },
      pods: [{ ...web1, nodeName: 'node-b' }],
      want: PD,
    },
    { name: 'pod terminated', names: { dns: ['web-1'] }, pods: [{ ...web1, phase: 'Succeeded' }], want: PD },
  ])('$name', async ({ names, over, pods, allow, want }) => {
    const { a } = authorizer(pods, allow);
    const result = a.authorize(await request(names, over));
    if (want === 'ok') await expect(result).resolves.toEqual({ username: 'system:serviceaccount:apps:web' });
    else await expect(result).rejects.toMatchObject({ code: want });
  });

  it('names both token placements and every setting when no token came', async () => {
    const { a } = authorizer();
    const err = (await a
      .authorize(await request({ dns: ['web-1'] }, { token: '' }))
      .catch((e: unknown) => e)) as {
      code: number;
      message: string;
    };
    expect(err.code).toBe(UA);
    for (const want of [
      `audience "${AUD}"`,
      'spec.tokenRequests',
      'secrets',
      'volume context',
      'serviceAccountTokenInSecrets',
      'ISSUER_TOKEN_AUDIENCE',
    ])
      expect(err.message).toContain(want);
  });

  it('logs one audit line per denial with pod, node, caller and reason, never the token', async () => {
    const { a, lines } = authorizer();
    await expect(a.authorize(await request({ dns: ['web-2'] }))).rejects.toMatchObject({ code: PD });
    await expect(a.authorize(await request({ dns: ['web-1'] }, { token: 'forged' }))).rejects.toMatchObject({
      code: UA,
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      msg: 'issuance denied',
      audit: 'issuance',
      decision: 'denied',
      pod: 'apps/web-1',
      node: 'node-a',
      caller: 'system:serviceaccount:apps:web',
    });
    expect(String(lines[0]?.reason)).toContain("'web-2'");
    expect(JSON.stringify(lines)).not.toContain('forged');
  });

  describe('podLookup: when-needed', () => {
    it.each<{
      name: string;
      names: Names;
      over?: Partial<CallerRequest>;
      pods?: PodFacts[];
      reads: number;
      want: number | 'ok';
    }>([
      {
        name: 'own names: the token vouches, no read',
        names: { cn: 'web-1.apps.svc.cluster.local', dns: ['web-1'] },
        reads: 0,
        want: 'ok',
      },
      {
        name: 'own SPIFFE ID: no read',
        names: { uris: ['spiffe://example.org/ns/apps/sa/web'] },
        reads: 0,
        want: 'ok',
      },
      { name: 'a pod IP needs the pod', names: { cn: 'web-1', ips: ['10.244.0.11'] }, reads: 1, want: 'ok' },
      {
        name: 'the hostname form needs the pod',
        names: { dns: ['web-1.web.apps.svc.cluster.local'] },
        reads: 1,
        want: 'ok',
      },
      { name: 'a foreign name is read, then refused', names: { dns: ['web-2'] }, reads: 1, want: PD },
      {
        name: 'a foreign IP of a deleted pod',
        names: { ips: ['10.244.0.11'] },
        pods: [],
        reads: 1,
        want: PD,
      },
      {
        name: 'another node is refused before any read',
        names: { dns: ['web-1'] },
        over: { nodeId: 'node-b' },
        reads: 0,
        want: PD,
      },
      {
        name: 'an invalid token is refused before any read',
        names: { dns: ['web-1'] },
        over: { token: 'forged' },
        reads: 0,
        want: UA,
      },
      {
        name: 'a token without a node claim reads the pod',
        names: { dns: ['web-1'] },
        over: { token: 'no-node' },
        pods: [{ ...web1, phase: 'Succeeded' }],
        reads: 1,
        want: PD,
      },
    ])('$name', async ({ names, over, pods, reads, want }) => {
      const { a, reads: done } = authorizer(pods, [], 'when-needed');
      const result = a.authorize(await request(names, over));
      if (want === 'ok')
        await expect(result).resolves.toEqual({ username: 'system:serviceaccount:apps:web' });
      else await expect(result).rejects.toMatchObject({ code: want });
      expect(done).toHaveLength(reads);
    });
  });
});
