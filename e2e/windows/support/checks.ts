/**
 * Linux-side judgement of what the Windows node wrote: OpenSSL on the certificate, key and keystore
 * files (read through Wine's drive mapping), the adapter's manifest, plain files only, and hashes
 * to compare across a restart.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fingerprintOf, opensslOk, publicKeys, serialOf } from '../../support/openssl.js';
import { expectIssued, type FileNames, type Want } from '../../support/publish-table.js';
import type { WinVolume } from './layout.js';

export const MANIFEST = '.csi-cert-driver.json';

export const fileList = (f: FileNames): string[] =>
  [f.certificate, f.privateKey, ...(f.ca ? [f.ca] : []), ...(f.pkcs12 ? [f.pkcs12.name] : [])].sort();

/** The adapter's manifest in the target directory. */
export function manifestOf(vol: WinVolume): {
  volumeId: string;
  state: string;
  files: string[];
  generation: number;
} {
  return JSON.parse(readFileSync(join(vol.linuxTarget, MANIFEST), 'utf8')) as {
    volumeId: string;
    state: string;
    files: string[];
    generation: number;
  };
}

/**
 * Copies `names` of one whole generation into a scratch directory, as docs/windows.md tells a careful
 * reader to: the manifest, then the files, then the manifest again, accepted only when both reads
 * saw the same `complete` generation. The adapter replaces a volume's files one by one (keys first),
 * so a reader racing a renewal could otherwise pair a new key with the old certificate. Undefined
 * while a generation is being written; the caller retries.
 */
export function copyOneGeneration(vol: WinVolume, names: readonly string[]): string | undefined {
  const read = () => {
    try {
      return manifestOf(vol);
    } catch {
      return undefined; // between the manifest's own rename steps
    }
  };
  const before = read();
  if (before?.state !== 'complete') return undefined;
  const out = mkdtempSync(join(tmpdir(), 'ccd-win-gen-'));
  try {
    for (const n of names) writeFileSync(join(out, n), readFileSync(join(vol.linuxTarget, n)));
  } catch {
    rmSync(out, { recursive: true, force: true });
    return undefined; // a file moved aside for an instant by a rename
  }
  const after = read();
  if (after?.state === 'complete' && after.generation === before.generation) return out;
  rmSync(out, { recursive: true, force: true });
  return undefined;
}

/** Exactly the expected files plus the manifest, all plain files (no symlinks, no junctions). */
export function expectPlainFiles(vol: WinVolume, files: FileNames): void {
  expect(readdirSync(vol.linuxTarget).sort()).toEqual([MANIFEST, ...fileList(files)].sort());
  for (const name of [MANIFEST, ...fileList(files)]) {
    const st = lstatSync(join(vol.linuxTarget, name));
    expect(st.isFile() && !st.isSymbolicLink(), `${name} is a plain file`).toBe(true);
  }
  const manifest = manifestOf(vol);
  expect(manifest).toMatchObject({ volumeId: vol.volumeId, state: 'complete' });
  expect([...manifest.files].sort()).toEqual(fileList(files));
}

/**
 * Everything OpenSSL can say about the volume's certificate against `want` (`expectIssued`), the key
 * matches the certificate, and the keystore. Returns the serial.
 */
export async function expectCertificate(
  vol: WinVolume,
  want: Want,
  caCert: string,
  scratch: string,
): Promise<string> {
  const files = want.files;
  const cert = join(vol.linuxTarget, files.certificate);
  await expectIssued({ dir: vol.linuxTarget, want, pod: vol.pod, caCert });
  const { fromKey, fromCert } = await publicKeys(join(vol.linuxTarget, files.privateKey), cert);
  expect(fromKey, 'the private key belongs to the certificate').toBe(fromCert);
  if (files.pkcs12) await expectKeystore(vol, files, scratch, fromCert);
  return serialOf(cert);
}

/** The keystore opens with its password and holds the same certificate and key as the PEM files. */
async function expectKeystore(
  vol: WinVolume,
  files: FileNames,
  scratch: string,
  publicKey: string,
): Promise<void> {
  const ks = join(vol.linuxTarget, files.pkcs12!.name);
  const pass = `pass:${files.pkcs12!.password}`;
  const leaf = join(scratch, `${vol.volumeId}.p12-leaf.pem`);
  const key = join(scratch, `${vol.volumeId}.p12-key.pem`);
  writeFileSync(leaf, await opensslOk(['pkcs12', '-in', ks, '-passin', pass, '-clcerts', '-nokeys']));
  writeFileSync(key, await opensslOk(['pkcs12', '-in', ks, '-passin', pass, '-nocerts', '-nodes']));
  expect(await fingerprintOf(leaf)).toBe(await fingerprintOf(join(vol.linuxTarget, files.certificate)));
  expect((await publicKeys(key, leaf)).fromKey).toBe(publicKey);
}

/** SHA-256 of every file in the target directory, by name; empty when there is no directory. */
export function hashes(vol: WinVolume): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(vol.linuxTarget)) return out;
  for (const name of readdirSync(vol.linuxTarget).sort()) {
    out[name] = createHash('sha256')
      .update(readFileSync(join(vol.linuxTarget, name)))
      .digest('hex');
  }
  return out;
}

/** Base64 lines of a PEM body, to look for key material where it must not be. */
export function pemBodyLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'));
}

/** Nothing of the volume on disk: no target directory (its parent is empty), no state file. */
export function expectNothingOf(vol: WinVolume, stateFile: string): void {
  expect(existsSync(vol.linuxTarget), `target ${vol.targetPath} exists`).toBe(false);
  expect(readdirSync(vol.linuxParent), `kubelet's volume directory of ${vol.targetPath}`).toEqual([]);
  expect(existsSync(stateFile), 'state file exists').toBe(false);
}
