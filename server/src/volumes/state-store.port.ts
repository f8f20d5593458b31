import type { VolumeState } from './volume-state.js';

export interface StateReader {
  get(volumeId: string): Promise<VolumeState | undefined>;
  /** Every readable state; unreadable files are reported in `corrupt` and set aside, never thrown. */
  list(): Promise<{ states: VolumeState[]; corrupt: { file: string; reason: string }[] }>;
}

export interface PutOptions {
  /**
   * True (the default): on disk before the promise resolves, so it survives the loss of the kernel
   * (power cut, panic). False: atomic and visible to the next reader, and so it survives `kill -9`
   * of the driver, but the kernel may not have written it yet. See ADR 12.
   */
  durable?: boolean;
}

export interface StateWriter {
  /** Persists atomically: after a crash the previous or the new state is on disk, never a mix. */
  put(state: VolumeState, options?: PutOptions): Promise<void>;
  /**
   * Removes a volume's state. A missing state is not an error. Survives `kill -9`; after the loss
   * of the kernel the state may come back, which recovery treats as a volume whose mount is gone.
   */
  delete(volumeId: string): Promise<void>;
  /**
   * Removes what writers killed mid-`put` left behind (temporary files, which may hold a PKCS#12
   * password) and returns their names. Call once at start, before any `put`: it would remove an
   * in-flight put's temporary file. Never touches a state.
   */
  removeLeftovers(): Promise<string[]>;
}

export type StateStore = StateReader & StateWriter;
