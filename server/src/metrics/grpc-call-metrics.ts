import { status } from '@grpc/grpc-js';
import type { Counter, Histogram } from 'prom-client';

export interface GrpcMetrics {
  requests: Counter<'method' | 'code'>;
  duration: Histogram<'method'>;
  /** Called once per finished call with the RPC name ("NodePublishVolume") and the status code name. */
  onResult?: (method: string, code: string) => void;
}

/** The status code name ("OK", "UNAVAILABLE") of a numeric gRPC code. */
export function codeName(code: number): string {
  return status[code] ?? 'UNKNOWN';
}

/**
 * Counts every unary gRPC call by method and resulting status code, and times it. The one recorder
 * of both gRPC edges: the node's plain handlers (csi/csi-server.ts) call it directly, the issuer's
 * grpc-js server interceptor (grpc-metrics.interceptor.ts) wraps it.
 */
export class GrpcCallMetrics {
  constructor(private readonly m: GrpcMetrics) {}

  /** Starts timing a call of `method`; the returned function records its status code name, once. */
  start(method: string): (code: string) => void {
    const end = this.m.duration.startTimer({ method });
    let done = false;
    return (code) => {
      if (done) return;
      done = true;
      end();
      this.m.requests.inc({ method, code });
      this.m.onResult?.(method, code);
    };
  }
}
