/** Prometheus metrics of the node and issuer roles (docs/metrics.md). */
export { codeOf, GrpcMetricsInterceptor, type GrpcMetrics } from './grpc-metrics.interceptor.js';
export { IssuerMetrics, type IssuerMetricsSources } from './issuer-metrics.js';
export { startMetricsServer, type MetricsServer, type Scrape } from './metrics-server.js';
export { LATENCY_BUCKETS, NodeMetrics, PREFIX, type NodeMetricsSources } from './node-metrics.js';
