import { describe, expect, it } from 'vitest';
import { Code, isDomainError } from '../../common/errors.js';
import { CertificateRequestApi, certificateRequestObject, viewOf } from './certificate-requests.js';
import type { KubeJson } from '../client/kube-json.js';
import { WATCH_IDLE_MS, nodeRequestsApi } from './certificate-request-watch.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** An ApiException-shaped error (kube-errors recognises it by shape). */
function apiError(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP ${code}`), { code, body: JSON.stringify({ message }), headers: {} });
}

/** A KubeJson whose every request fails with `fail`. */
function api(fail: unknown): CertificateRequestApi {
  const fake: KubeJson = {
    request: () => Promise.reject(fail),
    watch: () => Promise.reject(fail),
  };
  return new CertificateRequestApi({ json: fake, who: 'service account apps/web', callTimeoutMs: 200 });
}

const NEW = {
  namespace: 'apps',
  generateName: 'web-1-',
  labels: { 'csi.k8s.cert-driver/node': 'node-a' },
  annotations: { 'csi.k8s.cert-driver/volume-id': 'v' },
  owner: { name: 'web-1', uid: 'uid-1' },
  csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n',
  issuerRef: { name: 'ca', kind: 'Issuer', group: 'cert-manager.io' },
  duration: '1h0m0s',
  isCA: false,
  usages: ['server auth'],
  username: 'system:serviceaccount:apps:web',
};

describe('CertificateRequest objects', () => {
  it('builds the object the API server gets', () => {
    expect(certificateRequestObject(NEW)).toEqual({
      apiVersion: 'cert-manager.io/v1',
      kind: 'CertificateRequest',
      metadata: {
        generateName: 'web-1-',
        namespace: 'apps',
        labels: NEW.labels,
        annotations: NEW.annotations,
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'uid-1', blockOwnerDeletion: false },
        ],
      },
      spec: {
        request: b64(NEW.csrPem),
        issuerRef: NEW.issuerRef,
        duration: '1h0m0s',
        isCA: false,
        usages: ['server auth'],
        username: 'system:serviceaccount:apps:web',
      },
    });
  });

  it('reads status.certificate and status.ca as PEM text', () => {
    const v = viewOf({
      metadata: { name: 'n', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:00Z' },
      status: { conditions: [{ type: 'Ready', status: 'True' }], certificate: b64('CERT'), ca: b64('CA') },
    });
    expect(v).toMatchObject({
      name: 'n',
      namespace: 'ns',
      certificate: 'CERT',
      ca: 'CA',
      labels: {},
      annotations: {},
    });
    expect(v.creationTimestamp?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('CertificateRequestApi errors', () => {
  it.each([
    {
      name: '403 on create',
      err: apiError(403, 'forbidden'),
      op: 'create',
      code: Code.PERMISSION_DENIED,
      text: /service account apps\/web may not create .* in namespace apps/,
    },
    {
      name: '401',
      err: apiError(401, 'Unauthorized'),
      op: 'create',
      code: Code.UNAUTHENTICATED,
      text: /rejected the credentials/,
    },
    {
      name: '404 on create (no CRD)',
      err: apiError(404, 'not found'),
      op: 'create',
      code: Code.FAILED_PRECONDITION,
      text: /not installed/,
    },
    { name: '500', err: apiError(500, 'etcd'), op: 'create', code: Code.UNAVAILABLE, text: /unreachable/ },
    {
      name: 'a network error',
      err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      op: 'create',
      code: Code.UNAVAILABLE,
      text: /ECONNREFUSED/,
    },
    {
      name: '422',
      err: apiError(422, 'invalid usages'),
      op: 'create',
      code: Code.INTERNAL,
      text: /invalid usages/,
    },
    {
      name: '403 on list',
      err: apiError(403, 'forbidden'),
      op: 'list',
      code: Code.PERMISSION_DENIED,
      text: /may not list .* in all namespaces/,
    },
  ])('maps $name', async ({ err, op, code, text }) => {
    const a = api(err);
    const got: unknown = await (op === 'create' ? a.create(NEW) : a.listByLabel('k', 'v')).catch(
      (e: unknown) => e,
    );
    expect(isDomainError(got) && got.code).toBe(code);
    expect((got as Error).message).toMatch(text);
  });

  it('treats 404 on get as gone and on delete as done', async () => {
    const a = api(apiError(404, 'not found'));
    expect(await a.get('apps', 'x')).toBeUndefined();
    await expect(a.delete('apps', 'x')).resolves.toBeUndefined();
  });

  it('gives up on a call the API server does not answer (UNAVAILABLE)', async () => {
    const hang: KubeJson = {
      request: () => new Promise(() => undefined),
      watch: () => new Promise(() => undefined),
    };
    const a = new CertificateRequestApi({ json: hang, who: 'x', callTimeoutMs: 50 });
    const got: unknown = await a.get('apps', 'x').catch((e: unknown) => e);
    expect(isDomainError(got) && got.code).toBe(Code.UNAVAILABLE);
  });
});

describe('the requests sent', () => {
  /** A KubeJson that records each call and answers with `answer`. */
  function recorder(answer: (path: string) => unknown) {
    const calls: { method: string; path: string; body?: unknown; idleMs?: number }[] = [];
    const json: KubeJson = {
      request: (method, path, body) => {
        calls.push({ method, path, ...(body === undefined ? {} : { body }) });
        return Promise.resolve(answer(path));
      },
      watch: (path, _onEvent, _onDone, idleMs) => {
        calls.push({ method: 'WATCH', path, idleMs });
        return Promise.resolve({ abort: () => undefined });
      },
    };
    return { json, calls };
  }
  const NS_PATH = '/apis/cert-manager.io/v1/namespaces/apps/certificaterequests';

  it.each([
    {
      name: 'create',
      run: (a: CertificateRequestApi) => a.create(NEW),
      want: { method: 'POST', path: NS_PATH, body: certificateRequestObject(NEW) },
    },
    {
      name: 'get',
      run: (a: CertificateRequestApi) => a.get('apps', 'web-1-x'),
      want: { method: 'GET', path: `${NS_PATH}/web-1-x` },
    },
    {
      name: 'delete',
      run: (a: CertificateRequestApi) => a.delete('apps', 'web-1-x'),
      want: { method: 'DELETE', path: `${NS_PATH}/web-1-x` },
    },
  ])('$name', async ({ run, want }) => {
    const { json, calls } = recorder(() => ({ metadata: { name: 'web-1-x' } }));
    await run(new CertificateRequestApi({ json, who: 'x' }));
    expect(calls).toEqual([want]);
  });

  it('lists by label page by page, following the continue token', async () => {
    const { json, calls } = recorder((path) =>
      path.includes('continue=')
        ? { items: [{ metadata: { name: 'b', namespace: 'apps' } }], metadata: { resourceVersion: '9' } }
        : {
            items: [{ metadata: { name: 'a', namespace: 'apps' } }],
            metadata: { resourceVersion: '8', continue: 'c1' },
          },
    );
    const list = await new CertificateRequestApi({ json, who: 'x' }).listByLabel('k', 'v');
    expect(list.map((v) => v.name)).toEqual(['a', 'b']);
    expect(calls.map((c) => c.path)).toEqual([
      '/apis/cert-manager.io/v1/certificaterequests?limit=500&labelSelector=k%3Dv',
      '/apis/cert-manager.io/v1/certificaterequests?limit=500&labelSelector=k%3Dv&continue=c1',
    ]);
  });

  it("watches this node's requests until the API server ends the watch, not 30 s of silence", async () => {
    const { json, calls } = recorder(() => ({}));
    await nodeRequestsApi(json, 'node-a').watch(
      '41',
      () => undefined,
      () => undefined,
    );
    const [call] = calls;
    const query = new URL(`http://x${call!.path}`).searchParams;
    expect(query.get('labelSelector')).toBe('csi.k8s.cert-driver/node=node-a');
    expect(query.get('resourceVersion')).toBe('41');
    expect(query.get('allowWatchBookmarks')).toBe('true');
    expect(call!.idleMs).toBe(WATCH_IDLE_MS);
    expect(WATCH_IDLE_MS).toBeGreaterThan(Number(query.get('timeoutSeconds')) * 1000);
  });
});
