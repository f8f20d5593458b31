import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, removeStaleTemps, renameOver, replaceFile, stageFile } from './fs-util.js';
import { checkFileName, MANIFEST_NAME, sameWindowsName } from './paths.js';
import { PlatformError, type VolumeFile } from '@csi-cert-driver/platform-contract';

/**
 * A volume's file set in its target directory, described by the manifest `.csi-cert-driver.json`.
 *
 * Windows cannot swap a directory or a symlink atomically the way kubelet's AtomicWriter does on
 * Linux, so a new set replaces the old one FILE BY FILE. Each file is atomic (a reader sees the old
 * or the new content, never a partial one), but the set is not: between the first and the last
 * rename a reader can see a new key with the old certificate. To keep that window short and
 * detectable:
 *   1. every new file is staged (written, flushed) before the first rename, so the renames follow
 *      one another within microseconds;
 *   2. the manifest is rewritten with `state: 'writing'` and the next `generation` first, and with
 *      `state: 'complete'` after the last rename: a reader that reads the manifest before and after
 *      its files and sees the same complete generation twice has a consistent set (a seqlock);
 *   3. private keys are renamed first and everything else (certificates, CA bundle) after, in the
 *      order given. A reader that reloads when the certificate changes (the common trigger) then
 *      always finds the matching key already in place; a reader that races the window gets a key
 *      that does not match its certificate, which TLS libraries reject loudly on load, and the
 *      certificate's own change event follows and reloads a consistent pair.
 */

export type ManifestState = 'created' | 'writing' | 'complete';

export interface Manifest {
  version: 1;
  volumeId: string;
  generation: number;
  state: ManifestState;
  /** Every file the driver may have written into the directory (a superset while 'writing'). */
  files: string[];
}

export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const m = (await readJson(join(dir, MANIFEST_NAME))) as Partial<Manifest> | undefined;
  if (m?.version !== 1 || typeof m.volumeId !== 'string' || !Array.isArray(m.files)) return undefined;
  const state: ManifestState = m.state === 'complete' || m.state === 'writing' ? m.state : 'created';
  // Never trust a listed name to stay inside the directory: the manifest is a file on disk.
  const files = m.files.filter((f): f is string => typeof f === 'string' && checkFileName(f) === undefined);
  return { version: 1, volumeId: m.volumeId, generation: Number(m.generation) || 0, state, files };
}

export function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  return replaceFile(dir, MANIFEST_NAME, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Private keys first (see above); otherwise the caller's order. */
export function renameOrder(files: readonly VolumeFile[]): VolumeFile[] {
  const isKey = (f: VolumeFile) => /(^|[._-])key([._-]|$)/i.test(f.name);
  return [...files.filter(isKey), ...files.filter((f) => !isKey(f))];
}

export interface ReplaceSetInput {
  dir: string;
  volumeId: string;
  files: readonly VolumeFile[];
  /** Applied to each staged file while it is still empty (ACLs). */
  protect: (path: string) => Promise<unknown>;
}

/**
 * Replaces the directory's file set by per-file rename (see above). On failure before the first
 * rename nothing visible changed; after it, the manifest stays 'writing', so isPublished reports
 * false and the next publish or renewal writes the whole set again.
 */
export async function replaceFileSet({ dir, volumeId, files, protect }: ReplaceSetInput): Promise<void> {
  const previous = await readManifest(dir);
  if (previous && previous.volumeId !== volumeId) {
    throw new PlatformError('failed-precondition', `'${dir}' now belongs to volume '${previous.volumeId}'`);
  }
  await removeStaleTemps(dir);
  const staged: { file: VolumeFile; tmp: string }[] = [];
  try {
    for (const file of renameOrder(files)) {
      staged.push({ file, tmp: await stageFile(dir, file.name, file.data, protect) });
    }
  } catch (e) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw e;
  }
  const names = files.map((f) => f.name);
  const stale = (previous?.files ?? []).filter((old) => !names.some((n) => sameWindowsName(n, old)));
  const generation = (previous?.generation ?? 0) + 1;
  try {
    await writeManifest(dir, {
      version: 1,
      volumeId,
      generation,
      state: 'writing',
      files: [...names, ...stale],
    });
    for (const { file, tmp } of staged) await renameOver(tmp, join(dir, file.name));
  } catch (e) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw e;
  }
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  await writeManifest(dir, { version: 1, volumeId, generation, state: 'complete', files: names });
}

/** True when `dir` holds a complete set for `volumeId` whose files all exist. */
export async function holdsCompleteSet(dir: string, volumeId: string): Promise<boolean> {
  const manifest = await readManifest(dir);
  if (manifest?.volumeId !== volumeId || manifest.state !== 'complete' || manifest.files.length === 0) {
    return false;
  }
  for (const name of manifest.files) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile()) return false;
  }
  return true;
}

/** Removes every file the manifest lists, leftover temps and the manifest itself. */
export async function removeFileSet(dir: string, manifest: Manifest | undefined): Promise<void> {
  await Promise.all((manifest?.files ?? []).map((name) => rm(join(dir, name), { force: true })));
  await removeStaleTemps(dir);
  await rm(join(dir, MANIFEST_NAME), { force: true });
}
