/**
 * HEALTH_LISTEN_ADDR: `/healthz` for kubelet's liveness and readiness probes, in place of the
 * livenessprobe sidecar. Like that sidecar it calls CSI `Probe` over the node's own CSI socket, so
 * it is the very answer kubelet would get (ready only after state recovery), and it also fails when
 * the socket stopped answering or its file was removed. It says nothing else: no volumes, keys or tokens.
 */
import { createServer, type Server } from 'node:http';
import { listenHttp, refuseUnlessGet } from '../common/http-listen.js';
import type { Logger } from '../common/logger.js';
import { CsiClient } from '../demo/csi-client.js';

export interface HealthServer {
  /** `http://host:port` actually bound. */
  url: string;
  close(): Promise<void>;
}

export interface CsiProbeResult {
  ready: boolean;
  detail: string;
}

/** One CSI Probe over a fresh connection to `csiUrl` (a new dial each time, so a removed socket shows). */
export async function probeCsi(csiUrl: string, timeoutMs: number): Promise<CsiProbeResult> {
  const client = new CsiClient(csiUrl, timeoutMs);
  try {
    const res = await client.call<{ ready?: { value?: boolean } | null }>('Identity', 'Probe');
    // CSI: an unset `ready` means ready.
    const ready = res.ready?.value !== false;
    return { ready, detail: ready ? 'CSI Probe: ready' : 'CSI Probe: not ready' };
  } catch (e) {
    const err = e as { details?: string; message?: string };
    return { ready: false, detail: `CSI Probe failed: ${err.details ?? err.message ?? String(e)}` };
  } finally {
    client.close();
  }
}

export interface HealthServerOptions {
  listenAddr: string;
  /** The node's CSI endpoint as the process binds it (`unix:///csi/csi.sock`). */
  csiUrl: string;
  logger: Logger;
  /** Deadline of one Probe; default 3 s (the livenessprobe sidecar's --probe-timeout in the chart). */
  probeTimeoutMs?: number;
}

/**
 * Serves GET/HEAD `/healthz`: 200 when CSI Probe answers ready, 503 otherwise (the reason in a
 * one-line text body); other paths 404, other methods 405. Concurrent requests share one Probe in flight.
 */
export async function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  let inFlight: Promise<CsiProbeResult> | undefined;
  let lastReady: boolean | undefined;
  const check = (): Promise<CsiProbeResult> =>
    (inFlight ??= probeCsi(o.csiUrl, o.probeTimeoutMs ?? 3000).finally(() => (inFlight = undefined)));
  const server: Server = createServer((req, res) => {
    if (refuseUnlessGet(req, res, '/healthz', 'not found; health is at /healthz')) return;
    void check().then((r) => {
      if (r.ready !== lastReady) {
        if (r.ready) o.logger.info({ detail: r.detail }, 'health: ready');
        else o.logger.warn({ detail: r.detail }, 'health: not ready');
        lastReady = r.ready;
      }
      res.writeHead(r.ready ? 200 : 503, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `${r.detail}\n`);
    });
  });
  const listener = await listenHttp(server, o.listenAddr, {
    setting: 'HEALTH_LISTEN_ADDR',
    dropConnections: true,
  });
  o.logger.info({ url: `${listener.url}/healthz` }, 'health serving');
  return listener;
}
