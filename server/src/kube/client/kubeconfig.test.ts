import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/settings.js';
import { FILE_REFRESH_MS, fileMaterial, loadClusterAccess, type ClusterAccess } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'ccd-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN EC PRIVATE KEY-----\nMHckey\n-----END EC PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let n = 0;
function file(body: string, name = `f${n++}`): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

/** A kubeconfig with one context `x` → cluster `c`, user `u`; each part replaceable. */
function kubeconfig(o: { cluster?: string; user?: string; extra?: string; current?: string }): string {
  return file(
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
${o.cluster ?? '    server: https://127.0.0.1:6443'}
users:
- name: u
  user:
${o.user ?? '    token: t0ken'}
contexts:
- name: x
  context: { cluster: c, user: u }
${o.extra ?? ''}
current-context: ${o.current ?? 'x'}
`,
    `kc${n++}.yaml`,
  );
}

async function access(path: string): Promise<ClusterAccess> {
  const got = await loadClusterAccess({ kubeconfigPath: path });
  if (!got.supported) throw new Error(`unsupported: ${got.reason}`);
  return got.access;
}

const text = async (m: { read(): Promise<Buffer> } | undefined) => (await m?.read())?.toString();

describe('loadClusterAccess: kubeconfig files it supports', () => {
  // Named by the relative paths of the third case.
  file(CERT_PEM, 'client.crt');
  file(KEY_PEM, 'client.key');
  const caFile = file(CA_PEM, 'ca.crt');
  const tokenFile = file('file-token\n', 'token');
  it.each([
    {
      name: 'token and certificate-authority-data',
      cluster: `    server: https://10.0.0.1:6443\n    certificate-authority-data: ${b64(CA_PEM)}`,
      user: '    token: t0ken',
      want: { server: 'https://10.0.0.1:6443', ca: CA_PEM, token: 't0ken', skip: false },
    },
    {
      name: 'certificate-authority file and tokenFile',
      cluster: `    server: https://api.example:443\n    certificate-authority: ${caFile}`,
      user: `    tokenFile: ${tokenFile}`,
      want: { server: 'https://api.example:443', ca: CA_PEM, token: 'file-token\n', skip: false },
    },
    {
      name: 'relative file paths (to the kubeconfig folder)',
      cluster: '    server: https://10.0.0.1\n    certificate-authority: ca.crt',
      user: '    client-certificate: client.crt\n    client-key: client.key',
      want: { server: 'https://10.0.0.1', ca: CA_PEM, cert: CERT_PEM, key: KEY_PEM, skip: false },
    },
    {
      name: 'client certificate and key as data',
      cluster: '    server: https://10.0.0.1\n    insecure-skip-tls-verify: true',
      user: `    client-certificate-data: ${b64(CERT_PEM)}\n    client-key-data: ${b64(KEY_PEM)}`,
      want: { server: 'https://10.0.0.1', cert: CERT_PEM, key: KEY_PEM, skip: true },
    },
    {
      name: 'tls-server-name, no credentials (anonymous)',
      cluster: '    server: https://10.0.0.1\n    tls-server-name: kubernetes',
      user: '    {}',
      want: { server: 'https://10.0.0.1', serverName: 'kubernetes', skip: false },
    },
  ])('$name', async ({ cluster, user, want }) => {
    const a = await access(kubeconfig({ cluster, user }));
    expect(a.server).toBe(want.server);
    expect(a.insecureSkipTlsVerify).toBe(want.skip);
    expect(a.tlsServerName).toBe(want.serverName);
    expect(await text(a.ca)).toBe(want.ca);
    expect(await text(a.token)).toBe(want.token);
    expect(await text(a.clientCert?.cert)).toBe(want.cert);
    expect(await text(a.clientCert?.key)).toBe(want.key);
  });
});

describe('loadClusterAccess: what only the client library supports', () => {
  it.each([
    {
      name: 'an exec plugin',
      user: '    exec: { command: aws, apiVersion: client.authentication.k8s.io/v1 }',
    },
    { name: 'an auth-provider', user: '    auth-provider: { name: oidc }' },
    { name: 'basic auth', user: '    username: admin\n    password: secret' },
    { name: 'impersonation', user: '    token: t\n    as: someone' },
    {
      name: 'a proxy-url',
      cluster: '    server: https://10.0.0.1\n    proxy-url: http://proxy:3128',
    },
  ])('$name falls back to the library', async ({ user, cluster }) => {
    const got = await loadClusterAccess({ kubeconfigPath: kubeconfig({ user, cluster }) });
    expect(got.supported).toBe(false);
  });
});

describe('loadClusterAccess: a wrong kubeconfig is a ConfigError naming the field', () => {
  it.each([
    { name: 'no file', path: join(dir, 'missing.yaml'), text: /cannot read it/ },
    { name: 'not YAML', path: file('clusters: [\n'), text: /is not YAML/ },
    { name: 'no current-context', path: file('apiVersion: v1\nclusters: []\n'), text: /no current-context/ },
    {
      name: 'unknown context',
      path: kubeconfig({ current: 'y' }),
      text: /current-context "y" names no entry/,
    },
    {
      name: 'context names a missing cluster',
      path: kubeconfig({ extra: '- name: z\n  context: { cluster: nope, user: u }', current: 'z' }),
      text: /contexts\[z\]\.context\.cluster "nope" names no entry of clusters/,
    },
    {
      name: 'context names a missing user',
      path: kubeconfig({ extra: '- name: z\n  context: { cluster: c, user: nobody }', current: 'z' }),
      text: /contexts\[z\]\.context\.user "nobody" names no entry of users/,
    },
    {
      name: 'no server',
      path: kubeconfig({ cluster: '    insecure-skip-tls-verify: true' }),
      text: /clusters\[c\]\.cluster\.server is missing/,
    },
    {
      name: 'server not a URL',
      path: kubeconfig({ cluster: '    server: 10.0.0.1:6443' }),
      text: /clusters\[c\]\.cluster\.server \(10\.0\.0\.1:6443\) is not/,
    },
    {
      name: 'server not http(s), its credentials masked',
      path: kubeconfig({ cluster: '    server: ftp://admin:hunter2@a' }),
      text: /clusters\[c\]\.cluster\.server \(ftp:\/\/\*\*\*@a\) is not an http\(s\) URL/,
    },
    {
      name: 'bad base64 in certificate-authority-data',
      path: kubeconfig({ cluster: '    server: https://a\n    certificate-authority-data: "not*base64"' }),
      text: /clusters\[c\]\.cluster\.certificate-authority-data is not valid base64/,
    },
    {
      name: 'base64 of something that is not PEM',
      path: kubeconfig({ cluster: `    server: https://a\n    certificate-authority-data: ${b64('junk')}` }),
      text: /certificate-authority-data does not hold a PEM/,
    },
    {
      name: 'bad base64 in client-key-data',
      path: kubeconfig({
        user: `    client-certificate-data: ${b64(CERT_PEM)}\n    client-key-data: "%%%"`,
      }),
      text: /users\[u\]\.user\.client-key-data is not valid base64/,
    },
    {
      name: 'a certificate without its key',
      path: kubeconfig({ user: `    client-certificate-data: ${b64(CERT_PEM)}` }),
      text: /users\[u\]\.user has a client-certificate but no client-key/,
    },
    {
      name: 'insecure-skip-tls-verify not a boolean',
      path: kubeconfig({ cluster: '    server: https://a\n    insecure-skip-tls-verify: "yes"' }),
      text: /insecure-skip-tls-verify is not true or false/,
    },
  ])('$name', async ({ path, text: want }) => {
    const got: unknown = await loadClusterAccess({ kubeconfigPath: path }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(ConfigError);
    expect((got as ConfigError).setting).toBe('KUBECONFIG');
    expect((got as Error).message).toMatch(want);
  });
});

describe('loadClusterAccess: in-cluster', () => {
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'ca.crt'), CA_PEM);

  it.each([
    { name: 'IPv4', host: '10.96.0.1', port: '443', server: 'https://10.96.0.1:443' },
    { name: 'IPv6', host: 'fd00::1', port: '6443', server: 'https://[fd00::1]:6443' },
    { name: 'default port', host: '10.96.0.1', port: undefined, server: 'https://10.96.0.1:443' },
  ])('$name', async ({ host, port, server }) => {
    const got = await loadClusterAccess({
      env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port },
      serviceAccountDir: sa,
    });
    expect(got.supported).toBe(true);
    const a = (got as { access: ClusterAccess }).access;
    expect(a.server).toBe(server);
    expect(a.insecureSkipTlsVerify).toBe(false);
    expect(await text(a.token)).toBe('sa-token');
    expect(await text(a.ca)).toBe(CA_PEM);
  });

  it.each([
    { name: 'no KUBERNETES_SERVICE_HOST', env: {}, saDir: sa, text: /does not run in a pod/ },
    {
      name: 'no token file',
      env: { KUBERNETES_SERVICE_HOST: 'h' },
      saDir: join(dir, 'empty'),
      text: /does not run in a pod/,
    },
    {
      name: 'a bad port',
      env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: 'https' },
      saDir: sa,
      text: /KUBERNETES_SERVICE_PORT \(https\) is not a port/,
    },
  ])('$name is a ConfigError', async ({ env, saDir, text: want }) => {
    const got: unknown = await loadClusterAccess({ env, serviceAccountDir: saDir }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(ConfigError);
    expect((got as Error).message).toMatch(want);
  });
});

describe('fileMaterial: a rotated file is re-read at most once a minute', () => {
  it('keeps the read for FILE_REFRESH_MS, then reads the new content', async () => {
    const path = file('token-1');
    let now = 1_000_000;
    const m = fileMaterial(path, () => now);
    expect((await m.read()).toString()).toBe('token-1');
    writeFileSync(path, 'token-2');
    now += FILE_REFRESH_MS - 1;
    expect((await m.read()).toString()).toBe('token-1');
    now += 1;
    expect((await m.read()).toString()).toBe('token-2');
  });

  it('does not keep a failed read: the next one tries again', async () => {
    const path = join(dir, 'appears-later');
    const m = fileMaterial(path, () => 0);
    await expect(m.read()).rejects.toThrow(/ENOENT/);
    writeFileSync(path, 'now here');
    expect((await m.read()).toString()).toBe('now here');
  });
});
