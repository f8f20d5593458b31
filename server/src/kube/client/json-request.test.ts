import type { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeJson, KubeHttpError } from './json-request.js';
import { describeKubeError, kubeStatusCode } from './kube-errors.js';

interface Sent {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** A KubeConfig whose authentication sets a bearer token and a dispatcher answering `status`/`text`. */
function fakeConfig(server: string, status: number, text: string) {
  const sent: Sent[] = [];
  const dispatcher = {
    request: (o: Sent) => {
      sent.push(o);
      return Promise.resolve({ statusCode: status, body: { text: () => Promise.resolve(text) } });
    },
  };
  const kc = {
    getCurrentCluster: () => ({ server }),
    applySecurityAuthentication: (ctx: {
      setHeaderParam(k: string, v: string): void;
      setDispatcher(d: unknown): void;
    }) => {
      ctx.setHeaderParam('Authorization', 'Bearer issuer-token');
      ctx.setDispatcher(dispatcher);
      return Promise.resolve();
    },
  } as unknown as KubeConfig;
  return { kc, sent };
}

describe('kubeJson', () => {
  it('sends the JSON body with the kubeconfig credentials to the server, path prefix kept', async () => {
    const { kc, sent } = fakeConfig(
      'https://api.example:6443/prefix/',
      201,
      '{"status":{"authenticated":true}}',
    );
    const out = await kubeJson(kc)('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      spec: { token: 't' },
    });
    expect(out).toEqual({ status: { authenticated: true } });
    expect(sent).toEqual([
      {
        origin: 'https://api.example:6443',
        path: '/prefix/apis/authentication.k8s.io/v1/tokenreviews',
        method: 'POST',
        headers: {
          accept: 'application/json',
          Authorization: 'Bearer issuer-token',
          'content-type': 'application/json',
        },
        body: '{"spec":{"token":"t"}}',
      },
    ]);
  });

  it.each([
    {
      status: 404,
      text: '{"kind":"Status","message":"pods \\"x\\" not found"}',
      want: 'HTTP 404: pods "x" not found',
    },
    { status: 403, text: '{"message":"forbidden"}', want: 'HTTP 403: forbidden' },
    { status: 503, text: 'upstream down', want: 'HTTP 503' },
  ])('an HTTP $status rejects with its status and the API server message', async ({ status, text, want }) => {
    const { kc } = fakeConfig('https://api.example', status, text);
    const err = await kubeJson(kc)('GET', '/api/v1/namespaces/a/pods/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeHttpError);
    expect(kubeStatusCode(err)).toBe(status);
    expect(describeKubeError(err)).toBe(want);
  });
});
