/**
 * Error helpers of the Linux adapter. Every failure it throws is the contract's `PlatformError`
 * (mapped to a gRPC status at the server's edge); messages name the volume and path, never file
 * contents.
 */
import { PlatformError } from '@csi-cert-driver/platform-contract';

/** The errno code (`ENOENT`, `EBUSY`, …) of a Node.js system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** True when `err` is a system error with one of `codes`. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoCode(err);
  return code !== undefined && codes.includes(code);
}

/** The message of any thrown value, for wrapping; system errors name the path, not file contents. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Wraps an unexpected failure as `internal` with `what` as context (e.g. "volume v1: mount tmpfs at
 * /x"); a `PlatformError` passes through unchanged so the first, most precise kind wins.
 */
export function wrapInternal(err: unknown, what: string): PlatformError {
  if (err instanceof PlatformError) return err;
  return new PlatformError('internal', `${what}: ${messageOf(err)}`, { cause: err });
}

/** Runs `fn`, returning undefined instead of throwing when the path does not exist. */
export async function unlessMissing<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
