/**
 * A warm pool of private keys per algorithm and size, refilled off the event loop, so a publish takes
 * a ready key instead of waiting for RSA generation (~50–200 ms for RSA-2048). Keys live only in this
 * process's memory, are handed out once (taken off the pool) and never persisted or reused.
 *
 * ECDSA and Ed25519 keys (well under a millisecond of CPU each) come from node:crypto's asynchronous
 * generator on libuv's threadpool; RSA keys from worker threads, which refill in the background
 * scheduling class (ADR 6, 14). A worker thread costs ~9 MiB, so it starts with the first RSA key
 * (ADR 28).
 */
import { Worker } from 'node:worker_threads';
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeySpec } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import {
  curveOfSize,
  describeKeyShape,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  type KeyPair,
  type KeyShape,
} from './keys.js';
import { KEY_POOL_WORKER_SOURCE, type KeyJob } from './key-pool.worker.js';

export interface KeyPoolOptions {
  /** Keys kept ready per shape; 0 keeps none (every key is generated on demand, still off the event loop). */
  size: number;
  /**
   * Shapes warmed at start. Other shapes get a pool when first asked for (at most `maxShapes` in all),
   * except RSA above 4096 bits, which is generated on demand unless listed here.
   */
  shapes: readonly KeyShape[];
  /**
   * Keys of one lane generated at once: ECDSA and Ed25519 on libuv's threadpool, RSA below 4096 bits
   * on this many worker threads.
   */
  workers: number;
  /**
   * Worker threads for RSA keys of 4096 bits and more (seconds each): at most this many are generated
   * at once on the node, the rest wait in arrival order, and no other key ever waits behind them.
   * Started on first use. Default 1.
   */
  largeRsaWorkers?: number | undefined;
  maxShapes?: number;
  logger?: Logger;
  /** Called for every key handed out: `hit` when it came ready from the pool (metrics). */
  onTake?: (shape: KeyShape, hit: boolean) => void;
  /**
   * Moves a worker's OS thread into the background scheduling class for refill jobs and out of it
   * for demand jobs (`PlatformPort.setThreadBackground`). Absent: workers only renice themselves. A
   * refusal is logged once and the worker keeps its class.
   */
  threadBackground?: ((tid: number, background: boolean) => void) | undefined;
  /**
   * True: no thread starts and no shape is warmed until the first key is asked for (the node role:
   * a worker thread costs ~9 MiB and start-up CPU a node with no publish yet has no use for). That
   * first key is then generated on demand while the ECDSA and Ed25519 `shapes` start filling; RSA
   * `shapes` start filling, and the RSA worker thread starts, with the first RSA key asked for.
   * Default false: every shape at once.
   */
  startOnFirstUse?: boolean | undefined;
}

export interface KeyPoolShapeStats {
  shape: string;
  algorithm: KeyShape['algorithm'];
  size: number;
  depth: number;
  hits: number;
  misses: number;
}

interface ShapePool {
  shape: KeyShape;
  keys: KeyPair[];
  /** Refill jobs queued or running. */
  pending: number;
  hits: number;
  misses: number;
  lastUsed: number;
}

const DEFAULT_MAX_SHAPES = 8;
/** Larger RSA keys take seconds each: a pool of them is kept only when configured, never learned. */
const MAX_LEARNED_RSA_BITS = 4096;
/** RSA keys from this size on are generated on their own worker threads (the large-RSA lane). */
export const LARGE_RSA_BITS = 4096;

function isLargeRsa(shape: KeyShape): boolean {
  return shape.algorithm === 'RSA' && shape.size >= LARGE_RSA_BITS;
}

/** Shapes that need a worker thread: RSA (ECDSA and Ed25519 are made on libuv's threadpool). */
function onWorkerThread(shape: KeyShape): boolean {
  return shape.algorithm === 'RSA';
}
const REFILL_RETRY_MS = 1000;

/** "RSA-2048", "ECDSA-256", "Ed25519-0": the pool's key for a shape (also KEY_POOL_SHAPES' syntax). */
export function shapeKey(shape: KeyShape): string {
  return `${shape.algorithm}-${shape.size}`;
}

/** Checks a shape the way generateKey does; throws InvalidArgumentError naming the attribute. */
function jobOf(shape: KeyShape): Omit<KeyJob, 'id' | 'priority'> {
  switch (shape.algorithm) {
    case 'RSA':
      if (!Number.isInteger(shape.size) || shape.size < MIN_RSA_BITS || shape.size > MAX_RSA_BITS) {
        throw new InvalidArgumentError(
          'csi.k8s.cert-driver/key-size',
          `RSA keys are ${MIN_RSA_BITS}–${MAX_RSA_BITS} bits, not ${shape.size}`,
        );
      }
      return { algorithm: 'RSA', size: shape.size };
    case 'ECDSA':
      return { algorithm: 'ECDSA', size: shape.size, curve: curveOfSize(shape.size) };
    case 'Ed25519':
      return { algorithm: 'Ed25519', size: 0 };
    default:
      throw new InvalidArgumentError(
        'csi.k8s.cert-driver/key-algorithm',
        `unsupported key algorithm ${String(shape.algorithm)}`,
      );
  }
}

/**
 * Keys come from three lanes: ECDSA and Ed25519 on libuv's threadpool, `workers` at a time; RSA
 * below 4096 bits on `workers` worker threads; RSA of 4096 bits and more on `largeRsaWorkers` worker
 * threads of their own. A lane runs demand jobs before refills; a cheap key never waits behind an
 * RSA generation, and large RSA generations are bounded per node by the size of their lane.
 */
/** libuv's threadpool size: `UV_THREADPOOL_SIZE` when valid (1–1024), else its default of 4. */
function threadpoolSize(): number {
  const n = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n >= 1 && n <= 1024 ? n : 4;
}

export class KeyPool {
  private readonly pools = new Map<string, ShapePool>();
  private readonly cheap: KeyWorkers;
  private readonly workers: KeyWorkers;
  private readonly largeRsa: KeyWorkers;
  private closed = false;
  /** Whether the configured ECDSA/Ed25519 shapes, and the RSA ones, have been created. */
  private readonly started = { threadpool: false, rsa: false };

  constructor(private readonly o: KeyPoolOptions) {
    // Keys on libuv's threadpool leave at least one of its threads to file I/O and DNS.
    this.cheap = new KeyWorkers(Math.max(1, Math.min(o.workers, threadpoolSize() - 1)), o.logger, undefined, {
      threadpool: true,
    });
    // With nothing to keep warm, threads start with the first key asked for.
    this.workers = new KeyWorkers(Math.max(1, o.workers), o.logger, o.threadBackground, {
      lazy: o.size === 0 || o.startOnFirstUse === true,
    });
    this.largeRsa = new KeyWorkers(Math.max(1, o.largeRsaWorkers ?? 1), o.logger, o.threadBackground, {
      lazy: true,
    });
    if (!o.startOnFirstUse) this.start();
  }

  /**
   * Creates and starts filling the pools of `shapes` (once; `get` does it with `startOnFirstUse`):
   * all of them, or with `forShape` those made on the same kind of thread as it (RSA or not).
   */
  start(forShape?: KeyShape): void {
    if (this.closed) return;
    const kinds = forShape ? [onWorkerThread(forShape) ? 'rsa' : 'threadpool'] : ['threadpool', 'rsa'];
    for (const kind of kinds as ('threadpool' | 'rsa')[]) {
      if (this.started[kind]) continue;
      this.started[kind] = true;
      for (const shape of this.o.shapes) if (onWorkerThread(shape) === (kind === 'rsa')) this.poolFor(shape);
    }
  }

  /** The large-RSA lane now: generations running and waiting (metrics, tests). */
  largeRsaLoad(): { running: number; queued: number } {
    return this.largeRsa.load();
  }

  private lane(shape: KeyShape): KeyWorkers {
    return isLargeRsa(shape) ? this.largeRsa : onWorkerThread(shape) ? this.workers : this.cheap;
  }

  /** A fresh key of `spec`'s shape: from the pool when one is ready, else generated now (ahead of refills). */
  async get(spec: KeySpec): Promise<KeyPair> {
    const shape = { algorithm: spec.algorithm, size: spec.algorithm === 'Ed25519' ? 0 : spec.size };
    const job = jobOf(shape);
    if (this.closed) throw new Error('key pool is closed');
    this.start(shape);
    if (!this.pools.has(shapeKey(shape)) && shape.algorithm === 'RSA' && shape.size > MAX_LEARNED_RSA_BITS) {
      this.o.onTake?.(shape, false);
      return this.largeRsa.run(job, 'demand');
    }
    const pool = this.poolFor(shape);
    pool.lastUsed = Date.now();
    const key = pool.keys.shift();
    if (key) pool.hits++;
    else pool.misses++;
    this.o.onTake?.(shape, key !== undefined);
    this.refill(pool);
    return key ?? this.lane(shape).run(job, 'demand');
  }

  /** Per-shape depth and hit/miss counts, for metrics and logs. */
  stats(): KeyPoolShapeStats[] {
    return [...this.pools.values()].map((p) => ({
      shape: shapeKey(p.shape),
      algorithm: p.shape.algorithm,
      size: p.shape.size,
      depth: p.keys.length,
      hits: p.hits,
      misses: p.misses,
    }));
  }

  /** Resolves when every pool is full (for start-up and tests). */
  async warm(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.pools.values()].some((p) => p.keys.length < this.o.size)) {
      if (Date.now() > deadline) throw new Error('key pool did not fill in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops the workers and drops every pooled key. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pools.values()) p.keys.length = 0;
    await Promise.all([this.cheap.close(), this.workers.close(), this.largeRsa.close()]);
  }

  private poolFor(shape: KeyShape): ShapePool {
    const k = shapeKey(shape);
    let pool = this.pools.get(k);
    if (pool) return pool;
    jobOf(shape);
    if (this.pools.size >= (this.o.maxShapes ?? DEFAULT_MAX_SHAPES)) this.evictLeastUsed();
    pool = { shape, keys: [], pending: 0, hits: 0, misses: 0, lastUsed: Date.now() };
    this.pools.set(k, pool);
    this.o.logger?.info({ shape: describeKeyShape(shape), size: this.o.size }, 'key pool created');
    this.refill(pool);
    return pool;
  }

  private evictLeastUsed(): void {
    const oldest = [...this.pools.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
    if (oldest) this.pools.delete(oldest[0]);
  }

  private refill(pool: ShapePool): void {
    while (!this.closed && pool.keys.length + pool.pending < this.o.size) {
      pool.pending++;
      this.lane(pool.shape)
        .run(jobOf(pool.shape), 'refill')
        .then(
          (key) => {
            pool.pending--;
            if (!this.closed && this.pools.get(shapeKey(pool.shape)) === pool) pool.keys.push(key);
          },
          (e: unknown) => {
            pool.pending--;
            if (this.closed) return;
            this.o.logger?.warn(
              { err: { message: (e as Error).message } },
              'key pool refill failed; retrying',
            );
            setTimeout(() => this.refill(pool), REFILL_RETRY_MS).unref();
          },
        );
    }
  }
}

/** A worker's key pair with what the main thread would otherwise ask OpenSSL for on every CSR. */
function pairOf(
  job: KeyJob,
  privateKey: KeyObject,
  publicKey: KeyObject,
  spki: Uint8Array | undefined,
): KeyPair {
  return {
    privateKey,
    publicKey,
    spkiDer: spki && Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
    shape: { algorithm: job.algorithm, size: job.size },
  };
}

interface Pending {
  job: KeyJob;
  resolve: (k: KeyPair) => void;
  reject: (e: Error) => void;
}

interface WorkerSlot {
  /** Undefined in a threadpool lane: its jobs run on libuv's threadpool, one slot per job at a time. */
  worker: Worker | undefined;
  busy: Pending | undefined;
  /** The worker's OS thread id, once it has posted it (null: it could not tell). */
  tid: number | null | undefined;
  /** Whether the thread is in the background class now. */
  background: boolean;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** One key of `job`'s shape from node:crypto's asynchronous generator (libuv's threadpool). */
async function generateOnThreadpool(job: KeyJob): Promise<KeyPair> {
  const pair =
    job.algorithm === 'ECDSA'
      ? await generateKeyPairAsync('ec', { namedCurve: job.curve! })
      : job.algorithm === 'Ed25519'
        ? await generateKeyPairAsync('ed25519')
        : await generateKeyPairAsync('rsa', { modulusLength: job.size, publicExponent: 0x10001 });
  return pairOf(job, pair.privateKey, pair.publicKey, pair.publicKey.export({ type: 'spki', format: 'der' }));
}

/**
 * A fixed set of slots and a two-level queue: demand jobs (a publish is waiting) run before refill
 * jobs. A slot is a worker thread (started at once, or on first use when `lazy`; one that dies fails
 * its job and is replaced), or with `threadpool` a place for one job on libuv's threadpool, so a lane
 * takes at most `count` of its threads and file I/O keeps the others.
 */
class KeyWorkers {
  private readonly slots: WorkerSlot[] = [];
  private readonly demand: Pending[] = [];
  private readonly refill: Pending[] = [];
  private nextId = 1;
  private closing = false;
  private schedulingRefused = false;

  constructor(
    private readonly count: number,
    private readonly logger?: Logger,
    private readonly threadBackground?: (tid: number, background: boolean) => void,
    private readonly o: { lazy?: boolean; threadpool?: boolean } = {},
  ) {
    if (!o.lazy) this.start();
  }

  run(job: Omit<KeyJob, 'id' | 'priority'>, priority: 'demand' | 'refill'): Promise<KeyPair> {
    if (this.closing) return Promise.reject(new Error('key pool is closed'));
    this.start();
    return new Promise((resolve, reject) => {
      (priority === 'demand' ? this.demand : this.refill).push({
        job: { ...job, id: this.nextId++, priority },
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  load(): { running: number; queued: number } {
    return {
      running: this.slots.filter((s) => s.busy).length,
      queued: this.demand.length + this.refill.length,
    };
  }

  private start(): void {
    while (this.slots.length < this.count) this.slots.push(this.spawn());
  }

  async close(): Promise<void> {
    this.closing = true;
    const err = new Error('key pool is closed');
    for (const p of [...this.demand, ...this.refill]) p.reject(err);
    this.demand.length = 0;
    this.refill.length = 0;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }

  private spawn(): WorkerSlot {
    if (this.o.threadpool) return { worker: undefined, busy: undefined, tid: null, background: false };
    const worker = new Worker(KEY_POOL_WORKER_SOURCE, { eval: true });
    const slot: WorkerSlot = { worker, busy: undefined, tid: undefined, background: false };
    worker.unref();
    worker.on(
      'message',
      (m: {
        id: number;
        privateKey?: KeyObject;
        publicKey?: KeyObject;
        /** Arrives as a plain Uint8Array (structured clone drops Buffer's prototype). */
        spkiDer?: Uint8Array;
        error?: string;
        tid?: number | null;
      }) => {
        if (m.tid !== undefined) {
          slot.tid = m.tid;
          if (slot.busy) this.schedule(slot, slot.busy.job.priority === 'refill');
          return;
        }
        const p = slot.busy;
        slot.busy = undefined;
        if (p && p.job.id === m.id) {
          if (m.privateKey && m.publicKey) p.resolve(pairOf(p.job, m.privateKey, m.publicKey, m.spkiDer));
          else p.reject(new Error(`key generation failed: ${m.error ?? 'no key returned'}`));
        }
        this.dispatch();
      },
    );
    worker.on('error', (e) => this.logger?.error({ err: { message: e.message } }, 'key pool worker failed'));
    worker.on('exit', () => {
      const p = slot.busy;
      slot.busy = undefined;
      p?.reject(new Error('key pool worker exited'));
      if (this.closing) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
      this.dispatch();
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.demand.shift() ?? this.refill.shift();
      if (!next) return;
      slot.busy = next;
      if (!slot.worker) {
        this.runOnThreadpool(slot, next);
        continue;
      }
      this.schedule(slot, next.job.priority === 'refill');
      slot.worker.postMessage(next.job);
    }
  }

  private runOnThreadpool(slot: WorkerSlot, p: Pending): void {
    generateOnThreadpool(p.job).then(
      (key) => this.finish(slot, p, () => p.resolve(key)),
      (e: unknown) =>
        this.finish(slot, p, () => p.reject(new Error(`key generation failed: ${(e as Error).message}`))),
    );
  }

  private finish(slot: WorkerSlot, p: Pending, settle: () => void): void {
    if (slot.busy === p) slot.busy = undefined;
    settle();
    if (!this.closing) this.dispatch();
  }

  /** Puts the slot's thread in the background class for a refill, back for a demand job. */
  private schedule(slot: WorkerSlot, background: boolean): void {
    if (this.threadBackground === undefined || this.schedulingRefused) return;
    if (typeof slot.tid !== 'number' || slot.background === background) return;
    try {
      this.threadBackground(slot.tid, background);
      slot.background = background;
    } catch (e) {
      this.schedulingRefused = true;
      this.logger?.warn(
        { err: { message: (e as Error).message } },
        'key pool: cannot change the worker thread scheduling class; refills run niced only',
      );
    }
  }
}
