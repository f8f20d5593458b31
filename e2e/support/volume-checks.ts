/**
 * Assertions about one published volume shared by the suites: mounted exactly once, a key pair that
 * OpenSSL accepts, and nothing left after unpublish.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Harness, Volume } from './harness.js';
import { mountsAt } from './host.js';
import { publicKeys, serialOf, verifyChain } from './openssl.js';
import { DEFAULT_FILES, type FileNames } from './publish-table.js';

export const TMPFS_SOURCE = 'csi-cert-driver';

/** Exactly one tmpfs of ours at the data dir and exactly one read-only bind of it at the target path. */
export function expectMountedOnce(h: Harness, vol: Volume): void {
  const data = mountsAt(h.dataDir(vol.volumeId));
  const target = mountsAt(vol.targetPath);
  expect(
    data.map((m) => `${m.fsType} ${m.source}`),
    `mounts at ${h.dataDir(vol.volumeId)}`,
  ).toEqual([`tmpfs ${TMPFS_SOURCE}`]);
  expect(
    target.map((m) => `${m.fsType} ${m.source}`),
    `mounts at ${vol.targetPath}`,
  ).toEqual([`tmpfs ${TMPFS_SOURCE}`]);
  const [d, t] = [data[0]!, target[0]!];
  expect(`${t.major}:${t.minor}${t.root}`, 'target is a bind of the data tmpfs').toBe(
    `${d.major}:${d.minor}${d.root}`,
  );
  expect(t.mountOptions, 'target mount options').toContain('ro');
}

/** The certificate verifies against the harness CA and the private key belongs to it; returns serial and public key. */
export async function expectValidPair(
  h: Harness,
  vol: Volume,
  files: FileNames = DEFAULT_FILES,
): Promise<{ serial: string; publicKey: string }> {
  const cert = join(vol.targetPath, files.certificate);
  const key = join(vol.targetPath, files.privateKey);
  const verified = await verifyChain(h.caCert, cert);
  expect(verified.ok, `openssl verify: ${verified.output}`).toBe(true);
  const { fromKey, fromCert } = await publicKeys(key, cert);
  expect(fromKey, 'public key of the private key equals the certificate public key').toBe(fromCert);
  return { serial: await serialOf(cert), publicKey: fromCert };
}

/** After unpublish: no mount at the target or data dir, neither directory exists, no state file. */
export function expectGone(h: Harness, vol: Pick<Volume, 'volumeId' | 'targetPath'>): void {
  expect(mountsAt(vol.targetPath), 'mounts at the target path').toEqual([]);
  expect(mountsAt(h.dataDir(vol.volumeId)), 'mounts at the data dir').toEqual([]);
  expect(existsSync(vol.targetPath), `target path ${vol.targetPath} exists`).toBe(false);
  expect(existsSync(h.dataDir(vol.volumeId)), 'data dir exists').toBe(false);
  expect(existsSync(h.stateFile(vol.volumeId)), 'state file exists').toBe(false);
}

/**
 * Reads the current generation of a volume the way a careful reader does (resolve `..data` once,
 * then read both files from it) and checks the key belongs to the certificate. Undefined when the
 * generation vanished under us (it was swapped out between readlink and read).
 */
export function sampleGeneration(vol: Volume): { generation: string; matches: boolean } | undefined {
  try {
    const generation = readlinkSync(join(vol.targetPath, '..data'));
    const dir = join(vol.targetPath, generation);
    const cert = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    const key = createPrivateKey(readFileSync(join(dir, 'tls.key')));
    return { generation, matches: cert.checkPrivateKey(key) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
