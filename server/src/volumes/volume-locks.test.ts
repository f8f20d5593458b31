import { describe, expect, it } from 'vitest';
import { AbortedError } from '../common/errors.js';
import { VolumeLocks, type LockHolder } from './volume-locks.js';

/** Holds `vol` as `holder` until the returned release is called. */
function hold(locks: VolumeLocks, holder: LockHolder): { release: () => void; done: Promise<void> } {
  let release!: () => void;
  const done = locks.with('vol', () => new Promise<void>((r) => (release = r)), holder);
  return { release: () => release(), done };
}

describe('VolumeLocks', () => {
  it.each<{ held: LockHolder; caller: LockHolder; releaseAfterMs?: number; expect: 'runs' | 'aborted' }>([
    { held: 'request', caller: 'request', expect: 'aborted' },
    { held: 'request', caller: 'background', expect: 'aborted' },
    { held: 'background', caller: 'background', expect: 'aborted' },
    { held: 'background', caller: 'request', releaseAfterMs: 20, expect: 'runs' },
    { held: 'background', caller: 'request', releaseAfterMs: 500, expect: 'aborted' }, // past the 100 ms wait
  ])('$caller while $held holds the lock (released after $releaseAfterMs ms): $expect', async (c) => {
    const locks = new VolumeLocks(100);
    const h = hold(locks, c.held);
    if (c.releaseAfterMs !== undefined) setTimeout(h.release, c.releaseAfterMs);
    const attempt = locks.with('vol', () => Promise.resolve('ran'), c.caller);
    if (c.expect === 'runs') await expect(attempt).resolves.toBe('ran');
    else await expect(attempt).rejects.toBeInstanceOf(AbortedError);
    h.release();
    await h.done;
    expect(locks.isHeld('vol')).toBe(false);
  });

  it('a request that waited for background work holds the lock itself, so a second request is ABORTED', async () => {
    const locks = new VolumeLocks(1000);
    const bg = hold(locks, 'background');
    let releaseFirst!: () => void;
    const first = locks.with('vol', () => new Promise<void>((r) => (releaseFirst = r)));
    bg.release();
    await bg.done;
    await new Promise((r) => setTimeout(r, 0));
    await expect(locks.with('vol', () => Promise.resolve())).rejects.toBeInstanceOf(AbortedError);
    releaseFirst();
    await first;
  });

  it('other volumes are independent, and a throwing operation releases the lock', async () => {
    const locks = new VolumeLocks(100);
    const h = hold(locks, 'request');
    await expect(locks.with('other', () => Promise.resolve(1))).resolves.toBe(1);
    h.release();
    await h.done;
    await expect(locks.with('vol', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(locks.isHeld('vol')).toBe(false);
  });
});
