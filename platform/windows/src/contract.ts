/**
 * The platform port's types, declared here structurally: adapters import nothing from `server/`
 * (see server/src/platform/platform.port.ts, which these mirror field by field). TypeScript checks
 * the match where the server binds this adapter to its port.
 */

/** One file of a volume. `name` is a bare file name, already validated by the core. */
export interface VolumeFile {
  name: string;
  data: Uint8Array;
  /** POSIX permission bits; ignored on Windows, where ACLs restrict access instead. */
  mode: number;
}

export interface CreateVolumeRequest {
  volumeId: string;
  /** Absolute path kubelet asked us to publish to. */
  targetPath: string;
  /** Upper bound of the volume's storage; not enforced on Windows (no tmpfs, no quota). */
  sizeBytes: number;
  /** POSIX group; meaningless on Windows and ignored. */
  fsGroup?: number | undefined;
}

export interface VolumeLocation {
  volumeId: string;
  targetPath: string;
}

/** The port as this adapter implements it (structurally identical to the server's PlatformPort). */
export interface PlatformPortShape {
  readonly name: string;
  prepareEndpoint(endpoint: string): Promise<string>;
  checkTargetPath(targetPath: string): string | undefined;
  checkFileName(name: string): string | undefined;
  createVolume(req: CreateVolumeRequest): Promise<void>;
  writeFiles(volumeId: string, files: VolumeFile[], fsGroup?: number): Promise<void>;
  readFile(volumeId: string, name: string): Promise<Uint8Array | undefined>;
  isPublished(loc: VolumeLocation): Promise<boolean>;
  removeVolume(loc: VolumeLocation): Promise<void>;
}

/**
 * The adapter's one error type. `kind` names the CSI/gRPC status the core should answer with
 * (`invalid-argument` -> INVALID_ARGUMENT, ...); the core maps it at its edge. Messages name the
 * path or endpoint involved and never carry file contents.
 */
export type PlatformErrorKind =
  'invalid-argument' | 'not-found' | 'resource-exhausted' | 'failed-precondition' | 'internal';

export class PlatformError extends Error {
  override readonly name = 'PlatformError';

  constructor(
    readonly kind: PlatformErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPlatformError(e: unknown): e is PlatformError {
  return e instanceof PlatformError;
}

/** Wraps a Node.js fs error in a PlatformError of the matching kind, keeping the cause. */
export function fromFsError(e: unknown, what: string): PlatformError {
  if (e instanceof PlatformError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const detail = `${what}: ${code ?? (e as Error | undefined)?.message ?? String(e)}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EMFILE':
    case 'ENFILE':
      return new PlatformError('resource-exhausted', detail, { cause: e });
    case 'ENOENT':
      return new PlatformError('not-found', detail, { cause: e });
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR':
    case 'EACCES':
    case 'EPERM':
    case 'EBUSY':
      return new PlatformError('failed-precondition', detail, { cause: e });
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return new PlatformError('invalid-argument', detail, { cause: e });
    default:
      return new PlatformError('internal', detail, { cause: e });
  }
}
