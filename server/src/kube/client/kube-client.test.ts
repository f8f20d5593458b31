import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { ConfigError } from '../../config/settings.js';
import { describeKubeError, kubeStatusCode } from './kube-errors.js';

const SERVER_SRC = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ccd-kube-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh copy of kube-client.ts: its module-level "library loaded" state starts empty. */
async function freshModule() {
  vi.resetModules();
  return import('./kube-client.js');
}

function kubeconfig(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const GOOD = kubeconfig(
  'good.yaml',
  `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t0ken } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
);
const NO_CONTEXT = kubeconfig('no-context.yaml', 'apiVersion: v1\nkind: Config\nclusters: []\n');

describe('loadKubeClients', () => {
  it('builds core, authn and watch clients for the kubeconfig file', async () => {
    const { loadKubeClients } = await freshModule();
    const clients = await loadKubeClients({ kubeconfigPath: GOOD });
    expect(clients.config.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(typeof clients.core.readNamespacedSecret).toBe('function');
    expect(typeof clients.authn.createTokenReview).toBe('function');
    expect(typeof clients.watch.watch).toBe('function');
  });

  it.each([
    { name: 'a missing file', src: { kubeconfigPath: join(dir, 'absent.yaml') }, want: /cannot load/ },
    {
      name: 'a file without a current context',
      src: { kubeconfigPath: NO_CONTEXT },
      want: /no current context/,
    },
    { name: 'no file outside a pod', src: { env: {} }, want: /does not run in a pod/ },
  ])('rejects $name with a ConfigError naming KUBECONFIG', async ({ src, want }) => {
    const { loadKubeClients } = await freshModule();
    const err: unknown = await loadKubeClients(src).catch((e: unknown) => e);
    // A ConfigError of the fresh module graph (vi.resetModules), so compared by name and field.
    expect((err as Error).constructor.name).toBe(ConfigError.name);
    expect(err).toHaveProperty('setting', 'KUBECONFIG');
    expect((err as Error).message).toMatch(want);
  });

  it('keeps the synchronous loadKubeConfig and createKubeClients, usable once the library is loaded', async () => {
    const m = await freshModule();
    expect(() => m.loadKubeConfig({ kubeconfigPath: GOOD })).toThrow(/not loaded yet/);
    const lib = await m.loadClientLibrary();
    expect(await m.loadClientLibrary()).toBe(lib);
    const clients = m.createKubeClients(m.loadKubeConfig({ kubeconfigPath: GOOD }));
    expect(clients.core).toBeInstanceOf(lib.CoreV1Api);
  });
});

/** Every .ts file of the server except tests and test fakes. */
function productionSources(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = join(d, e.name);
    if (e.isDirectory()) return e.name === 'testing' ? [] : productionSources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('@kubernetes/client-node is loaded on demand only', () => {
  // `import type` is erased by the build; any other import (values, `import { type X }`, a bare
  // import, a re-export) loads the library at start in every process whose bundle contains the file.
  const LIB = String.raw`['"]@kubernetes/client-node['"]`;
  const ANY = new RegExp(String.raw`(?:import|export)\s[^;]*?from\s+${LIB}|import\s+${LIB}`, 'g');
  const TYPE_ONLY = new RegExp(String.raw`^import\s+type\s[^;]*?from\s+${LIB}$`);

  it('has no import of it in production code but type imports (kube-client.ts loads it with import())', () => {
    const offenders = productionSources(SERVER_SRC).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(ANY)]
        .map((m) => m[0])
        .filter((stmt) => !TYPE_ONLY.test(stmt))
        .map((stmt) => `${relative(SERVER_SRC, file)}: ${stmt.replace(/\s+/g, ' ')}`),
    );
    expect(offenders).toEqual([]);
  });

  it.each([
    { stmt: "import { KubeConfig } from '@kubernetes/client-node'", typeOnly: false },
    { stmt: "import { type V1Pod } from '@kubernetes/client-node'", typeOnly: false },
    { stmt: "export { Watch } from '@kubernetes/client-node'", typeOnly: false },
    { stmt: "import '@kubernetes/client-node'", typeOnly: false },
    { stmt: "import type { V1Pod,\n  V1Secret } from '@kubernetes/client-node'", typeOnly: true },
  ])('classifies $stmt (typeOnly $typeOnly)', ({ stmt, typeOnly }) => {
    const found = [...stmt.matchAll(ANY)].map((m) => m[0]);
    expect(found).toHaveLength(1);
    expect(TYPE_ONLY.test(found[0]!)).toBe(typeOnly);
  });
});

describe('kube-errors without the ApiException class', () => {
  const status = { kind: 'Status', message: 'secrets "ca" is forbidden' };
  it.each([
    {
      name: 'an ApiException with a JSON body',
      err: new ApiException(403, 'Forbidden', JSON.stringify(status), {}),
      code: 403,
      text: 'HTTP 403: secrets "ca" is forbidden',
    },
    {
      name: 'an ApiException with an object body',
      err: new ApiException(404, 'Not Found', { message: 'not found' }, {}),
      code: 404,
      text: 'HTTP 404: not found',
    },
    {
      name: 'a network error (string code)',
      err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      code: undefined,
      text: 'connect ECONNREFUSED',
    },
    {
      name: 'a fetch failure with a cause',
      err: new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }),
      code: undefined,
      text: 'fetch failed (ECONNRESET)',
    },
  ])('reads $name', ({ err, code, text }) => {
    expect(kubeStatusCode(err)).toBe(code);
    expect(describeKubeError(err)).toBe(text);
  });
});
