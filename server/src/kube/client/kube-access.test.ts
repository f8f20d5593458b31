import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeConfigWithToken, loadKubeAccess } from './kube-access.js';
import { loadClientLibrary } from './kube-client.js';

const dir = mkdtempSync(join(tmpdir(), 'ccd-kube-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(user: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `apiVersion: v1
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  return path;
}

describe('loadKubeAccess picks the transport', () => {
  it.each([
    { name: 'a token', user: '{ token: t }', want: 'https' },
    { name: 'a token file', user: '{ tokenFile: /nonexistent/token }', want: 'https' },
    {
      name: 'an exec plugin',
      user: '{ exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/true } }',
      want: 'library',
    },
    { name: 'an auth-provider', user: '{ auth-provider: { name: oidc, config: {} } }', want: 'library' },
  ])('$name → $want', async ({ user, want }) => {
    const access = await loadKubeAccess({ kubeconfigPath: kubeconfig(user) });
    expect(access.transport).toBe(want);
  });
});

describe('kubeConfigWithToken (the library path of a pod identity)', () => {
  it("keeps the driver's cluster and takes only the pod's token", async () => {
    const lib = await loadClientLibrary();
    const base = new lib.KubeConfig();
    base.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false, caData: b64('CA') }],
      users: [{ name: 'node', certData: b64('cert'), keyData: b64('key') }],
      contexts: [{ name: 'x', cluster: 'c', user: 'node' }],
      currentContext: 'x',
    });
    const kc = kubeConfigWithToken(lib, base, 'pod-token');
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://127.0.0.1:6443', caData: b64('CA') });
    expect(kc.getCurrentUser()).toMatchObject({ token: 'pod-token' });
    expect(kc.getCurrentUser()?.certData).toBeUndefined();
  });
});
