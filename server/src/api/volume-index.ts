import type { VolumeDetails, VolumeEvent, VolumeSummary } from '@csi-cert-driver/api-contract';
import type { Logger } from '../common/logger.js';
import { describeCertificate } from '../pki/certificate-info.js';
import type { StateReader } from '../volumes/state-store.port.js';
import type { VolumeState } from '../volumes/volume-state.js';
import {
  publishFailureDetails,
  publishFailureSummary,
  summaryWithExpiry,
  toDetails,
  toSummary,
  type PublishFailure,
} from './volume-view.js';

export type VolumeListener = (volumeId: string, state: VolumeState | undefined) => void;

export interface VolumeIndexDeps {
  nodeId: string;
  store: StateReader;
  /** Reads one file of a volume; only ever asked for the certificate file. */
  readFile(volumeId: string, name: string): Promise<Uint8Array | undefined>;
  /** True while an operation (a renewal) holds the volume. */
  isBusy(volumeId: string): boolean;
  /** Subscribes to the node's volume changes; returns the unsubscribe function. */
  subscribe(listener: VolumeListener): () => void;
  /** Volumes kubelet fails to publish (the demo's simulated kubelet reports them). */
  publishFailures?: (() => PublishFailure[]) | undefined;
  logger: Logger;
  /** How often every known volume is re-read from the store, to catch changes without an event. */
  resyncMs?: number;
  /** How often publish failures are polled for changes. */
  failurePollMs?: number;
}

/**
 * The node's volumes in memory for the API: loaded once from the state store, kept current by the
 * node's change events, re-read from the store every `resyncMs` as a safety net. Listing 5,000
 * volumes never touches the disk; details always read the store and the certificate file.
 */
export class VolumeIndex {
  private readonly states = new Map<string, VolumeState>();
  /** Each volume's list row, reused until its state changes, its busy flag flips or `until` passes. */
  private readonly rows = new Map<string, { summary: VolumeSummary; busy: boolean; until: number }>();
  private readonly failures = new Map<string, { f: PublishFailure; since: string; summary: VolumeSummary }>();
  /** Bumped whenever any row object changes; lets callers cache sorted orders and counts. */
  private version = 0;
  private snap: { version: number; rows: VolumeSummary[] } | undefined;
  private readonly subscribers = new Set<(e: VolumeEvent) => void>();
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private resyncing = false;
  loaded = false;

  constructor(private readonly d: VolumeIndexDeps) {}

  get nodeId(): string {
    return this.d.nodeId;
  }

  async start(): Promise<void> {
    this.unsubscribe = this.d.subscribe((id, s) => this.apply(id, s));
    const { states } = await this.d.store.list();
    for (const s of states) if (!this.states.has(s.volumeId)) this.states.set(s.volumeId, s);
    this.pollFailures();
    this.loaded = true;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.d.resyncMs ?? 30_000, () => void this.resync());
    if (this.d.publishFailures) every(this.d.failurePollMs ?? 1_000, () => this.pollFailures());
  }

  stop(): void {
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.subscribers.clear();
  }

  /** Subscribes to upserts and deletes; returns the unsubscribe function. */
  onEvent(fn: (e: VolumeEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Every volume of this node as list rows, states computed for `now`. */
  summaries(now = Date.now()): VolumeSummary[] {
    return this.snapshot(now).rows;
  }

  /**
   * The list rows and a version that changes whenever any row does. Rows are immutable objects
   * reused until their volume changes, their busy flag flips or their state can change with time;
   * with nothing changed the same array comes back, so callers can cache what they derive from it.
   */
  snapshot(now = Date.now()): { version: number; rows: VolumeSummary[] } {
    for (const s of this.states.values()) {
      const busy = this.d.isBusy(s.volumeId);
      const row = this.rows.get(s.volumeId);
      if (!row || row.busy !== busy || now >= row.until) {
        this.rows.set(s.volumeId, { ...summaryWithExpiry(s, now, busy), busy });
        this.version++;
      }
    }
    if (this.snap?.version !== this.version) {
      const rows: VolumeSummary[] = [];
      for (const id of this.states.keys()) rows.push(this.rows.get(id)!.summary);
      for (const [id, { summary }] of this.failures) if (!this.states.has(id)) rows.push(summary);
      this.snap = { version: this.version, rows };
    }
    return this.snap;
  }

  /** Details of one volume from the store and its certificate file, or undefined when unknown. */
  async details(volumeId: string, now = Date.now()): Promise<VolumeDetails | undefined> {
    const s = await this.d.store.get(volumeId);
    if (!s) {
      if (this.states.has(volumeId)) this.apply(volumeId, undefined);
      const failure = this.failures.get(volumeId);
      return failure && !this.states.has(volumeId)
        ? publishFailureDetails(failure.f, this.d.nodeId, failure.since)
        : undefined;
    }
    return toDetails(s, now, this.d.isBusy(volumeId), await this.certificateOf(s));
  }

  private async certificateOf(
    s: VolumeState,
  ): Promise<{ info: ReturnType<typeof describeCertificate> } | { error: string }> {
    if (s.phase !== 'published') return { error: 'the first certificate is still being issued' };
    try {
      const pem = await this.d.readFile(s.volumeId, s.spec.files.certificate);
      if (!pem) return { error: `${s.spec.files.certificate} is missing from the volume` };
      return { info: describeCertificate(new TextDecoder().decode(pem), s.spec.files.certificate) };
    } catch (e) {
      return { error: `cannot read ${s.spec.files.certificate}: ${(e as Error).message}` };
    }
  }

  private apply(volumeId: string, s: VolumeState | undefined): void {
    this.rows.delete(volumeId);
    this.version++;
    if (s) this.states.set(volumeId, s);
    else if (!this.states.delete(volumeId)) return;
    if (s) this.failures.delete(volumeId);
    // The node announces a change from inside the operation that made it, just before letting go
    // of the volume: the state announced is that operation's result, not "in progress".
    this.emit(
      s
        ? { type: 'upsert', volume: toSummary(s, Date.now(), false) }
        : { type: 'delete', volumeId, nodeId: this.d.nodeId },
    );
  }

  private emit(e: VolumeEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(e);
      } catch (err) {
        this.d.logger.warn({ err: { message: (err as Error).message } }, 'api: event subscriber failed');
      }
    }
  }

  /** Re-reads every known volume from the store; changes nobody announced become events. */
  async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      for (const [id, known] of [...this.states]) {
        const s = await this.d.store.get(id).catch(() => known);
        if (!s) this.apply(id, undefined);
        else if (fingerprint(s) !== fingerprint(known) && this.states.get(id) === known) this.apply(id, s);
      }
    } finally {
      this.resyncing = false;
    }
  }

  private pollFailures(): void {
    if (!this.d.publishFailures) return;
    const now = new Date().toISOString();
    const current = new Map(this.d.publishFailures().map((f) => [f.volumeId, f]));
    const set = (id: string, f: PublishFailure, since: string) => {
      const summary = publishFailureSummary(f, this.d.nodeId, since);
      this.failures.set(id, { f, since, summary });
      this.version++;
      if (!this.states.has(id)) this.emit({ type: 'upsert', volume: summary });
    };
    for (const [id, { f, since }] of this.failures) {
      const next = current.get(id);
      if (!next) {
        this.failures.delete(id);
        this.version++;
        if (!this.states.has(id)) this.emit({ type: 'delete', volumeId: id, nodeId: this.d.nodeId });
      } else if (next.error !== f.error) {
        set(id, next, since);
      }
    }
    for (const [id, f] of current) if (!this.failures.has(id) && !this.states.has(id)) set(id, f, now);
  }
}

function fingerprint(s: VolumeState): string {
  return `${s.phase}|${s.certificate?.serialHex}|${s.failures}|${s.history.length}|${s.history.at(-1)?.at}`;
}
