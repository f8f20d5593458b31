import { AbortedError } from '../common/errors.js';

/**
 * One operation per volume at a time. CSI says a second call for a volume with an operation in
 * flight gets ABORTED and kubelet retries, so this is a try-lock, not a queue.
 */
export class VolumeLocks {
  private readonly held = new Set<string>();

  /** Runs `fn` holding the volume's lock; throws AbortedError when it is already held. */
  async with<T>(volumeId: string, fn: () => Promise<T>): Promise<T> {
    if (this.held.has(volumeId)) {
      throw new AbortedError(`an operation on volume ${volumeId} is already in progress; retry`);
    }
    this.held.add(volumeId);
    try {
      return await fn();
    } finally {
      this.held.delete(volumeId);
    }
  }

  isHeld(volumeId: string): boolean {
    return this.held.has(volumeId);
  }
}
