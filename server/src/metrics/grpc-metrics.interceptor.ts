import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { tap, type Observable } from 'rxjs';
import { toNestGrpcStatus } from '../csi/grpc-error.filter.js';
import { codeName, type GrpcCallMetrics } from './grpc-call-metrics.js';

/** "nodePublishVolume" → "NodePublishVolume": handler names follow the RPC names. */
function rpcName(handler: string): string {
  return handler.charAt(0).toUpperCase() + handler.slice(1);
}

/** The gRPC status code name ("OK", "UNAVAILABLE") a handler's error becomes on the wire. */
export function codeOf(e: unknown): string {
  return codeName(toNestGrpcStatus(e).code);
}

/**
 * GrpcCallMetrics for a Nest gRPC microservice (the issuer role). Sees the error before
 * GrpcErrorFilter maps it and computes the same code the filter will send.
 */
export class GrpcMetricsInterceptor implements NestInterceptor {
  constructor(private readonly calls: GrpcCallMetrics) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const finish = this.calls.start(rpcName(ctx.getHandler().name));
    return next.handle().pipe(
      tap({
        next: () => finish('OK'),
        complete: () => finish('OK'),
        error: (e: unknown) => finish(codeOf(e)),
      }),
    );
  }
}
