/**
 * The issuer role's Prometheus metrics (docs/metrics.md): calls by method and code, signatures by
 * outcome, and the CAs it trusts with their expiry. Served on METRICS_LISTEN_ADDR.
 */
import type { ServerInterceptor } from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CaRotationStatus } from '../issuer/ca-rotation.js';
import { collectProcessMetrics } from './default-metrics.js';
import { GrpcCallMetrics } from './grpc-call-metrics.js';
import { grpcMetricsInterceptor } from './grpc-metrics.interceptor.js';
import { LATENCY_BUCKETS, PREFIX } from './node-metrics.js';

/** Status codes that mean "the issuer said no" rather than "the issuer failed". */
const REFUSALS = new Set(['INVALID_ARGUMENT', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'FAILED_PRECONDITION']);

export interface IssuerMetricsSources {
  rotation?: () => CaRotationStatus;
  bundle?: () => string;
}

export class IssuerMetrics {
  readonly registry = new Registry();
  /** For the issuer's grpc-js server (`GrpcServerOptions.grpcInterceptors`). */
  readonly interceptor: ServerInterceptor;

  constructor(sources: IssuerMetricsSources = {}) {
    const registers = [this.registry];
    collectProcessMetrics(this.registry);
    const signatures = new Counter({
      name: `${PREFIX}issuer_signatures_total`,
      help: 'SignCertificate calls by outcome: signed, refused (bad request, policy, authentication) or failed.',
      labelNames: ['outcome'],
      registers,
    });
    this.interceptor = grpcMetricsInterceptor(
      new GrpcCallMetrics({
        requests: new Counter({
          name: `${PREFIX}issuer_requests_total`,
          help: 'Issuer gRPC calls by method and resulting gRPC status code.',
          labelNames: ['method', 'code'],
          registers,
        }),
        duration: new Histogram({
          name: `${PREFIX}issuer_request_duration_seconds`,
          help: 'Time to answer an issuer gRPC call, by method.',
          labelNames: ['method'],
          buckets: LATENCY_BUCKETS,
          registers,
        }),
        onResult: (method, code) => {
          if (method !== 'SignCertificate') return;
          signatures.inc({ outcome: code === 'OK' ? 'signed' : REFUSALS.has(code) ? 'refused' : 'failed' });
        },
      }),
    );
    const rotation = sources.rotation;
    new Gauge({
      name: `${PREFIX}issuer_ca_expiry_timestamp_seconds`,
      help: 'notAfter of each CA the issuer holds, by state (active signs, pending is trusted before it signs, retired is trusted until its last certificate expires).',
      labelNames: ['state', 'subject'],
      registers,
      collect() {
        this.reset();
        const st = rotation?.();
        if (!st) return;
        this.set({ state: 'active', subject: st.active.subject }, Date.parse(st.active.notAfter) / 1000);
        if (st.pending)
          this.set({ state: 'pending', subject: st.pending.subject }, Date.parse(st.pending.notAfter) / 1000);
        for (const r of st.retired)
          this.set({ state: 'retired', subject: r.subject }, Date.parse(r.notAfter) / 1000);
      },
    });
    const bundle = sources.bundle;
    new Gauge({
      name: `${PREFIX}issuer_trust_bundle_certificates`,
      help: 'CA certificates in the trust bundle the issuer hands out.',
      registers,
      collect() {
        this.set((bundle?.() ?? '').split('-----BEGIN CERTIFICATE-----').length - 1);
      },
    });
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
