/**
 * The cluster view's in-memory index of CertVolumeStatus objects, fed by list + watch
 * (`status-watch.ts`): one compact record per object, a bounded renewal history per volume, a version
 * that grows with every change, and change listeners. One writer: the watch.
 */
import type { ClusterVolumeHistoryEntry } from '@csi-cert-driver/api-contract';
import type { CompactVolume } from './compact-volume.js';

export interface StoreChange {
  changed: CompactVolume[];
  deleted: string[];
}

/** Entries kept per volume, and volumes with a history at most (the oldest-changed lose theirs). */
export const HISTORY_PER_VOLUME = 8;
export const HISTORY_VOLUMES = 20_000;

export class ClusterStore {
  private readonly volumes = new Map<string, CompactVolume>();
  private readonly history = new Map<string, ClusterVolumeHistoryEntry[]>();
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private _version = 0;
  private _synced = false;

  get version(): number {
    return this._version;
  }
  get size(): number {
    return this.volumes.size;
  }
  /** True once the first list is in. */
  get synced(): boolean {
    return this._synced;
  }

  values(): IterableIterator<CompactVolume> {
    return this.volumes.values();
  }

  get(id: string): CompactVolume | undefined {
    return this.volumes.get(id);
  }

  /** Past renewals seen while watching, newest first, without the current one. */
  pastOf(id: string): ClusterVolumeHistoryEntry[] {
    return this.history.get(id) ?? [];
  }

  /** Replaces everything (the result of a list); volumes not in `all` are deleted. */
  replaceAll(all: CompactVolume[]): void {
    const keep = new Set(all.map((v) => v.id));
    const deleted = [...this.volumes.keys()].filter((id) => !keep.has(id));
    for (const id of deleted) this.drop(id);
    const changed = all.filter((v) => this.put(v));
    this._synced = true;
    this.emit({ changed, deleted });
  }

  upsert(v: CompactVolume): void {
    if (this.put(v)) this.emit({ changed: [v], deleted: [] });
  }

  delete(id: string): void {
    if (this.volumes.has(id)) {
      this.drop(id);
      this.emit({ changed: [], deleted: [id] });
    }
  }

  onChange(fn: (c: StoreChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  private put(v: CompactVolume): boolean {
    const before = this.volumes.get(v.id);
    if (before && sameVolume(before, v)) return false;
    const prev = before?.last;
    if (prev && v.last && prev.at !== v.last.at) this.remember(v.id, prev, before.serial);
    this.volumes.set(v.id, v);
    return true;
  }

  private remember(id: string, e: NonNullable<CompactVolume['last']>, serial: string | undefined): void {
    const list = this.history.get(id) ?? [];
    this.history.delete(id);
    const entry: ClusterVolumeHistoryEntry = {
      at: new Date(e.at).toISOString(),
      kind: e.kind,
      outcome: e.outcome,
    };
    if (serial && e.outcome === 'Success') entry.serialHex = serial;
    if (e.error) entry.error = e.error;
    list.unshift(entry);
    list.length = Math.min(list.length, HISTORY_PER_VOLUME);
    this.history.set(id, list);
    if (this.history.size > HISTORY_VOLUMES) {
      this.history.delete(this.history.keys().next().value!);
    }
  }

  private drop(id: string): void {
    this.volumes.delete(id);
    this.history.delete(id);
  }

  private emit(c: StoreChange): void {
    if (c.changed.length === 0 && c.deleted.length === 0) return;
    this._version++;
    for (const fn of this.listeners) fn(c);
  }
}

function sameVolume(a: CompactVolume, b: CompactVolume): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
