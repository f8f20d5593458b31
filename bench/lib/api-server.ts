/**
 * What a test kube-apiserver (e2e/kube/control-plane.ts) did: its own request counters
 * (`apiserver_request_total` from /metrics, read as the admin) and its CPU time from /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ControlPlane } from '../../e2e/kube/control-plane.js';

/**
 * `apiserver_request_total` summed by `<VERB> <resource>[/<subresource>]` (e.g. `POST tokenreviews`,
 * `PUT certificaterequests/status`), over every code, scope and group.
 */
export async function apiServerRequests(cp: ControlPlane): Promise<Map<string, number>> {
  const token = cp.kubeConfig.getCurrentUser()?.token ?? '';
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      `${cp.server}/metrics`,
      { ca: cp.caPem, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const resource = /[{,]resource="([^"]*)"/.exec(line)?.[1] ?? '';
    const subresource = /[{,]subresource="([^"]*)"/.exec(line)?.[1] ?? '';
    const verb = /[{,]verb="([^"]*)"/.exec(line)?.[1] ?? '';
    const key = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** `after - before` per key, keeping only keys that changed. */
export function requestDelta(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) {
    const n = v - (before.get(k) ?? 0);
    if (n > 0) d.set(k, n);
  }
  return d;
}

/** The pid of the control plane's kube-apiserver (found by its data directory on the command line). */
export function apiServerPid(cp: ControlPlane): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('kube-apiserver') && cmd.includes(cp.dir)) return Number(pid);
    } catch {
      // gone
    }
  }
  throw new Error('kube-apiserver process not found');
}
