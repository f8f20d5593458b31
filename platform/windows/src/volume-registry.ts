import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readJson, replaceFile } from './fs-util.js';

/**
 * Where each volume lives. The port addresses `writeFiles` and `readFile` by volume id only, and on
 * Windows a volume's files live in kubelet's target directory itself, so the adapter keeps a record
 * per volume under `<dataRoot>\windows-volumes\` (one small JSON file, replaced by rename). It
 * survives a driver restart, so renewals after recovery find their directory without a new publish.
 * Holds no key material.
 */

export interface VolumeRecord {
  volumeId: string;
  targetPath: string;
  sizeBytes: number;
}

export class VolumeRegistry {
  private readonly known = new Map<string, VolumeRecord>();
  private readonly dir: string;
  private ready: Promise<unknown> | undefined;

  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'windows-volumes');
  }

  /** Records where `record.volumeId` lives, durably. */
  async remember(record: VolumeRecord): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    await replaceFile(this.dir, fileName(record.volumeId), JSON.stringify(record));
    this.known.set(record.volumeId, record);
  }

  /** Records a location in memory only (a published volume found after a restart). */
  adopt(record: VolumeRecord): void {
    if (!this.known.has(record.volumeId)) this.known.set(record.volumeId, record);
  }

  /** Where `volumeId` lives, or undefined when it is not known here. */
  async lookup(volumeId: string): Promise<VolumeRecord | undefined> {
    const cached = this.known.get(volumeId);
    if (cached) return cached;
    const stored = parseRecord(await readJson(join(this.dir, fileName(volumeId))));
    if (stored?.volumeId !== volumeId) return undefined;
    this.known.set(volumeId, stored);
    return stored;
  }

  /** Drops the record; a missing one is fine. */
  async forget(volumeId: string): Promise<void> {
    this.known.delete(volumeId);
    await rm(join(this.dir, fileName(volumeId)), { force: true });
  }
}

/** Volume ids are opaque strings from kubelet: the record's file name is a hash, safe on any file system. */
function fileName(volumeId: string): string {
  return `${createHash('sha256').update(volumeId).digest('hex').slice(0, 40)}.json`;
}

function parseRecord(value: unknown): VolumeRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<VolumeRecord>;
  if (typeof r.volumeId !== 'string' || typeof r.targetPath !== 'string') return undefined;
  return { volumeId: r.volumeId, targetPath: r.targetPath, sizeBytes: Number(r.sizeBytes) || 0 };
}
