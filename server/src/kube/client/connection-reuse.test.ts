import { describe, expect, it } from 'vitest';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { MAX_SHARED_POOLS, reuseConnections } from './connection-reuse.js';

/** A kubeconfig for `server` with a CA (any PEM text: the Agent checks it only when it connects). */
function kubeConfig(server: string, token: string, ca = 'ca-1'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server,
        caData: Buffer.from(`-----BEGIN CERTIFICATE-----\n${ca}\n-----END CERTIFICATE-----\n`).toString(
          'base64',
        ),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** What the library does for one request: the dispatcher and headers it would send with. */
async function prepared(kc: KubeConfig) {
  const ctx = new RequestContext('https://api.example:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return { dispatcher: ctx.getDispatcher(), auth: ctx.getHeaders().Authorization };
}

describe('reuseConnections', () => {
  it('the library alone builds a new connection pool for every request (why this exists)', async () => {
    const kc = kubeConfig('https://plain.example:6443', 't');
    const [a, b] = [await prepared(kc), await prepared(kc)];
    expect(a.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher);
  });

  it('gives every request of a kubeconfig the same pool', async () => {
    const kc = reuseConnections(kubeConfig('https://one.example:6443', 't'));
    const [a, b] = [await prepared(kc), await prepared(kc)];
    expect(a.dispatcher).toBeDefined();
    expect(b.dispatcher).toBe(a.dispatcher);
    expect(reuseConnections(kc)).toBe(kc);
    expect((await prepared(kc)).dispatcher).toBe(a.dispatcher);
  });

  it('shares the pool between kubeconfigs that differ only in their token, keeping each token', async () => {
    const a = await prepared(reuseConnections(kubeConfig('https://two.example:6443', 'token-a')));
    const b = await prepared(reuseConnections(kubeConfig('https://two.example:6443', 'token-b')));
    expect(b.dispatcher).toBe(a.dispatcher);
    expect([a.auth, b.auth]).toEqual(['Bearer token-a', 'Bearer token-b']);
  });

  it.each([
    ['another server', 'https://three-b.example:6443', 'ca-1'],
    ['another CA', 'https://three.example:6443', 'ca-2'],
  ])('keeps a separate pool for %s', async (_name, server, ca) => {
    const a = await prepared(reuseConnections(kubeConfig('https://three.example:6443', 't', 'ca-1')));
    const b = await prepared(reuseConnections(kubeConfig(server, 't', ca)));
    expect(b.dispatcher).not.toBe(a.dispatcher);
  });

  it(`closes the least recently used pool beyond ${MAX_SHARED_POOLS}`, async () => {
    const first = await prepared(reuseConnections(kubeConfig('https://lru-0.example:6443', 't')));
    let closed = false;
    const d = first.dispatcher as unknown as { close(...args: unknown[]): unknown };
    const close = d.close.bind(d);
    d.close = (...args: unknown[]) => {
      closed = true;
      return close(...args);
    };
    for (let i = 1; i <= MAX_SHARED_POOLS; i++) {
      await prepared(reuseConnections(kubeConfig(`https://lru-${i}.example:6443`, 't')));
    }
    expect(closed).toBe(true);
    const again = await prepared(reuseConnections(kubeConfig('https://lru-0.example:6443', 't')));
    expect(again.dispatcher).not.toBe(first.dispatcher);
  });
});
