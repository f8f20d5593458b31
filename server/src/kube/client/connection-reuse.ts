/**
 * One TLS connection pool per API server instead of one per request.
 *
 * @kubernetes/client-node 2.0 builds a new undici Agent for every request
 * (`KubeConfig.applySecurityAuthentication` → `createDispatcher`), so every API call opens a new TLS
 * connection: a handshake on both sides per TokenReview, pod read or CertificateRequest poll, and the
 * old connection idles until its keep-alive ends (ADR 20 measures the cost). `reuseConnections`
 * makes a KubeConfig hand out one shared Agent per distinct set of TLS options (API server, CA,
 * client certificate, proxy), kept in a small process-wide table, so kubeconfigs that differ only
 * in their bearer token (a pod's token in cert-manager mode) share connections too. Credentials in
 * headers are untouched: they are set per request, as before.
 *
 * When the TLS options change (a rotated client certificate or CA file), the next request gets a
 * new Agent and the old one is closed once its requests have finished. When the library no longer
 * has the method this relies on, the KubeConfig is left as it is (a connection per request again,
 * never a failure).
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

interface Closable {
  close(): Promise<void>;
}

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => Closable | undefined;

/** Distinct TLS option sets kept open at once; the least recently used is closed beyond this. */
export const MAX_SHARED_POOLS = 8;

const pools = new Map<string, Closable | undefined>();

/** SHA-256 over what decides the TLS connection (never logged; holds key material only hashed). */
function fingerprint(cluster: unknown, o: Record<string, unknown>): string {
  const h = createHash('sha256');
  const c = (cluster ?? {}) as { server?: unknown; proxyUrl?: unknown; skipTLSVerify?: unknown };
  for (const v of [c.server, c.proxyUrl, c.skipTLSVerify]) h.update(`${String(v)}\0`);
  for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername']) {
    const v = o[k];
    h.update(`${k}=`);
    for (const part of Array.isArray(v) ? v : [v]) {
      if (Buffer.isBuffer(part) || typeof part === 'string') h.update(part);
      else h.update(String(part));
      h.update('\0');
    }
  }
  return h.digest('base64');
}

/** Makes `kc` share connections (see above); returns it. Idempotent. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher; __sharedPools?: true };
  if (typeof target.createDispatcher !== 'function' || target.__sharedPools) return kc;
  const original = target.createDispatcher.bind(kc);
  target.createDispatcher = (cluster, agentOptions) => {
    const key = fingerprint(cluster, agentOptions);
    if (pools.has(key)) {
      const hit = pools.get(key);
      pools.delete(key);
      pools.set(key, hit);
      return hit;
    }
    const created = original(cluster, agentOptions);
    pools.set(key, created);
    while (pools.size > MAX_SHARED_POOLS) {
      const [oldest, pool] = pools.entries().next().value as [string, Closable | undefined];
      pools.delete(oldest);
      // undici's close() lets requests in flight finish; a failure to close only costs a socket.
      void pool?.close().catch(() => undefined);
    }
    return created;
  };
  target.__sharedPools = true;
  return kc;
}
