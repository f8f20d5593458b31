/** Optional process tuning the host offers; a member is absent where the platform cannot do it. */
export interface HostTuning {
  /**
   * Puts OS thread `tid` of this process in the background (it gets only CPU time no other thread
   * wants, and yields the moment one does) or back to normal; throws when the OS refuses. The key
   * pool uses it for its refill jobs (ADR 14).
   */
  readonly setThreadBackground?: ((tid: number, background: boolean) => void) | undefined;

  /**
   * Gives memory the process's native heap has freed back to the OS (nothing in use moves); true
   * when some was released. The node role's `MemoryTrimmer` calls it after busy periods (ADR 15).
   */
  readonly releaseFreeMemory?: (() => boolean) | undefined;
}
