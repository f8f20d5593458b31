/**
 * Reads the node's own Prometheus metrics (its API serves /metrics) so each phase can report what
 * the node saw: key-pool hits and misses, and the issuer round trip as the node timed it.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (k !== undefined) labels[k] = v ?? '';
    }
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** What the node's metrics say about a stretch of the run: the difference of two scrapes. */
export interface NodeView {
  keyPoolHits: number;
  keyPoolMisses: number;
  /** Node-measured issuer round trips in the stretch and their mean, ms. */
  issuances: number;
  issuanceMeanMs: number;
}

export class NodeMetricsReader {
  constructor(private readonly url: string | undefined) {}

  async scrape(): Promise<Sample[] | undefined> {
    if (this.url === undefined) return undefined;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(5_000) });
      return res.ok ? parsePrometheus(await res.text()) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The change between two scrapes; undefined when either failed (no API, older build). */
  static diff(before: Sample[] | undefined, after: Sample[] | undefined): NodeView | undefined {
    if (before === undefined || after === undefined) return undefined;
    const sum = (samples: Sample[], name: string, match: Record<string, string> = {}): number =>
      samples
        .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
        .reduce((a, s) => a + s.value, 0);
    const delta = (name: string, match?: Record<string, string>): number =>
      sum(after, name, match) - sum(before, name, match);
    const pool = 'csi_cert_driver_key_pool_requests_total';
    const issuances = delta('csi_cert_driver_issuance_duration_seconds_count');
    const seconds = delta('csi_cert_driver_issuance_duration_seconds_sum');
    return {
      keyPoolHits: delta(pool, { result: 'hit' }),
      keyPoolMisses: delta(pool, { result: 'miss' }),
      issuances,
      issuanceMeanMs: issuances > 0 ? (seconds * 1000) / issuances : NaN,
    };
  }
}
