/**
 * Linux-side judgement of what the Windows node wrote: OpenSSL on the certificate, key and keystore
 * files (read through Wine's drive mapping), the adapter's manifest, plain files only, and hashes
 * to compare across a restart.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  certKeyInfo,
  expectedUsages,
  fingerprintOf,
  opensslOk,
  pemLabels,
  privateKeyInfo,
  publicKeys,
  sansOf,
  serialOf,
  subjectOf,
  usagesOf,
  validityOf,
  verifyChain,
  type Sans,
} from '../../support/openssl.js';
import type { FileNames, Want } from '../publish-table.js';
import type { WinVolume } from './layout.js';

/** The issuer back-dates notBefore by this much (clock skew allowance). */
const SKEW_SECONDS = 60;
export const MANIFEST = '.csi-cert-driver.json';

export const fileList = (f: FileNames): string[] =>
  [f.certificate, f.privateKey, ...(f.ca ? [f.ca] : []), ...(f.pkcs12 ? [f.pkcs12.name] : [])].sort();

const sortedSans = (s: Partial<Sans>): Sans => ({
  dns: [...(s.dns ?? [])].sort(),
  ip: [...(s.ip ?? [])].sort(),
  uri: [...(s.uri ?? [])].sort(),
  email: [...(s.email ?? [])].sort(),
});

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
 * Everything OpenSSL can say about the volume's certificate against `want`: chain to `caCert`,
 * subject, SANs, lifetime, usages, key type and encoding, key matches certificate, CA file, keystore.
 * Returns the serial.
 */
export async function expectCertificate(
  vol: WinVolume,
  want: Want,
  caCert: string,
  scratch: string,
): Promise<string> {
  const files = want.files;
  const cert = join(vol.linuxTarget, files.certificate);
  const key = join(vol.linuxTarget, files.privateKey);
  const verified = await verifyChain(caCert, cert);
  expect(verified.ok, `openssl verify: ${verified.output}`).toBe(true);
  expect(pemLabels(cert), 'the certificate file holds the leaf only').toEqual(['CERTIFICATE']);
  if (files.ca) {
    expect(await fingerprintOf(join(vol.linuxTarget, files.ca))).toBe(await fingerprintOf(caCert));
    expect(
      (await verifyChain(join(vol.linuxTarget, files.ca), cert)).ok,
      'verifies with its own CA file',
    ).toBe(true);
  }
  const cn = want.cn(vol.pod);
  expect(await subjectOf(cert)).toEqual(cn === undefined ? {} : { CN: [cn] });
  expect(await sansOf(cert)).toEqual(sortedSans(want.sans(vol.pod)));
  const { notBefore, notAfter } = await validityOf(cert);
  const lifetime = (notAfter.getTime() - notBefore.getTime()) / 1000;
  expect(
    Math.abs(lifetime - (want.durationSeconds + SKEW_SECONDS)),
    `lifetime ${lifetime}s`,
  ).toBeLessThanOrEqual(1);
  const usages = await usagesOf(cert);
  const wantUsages = expectedUsages(want.usages);
  expect(usages.keyUsage).toEqual(wantUsages.keyUsage);
  expect(usages.extKeyUsage).toEqual(wantUsages.extKeyUsage);
  expect(usages.isCA).toBe(false);
  expect(await certKeyInfo(cert)).toEqual(want.key);
  expect(await privateKeyInfo(key)).toEqual(want.key);
  expect(pemLabels(key)).toEqual([want.keyPem]);
  const { fromKey, fromCert } = await publicKeys(key, cert);
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
