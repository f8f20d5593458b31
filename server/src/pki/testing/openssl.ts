/**
 * Test support: runs the real OpenSSL CLI on temporary files, so tests check our encodings against an
 * independent implementation. Not imported by production code.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { emptySubject, type CertificateSpec, type KeySpec } from '../../attributes/certificate-spec.js';

const execFileAsync = promisify(execFile);
export const OPENSSL = '/usr/bin/openssl';

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `openssl args...`; never throws for a non-zero exit (the result carries the code). */
export async function openssl(...args: string[]): Promise<OpensslResult> {
  try {
    const { stdout, stderr } = await execFileAsync(OPENSSL, args, { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

/** Runs `fn` with a fresh temporary directory and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'csi-cert-pki-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes `files` (name → content) into a fresh temp directory, runs `fn` with their paths, removes the directory. */
export async function withFiles<T>(
  files: Record<string, string>,
  fn: (paths: Record<string, string>) => Promise<T>,
): Promise<T> {
  return withTempDir(async (dir) => {
    const paths: Record<string, string> = {};
    for (const [name, content] of Object.entries(files)) {
      paths[name] = join(dir, name);
      await writeFile(paths[name], content, { mode: 0o600 });
    }
    return fn(paths);
  });
}

/**
 * A PEM CSR made by the openssl CLI: `keyArgs` choose the key (`-newkey …`, thrown away), the subject
 * is `/CN=x` and `extension` goes in with `-addext`. Throws with openssl's stderr when it fails.
 */
export async function opensslCsr(keyArgs: readonly string[], extension: string): Promise<string> {
  const r = await openssl(
    'req',
    '-new',
    ...keyArgs,
    '-nodes',
    '-keyout',
    '/dev/null',
    '-subj',
    '/CN=x',
    '-addext',
    extension,
  );
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** Runs openssl on one PEM text written to a temp file; `{}` in args is replaced by its path. */
export async function opensslOn(pem: string, ...args: string[]): Promise<OpensslResult> {
  return withFiles({ 'in.pem': pem }, (p) =>
    openssl(...args.map((a) => (a === '{}' ? (p['in.pem'] as string) : a))),
  );
}

/** A minimal CertificateSpec for tests; override what a test cares about. */
export function testSpec(
  overrides: Partial<CertificateSpec> = {},
  key: Partial<KeySpec> = {},
): CertificateSpec {
  return {
    issuer: { kind: 'Issuer', group: 'cert-manager.io' },
    subject: {
      commonName: 'web-0.default.svc.cluster.local',
      ...emptySubject(),
    },
    dnsNames: ['web-0'],
    ipAddresses: [],
    uris: [],
    emailAddresses: [],
    usages: ['digital signature', 'key encipherment', 'server auth'],
    isCA: false,
    durationSeconds: 3600,
    key: { algorithm: 'ECDSA', size: 256, encoding: 'PKCS8', ...key },
    reusePrivateKey: false,
    disableAutoRenew: false,
    files: { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt' },
    ...overrides,
  };
}
