/** One file of a volume. `name` is a bare file name (see `PathRules.checkFileName`). */
export interface VolumeFile {
  name: string;
  data: Uint8Array;
  /** Permission bits, e.g. 0o440. Linux applies the lowest 12 bits; Windows restricts by ACL instead. */
  mode: number;
}

export interface CreateVolumeRequest {
  volumeId: string;
  /** Absolute path kubelet asked us to publish to; its parent exists, the path itself may not. */
  targetPath: string;
  /** Upper bound of the volume's storage (tmpfs size on Linux, rounded up to pages; not enforced on Windows). */
  sizeBytes: number;
  /**
   * Group that owns the files and may read them (0 to `MAX_GROUP_ID`); undefined = root only. The
   * adapter records it here, once: every later `writeFiles` of the volume uses it. Meaningless on
   * Windows and ignored there.
   */
  fsGroup?: number | undefined;
}

export interface VolumeLocation {
  volumeId: string;
  targetPath: string;
}

/**
 * Per-volume storage, exposed read-only at kubelet's target path. Failures are `PlatformError`s;
 * messages name the volume and path, never file contents.
 */
export interface VolumeStore {
  /**
   * Creates the volume's private storage and exposes it read-only at the target path. Idempotent:
   * a volume that already exists is left as it is. On failure, undoes what it did.
   */
  createVolume(req: CreateVolumeRequest): Promise<void>;

  /**
   * Replaces the whole file set of a volume atomically: a reader sees either the old set or the new
   * one, never a mix. Files not in `files` disappear; each gets exactly its `mode`, and the group
   * recorded when the volume was created. Throws `not-found` when the volume was not created,
   * `invalid-argument` for a bad or repeated name, `resource-exhausted` when it is full.
   */
  writeFiles(volumeId: string, files: VolumeFile[]): Promise<void>;

  /** Reads one file back from the volume's current set, or undefined when it is absent. */
  readFile(volumeId: string, name: string): Promise<Uint8Array | undefined>;

  /** True when the volume's storage exists and is exposed at `targetPath` with a complete file set. */
  isPublished(loc: VolumeLocation): Promise<boolean>;

  /** Unexposes and destroys the volume's storage. Destructive; a missing volume is not an error. */
  removeVolume(loc: VolumeLocation): Promise<void>;
}
