/**
 * The node role's Prometheus metrics (names and meanings: docs/metrics.md). Counters are fed by
 * hooks at the few places things happen (gRPC calls, issuer calls, renewals, key takes, ca.crt
 * rewrites); gauges are read from their owners when Prometheus scrapes, so they cost nothing between
 * scrapes. One registry per role instance: the demo runs a node and an issuer in one process.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KeyShape } from '../pki/keys.js';
import type { KeyPoolShapeStats } from '../pki/key-pool.js';
import type { VolumeState } from '../volumes/volume-state.js';
import { collectProcessMetrics } from './default-metrics.js';
import { GrpcCallMetrics } from './grpc-call-metrics.js';

export const PREFIX = 'csi_cert_driver_';

/** Buckets for calls that take milliseconds to seconds (issuer round trips, publishes). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface NodeMetricsSources {
  keyPool?: () => KeyPoolShapeStats[];
  trustBundle?: () => string | undefined;
  trustLagging?: () => number;
}

export interface VolumeSeries {
  namespace: string;
  pod: string;
  notAfter: number;
}

const EXPIRY_NAME = `${PREFIX}certificate_expiry_timestamp_seconds`;
const EXPIRY_HELP = "The notAfter of each volume's current certificate, in seconds since the epoch.";

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
function labelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/**
 * `certificate_expiry_timestamp_seconds`, one series per volume, written straight from the volume
 * map while a scrape runs. Through a prom-client Gauge each of the 10,000 series of a full node would
 * become a label object, a hashed key and a formatted label list at every scrape, kept until the next
 * one. Here: one line per volume, nothing kept; at 10,000 volumes a scrape allocates about half as
 * much and takes a third of the time (~50 instead of ~135 ms).
 */
export function renderVolumeExpiries(volumes: ReadonlyMap<string, VolumeSeries>): string {
  const lines = [`# HELP ${EXPIRY_NAME} ${EXPIRY_HELP}`, `# TYPE ${EXPIRY_NAME} gauge`];
  for (const [id, v] of volumes) {
    const labels = `volume_id="${labelValue(id)}",namespace="${labelValue(v.namespace)}",pod="${labelValue(v.pod)}"`;
    lines.push(`${EXPIRY_NAME}{${labels}} ${v.notAfter / 1000}`);
  }
  return lines.join('\n') + '\n';
}

export class NodeMetrics {
  readonly registry = new Registry();
  /** CSI calls by method and code (csi/csi-server.ts records them). */
  readonly calls: GrpcCallMetrics;
  private readonly volumes = new Map<string, VolumeSeries>();
  private readonly issuance: Histogram<'outcome'>;
  private readonly renewals: Counter<'outcome'>;
  private readonly keyTakes: Counter<'algorithm' | 'size' | 'result'>;
  private readonly rewrites: Counter<'outcome'>;
  private readonly trims: Counter<'result'>;
  private readonly trimSeconds: Counter;

  constructor(sources: NodeMetricsSources = {}) {
    const registers = [this.registry];
    collectProcessMetrics(this.registry);
    this.calls = new GrpcCallMetrics({
      requests: new Counter({
        name: `${PREFIX}csi_requests_total`,
        help: 'CSI calls from kubelet by method and resulting gRPC status code.',
        labelNames: ['method', 'code'],
        registers,
      }),
      duration: new Histogram({
        name: `${PREFIX}csi_request_duration_seconds`,
        help: 'Time to answer a CSI call, by method.',
        labelNames: ['method'],
        buckets: LATENCY_BUCKETS,
        registers,
      }),
    });
    this.issuance = new Histogram({
      name: `${PREFIX}issuance_duration_seconds`,
      help: 'Time from sending a CSR to the issuer to receiving the signed certificate, by outcome.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.renewals = new Counter({
      name: `${PREFIX}renewals_total`,
      help: 'Certificate renewals attempted, by outcome (success, failure).',
      labelNames: ['outcome'],
      registers,
    });
    this.keyTakes = new Counter({
      name: `${PREFIX}key_pool_requests_total`,
      help: 'Keys taken for publishes and renewals, by shape and whether the pool had one ready (hit, miss).',
      labelNames: ['algorithm', 'size', 'result'],
      registers,
    });
    this.rewrites = new Counter({
      name: `${PREFIX}trust_bundle_volume_updates_total`,
      help: "Rewrites of a volume's ca.crt after a trust bundle change, by outcome (rewritten, failed, busy).",
      labelNames: ['outcome'],
      registers,
    });
    this.trims = new Counter({
      name: `${PREFIX}memory_trims_total`,
      help: 'Times freed native memory was given back to the OS after a busy period, by result (released, nothing).',
      labelNames: ['result'],
      registers,
    });
    this.trimSeconds = new Counter({
      name: `${PREFIX}memory_trim_seconds_total`,
      help: 'Time spent giving freed native memory back to the OS.',
      registers,
    });
    const volumes = this.volumes;
    new Gauge({
      name: `${PREFIX}managed_volumes`,
      help: 'Published certificate volumes on this node.',
      registers,
      collect() {
        this.set(volumes.size);
      },
    });
    const pool = sources.keyPool;
    new Gauge({
      name: `${PREFIX}key_pool_keys`,
      help: 'Pre-generated keys ready in the pool, by shape.',
      labelNames: ['algorithm', 'size'],
      registers,
      collect() {
        this.reset();
        for (const s of pool?.() ?? []) this.set({ algorithm: s.algorithm, size: String(s.size) }, s.depth);
      },
    });
    const bundle = sources.trustBundle;
    new Gauge({
      name: `${PREFIX}trust_bundle_certificates`,
      help: 'CA certificates in the trust bundle written to every ca.crt.',
      registers,
      collect() {
        this.set((bundle?.() ?? '').split('-----BEGIN CERTIFICATE-----').length - 1);
      },
    });
    const lagging = sources.trustLagging;
    new Gauge({
      name: `${PREFIX}trust_bundle_lagging_volumes`,
      help: 'Volumes whose ca.crt could not be brought up to date with the trust bundle yet.',
      registers,
      collect() {
        this.set(lagging?.() ?? 0);
      },
    });
  }

  /** Follows a volume: its state after a publish or renewal, undefined once it is unpublished. */
  trackVolume(volumeId: string, state: VolumeState | undefined): void {
    if (!state || state.phase !== 'published' || !state.certificate) {
      this.volumes.delete(volumeId);
      return;
    }
    this.volumes.set(volumeId, {
      namespace: state.pod.namespace,
      pod: state.pod.name,
      notAfter: Date.parse(state.certificate.notAfter),
    });
  }

  /** A renewal attempt finished; its outcome is the newest history event. */
  renewed(state: VolumeState | undefined): void {
    const ev = state?.history.at(-1);
    if (ev?.kind === 'renew') this.renewals.inc({ outcome: ev.outcome });
  }

  /** Times one issuer call. */
  async timeIssuance<T>(fn: () => Promise<T>): Promise<T> {
    const end = this.issuance.startTimer();
    try {
      const v = await fn();
      end({ outcome: 'success' });
      return v;
    } catch (e) {
      end({ outcome: 'failure' });
      throw e;
    }
  }

  keyTaken(shape: KeyShape, hit: boolean): void {
    this.keyTakes.inc({ algorithm: shape.algorithm, size: String(shape.size), result: hit ? 'hit' : 'miss' });
  }

  memoryTrimmed(durationMs: number, released: boolean): void {
    this.trims.inc({ result: released ? 'released' : 'nothing' });
    this.trimSeconds.inc(durationMs / 1000);
  }

  volumeRewrite(outcome: string): void {
    if (outcome === 'rewritten' || outcome === 'failed' || outcome === 'busy') this.rewrites.inc({ outcome });
  }

  /** The text exposition format, for /metrics: the registry's metrics, then one expiry series per volume. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const body = `${await this.registry.metrics()}\n${renderVolumeExpiries(this.volumes)}`;
    return { contentType: this.registry.contentType, body };
  }
}
