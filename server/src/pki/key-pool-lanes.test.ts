import { afterEach, expect, it } from 'vitest';
import type { KeySpec } from '../attributes/certificate-spec.js';
import { KeyPool } from './key-pool.js';
import { keySpecOf } from './keys.js';

let pool: KeyPool | undefined;
afterEach(async () => {
  // Rejects the queued generations and waits for the running ones to end (a worker cannot be
  // stopped inside OpenSSL's key generation).
  await pool?.close();
  pool = undefined;
}, 180_000);

/** A promise whose settling is recorded, so a test can see which finished first without timing it. */
function tracked<T>(p: Promise<T>) {
  const t = { settled: false };
  p.then(
    () => (t.settled = true),
    () => (t.settled = true),
  );
  return t;
}

const rsa = (size: number): KeySpec => ({ algorithm: 'RSA', size, encoding: 'PKCS8' });

it('with the pool empty and three RSA-8192 keys in flight, ECDSA, Ed25519 and RSA-2048 keys are handed out before any of them', async () => {
  pool = new KeyPool({ size: 0, workers: 1, shapes: [] });
  const slow = [1, 2, 3].map(() => tracked(pool!.get(rsa(8192))));
  // At most one (largeRsaWorkers' default) generates at a time; the rest wait their turn.
  expect(pool.largeRsaLoad()).toEqual({ running: 1, queued: 2 });
  const cheap: KeySpec[] = [
    { algorithm: 'ECDSA', size: 256, encoding: 'PKCS8' },
    { algorithm: 'Ed25519', size: 0, encoding: 'PKCS8' },
    rsa(2048),
  ];
  for (const spec of cheap) {
    const key = await pool.get(spec);
    expect(keySpecOf(key.privateKey)).toEqual({ algorithm: spec.algorithm, size: spec.size });
    expect(
      slow.map((s) => s.settled),
      `${spec.algorithm} came first`,
    ).toEqual([false, false, false]);
  }
  expect(pool.largeRsaLoad().running).toBeLessThanOrEqual(1);
}, 120_000);

it('runs as many RSA ≥ 4096 generations at once as largeRsaWorkers allows, and queues the rest', () => {
  pool = new KeyPool({ size: 0, workers: 1, shapes: [], largeRsaWorkers: 2 });
  for (let i = 0; i < 5; i++) pool.get(rsa(4096)).catch(() => undefined);
  expect(pool.largeRsaLoad()).toEqual({ running: 2, queued: 3 });
});
