/**
 * The node:http2 / node:https transport's TLS and credentials against loopback TLS servers with
 * certificates made by the OpenSSL CLI, for each protocol: an HTTP/2 server (h2 negotiated by ALPN)
 * and an HTTP/1.1-only one (the fall-back). The server's certificate is checked against the
 * kubeconfig's CA (a wrong CA fails), insecure-skip-tls-verify and tls-server-name, the client
 * certificate and its rotation, one connection shared by identities that differ only in their token
 * and by many requests at once, a token file re-read as it rotates, and an HTTP/2 session the server
 * drops replaced by a new one. (The request/watch contract itself: kube-json.test.ts, for every
 * transport.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createSecureServer, type Http2ServerRequest } from 'node:http2';
import { createServer } from 'node:https';
import {
  createServer as createTcpServer,
  connect as tcpConnect,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../../pki/testing/openssl.js';
import { kubeStatusCode } from './kube-errors.js';
import { httpsKubeJson } from './kube-https.js';
import { FILE_REFRESH_MS, loadClusterAccess, type ClusterAccess, type Material } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'ccd-kube-https-'));
/** TCP connections accepted by all the servers. */
let connections = 0;
let inFlight = 0;
let maxInFlight = 0;
const seen: { auth: string | undefined; client: string | undefined; version: string; url: string }[] = [];

/** A self-signed certificate and key (`name.crt`, `name.key`) for `san`. */
async function selfSigned(name: string, san: string): Promise<{ crt: string; key: string }> {
  const r = await openssl(
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`,
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`),
  ); // prettier-ignore
  if (r.code !== 0) throw new Error(r.stderr);
  return {
    crt: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
}

let serverCert: { crt: string; key: string };
let namedCert: { crt: string; key: string };
let clientCert: { crt: string; key: string };
let rotatedClientCert: { crt: string; key: string };
const servers: TlsServer[] = [];
const sockets = new Set<Socket>();

type Protocol = 'h2' | 'http/1.1';

/**
 * A TLS server that asks for a client certificate and answers `{"ok":true}`; `h2` speaks HTTP/2
 * (and HTTP/1.1 to clients that do not offer h2), `http/1.1` only HTTP/1.1. `/big` answers 3 MiB
 * (beyond HTTP/2's default flow-control window); `/slow` answers after
 * 50 ms; `/hang` never answers; `/drop` destroys the HTTP/2 session without answering; `/goaway` answers, then closes the
 * session (GOAWAY).
 */
function listen(cert: { crt: string; key: string }, protocol: Protocol): Promise<string> {
  const options = {
    cert: cert.crt,
    key: cert.key,
    requestCert: true,
    rejectUnauthorized: false,
    ca: clientCert.crt,
  };
  const handle = (
    req: IncomingMessage | Http2ServerRequest,
    res: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown },
  ) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({
      auth: req.headers.authorization,
      client: String(peer.subject?.CN),
      version: req.httpVersion,
      url: req.url ?? '',
    });
    const stream = 'stream' in req ? req.stream : undefined;
    if (req.url === '/drop' && stream) return stream.session?.destroy();
    if (req.url === '/hang') return;
    const ok = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/big' ? JSON.stringify({ items: 'x'.repeat(3 * 1024 * 1024) }) : '{"ok":true}');
      if (req.url === '/goaway' && stream) stream.session?.close();
    };
    if (req.url !== '/slow') return ok();
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    setTimeout(() => {
      inFlight--;
      ok();
    }, 50);
  };
  const s: TlsServer =
    protocol === 'h2'
      ? createSecureServer({ ...options, allowHTTP1: true }, handle)
      : createServer(options, handle);
  s.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(s);
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );
}

const origins = {} as Record<Protocol, { plain: string; named: string }>;

/**
 * A TCP relay to `origin`: `silence()` makes the connections open now drop whatever either side
 * sends, as a peer that vanished without closing would (later connections are relayed).
 */
async function relay(origin: string): Promise<{ origin: string; accepted(): number; silence(): void }> {
  const port = Number(new URL(origin).port);
  const live = new Set<{ silent: boolean }>();
  let accepted = 0;
  const server: TcpServer = createTcpServer((client) => {
    accepted++;
    const pair = { silent: false };
    live.add(pair);
    const upstream = tcpConnect(port, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (c: Buffer) => pair.silent || to.write(c));
      from.on('close', () => {
        sockets.delete(from);
        live.delete(pair);
        to.destroy();
      });
      from.on('error', () => to.destroy());
    }
  });
  relays.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    silence: () => live.forEach((p) => (p.silent = true)),
  };
}
const relays: TcpServer[] = [];

beforeAll(async () => {
  serverCert = await selfSigned('apiserver', 'IP:127.0.0.1');
  namedCert = await selfSigned('kubernetes', 'DNS:kubernetes');
  clientCert = await selfSigned('node-client', 'DNS:node-client');
  rotatedClientCert = await selfSigned('node-client-2', 'DNS:node-client');
  for (const protocol of ['h2', 'http/1.1'] as const) {
    origins[protocol] = {
      plain: await listen(serverCert, protocol),
      named: await listen(namedCert, protocol),
    };
  }
}, 30_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(
    [...servers, ...relays].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (s: string): Material => ({ read: () => Promise.resolve(Buffer.from(s)) });

/** Each protocol a server may speak, and the HTTP version the client must then use. */
const PROTOCOLS = [
  { name: 'HTTP/2', protocol: 'h2' as const, version: '2.0' },
  { name: 'HTTP/1.1 (the server does not negotiate h2)', protocol: 'http/1.1' as const, version: '1.1' },
];

describe.each(PROTOCOLS)('httpsKubeJson: TLS, $name', ({ protocol, version }) => {
  const origin = () => origins[protocol].plain;

  it.each([
    { name: "the kubeconfig's CA", access: () => ({ ca: bytes(serverCert.crt) }), ok: true },
    { name: 'another CA', access: () => ({ ca: bytes(clientCert.crt) }), ok: false },
    { name: "the system's CAs (no CA given)", access: () => ({}), ok: false },
    { name: 'insecure-skip-tls-verify', access: () => ({ insecureSkipTlsVerify: true }), ok: true },
  ])('verifies the server against $name', async ({ access, ok }) => {
    seen.length = 0;
    const json = httpsKubeJson({ server: origin(), insecureSkipTlsVerify: false, ...access() });
    const got: unknown = await json.request('GET', '/api').catch((e: unknown) => e);
    if (ok) {
      expect(got).toEqual({ ok: true });
      expect(seen.map((s) => s.version)).toEqual([version]);
    } else {
      expect(got).toBeInstanceOf(Error);
      expect(kubeStatusCode(got)).toBeUndefined();
      expect(seen).toEqual([]);
    }
  });

  it.each([
    {
      name: 'without tls-server-name: the address is not in the certificate',
      serverName: undefined,
      ok: false,
    },
    { name: 'with tls-server-name: kubernetes', serverName: 'kubernetes', ok: true },
  ])('$name', async ({ serverName, ok }) => {
    const json = httpsKubeJson({
      server: origins[protocol].named,
      insecureSkipTlsVerify: false,
      ca: bytes(namedCert.crt),
      tlsServerName: serverName,
    });
    const got: unknown = await json.request('GET', '/api').catch((e: unknown) => e);
    expect(got instanceof Error ? 'failed' : 'ok').toBe(ok ? 'ok' : 'failed');
  });

  it('presents the client certificate, and the new one on a new connection once it rotates', async () => {
    let current = clientCert;
    const json = httpsKubeJson({
      server: origin(),
      insecureSkipTlsVerify: false,
      ca: bytes(serverCert.crt),
      clientCert: {
        cert: { read: () => Promise.resolve(Buffer.from(current.crt)) },
        key: { read: () => Promise.resolve(Buffer.from(current.key)) },
      },
    });
    seen.length = 0;
    await json.request('GET', '/api');
    await json.request('GET', '/api');
    current = rotatedClientCert;
    await json.request('GET', '/api');
    expect(seen.map((s) => [s.auth, s.client, s.version])).toEqual([
      [undefined, 'node-client', version],
      [undefined, 'node-client', version],
      [undefined, 'node-client-2', version],
    ]);
  });

  it('shares one connection between identities that differ only in their token', async () => {
    const base: ClusterAccess = { server: origin(), insecureSkipTlsVerify: false, ca: bytes(serverCert.crt) };
    const a = httpsKubeJson({ ...base, token: bytes('driver-token') });
    const b = httpsKubeJson({ ...base, token: bytes('pod-token') });
    await a.request('GET', '/warm'); // the pool of this identity exists from here on
    seen.length = 0;
    const before = connections;
    for (let i = 0; i < 3; i++) {
      await a.request('GET', '/api');
      await b.request('GET', '/api');
    }
    expect(connections - before).toBe(0);
    expect(seen.map((s) => [s.auth, s.version])).toEqual(
      Array.from({ length: 3 }, () => [
        ['Bearer driver-token', version],
        ['Bearer pod-token', version],
      ]).flat(),
    );
  });
});

describe('httpsKubeJson over HTTP/2', () => {
  const access = (): ClusterAccess => ({
    server: origins.h2.plain,
    insecureSkipTlsVerify: false,
    ca: bytes(serverCert.crt),
    token: bytes('driver-token'),
  });

  it('sends 50 requests at once as streams of one session', async () => {
    const json = httpsKubeJson(access());
    await json.request('GET', '/warm');
    const before = connections;
    maxInFlight = 0;
    seen.length = 0;
    const got = await Promise.all(Array.from({ length: 50 }, () => json.request('GET', '/slow')));
    expect(got).toEqual(Array.from({ length: 50 }, () => ({ ok: true })));
    expect(connections - before).toBe(0);
    expect(maxInFlight).toBe(50);
    expect(new Set(seen.map((s) => s.version))).toEqual(new Set(['2.0']));
  });

  it.each([
    { name: 'destroyed without an answer', path: '/drop', ok: false },
    { name: 'closed with GOAWAY after its answer', path: '/goaway', ok: true },
  ])('a session the server drops ($name) is replaced: the next request succeeds', async ({ path, ok }) => {
    const json = httpsKubeJson(access());
    await json.request('GET', '/warm');
    const before = connections;
    const got: unknown = await json.request('GET', path).catch((e: unknown) => e);
    if (ok) expect(got).toEqual({ ok: true });
    else {
      expect(got).toBeInstanceOf(Error);
      expect(kubeStatusCode(got)).toBeUndefined();
    }
    seen.length = 0;
    await expect(json.request('GET', '/api')).resolves.toEqual({ ok: true });
    await expect(json.request('GET', '/api')).resolves.toEqual({ ok: true });
    expect(connections - before).toBe(1);
    expect(seen.map((s) => s.version)).toEqual(['2.0', '2.0']);
  });

  it('a session that stops answering after its first idle period is found dead on a later one and replaced', async () => {
    const path = await relay(origins.h2.plain);
    const json = httpsKubeJson(
      { ...access(), server: path.origin },
      { timeouts: { sessionIdleMs: 100, pingTimeoutMs: 200, requestIdleMs: 60_000 } },
    );
    // A request the server holds keeps a stream open; the session is pinged each idle period.
    const held = json.request('GET', '/hang').catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 400)); // a ping or more answered
    path.silence();
    const got = await Promise.race([held, new Promise((resolve) => setTimeout(resolve, 3_000, 'pending'))]);
    expect(got).toBeInstanceOf(Error);
    expect(kubeStatusCode(got)).toBeUndefined();
    await expect(json.request('GET', '/api')).resolves.toEqual({ ok: true });
    expect(path.accepted()).toBe(2);
  });

  it('a request that hears nothing takes its dead session out of use: the next request opens a new one', async () => {
    const path = await relay(origins.h2.plain);
    const json = httpsKubeJson(
      { ...access(), server: path.origin },
      { timeouts: { sessionIdleMs: 60_000, pingTimeoutMs: 200, requestIdleMs: 300 } },
    );
    await json.request('GET', '/warm');
    path.silence();
    const got: unknown = await json.request('GET', '/hang').catch((e: unknown) => e);
    expect(got).toBeInstanceOf(Error);
    expect(kubeStatusCode(got)).toBeUndefined();
    await expect(json.request('GET', '/api')).resolves.toEqual({ ok: true });
    expect(path.accepted()).toBe(2);
  });

  it('reads an answer larger than the default flow-control window', async () => {
    const got = (await httpsKubeJson(access()).request('GET', '/big')) as { items: string };
    expect(got.items).toHaveLength(3 * 1024 * 1024);
  });

  it('http2: false speaks HTTP/1.1 to a server that offers HTTP/2', async () => {
    seen.length = 0;
    await httpsKubeJson(access(), { http2: false }).request('GET', '/api');
    expect(seen.map((s) => s.version)).toEqual(['1.1']);
  });
});

describe('httpsKubeJson against an HTTP/1.1-only server', () => {
  it('offers h2 once per connection pool, then keeps to HTTP/1.1', async () => {
    // An identity no other test uses: a pool of its own.
    const json = httpsKubeJson({
      server: origins['http/1.1'].plain,
      insecureSkipTlsVerify: true,
      clientCert: { cert: bytes(rotatedClientCert.crt), key: bytes(rotatedClientCert.key) },
    });
    const before = connections;
    for (let i = 0; i < 5; i++) await json.request('GET', '/api');
    // The first connection offers h2 and is closed when the server picks HTTP/1.1; one keep-alive one after.
    expect(connections - before).toBe(2);
  });
});

describe('httpsKubeJson with a kubeconfig whose token file rotates', () => {
  it('sends the new token once the old read is a minute old', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'token-1\n');
    writeFileSync(join(dir, 'ca.pem'), serverCert.crt);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
clusters: [{ name: c, cluster: { server: "${origins.h2.plain}", certificate-authority: ca.pem } }]
users: [{ name: u, user: { tokenFile: token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    let now = 0;
    const loaded = await loadClusterAccess({ kubeconfigPath: kubeconfig, now: () => now });
    if (!loaded.supported) throw new Error(loaded.reason);
    const json = httpsKubeJson(loaded.access);
    seen.length = 0;
    await json.request('GET', '/api');
    writeFileSync(tokenFile, 'token-2\n');
    now += 1_000;
    await json.request('GET', '/api');
    now += FILE_REFRESH_MS;
    await json.request('GET', '/api');
    expect(seen.map((s) => s.auth)).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
  });
});
