/**
 * The platform port: everything the node role needs from the operating system. Implemented by
 * `platform/linux` (tmpfs + read-only bind mounts + symlink swap) and `platform/windows` (node-local
 * directories + per-file rename), and by the in-memory fake in this folder. Adapters import nothing
 * from the server: they satisfy this interface structurally, and `platform.module.ts` is the one
 * place that picks one.
 */

/** One file of a volume. `name` is a bare file name, already validated by the core. */
export interface VolumeFile {
  name: string;
  data: Uint8Array;
  /** Permission bits (e.g. 0o440). Ignored where the platform has no POSIX modes. */
  mode: number;
}

export interface CreateVolumeRequest {
  volumeId: string;
  /** Absolute path kubelet asked us to publish to. */
  targetPath: string;
  /** Upper bound of the volume's storage (tmpfs size on Linux). */
  sizeBytes: number;
  /** Group that owns the files and may read them; undefined = root only. */
  fsGroup?: number | undefined;
}

export interface VolumeLocation {
  volumeId: string;
  targetPath: string;
}

export interface PlatformPort {
  readonly name: string;

  /** Turns a CSI endpoint (`unix:///csi/csi.sock`, a named pipe) into a grpc-js bind address, removing a stale socket file. */
  prepareEndpoint(endpoint: string): Promise<string>;

  /** Why `targetPath` is unacceptable on this platform, or undefined when it is fine. */
  checkTargetPath(targetPath: string): string | undefined;

  /** Why `name` cannot be a file name in a volume on this platform, or undefined when it is fine. */
  checkFileName(name: string): string | undefined;

  /**
   * Creates the volume's private storage and exposes it read-only at the target path. Idempotent:
   * a volume that already exists is left as it is. On failure, undoes what it did.
   */
  createVolume(req: CreateVolumeRequest): Promise<void>;

  /**
   * Replaces the whole file set of a volume atomically: a reader sees either the old set or the new
   * one, never a mix. Files not in `files` disappear.
   */
  writeFiles(volumeId: string, files: VolumeFile[], fsGroup?: number): Promise<void>;

  /** Reads one file back from the volume's current set, or undefined when it is absent. */
  readFile(volumeId: string, name: string): Promise<Uint8Array | undefined>;

  /** True when the volume's storage exists and is exposed at `targetPath` with a complete file set. */
  isPublished(loc: VolumeLocation): Promise<boolean>;

  /** Unexposes and destroys the volume's storage. Destructive; a missing volume is not an error. */
  removeVolume(loc: VolumeLocation): Promise<void>;

  /**
   * Puts OS thread `tid` of this process in the background (it gets only CPU time no other thread
   * wants, and yields the moment one does) or back to normal; throws when the OS refuses. Absent
   * where the platform cannot do it. The key pool uses it for its refill jobs (ADR 14).
   */
  readonly setThreadBackground?: ((tid: number, background: boolean) => void) | undefined;

  /**
   * Gives memory the process's native heap has freed back to the OS (nothing in use moves); true
   * when some was released. Absent where the platform cannot. The node role's `MemoryTrimmer` calls
   * it after busy periods (ADR 15).
   */
  readonly releaseFreeMemory?: (() => boolean) | undefined;
}
