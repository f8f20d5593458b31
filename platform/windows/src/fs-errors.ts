import { PlatformError } from '@csi-cert-driver/platform-contract';

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
