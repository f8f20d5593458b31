/**
 * The issuer's gRPC call metrics as a grpc-js server interceptor: every call is counted by method
 * and the status code it ended with, and timed. It sits under NestJS's handler pipeline, not in it:
 * a Nest interceptor, even one that does nothing, put an rxjs chain around every call and cost
 * ~0.1 ms of CPU per call (ADR 29); this costs a few microseconds and sees the status code the
 * exception filter chose. A call the client cancels is counted as CANCELLED.
 */
import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { codeName, type GrpcCallMetrics } from './grpc-call-metrics.js';

/** `/package.Service/Method` → `Method`. */
function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function grpcMetricsInterceptor(calls: GrpcCallMetrics): ServerInterceptor {
  return (method, call) => {
    const finish = calls.start(methodName(method.path));
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish('CANCELLED') }),
      sendStatus: (status, next) => {
        finish(codeName(status.code));
        next(status);
      },
    });
  };
}
