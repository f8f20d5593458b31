/**
 * The baseline: the same job done the way a user would script it without the driver. Per volume,
 * three `openssl` processes run one after the other (genpkey, req -new, x509 -req signed by the same
 * CA the issuer uses), writing tls.key / tls.crt / ca.crt into a directory.
 *
 * Deliberately generous to the baseline: files go to a plain directory (no tmpfs, no read-only bind,
 * no state file, no fsync) and ca.crt is copied in-process instead of by a `cp` process.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Algorithm } from './volumes.js';

const execFileAsync = promisify(execFile);

export interface BaselineCa {
  certFile: string;
  keyFile: string;
}

const GENPKEY: Readonly<Record<Algorithm, string[]>> = {
  ECDSA: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  RSA: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
};

async function openssl(args: string[]): Promise<void> {
  await execFileAsync('openssl', args, { encoding: 'utf8' });
}

/**
 * One volume's worth of `openssl`: key, CSR (same subject and SAN the driver uses by default), a
 * 7-day certificate with a random 128-bit serial (a script's -CAcreateserial would race in a burst).
 */
export async function opensslVolume(
  dir: string,
  algorithm: Algorithm,
  ca: BaselineCa,
  pod: { name: string; namespace: string },
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const key = path.join(dir, 'tls.key');
  const csr = path.join(dir, 'tls.csr');
  await openssl(['genpkey', ...GENPKEY[algorithm], '-out', key]);
  await openssl([
    'req',
    '-new',
    '-key',
    key,
    '-subj',
    `/CN=${pod.name}.${pod.namespace}.svc.cluster.local`,
    '-addext',
    `subjectAltName=DNS:${pod.name}`,
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    '-out',
    csr,
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '7',
    '-copy_extensions',
    'copy',
    '-out',
    path.join(dir, 'tls.crt'),
  ]);
  await copyFile(ca.certFile, path.join(dir, 'ca.crt'));
}

/** `openssl verify` of a baseline volume's certificate against the CA: proves the pipeline did real work. */
export async function verifyOpensslVolume(dir: string, ca: BaselineCa): Promise<void> {
  const { stdout } = await execFileAsync(
    'openssl',
    ['verify', '-CAfile', ca.certFile, path.join(dir, 'tls.crt')],
    {
      encoding: 'utf8',
    },
  );
  if (!stdout.includes(': OK')) throw new Error(`openssl verify failed for ${dir}: ${stdout}`);
}
