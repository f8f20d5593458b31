import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import type { Logger } from '../common/logger.js';
import { Code, boundText, isDomainError } from '../common/errors.js';

/** Platform adapters throw errors with a `kind`; this is how each kind reaches kubelet. */
const PLATFORM_KIND_CODES: Record<string, number> = {
  'invalid-argument': Code.INVALID_ARGUMENT,
  'not-found': Code.NOT_FOUND,
  'resource-exhausted': Code.RESOURCE_EXHAUSTED,
  'failed-precondition': Code.FAILED_PRECONDITION,
  internal: Code.INTERNAL,
};

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
  } else if (
    e instanceof Error &&
    e.name === 'PlatformError' &&
    typeof (e as { kind?: unknown }).kind === 'string'
  ) {
    code = PLATFORM_KIND_CODES[(e as unknown as { kind: string }).kind] ?? Code.INTERNAL;
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
