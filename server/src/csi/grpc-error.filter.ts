import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import type { Logger } from '../common/logger.js';
import { Code } from '../common/errors.js';
import { GENERIC_DETAILS, toGrpcStatus, wireStatus, type GrpcStatusError } from './grpc-status.js';

/**
 * toGrpcStatus (grpc-status.ts) for a Nest gRPC microservice: the same mapping, plus Nest's own
 * RpcException, which keeps the code it carries (INTERNAL without one).
 */
export function toNestGrpcStatus(e: unknown, logger?: Logger): GrpcStatusError {
  if (!(e instanceof RpcException)) return toGrpcStatus(e, logger);
  const err = e.getError() as { code?: number; message?: string } | string;
  return typeof err === 'object' && typeof err.code === 'number'
    ? wireStatus(err.code, err.message ?? GENERIC_DETAILS)
    : wireStatus(Code.INTERNAL, GENERIC_DETAILS);
}

/** Sends every handler error as the status toNestGrpcStatus maps it to (the issuer role). */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger?: Logger) {}

  catch(exception: unknown): Observable<never> {
    const status = toNestGrpcStatus(exception, this.logger);
    return throwError(() => status);
  }
}
