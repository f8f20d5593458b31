import type { VolumeState } from './volume-state.js';

export interface StateReader {
  get(volumeId: string): Promise<VolumeState | undefined>;
  /** Every readable state; unreadable files are reported in `corrupt` and set aside, never thrown. */
  list(): Promise<{ states: VolumeState[]; corrupt: { file: string; reason: string }[] }>;
}

export interface StateWriter {
  /** Persists atomically: after a crash the previous or the new state is on disk, never a mix. */
  put(state: VolumeState): Promise<void>;
  /** Removes a volume's state. A missing state is not an error. */
  delete(volumeId: string): Promise<void>;
}

export type StateStore = StateReader & StateWriter;
