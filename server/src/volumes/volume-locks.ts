import { AbortedError } from '../common/errors.js';

/**
 * Who holds a volume's lock: a CSI `request` from kubelet, or the driver's own `background` work
 * (a renewal, a trust-bundle rewrite).
 */
export type LockHolder = 'request' | 'background';

/** How long a CSI request waits for the driver's own background work on its volume. */
export const DEFAULT_BACKGROUND_WAIT_MS = 10_000;

interface Held {
  holder: LockHolder;
  released: Promise<void>;
}

/**
 * One operation per volume at a time. CSI says a second call for a volume with an operation in
 * flight gets ABORTED and kubelet retries, so two kubelet requests never queue: the second one is
 * ABORTED at once. The driver's own background work is different: kubelet did not start it and
 * cannot know about it, so a request that finds it holding the lock waits for it (up to
 * `backgroundWaitMs`, then ABORTED) instead of failing a republish because a renewal or a `ca.crt`
 * rewrite happened to run. Background work never waits: callers check `isHeld` and skip.
 */
export class VolumeLocks {
  private readonly held = new Map<string, Held>();

  constructor(private readonly backgroundWaitMs = DEFAULT_BACKGROUND_WAIT_MS) {}

  /**
   * Runs `fn` holding the volume's lock. Throws AbortedError when another request holds it, when
   * background work holds it longer than the wait allows, or when `holder` is `background` and
   * anything holds it.
   */
  async with<T>(volumeId: string, fn: () => Promise<T>, holder: LockHolder = 'request'): Promise<T> {
    const deadline = Date.now() + this.backgroundWaitMs;
    for (let cur = this.held.get(volumeId); cur; cur = this.held.get(volumeId)) {
      const left = deadline - Date.now();
      if (holder === 'background' || cur.holder === 'request' || left <= 0) {
        throw new AbortedError(`an operation on volume ${volumeId} is already in progress; retry`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        cur.released,
        new Promise<void>((r) => {
          timer = setTimeout(r, left);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
    let release!: () => void;
    this.held.set(volumeId, { holder, released: new Promise<void>((r) => (release = r)) });
    try {
      return await fn();
    } finally {
      this.held.delete(volumeId);
      release();
    }
  }

  isHeld(volumeId: string): boolean {
    return this.held.has(volumeId);
  }
}
