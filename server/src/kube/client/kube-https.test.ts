/**
 * The node:https transport's TLS and credentials against a loopback HTTPS server with certificates
 * made by the OpenSSL CLI: the server's certificate is checked against the kubeconfig's CA (a wrong
 * CA fails), insecure-skip-tls-verify and tls-server-name, the client certificate, one connection
 * shared by identities that differ only in their token, and a token file re-read as it rotates.
 * (The request/watch contract itself: kube-json.test.ts, for both transports.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../../pki/testing/openssl.js';
import { kubeStatusCode } from './kube-errors.js';
import { httpsKubeJson } from './kube-https.js';
import { FILE_REFRESH_MS, loadClusterAccess, type ClusterAccess, type Material } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'ccd-kube-https-'));
let server: Server;
let origin: string;
let connections = 0;
const seen: { auth: string | undefined; client: string | undefined }[] = [];

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
let namedOrigin: string;
const servers: Server[] = [];

function listen(cert: { crt: string; key: string }): Promise<string> {
  const s = createServer(
    { cert: cert.crt, key: cert.key, requestCert: true, rejectUnauthorized: false, ca: clientCert.crt },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({ auth: req.headers.authorization, client: String(peer.subject?.CN) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
  );
  s.on('secureConnection', () => connections++);
  servers.push(s);
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  serverCert = await selfSigned('apiserver', 'IP:127.0.0.1');
  namedCert = await selfSigned('kubernetes', 'DNS:kubernetes');
  clientCert = await selfSigned('node-client', 'DNS:node-client');
  origin = await listen(serverCert);
  namedOrigin = await listen(namedCert);
  server = servers[0]!;
}, 30_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (s: string): Material => ({ read: () => Promise.resolve(Buffer.from(s)) });

describe('httpsKubeJson: TLS', () => {
  it.each([
    { name: "the kubeconfig's CA", access: () => ({ ca: bytes(serverCert.crt) }), ok: true },
    { name: 'another CA', access: () => ({ ca: bytes(clientCert.crt) }), ok: false },
    { name: "the system's CAs (no CA given)", access: () => ({}), ok: false },
    { name: 'insecure-skip-tls-verify', access: () => ({ insecureSkipTlsVerify: true }), ok: true },
  ])('verifies the server against $name', async ({ access, ok }) => {
    const json = httpsKubeJson({ server: origin, insecureSkipTlsVerify: false, ...access() });
    const got: unknown = await json.request('GET', '/api').catch((e: unknown) => e);
    if (ok) expect(got).toEqual({ ok: true });
    else {
      expect(got).toBeInstanceOf(Error);
      expect(kubeStatusCode(got)).toBeUndefined();
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
      server: namedOrigin,
      insecureSkipTlsVerify: false,
      ca: bytes(namedCert.crt),
      tlsServerName: serverName,
    });
    const got: unknown = await json.request('GET', '/api').catch((e: unknown) => e);
    expect(got instanceof Error ? 'failed' : 'ok').toBe(ok ? 'ok' : 'failed');
  });

  it('presents the client certificate', async () => {
    seen.length = 0;
    const json = httpsKubeJson({
      server: origin,
      insecureSkipTlsVerify: false,
      ca: bytes(serverCert.crt),
      clientCert: { cert: bytes(clientCert.crt), key: bytes(clientCert.key) },
    });
    await json.request('GET', '/api');
    expect(seen).toEqual([{ auth: undefined, client: 'node-client' }]);
  });

  it('shares one connection between identities that differ only in their token', async () => {
    const base: ClusterAccess = { server: origin, insecureSkipTlsVerify: false, ca: bytes(serverCert.crt) };
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
    expect(seen.map((s) => s.auth)).toEqual(
      Array.from({ length: 3 }, () => ['Bearer driver-token', 'Bearer pod-token']).flat(),
    );
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
clusters: [{ name: c, cluster: { server: "${origin}", certificate-authority: ca.pem } }]
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
    expect(server.listening).toBe(true);
  });
});
