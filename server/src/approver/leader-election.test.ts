import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { LeaderElector, LeaseConflictError, type LeaseRecord, type LeaseStore } from './leader-election.js';

/** An in-memory Lease with the API server's optimistic concurrency (resourceVersion). */
class FakeLeaseStore implements LeaseStore {
  record: LeaseRecord | undefined;
  failing = false;
  private version = 0;

  async get(): Promise<LeaseRecord | undefined> {
    if (this.failing) throw new Error('connection refused');
    return this.record && { ...this.record };
  }
  async create(r: LeaseRecord): Promise<LeaseRecord> {
    if (this.failing) throw new Error('connection refused');
    if (this.record) throw new LeaseConflictError('exists');
    return this.save(r);
  }
  async update(r: LeaseRecord): Promise<LeaseRecord> {
    if (this.failing) throw new Error('connection refused');
    if (!this.record || r.resourceVersion !== this.record.resourceVersion)
      throw new LeaseConflictError('conflict');
    return this.save(r);
  }
  private save(r: LeaseRecord): LeaseRecord {
    this.record = { ...r, resourceVersion: String(++this.version) };
    return { ...this.record };
  }
}

function setup() {
  const store = new FakeLeaseStore();
  let clock = 1_000_000;
  const events: string[] = [];
  const elector = (identity: string) =>
    new LeaderElector({
      store,
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      logger: pino({ level: 'silent' }),
      now: () => clock,
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
    });
  const advance = (ms: number) => (clock += ms);
  /** Whether `e` leads after `ms` more and one round. */
  const leadsAfter = async (e: LeaderElector, ms: number) => {
    advance(ms);
    await e.tick();
    return e.isLeader;
  };
  return { store, events, elector, advance, leadsAfter };
}

describe('LeaderElector', () => {
  it('creates the Lease, keeps it while renewing, and a standby never takes it meanwhile', async () => {
    const { store, events, elector, advance } = setup();
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    for (let i = 0; i < 20; i++) {
      advance(2_000);
      await a.tick();
      await b.tick();
    }
    expect(a.isLeader && !b.isLeader).toBe(true);
    expect(store.record).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(store.record?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(events).toEqual(['a started']);
  });

  it('takes over when the holder stops renewing, only after the lease duration', async () => {
    const { store, events, elector, leadsAfter } = setup();
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick(); // b observes a's record now
    expect(await leadsAfter(b, 14_000)).toBe(false);
    expect(await leadsAfter(b, 1_000)).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    // The old leader comes back, sees b holding a live lease, and steps down.
    await a.tick();
    expect(a.isLeader).toBe(false);
    expect(events).toEqual(['a started', 'b started', 'a stopped']);
  });

  it('steps down after renewDeadline without a successful renewal', async () => {
    const { store, events, elector, leadsAfter } = setup();
    const a = elector('a');
    await a.tick();
    store.failing = true;
    expect(await leadsAfter(a, 8_000)).toBe(true);
    expect(await leadsAfter(a, 2_000)).toBe(false);
    expect(events).toEqual(['a started', 'a stopped']);
  });

  it('counts a round that never answers as failed, so a hung leader steps down', async () => {
    const { store, events, elector, advance } = setup();
    const a = elector('a');
    await a.tick();
    store.get = () => new Promise(() => undefined); // the API server stops answering
    advance(10_000);
    vi.useFakeTimers();
    try {
      const round = a.tick();
      await vi.advanceTimersByTimeAsync(10_000);
      await round;
    } finally {
      vi.useRealTimers();
    }
    expect(a.isLeader).toBe(false);
    expect(events).toEqual(['a started', 'a stopped']);
  });

  it('releases the Lease on stop so a standby takes it at once', async () => {
    const { store, elector } = setup();
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    await a.stop();
    expect(store.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await b.tick();
    expect(b.isLeader).toBe(true);
  });

  it('lets only one of two candidates win the same round', async () => {
    const { store, elector } = setup();
    const a = elector('a');
    const b = elector('b');
    await Promise.all([a.tick(), b.tick()]);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    expect(store.record?.holderIdentity).toBe(a.isLeader ? 'a' : 'b');
  });
});
