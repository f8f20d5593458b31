/** Prometheus metrics of the node and issuer roles (docs/metrics.md). */
export { codeName, GrpcCallMetrics, type GrpcMetrics } from './grpc-call-metrics.js';
export { IssuerMetrics, type IssuerMetricsSources } from './issuer-metrics.js';
export { startMetricsServer, type MetricsServer, type Scrape } from './metrics-server.js';
export { LATENCY_BUCKETS, NodeMetrics, PREFIX, type NodeMetricsSources } from './node-metrics.js';
