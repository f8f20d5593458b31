/**
 * Keeps every published volume's ca.crt equal to the node's trust bundle. On each bundle change it
 * rewrites, volume by volume under the volume's lock, the whole file set with the new ca.crt: the
 * certificate and key files are read back and written again byte for byte (the key is never
 * regenerated), the PKCS#12 keystore is rebuilt around the same key, and the swap is atomic like any
 * other write. Volumes busy with a publish or renewal, or whose rewrite failed, are retried shortly.
 */
import type { Logger } from '../common/logger.js';
import { AbortedError } from '../common/errors.js';
import type { VolumeFile } from '@csi-cert-driver/platform-contract';
import { decodePrivateKey } from '../pki/keys.js';
import type { StateReader } from '../volumes/state-store.port.js';
import type { VolumeLifecycle } from '../volumes/volume-lifecycle.js';
import type { VolumeState } from '../volumes/volume-state.js';
import { renderFiles } from '../volumes/volume-certificates.js';
import type { TrustBundle } from './trust-bundle.js';

export interface BundleDistributorDeps {
  trust: TrustBundle;
  /** The volumes' one writer: their locks and files. */
  volumes: Pick<VolumeLifecycle, 'isBusy' | 'withLock' | 'readFile' | 'writeFiles'>;
  store: Pick<StateReader, 'get'>;
  logger: Logger;
  /** Volumes rewritten at once. */
  concurrency?: number;
  /** Called with each volume's outcome (metrics). */
  onOutcome?: (outcome: Outcome) => void;
  /** First delay before busy or failed volumes are tried again; doubles up to a minute while they keep failing. */
  retryMs?: number;
}

const MAX_RETRY_MS = 60_000;

export type Outcome = 'rewritten' | 'unchanged' | 'busy' | 'failed' | 'gone';

export interface DistributionStats {
  /** Volume rewrites since start. */
  rewrites: number;
  /** Failed volume rewrites since start. */
  failures: number;
  /** Volumes whose ca.crt is known to lag the bundle. */
  lagging: number;
  lastDistributionAt?: string | undefined;
}

export class BundleDistributor {
  private readonly volumes = new Set<string>();
  /** Bundle last written by us to volumes without a ca file (PKCS#12 only), to skip needless rewrites. */
  private readonly written = new Map<string, string>();
  private readonly lagging = new Set<string>();
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retries = 0;
  private stopped = false;
  private readonly stats_: DistributionStats = { rewrites: 0, failures: 0, lagging: 0 };
  private readonly unsubscribe: () => void;

  constructor(private readonly d: BundleDistributorDeps) {
    this.unsubscribe = d.trust.onChange(() => void this.distribute());
  }

  /** Follows a volume's life: a published state adds it, undefined (unpublished) removes it. */
  track(volumeId: string, state: VolumeState | undefined): void {
    if (state && state.phase === 'published') {
      this.volumes.add(volumeId);
    } else {
      this.volumes.delete(volumeId);
      this.written.delete(volumeId);
      this.lagging.delete(volumeId);
    }
  }

  get size(): number {
    return this.volumes.size;
  }

  stats(): DistributionStats {
    return { ...this.stats_, lagging: this.lagging.size };
  }

  /**
   * Brings every tracked volume in line with the current bundle; resolves when done. Calls during a
   * run make it go round once more, so the last bundle always wins.
   */
  distribute(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.runOnce();
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async runOnce(): Promise<void> {
    const bundle = this.d.trust.current();
    if (bundle === undefined || this.stopped) return;
    const started = Date.now();
    const ids = [...this.volumes];
    const counts: Record<Outcome, number> = { rewritten: 0, unchanged: 0, busy: 0, failed: 0, gone: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length && !this.stopped) {
        const id = ids[next++] as string;
        const outcome = await this.reconcile(id, bundle);
        counts[outcome]++;
        this.d.onOutcome?.(outcome);
        if (outcome === 'busy' || outcome === 'failed') this.lagging.add(id);
        else this.lagging.delete(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.d.concurrency ?? 16, ids.length) }, worker));
    this.stats_.rewrites += counts.rewritten;
    this.stats_.failures += counts.failed;
    this.stats_.lastDistributionAt = new Date().toISOString();
    if (counts.rewritten + counts.busy + counts.failed > 0) {
      this.d.logger.info({ ...counts, ms: Date.now() - started }, 'trust bundle distributed to volumes');
    }
    if (this.lagging.size === 0) this.retries = 0;
    else if (!this.stopped) {
      // 1 s, 2 s, 4 s ... up to a minute while some volume keeps failing.
      const delay = Math.min(MAX_RETRY_MS, (this.d.retryMs ?? 1000) * 2 ** this.retries++);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.distribute(), delay);
      this.retryTimer.unref();
    }
  }

  private async reconcile(volumeId: string, bundle: string): Promise<Outcome> {
    if (this.d.volumes.isBusy(volumeId)) return 'busy';
    try {
      return await this.d.volumes.withLock(volumeId, () => this.rewrite(volumeId, bundle), 'background');
    } catch (e) {
      if (e instanceof AbortedError) return 'busy';
      this.d.logger.warn(
        { volumeId, err: { message: (e as Error).message } },
        'could not rewrite ca.crt; will retry',
      );
      return 'failed';
    }
  }

  private async rewrite(volumeId: string, bundle: string): Promise<Outcome> {
    const state = await this.d.store.get(volumeId);
    if (!state || state.phase !== 'published') {
      this.track(volumeId, undefined);
      return 'gone';
    }
    const { spec } = state;
    const { volumes } = this.d;
    if (spec.files.ca) {
      const current = await volumes.readFile(volumeId, spec.files.ca);
      if (current !== undefined && Buffer.from(current).toString('utf8') === bundle) return 'unchanged';
    } else if (!spec.files.pkcs12 || this.written.get(volumeId) === bundle) {
      return 'unchanged';
    }
    const [cert, key] = await Promise.all([
      volumes.readFile(volumeId, spec.files.certificate),
      volumes.readFile(volumeId, spec.files.privateKey),
    ]);
    if (cert === undefined || key === undefined) throw new Error('certificate or key file is missing');
    const privateKey = decodePrivateKey(Buffer.from(key).toString('utf8'), spec.files.privateKey);
    const files: VolumeFile[] = renderFiles(spec, privateKey, {
      certificatePem: Buffer.from(cert).toString('utf8'),
      chainPem: '',
      caBundlePem: bundle,
    }).map((f) => (f.name === spec.files.privateKey ? { ...f, data: key } : f));
    await volumes.writeFiles(volumeId, files);
    this.written.set(volumeId, bundle);
    return 'rewritten';
  }
}
