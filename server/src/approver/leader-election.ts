/**
 * Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection: a candidate
 * takes the Lease when it is free, released, or its holder has not renewed it for
 * leaseDuration (measured on this process's clock from when the record last changed, so clock skew
 * between replicas does not matter); the leader renews every retryPeriod and steps down when it has
 * not managed to renew for renewDeadline. Every write carries the resourceVersion it read, so two
 * candidates can never both win the same round. `stop()` releases the Lease (holder cleared) so a
 * standby takes over at once.
 */
import type { Logger } from '../common/logger.js';

export interface LeaseRecord {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  /** RFC 3339 times. */
  acquireTime?: string | undefined;
  renewTime?: string | undefined;
  leaseTransitions?: number | undefined;
  /** The version read; required by `update`. */
  resourceVersion?: string | undefined;
}

/** The one Lease object. `create` and `update` throw LeaseConflictError when someone else wrote first. */
export interface LeaseStore {
  /** Undefined when the Lease does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export class LeaseConflictError extends Error {}

export interface LeaderElectorOptions {
  store: LeaseStore;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
}

export class LeaderElector {
  private leader = false;
  private lastRenewMs = 0;
  private observed: { key: string; atMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: LeaderElectorOptions) {
    this.now = o.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Starts campaigning: one attempt now, then every retryPeriod. */
  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning; a leader steps down and clears the Lease's holder (best effort). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.leader) return;
    this.setLeader(false);
    try {
      const current = await this.o.store.get();
      if (current?.holderIdentity === this.o.identity) {
        const at = isoMicro(this.now());
        await this.o.store.update({
          ...current,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: at,
          renewTime: at,
        });
        this.o.logger.info({ lease: this.o.identity }, 'released the leader lease');
      }
    } catch (e) {
      this.o.logger.warn({ err: { message: (e as Error).message } }, 'releasing the leader lease failed');
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule(this.o.retryPeriodMs));
    }, delayMs);
  }

  /**
   * One round: acquire or renew, and step down after renewDeadline without a renewal. A round that
   * hangs (an API call that never answers) counts as failed after renewDeadline.
   */
  async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await withTimeout(this.tryAcquireOrRenew(), this.o.renewDeadlineMs);
    } catch (e) {
      this.o.logger.warn({ err: { message: (e as Error).message } }, 'leader election round failed');
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenewMs = this.now();
      if (!this.leader) this.setLeader(true);
    } else if (this.leader && this.now() - this.lastRenewMs >= this.o.renewDeadlineMs) {
      this.o.logger.warn(
        { renewDeadlineMs: this.o.renewDeadlineMs },
        'could not renew the leader lease in time',
      );
      this.setLeader(false);
    }
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.o.logger.info(
      { identity: this.o.identity, leader },
      leader ? 'became the leader' : 'stopped leading',
    );
    if (leader) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    const mine = (acquireTime: string, transitions: number): LeaseRecord => ({
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime,
      renewTime: isoMicro(now),
      leaseTransitions: transitions,
    });
    const current = await this.o.store.get();
    if (current === undefined) {
      return this.write(() => this.o.store.create(mine(isoMicro(now), 0)));
    }
    const key = `${current.holderIdentity ?? ''}|${current.renewTime ?? ''}|${current.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, atMs: now };
    const holder = current.holderIdentity ?? '';
    const durationMs = (current.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.o.identity && now < this.observed.atMs + durationMs) {
      if (this.leader) this.setLeader(false);
      return false;
    }
    const record =
      holder === this.o.identity
        ? mine(current.acquireTime ?? isoMicro(now), current.leaseTransitions ?? 0)
        : mine(isoMicro(now), (current.leaseTransitions ?? 0) + 1);
    return this.write(() => this.o.store.update({ ...record, resourceVersion: current.resourceVersion }));
  }

  private async write(op: () => Promise<LeaseRecord>): Promise<boolean> {
    try {
      const written = await op();
      this.observed = {
        key: `${written.holderIdentity ?? ''}|${written.renewTime ?? ''}|${written.resourceVersion ?? ''}`,
        atMs: this.now(),
      };
      return true;
    } catch (e) {
      if (e instanceof LeaseConflictError) return false;
      throw e;
    }
  }
}

/** RFC 3339 with microseconds, as the API server's MicroTime requires (`...05.123000Z`). */
export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** `p`, or a rejection after `ms` (the late result is ignored; every write is conditional anyway). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the API server within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
