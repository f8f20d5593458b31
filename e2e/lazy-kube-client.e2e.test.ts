/**
 * The built product loads @kubernetes/client-node only when a Kubernetes feature asks for it
 * (kube-client.ts's import()): a node role without one never resolves the package, which saves it
 * ~60–85 MiB of RSS. Likewise @peculiar/x509 (pki/x509.ts, ADR 20) is loaded only when a certificate
 * is first parsed for a view, never to serve Probe, and the issuer never loads it (ADR 24: it reads
 * its CA with node:crypto). A module-resolution hook in the driver process (NODE_OPTIONS=--import)
 * prints a marker whenever a watched package is resolved. The issuer with ISSUER_AUTH=kubernetes
 * loads the library only for a kubeconfig its own loader does not support (ADR 30): one with an
 * exec plugin is the positive control that shows the hook sees a load.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverCommand, ensureBuilt } from './support/repo.js';
import { execPluginKubeconfig } from './kube/client-library.js';

const MARKER = 'RESOLVED @kubernetes/client-node';
const X509_MARKER = 'RESOLVED @peculiar/x509';
const dir = mkdtempSync(join(tmpdir(), 'ccd-lazy-kube-'));

/** An issuer with ISSUER_AUTH=kubernetes and absent CA files: it stops at start, after its kubeconfig. */
function kubernetesIssuer(kubeconfig: string): Record<string, string> {
  return {
    LISTEN_ADDR: '127.0.0.1:0',
    CA_CERT_FILE: join(dir, 'absent-ca.crt'),
    CA_KEY_FILE: join(dir, 'absent-ca.key'),
    ISSUER_AUTH: 'kubernetes',
    KUBECONFIG: kubeconfig,
  };
}
const hook = join(dir, 'hook.mjs');

beforeAll(() => {
  ensureBuilt();
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === '@kubernetes/client-node') process.stderr.write(${JSON.stringify(MARKER + '\n')});
    if (specifier === '@peculiar/x509') process.stderr.write(${JSON.stringify(X509_MARKER + '\n')});
    return next(specifier, context);
  },
});
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  output: string;
  stderr: string;
}

/** Runs a role until `until` shows up in its output or it exits; then stops it. */
function runRole(role: string, env: Record<string, string>, until: string | undefined): Promise<Run> {
  const { file, args } = driverCommand(role);
  const child = spawn(file, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: `--import=${pathToFileURL(hook).href} --max-semi-space-size=2`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  return new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${role}: no '${until}' within 60 s:\n${output}`));
    }, 60_000);
    const check = (): void => {
      if (until && output.includes(until)) child.kill('SIGTERM');
    };
    child.stdout.on('data', (c: Buffer) => ((output += c.toString()), check()));
    child.stderr.on('data', (c: Buffer) => ((output += c.toString()), (stderr += c.toString()), check()));
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ output, stderr });
    });
  });
}

describe('@kubernetes/client-node in the built product', () => {
  it('is never resolved by a node role without Kubernetes features', async () => {
    const run = await runRole(
      'node',
      {
        CSI_ENDPOINT: `unix://${join(dir, 'csi.sock')}`,
        NODE_ID: 'lazy-node',
        CERT_SERVICE_ADDR: '127.0.0.1:9',
        CERT_BASE_PATH: join(dir, 'base'),
        API_LISTEN_ADDR: 'off',
        KEY_POOL_SIZE: '0',
      },
      'node driver serving CSI',
    );
    expect(run.output).toContain('node driver serving CSI');
    expect(run.stderr).not.toContain(MARKER);
    expect(run.stderr).not.toContain(X509_MARKER);
  }, 90_000);

  it('is not resolved by the issuer with ISSUER_AUTH=kubernetes to refuse a missing kubeconfig', async () => {
    const run = await runRole('issuer', kubernetesIssuer(join(dir, 'absent-kubeconfig')), undefined);
    expect(run.stderr).toMatch(/invalid configuration: KUBECONFIG/);
    expect(run.stderr).not.toContain(MARKER);
  }, 90_000);

  it('is resolved by the issuer for a kubeconfig only the library supports (an exec plugin)', async () => {
    const run = await runRole(
      'issuer',
      kubernetesIssuer(
        execPluginKubeconfig({ dir, name: 'exec', server: 'https://127.0.0.1:9', token: 'unused' }),
      ),
      undefined,
    );
    expect(run.stderr).toContain(MARKER);
    expect(run.stderr).toMatch(/CA_CERT_FILE/);
  }, 90_000);

  it('is not needed by the issuer to read and refuse its CA (@peculiar/x509 never resolved)', async () => {
    const certFile = join(dir, 'garbage-ca.crt');
    const keyFile = join(dir, 'garbage-ca.key');
    writeFileSync(certFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    writeFileSync(keyFile, 'not a key\n');
    const run = await runRole(
      'issuer',
      {
        LISTEN_ADDR: '127.0.0.1:0',
        CA_CERT_FILE: certFile,
        CA_KEY_FILE: keyFile,
        ISSUER_AUTH: 'none',
      },
      undefined,
    );
    expect(run.stderr).toMatch(/CA_CERT_FILE: certificate 1 is not valid X\.509/);
    expect(run.stderr).not.toContain(X509_MARKER);
  }, 90_000);
});
