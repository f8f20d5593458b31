/**
 * The platform's one error type. `kind` is a closed set: the gRPC edge maps each kind to a status
 * code with an exhaustive switch (csi/grpc-status.ts), so adding a kind fails to compile until
 * the edge knows it. Messages name the volume, path or endpoint involved and never carry file contents.
 */
export const PLATFORM_ERROR_KINDS = [
  'invalid-argument',
  'not-found',
  'resource-exhausted',
  'failed-precondition',
  'internal',
] as const;

export type PlatformErrorKind = (typeof PLATFORM_ERROR_KINDS)[number];

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
