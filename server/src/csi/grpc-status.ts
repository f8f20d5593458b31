import type { Logger } from '../common/logger.js';
import { PlatformError, type PlatformErrorKind } from '@csi-cert-driver/platform-contract';
import { Code, boundText, isDomainError } from '../common/errors.js';

/** How each kind of platform failure reaches kubelet; a kind added to the contract fails to compile here. */
export function platformKindCode(kind: PlatformErrorKind): Code {
  switch (kind) {
    case 'invalid-argument':
      return Code.INVALID_ARGUMENT;
    case 'not-found':
      return Code.NOT_FOUND;
    case 'resource-exhausted':
      return Code.RESOURCE_EXHAUSTED;
    case 'failed-precondition':
      return Code.FAILED_PRECONDITION;
    case 'internal':
      return Code.INTERNAL;
    default: {
      const unknown: never = kind;
      throw new Error(`unmapped platform error kind ${String(unknown)}`);
    }
  }
}

/** What grpc-js sends for an error passed to a unary callback: `code` and `details`. */
export interface GrpcStatusError {
  code: number;
  details: string;
  message: string;
}

/** The message of every status that is not a typed error's: the real cause goes to the log only. */
export const GENERIC_DETAILS = 'internal error; see the driver log';

/** A status as it goes on the wire: `details` cut to MAX_STATUS_MESSAGE characters, whatever built it. */
export function wireStatus(code: number, details: string): GrpcStatusError {
  const bounded = boundText(details);
  return { code, details: bounded, message: bounded };
}

/**
 * Maps any error to a gRPC status: the one mapping of the gRPC edge, used by the node's plain
 * grpc-js handlers (csi/csi-server.ts) and by the Nest filter of the issuer (grpc-error.filter.ts).
 * Domain errors keep their code and message; platform errors map by kind; anything else is INTERNAL
 * with a generic message, the real one logged. `details` is never longer than MAX_STATUS_MESSAGE.
 */
export function toGrpcStatus(e: unknown, logger?: Logger): GrpcStatusError {
  if (isDomainError(e)) return wireStatus(e.code, e.message);
  if (e instanceof PlatformError) return wireStatus(platformKindCode(e.kind), e.message);
  logger?.error(
    { err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) },
    'unexpected error',
  );
  return wireStatus(Code.INTERNAL, GENERIC_DETAILS);
}
