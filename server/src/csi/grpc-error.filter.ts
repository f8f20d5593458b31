import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
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

export interface GrpcStatusError {
  code: number;
  details: string;
  message: string;
}

/**
 * Maps any error to a gRPC status. Domain errors keep their code and message; platform errors map
 * by kind; anything else is INTERNAL with a generic message (the real one goes to the log only).
 * The edge's last guard: `details` is never longer than MAX_STATUS_MESSAGE characters, whatever
 * built it.
 */
export function toGrpcStatus(e: unknown, logger?: Logger): GrpcStatusError {
  let code: number = Code.INTERNAL;
  let details = 'internal error; see the driver log';
  if (isDomainError(e)) {
    code = e.code;
    details = e.message;
  } else if (e instanceof RpcException) {
    const err = e.getError() as { code?: number; message?: string } | string;
    if (typeof err === 'object' && typeof err.code === 'number') {
      code = err.code;
      details = err.message ?? details;
    }
  } else if (e instanceof PlatformError) {
    code = platformKindCode(e.kind);
    details = e.message;
  } else {
    logger?.error(
      { err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) },
      'unexpected error',
    );
  }
  details = boundText(details);
  return { code, details, message: details };
}

@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger?: Logger) {}

  catch(exception: unknown): Observable<never> {
    const status = toGrpcStatus(exception, this.logger);
    return throwError(() => status);
  }
}
