import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { tap, type Observable } from 'rxjs';
import type { Counter, Histogram } from 'prom-client';
import { toGrpcStatus } from '../csi/grpc-error.filter.js';

export interface GrpcMetrics {
  requests: Counter<'method' | 'code'>;
  duration: Histogram<'method'>;
  /** Called once per finished call with the RPC name ("NodePublishVolume") and the status code name. */
  onResult?: (method: string, code: string) => void;
}

/** "nodePublishVolume" → "NodePublishVolume": handler names follow the RPC names. */
function rpcName(handler: string): string {
  return handler.charAt(0).toUpperCase() + handler.slice(1);
}

/** The gRPC status code name ("OK", "UNAVAILABLE") a handler's error becomes on the wire. */
export function codeOf(e: unknown): string {
  return status[toGrpcStatus(e).code] ?? 'UNKNOWN';
}

/**
 * Counts every unary gRPC call by method and resulting status code, and times it. Sees the error
 * before GrpcErrorFilter maps it and computes the same code the filter will send.
 */
export class GrpcMetricsInterceptor implements NestInterceptor {
  constructor(private readonly m: GrpcMetrics) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = rpcName(ctx.getHandler().name);
    const end = this.m.duration.startTimer({ method });
    let done = false;
    const finish = (code: string) => {
      if (done) return;
      done = true;
      end();
      this.m.requests.inc({ method, code });
      this.m.onResult?.(method, code);
    };
    return next.handle().pipe(
      tap({
        next: () => finish('OK'),
        complete: () => finish('OK'),
        error: (e: unknown) => finish(codeOf(e)),
      }),
    );
  }
}
