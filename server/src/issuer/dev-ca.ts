/**
 * A self-signed development CA for the `demo` role and local runs: created once in a directory
 * (`ca.crt`, and `ca.key` readable by the owner only) and reused on later runs. Never for production:
 * the key sits unencrypted on disk.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCertificate, truncateToSeconds } from '../pki/certificate-builder.js';
import {
  basicConstraintsExtension,
  keyIdentifierOf,
  keyUsageExtension,
  subjectKeyIdentifierExtension,
} from '../pki/extensions.js';
import { encodePrivateKey, generateKey } from '../pki/keys.js';
import { subjectNameDer } from '../pki/names.js';
import { toPem } from '../pki/pem.js';
import { signatureSchemeOf } from '../pki/signing-keys.js';
import { KeyUsageFlags } from '../pki/usages.js';
import { ConfigError } from './errors.js';
import { randomSerial } from './signer.js';
import { emptySubject, type SubjectSpec } from '../attributes/certificate-spec.js';

export const DEV_CA_COMMON_NAME = 'csi-cert-driver dev CA';
const DEV_CA_YEARS = 10;
const EMPTY_SUBJECT: SubjectSpec = emptySubject();

export interface DevCaOptions {
  dir: string;
  commonName?: string;
  now?: Date;
}

export interface DevCaFiles {
  certFile: string;
  keyFile: string;
  /** False when both files already existed and were reused. */
  created: boolean;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Writes via a temporary file and rename, so a crash never leaves a half-written file behind. */
async function writeAtomically(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await rename(tmp, file);
}

/** The PEM pair of a new self-signed ECDSA P-256 CA valid for ten years from `now` (back-dated a minute). */
export async function createDevCaPem(
  commonName = DEV_CA_COMMON_NAME,
  now = new Date(),
): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKey({ algorithm: 'ECDSA', size: 256 });
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + DEV_CA_YEARS);
  const name = subjectNameDer({ ...EMPTY_SUBJECT, organizations: ['csi-cert-driver'], commonName });
  const spkiDer = keys.publicKey.export({ type: 'spki', format: 'der' });
  const certDer = buildCertificate({
    serial: randomSerial(),
    issuerDer: name,
    subjectDer: name,
    spkiDer,
    notBefore: truncateToSeconds(new Date(now.getTime() - 60_000)),
    notAfter: truncateToSeconds(notAfter),
    extensions: [
      basicConstraintsExtension(true),
      keyUsageExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature),
      subjectKeyIdentifierExtension(keyIdentifierOf(spkiDer)),
    ],
    signingKey: keys.privateKey,
    scheme: signatureSchemeOf({ algorithm: 'ECDSA', size: 256 }),
  });
  return { certPem: toPem(certDer, 'CERTIFICATE'), keyPem: encodePrivateKey(keys.privateKey, 'PKCS8') };
}

/**
 * Returns `dir/ca.crt` and `dir/ca.key`, creating the directory (0700) and a new CA when neither file
 * exists. One file without the other is a ConfigError: the pair is never silently replaced.
 */
export async function generateDevCa(opts: DevCaOptions): Promise<DevCaFiles> {
  const certFile = join(opts.dir, 'ca.crt');
  const keyFile = join(opts.dir, 'ca.key');
  const [haveCert, haveKey] = await Promise.all([exists(certFile), exists(keyFile)]);
  if (haveCert && haveKey) return { certFile, keyFile, created: false };
  if (haveCert !== haveKey) {
    throw new ConfigError(
      'DEV_CA_DIR',
      `${opts.dir} holds ${haveCert ? 'ca.crt without ca.key' : 'ca.key without ca.crt'}; remove it or restore the pair`,
    );
  }
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const { certPem, keyPem } = await createDevCaPem(opts.commonName, opts.now);
  await writeAtomically(keyFile, keyPem, 0o600);
  await writeAtomically(certFile, certPem, 0o644);
  return { certFile, keyFile, created: true };
}
