import type { KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeySpec } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import { KeyPool, shapeKey } from './key-pool.js';
import { keySpecOf } from './keys.js';

const spec = (algorithm: KeySpec['algorithm'], size: number): KeySpec => ({
  algorithm,
  size,
  encoding: 'PKCS8',
});
const fingerprint = (k: { publicKey: KeyObject }) =>
  k.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');

let pool: KeyPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('KeyPool', () => {
  it('warms the configured shapes and hands out keys of the asked shape from the pool', async () => {
    pool = new KeyPool({
      size: 3,
      workers: 2,
      shapes: [
        { algorithm: 'ECDSA', size: 256 },
        { algorithm: 'Ed25519', size: 0 },
      ],
    });
    await pool.warm();
    expect(pool.stats().map((s) => [s.shape, s.depth])).toEqual([
      ['ECDSA-256', 3],
      ['Ed25519-0', 3],
    ]);
    const ec = await pool.get(spec('ECDSA', 256));
    const ed = await pool.get(spec('Ed25519', 0));
    expect(keySpecOf(ec.privateKey)).toEqual({ algorithm: 'ECDSA', size: 256 });
    expect(keySpecOf(ed.privateKey)).toEqual({ algorithm: 'Ed25519', size: 0 });
    expect(pool.stats().find((s) => s.shape === 'ECDSA-256')).toMatchObject({ hits: 1, misses: 0 });
    await pool.warm();
    expect(pool.stats().find((s) => s.shape === 'ECDSA-256')?.depth).toBe(3);
  });

  it.each([
    { algorithm: 'ECDSA', size: 256 },
    { algorithm: 'ECDSA', size: 384 },
    { algorithm: 'Ed25519', size: 0 },
    { algorithm: 'RSA', size: 2048 },
  ] as const)(
    'hands out $algorithm $size keys with their SPKI DER and shape precomputed, matching the key',
    async ({ algorithm, size }) => {
      pool = new KeyPool({ size: 1, workers: 1, shapes: [{ algorithm, size }] });
      await pool.warm();
      const pooled = await pool.get(spec(algorithm, size)); // a hit
      const demanded = await pool.get(spec(algorithm, size)); // a miss: generated on demand
      expect(pool.stats()[0]).toMatchObject({ hits: 1, misses: 1 });
      for (const k of [pooled, demanded]) {
        expect(Buffer.isBuffer(k.spkiDer)).toBe(true);
        expect(k.spkiDer!.equals(k.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
        expect(k.shape).toEqual(keySpecOf(k.privateKey));
      }
    },
    60_000,
  );

  it('with startOnFirstUse, creates no pool until the first key is asked for, then warms the configured shapes', async () => {
    pool = new KeyPool({
      size: 2,
      workers: 1,
      shapes: [{ algorithm: 'ECDSA', size: 256 }],
      startOnFirstUse: true,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.stats()).toEqual([]);
    const ed = await pool.get(spec('Ed25519', 0));
    expect(keySpecOf(ed.privateKey)).toEqual({ algorithm: 'Ed25519', size: 0 });
    await pool.warm();
    expect(pool.stats().map((s) => [s.shape, s.depth, s.hits, s.misses])).toEqual([
      ['ECDSA-256', 2, 0, 0],
      ['Ed25519-0', 2, 0, 1],
    ]);
  });

  it('with startOnFirstUse, starts no worker thread for ECDSA keys; RSA shapes and their thread start with the first RSA key', async () => {
    pool = new KeyPool({
      size: 1,
      workers: 1,
      shapes: [
        { algorithm: 'ECDSA', size: 256 },
        { algorithm: 'RSA', size: 2048 },
      ],
      startOnFirstUse: true,
    });
    const threads = () => (pool as unknown as { workers: { slots: unknown[] } }).workers.slots.length;
    const ec = await pool.get(spec('ECDSA', 256));
    expect(keySpecOf(ec.privateKey)).toEqual({ algorithm: 'ECDSA', size: 256 });
    await pool.warm();
    expect(pool.stats().map((s) => [s.shape, s.depth])).toEqual([['ECDSA-256', 1]]);
    expect(threads()).toBe(0);
    const rsa = await pool.get(spec('RSA', 2048));
    expect(keySpecOf(rsa.privateKey)).toEqual({ algorithm: 'RSA', size: 2048 });
    await pool.warm();
    expect(pool.stats().map((s) => [s.shape, s.depth])).toEqual([
      ['ECDSA-256', 1],
      ['RSA-2048', 1],
    ]);
    expect(threads()).toBe(1);
  }, 60_000);

  it('never hands out the same key twice', async () => {
    pool = new KeyPool({ size: 4, workers: 2, shapes: [{ algorithm: 'ECDSA', size: 256 }] });
    const keys = await Promise.all(Array.from({ length: 40 }, () => pool!.get(spec('ECDSA', 256))));
    expect(new Set(keys.map(fingerprint)).size).toBe(40);
    expect(new Set(keys.map((k) => k.privateKey)).size).toBe(40);
  });

  it('generates on demand for a shape it has not seen, then keeps a pool of that shape too', async () => {
    pool = new KeyPool({ size: 2, workers: 1, shapes: [] });
    const rsa = await pool.get(spec('RSA', 2048));
    expect(keySpecOf(rsa.privateKey)).toEqual({ algorithm: 'RSA', size: 2048 });
    expect(rsa.privateKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(pool.stats()).toMatchObject([{ shape: 'RSA-2048', hits: 0, misses: 1 }]);
    await pool.warm();
    expect(pool.stats()[0]?.depth).toBe(2);
  });

  it('runs a waiting publish ahead of queued refills', async () => {
    pool = new KeyPool({ size: 6, workers: 1, shapes: [{ algorithm: 'RSA', size: 2048 }] });
    const rsa = await pool.get(spec('RSA', 2048)); // the pool is still empty: a demand job
    expect(keySpecOf(rsa.privateKey)).toEqual({ algorithm: 'RSA', size: 2048 });
    // Only the refill already running when the demand arrived may have finished before it.
    expect(pool.stats().find((s) => s.shape === 'RSA-2048')!.depth).toBeLessThanOrEqual(1);
  });

  it.each([
    { s: spec('RSA', 1024), field: 'csi.k8s.cert-driver/key-size' },
    { s: spec('ECDSA', 224), field: 'csi.k8s.cert-driver/key-size' },
    { s: spec('DSA' as KeySpec['algorithm'], 2048), field: 'csi.k8s.cert-driver/key-algorithm' },
  ])('refuses $s.algorithm $s.size with InvalidArgumentError naming $field', async ({ s, field }) => {
    pool = new KeyPool({ size: 1, workers: 1, shapes: [] });
    const err = await pool.get(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
    expect(pool.stats()).toEqual([]);
  });

  it('does not learn a pool of RSA keys above 4096 bits unless configured', async () => {
    const taken: boolean[] = [];
    pool = new KeyPool({ size: 2, workers: 1, shapes: [], onTake: (_s, hit) => taken.push(hit) });
    const k = await pool.get(spec('RSA', 4104));
    expect(k.privateKey.asymmetricKeyDetails?.modulusLength).toBe(4104);
    expect(pool.stats()).toEqual([]);
    expect(taken).toEqual([false]);
  }, 120_000);

  it('keeps at most maxShapes pools, dropping the least recently used', async () => {
    pool = new KeyPool({ size: 1, workers: 1, shapes: [], maxShapes: 2 });
    await pool.get(spec('ECDSA', 256));
    await pool.get(spec('ECDSA', 384));
    await pool.get(spec('Ed25519', 0));
    expect(pool.stats().map((s) => s.shape)).toEqual(['ECDSA-384', 'Ed25519-0']);
  });

  it('replaces a worker that died and still serves keys', async () => {
    pool = new KeyPool({ size: 0, workers: 1, shapes: [] });
    // With size 0 the thread starts with the first RSA key asked for.
    await pool.get(spec('RSA', 2048));
    const workers = (
      pool as unknown as { workers: { slots: { worker: { terminate(): Promise<number> } }[] } }
    ).workers;
    await workers.slots[0]!.worker.terminate();
    const k = await pool.get(spec('RSA', 2048));
    expect(keySpecOf(k.privateKey).algorithm).toBe('RSA');
  }, 60_000);

  it('drops its keys and refuses work once closed', async () => {
    const p = new KeyPool({ size: 2, workers: 1, shapes: [{ algorithm: 'Ed25519', size: 0 }] });
    await p.warm();
    await p.close();
    expect(p.stats()[0]?.depth).toBe(0);
    await expect(p.get(spec('Ed25519', 0))).rejects.toThrow(/closed/);
  });

  it.skipIf(process.platform !== 'linux')(
    'refills at nice 19, so pre-generation only takes idle CPU',
    async () => {
      pool = new KeyPool({ size: 1, workers: 1, shapes: [{ algorithm: 'RSA', size: 2048 }] });
      await pool.warm();
      const { readdirSync, readFileSync } = await import('node:fs');
      const nices = readdirSync('/proc/self/task').map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
      expect(nices).toContain(19);
    },
  );

  it('moves the worker thread into the background class for refills and out of it for a waiting publish', async () => {
    const calls: { tid: number; background: boolean }[] = [];
    pool = new KeyPool({
      size: 1,
      workers: 1,
      shapes: [{ algorithm: 'RSA', size: 2048 }],
      threadBackground: (tid, background) => calls.push({ tid, background }),
    });
    await pool.warm();
    expect(calls[0]?.background).toBe(true); // the first refill, once the worker told its thread id
    const tid = calls[0]?.tid;
    expect(tid).toBeGreaterThan(process.pid);
    // Two takes at once: the second finds the pool empty and waits, a demand job at normal priority.
    await Promise.all([pool.get(spec('RSA', 2048)), pool.get(spec('RSA', 2048))]);
    await pool.warm();
    // The next take's refill goes back to the background.
    await pool.get(spec('RSA', 2048));
    await pool.warm();
    expect(calls).toEqual([
      { tid, background: true },
      { tid, background: false },
      { tid, background: true },
    ]);
  }, 60_000);

  it('keeps serving keys when the scheduling class cannot be changed, and stops asking', async () => {
    let attempts = 0;
    pool = new KeyPool({
      size: 1,
      workers: 1,
      shapes: [{ algorithm: 'RSA', size: 2048 }],
      threadBackground: () => {
        attempts++;
        throw new Error('sched_setscheduler: EPERM');
      },
    });
    await pool.warm();
    await pool.get(spec('RSA', 2048));
    await pool.warm();
    expect(attempts).toBe(1);
  }, 60_000);

  it('names shapes the way KEY_POOL_SHAPES spells them', () => {
    expect(shapeKey({ algorithm: 'RSA', size: 2048 })).toBe('RSA-2048');
    expect(shapeKey({ algorithm: 'Ed25519', size: 0 })).toBe('Ed25519-0');
  });
});
