import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { openssl } from '../../pki/testing/openssl.js';
import { describeKubeError, kubeStatusCode } from './kube-errors.js';
import { httpsKubeJson } from './kube-https.js';
import { KubeHttpError, NoConnectionPoolError, kubeJson, type KubeJson } from './kube-json.js';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  contentType: string | undefined;
  body: string;
  /** `1.1` or `2.0`. */
  version: string;
}

/**
 * Loopback servers that record each request and answer with `answer(url)`: plain HTTP/1.1, and TLS
 * speaking HTTP/2 (and HTTP/1.1 to a client that does not offer h2) with a certificate from the
 * OpenSSL CLI.
 */
let server: Server;
let origin: string;
let tlsServer: Http2SecureServer;
let tlsOrigin: string;
let tlsCa: string;
const tlsSockets = new Set<Socket>();
const dir = mkdtempSync(join(tmpdir(), 'ccd-kube-json-'));
const seen: Seen[] = [];
/** Responses held open by the `/hang` route, ended by the tests' cleanup. */
const hanging: Res[] = [];

function answer(url: string): { status: number; body: string } {
  if (url.includes('/missing')) {
    return {
      status: 404,
      body: JSON.stringify({ kind: 'Status', message: 'certificaterequests "missing" not found' }),
    };
  }
  if (url.includes('/empty')) return { status: 200, body: '' };
  if (url.includes('/malformed')) return { status: 200, body: '{"data":{"tls.key":"LS0tLS1CRUdJTi' };
  return { status: 200, body: JSON.stringify({ metadata: { name: 'web-1-abcde' }, echo: url }) };
}

type Req = IncomingMessage | Http2ServerRequest;
/** What the handlers use of an HTTP/1.1 or HTTP/2 server's response. */
interface Res {
  writeHead(status: number, headers?: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(chunk: string): unknown;
}

function read(req: Req): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
  });
}

function handle(req: Req, res: Res): void {
  void read(req).then((body) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
      version: req.httpVersion,
    });
    if (req.url?.startsWith('/watch')) return streamWatch(req.url, res);
    const a = answer(req.url ?? '');
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(a.body);
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = await openssl(
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=apiserver', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
  ); // prettier-ignore
  if (r.code !== 0) throw new Error(r.stderr);
  tlsCa = readFileSync(join(dir, 'tls.crt'), 'utf8');
  tlsServer = createSecureServer(
    { cert: tlsCa, key: readFileSync(join(dir, 'tls.key'), 'utf8'), allowHTTP1: true },
    handle,
  );
  tlsServer.on('connection', (s: Socket) => {
    tlsSockets.add(s);
    s.on('close', () => tlsSockets.delete(s));
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsOrigin = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  for (const r of hanging) r.end('');
  for (const s of tlsSockets) s.destroy();
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * `/watch/events`: two events, the second split over chunks, a line that is not JSON, then the end.
 * `/watch/forbidden`: 403. `/watch/hang`: one event, then silence with the connection open.
 */
function streamWatch(url: string, res: Res): void {
  if (url.startsWith('/watch/forbidden')) {
    res.writeHead(403);
    res.end(JSON.stringify({ kind: 'Status', message: 'watch is forbidden' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  const added = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } });
  if (url.startsWith('/watch/hang')) {
    res.write(`${added}\n`);
    hanging.push(res);
    return;
  }
  const modified = JSON.stringify({
    type: 'MODIFIED',
    object: { metadata: { name: 'a', resourceVersion: '7' } },
  });
  res.write(`${added}\n${modified.slice(0, 10)}`);
  setTimeout(() => {
    res.write(`${modified.slice(10)}\nnot json\n\n`);
    res.end('');
  }, 20);
}

/** Runs a watch of `path` to its end; returns its events and what onDone got. */
function watchOf(json: KubeJson, path: string, idleMs?: number, abortAfterFirst = false) {
  const events: [string, unknown][] = [];
  return new Promise<{ events: [string, unknown][]; err: unknown }>((resolve) => {
    let handle: Promise<{ abort(): void }> | undefined = undefined;
    handle = json.watch(
      path,
      (type, object) => {
        events.push([type, object]);
        if (abortAfterFirst) void handle?.then((h) => h.abort());
      },
      (err) => resolve({ events, err }),
      idleMs,
    );
  });
}

/** A kubeconfig with a bearer token; plain HTTP, which the library allows only with skipTLSVerify. */
function kubeConfig(server: string, token = 'token-a'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: server.startsWith('http:') }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const token = (t = 'token-a') => ({ read: () => Promise.resolve(Buffer.from(t)) });

/**
 * The transports of the KubeJson contract: the client library's, and kube-https.ts (ADR 27, ADR 30)
 * over plain HTTP/1.1, over HTTP/2 (h2 by ALPN) and over TLS with HTTP/2 turned off; each with the
 * server it talks to and the HTTP version that server must see.
 */
const TRANSPORTS: {
  name: string;
  tls: boolean;
  version: string;
  make: (server: string, token?: string) => KubeJson;
}[] = [
  { name: 'library', tls: false, version: '1.1', make: (server, t) => kubeJson(kubeConfig(server, t)) },
  {
    name: 'kube-https, HTTP/1.1 (http:)',
    tls: false,
    version: '1.1',
    make: (server, t) => httpsKubeJson({ server, insecureSkipTlsVerify: false, token: token(t) }),
  },
  {
    name: 'kube-https, HTTP/2',
    tls: true,
    version: '2.0',
    make: (server, t) =>
      httpsKubeJson({ server, insecureSkipTlsVerify: false, ca: token(tlsCa), token: token(t) }),
  },
  {
    name: 'kube-https, HTTP/1.1 over TLS (http2: false)',
    tls: true,
    version: '1.1',
    make: (server, t) =>
      httpsKubeJson(
        { server, insecureSkipTlsVerify: false, ca: token(tlsCa), token: token(t) },
        { http2: false },
      ),
  },
];

describe.each(TRANSPORTS)('the KubeJson contract: $name', ({ make: makeFor, tls, version }) => {
  const base = () => (tls ? tlsOrigin : origin);
  /** `origin` names the plain server in the cases below; each transport gets its own server. */
  const make = (server: string, t?: string) => makeFor(server.replace(origin, base()), t);

  it.each([
    {
      name: 'POST with a JSON body',
      method: 'POST' as const,
      body: { spec: { a: 1 } },
      wantType: 'application/json',
    },
    { name: 'GET without a body', method: 'GET' as const, body: undefined, wantType: undefined },
    { name: 'DELETE without a body', method: 'DELETE' as const, body: undefined, wantType: undefined },
  ])('$name: sends the token, path and body; parses the answer', async ({ method, body, wantType }) => {
    seen.length = 0;
    const path = '/apis/cert-manager.io/v1/namespaces/apps/certificaterequests?labelSelector=a%3Db';
    const res = await make(origin).request(method, path, body);
    expect(res).toEqual({ metadata: { name: 'web-1-abcde' }, echo: path });
    expect(seen).toEqual([
      {
        method,
        url: path,
        auth: 'Bearer token-a',
        contentType: wantType,
        body: body === undefined ? '' : JSON.stringify(body),
        version,
      },
    ]);
  });

  it('keeps the path of a server URL with a prefix', async () => {
    seen.length = 0;
    await make(`${origin}/k8s/clusters/c-1/`).request('GET', '/api/v1/pods');
    expect(seen[0]?.url).toBe('/k8s/clusters/c-1/api/v1/pods');
  });

  it('answers {} for an empty body', async () => {
    await expect(make(origin).request('DELETE', '/empty')).resolves.toEqual({});
  });

  it('rejects a 200 answer that is not JSON naming the request, quoting none of the answer', async () => {
    const e: unknown = await make(origin)
      .request('GET', '/api/v1/namespaces/certs/secrets/malformed?resourceVersion=1')
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe(
      "the API server's answer to GET /api/v1/namespaces/certs/secrets/malformed is not JSON",
    );
    expect(kubeStatusCode(e)).toBeUndefined();
  });

  it('rejects an error status with a KubeHttpError that kube-errors reads like an ApiException', async () => {
    const e: unknown = await make(origin)
      .request('GET', '/missing')
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeHttpError);
    expect(kubeStatusCode(e)).toBe(404);
    expect(describeKubeError(e)).toBe('HTTP 404: certificaterequests "missing" not found');
  });

  it('rejects without a status code when the server is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e: unknown = await makeFor(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`)
      .request('GET', '/api')
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(kubeStatusCode(e)).toBeUndefined();
  });

  it('watch: calls onEvent per line across chunks, skips what is not JSON, ends with null', async () => {
    seen.length = 0;
    const { events, err } = await watchOf(make(origin), '/watch/events?watch=true&labelSelector=a%3Db');
    expect(events).toEqual([
      ['ADDED', { metadata: { name: 'a' } }],
      ['MODIFIED', { metadata: { name: 'a', resourceVersion: '7' } }],
    ]);
    expect(err).toBeNull();
    expect(seen[0]).toMatchObject({
      method: 'GET',
      url: '/watch/events?watch=true&labelSelector=a%3Db',
      auth: 'Bearer token-a',
      version,
    });
  });

  it('watch: a refused watch ends with a KubeHttpError carrying the status', async () => {
    const { events, err } = await watchOf(make(origin), '/watch/forbidden');
    expect(events).toEqual([]);
    expect(kubeStatusCode(err)).toBe(403);
    expect(describeKubeError(err)).toBe('HTTP 403: watch is forbidden');
  });

  it('watch: ends with a TimeoutError after idleMs without data', async () => {
    const { events, err } = await watchOf(make(origin), '/watch/hang', 150);
    expect(events).toHaveLength(1);
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('watch: abort ends it with an error that is not a timeout', async () => {
    const { events, err } = await watchOf(make(origin), '/watch/hang', 30_000, true);
    expect(events).toHaveLength(1);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).not.toBe('TimeoutError');
  });

  it('sends a patch with its content type', async () => {
    seen.length = 0;
    await make(origin).request(
      'PATCH',
      '/api/v1/namespaces/a/events/e',
      { count: 2 },
      'application/merge-patch+json',
    );
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: '{"count":2}',
    });
  });
});

describe('kubeJson on a library KubeConfig', () => {
  it('watch: rejects with NoConnectionPoolError, never calling onDone, when the library gives no pool', async () => {
    // https with no CA, client certificate or skipTLSVerify: the library's dispatcher type is "none".
    const kc = kubeConfig('https://127.0.0.1:1');
    let done = false;
    await expect(
      kubeJson(kc).watch(
        '/api/v1/pods?watch=true',
        () => undefined,
        () => (done = true),
      ),
    ).rejects.toBeInstanceOf(NoConnectionPoolError);
    expect(done).toBe(false);
  });

  it('throws for a kubeconfig without a current cluster', () => {
    expect(() => kubeJson(new KubeConfig())).toThrow(/no current cluster/);
  });
});
