/**
 * Cluster view benchmark (issue 18, "Scale"): N CertVolumeStatus objects (default 50,000: 500 nodes
 * × 100 volumes in 50 namespaces, 2 % failed, one node stopped reporting) in a real kube-apiserver
 * (etcd + kube-apiserver of the e2e control plane), the `bin/csi-cert-driver cluster-view` process
 * listing and watching them with its read-only ServiceAccount. Measures:
 *
 *  1. the time to write the objects (admin, 32 in flight) and the view's time to its first full list;
 *  2. API latency over loopback HTTP, sequential requests, per endpoint: quiet, and while 10 objects
 *     a second change through the watch (every change invalidates the cached evaluation);
 *  3. the dashboard in Debian's Chromium, a cold context per run: the app's `dashboard-ready` mark
 *     (first data rendered) and time to interactive (the later of that and the end of the last long
 *     task, with a 1 s quiet window);
 *  4. the view process's RSS (VmRSS, VmHWM) after the list and at the end.
 *
 * Targets: API p50 ≤ 50 ms, TTI ≤ 1.5 s. `npx tsx bench/cluster-view.bench.ts [--objects N]
 * [--json out.json]`; needs `npm run build` and the kube binaries of scripts/install-kube.sh.
 */
import { Agent, request, type RequestOptions } from 'node:https';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fakeStatusObject, type FakeVolume } from '../server/src/cluster-view/testing.js';
import { launchChromium } from '../e2e/dashboard/browser.js';
import { startClusterViewEnv } from '../e2e/cluster-view/harness.js';
import { processMemory } from './lib/machine.js';
import { observedPage, settled } from './lib/page-timing.js';
import { fmtMs, summarize, table, type Summary } from './lib/stats.js';

const { values: flags } = parseArgs({
  options: { objects: { type: 'string' }, json: { type: 'string' }, requests: { type: 'string' } },
});
const TOTAL = Number(flags.objects ?? 50_000);
const REQUESTS = Number(flags.requests ?? 100);
const PER_NODE = 100;
const TARGET = { apiP50Ms: 50, ttiMs: 1500 };
const H = 3600;
const log = (s: string) => process.stderr.write(`${s}\n`);

function fleet(n: number): FakeVolume[] {
  const out: FakeVolume[] = [];
  for (let i = 0; i < n; i++) {
    const node = `node-${String(Math.floor(i / PER_NODE)).padStart(4, '0')}`;
    const namespace = `team-${i % 50}`;
    const life = 24 * H * (1 + (i % 7));
    const age = (i * 7919) % Math.floor(life * 0.8);
    const v: FakeVolume = {
      namespace,
      pod: `app-${i}`,
      node,
      notBefore: -age,
      notAfter: life - age,
      nextRenewal: Math.floor(life * 0.8) - age,
      last: { at: -age, kind: i % 3 ? 'Renew' : 'Issue', outcome: 'Success' },
      serial: (0x10000000 + i).toString(16),
      issuer:
        i % 10 === 0
          ? { type: 'CertManager', name: 'vault', kind: 'ClusterIssuer', group: 'cert-manager.io' }
          : { type: 'BuiltIn' },
    };
    if (i % 50 === 7)
      v.last = {
        at: -60,
        kind: 'Renew',
        outcome: 'Failure',
        error: 'issuer unavailable: connection refused',
      };
    if (node === 'node-0003') v.nextRenewal = -2 * H;
    out.push(v);
  }
  return out;
}

async function timed(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return performance.now() - t;
}

/**
 * Creates the objects over keep-alive HTTPS, 24 in flight, with the admin kubeconfig's credentials:
 * several times faster than one client-node call per object on this host.
 */
async function createAll(
  env: Awaited<ReturnType<typeof startClusterViewEnv>>,
  vols: FakeVolume[],
): Promise<void> {
  const base: RequestOptions = {};
  await env.cp.kubeConfig.applyToHTTPSOptions(base);
  const agent = new Agent({ keepAlive: true, maxSockets: 24, ca: base.ca, cert: base.cert, key: base.key });
  const server = new URL(env.cp.server);
  const now = Date.now();
  for (const ns of new Set(vols.map((v) => v.namespace))) await env.cluster.namespace(ns);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const one = (v: FakeVolume) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify(fakeStatusObject(v, now));
      const req = request(
        {
          ...base,
          agent,
          host: server.hostname,
          port: server.port,
          method: 'POST',
          path: `/apis/csi-cert-driver.io/v1alpha1/namespaces/${v.namespace}/certvolumestatuses`,
          headers: {
            ...base.headers,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 201 ? resolve() : reject(new Error(`create: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: 24 }, async () => {
      while (next < vols.length) {
        await one(vols[next++]!);
        if (++done % 10_000 === 0)
          log(`  ${done} objects written, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    }),
  );
  agent.destroy();
}

async function main(): Promise<void> {
  log(
    `cluster-view benchmark: ${TOTAL} objects, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const env = await startClusterViewEnv('bench-cluster-view');
  try {
    const vols = fleet(TOTAL);
    const t0 = performance.now();
    await createAll(env, vols);
    const writeS = (performance.now() - t0) / 1000;
    log(`wrote ${TOTAL} objects in ${writeS.toFixed(0)} s`);
    const t1 = performance.now();
    const view = await env.startView();
    const listS = (performance.now() - t1) / 1000;
    const afterList = processMemory(view.proc.pid);
    log(`view ready in ${listS.toFixed(1)} s; RSS ${afterList.rssMiB.toFixed(0)} MiB`);

    const some = (await (await fetch(`${view.url}/api/v1/cluster/volumes?limit=1&q=app-42`)).json()) as {
      items: { id: string }[];
    };
    const paths: [string, string][] = [
      ['overview', '/api/v1/cluster/overview'],
      ['nodes (all 500)', '/api/v1/cluster/nodes?limit=1000'],
      ['failures', '/api/v1/cluster/failures'],
      ['expiry histogram', '/api/v1/cluster/expiry'],
      ['volumes, first page (100, by urgency)', '/api/v1/cluster/volumes'],
      ['volumes of one node', '/api/v1/cluster/volumes?node=node-0042'],
      ['volumes, namespace + state filter', '/api/v1/cluster/volumes?namespace=team-7&state=failed'],
      ['volumes, text search', '/api/v1/cluster/volumes?q=app-42'],
      ['one volume', `/api/v1/cluster/volumes/${some.items[0]?.id ?? 'team-0/none'}`],
    ];
    const results: { name: string; quiet: Summary; churn: Summary }[] = [];
    const measure = async (churn: boolean) => {
      let stop = false;
      let changes = 0;
      const churner = (async () => {
        while (churn && !stop) {
          const v = vols[(changes * 4099) % vols.length]!;
          await env.update({
            ...v,
            last: { at: 0, kind: 'Renew', outcome: 'Success' },
            serial: `ff${changes}`,
          });
          changes++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const out: Summary[] = [];
      for (const [, p] of paths) {
        for (let i = 0; i < 5; i++) await timed(view.url + p);
        const samples: number[] = [];
        for (let i = 0; i < REQUESTS; i++) samples.push(await timed(view.url + p));
        out.push(summarize(samples));
      }
      stop = true;
      await churner;
      return { out, changes };
    };
    const quiet = await measure(false);
    const churn = await measure(true);
    paths.forEach(([name], i) => results.push({ name, quiet: quiet.out[i]!, churn: churn.out[i]! }));
    log(`churn: ${churn.changes} object changes during the measurement`);

    const browser = await launchChromium();
    const runs: { readyMs: number; ttiMs: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const { ctx, page } = await observedPage(browser);
      await page.goto(`${view.url}/`);
      await page.waitForSelector('html[data-ready=true]', { timeout: 60_000 });
      await settled(page);
      const m = await page.evaluate(() => {
        const ready = performance.getEntriesByName('dashboard-ready')[0]!.startTime;
        const tasks = (window as unknown as { __longTasks: { start: number; end: number }[] }).__longTasks;
        return {
          readyMs: ready,
          ttiMs: Math.max(
            ready,
            tasks.reduce((a, t) => Math.max(a, t.end), 0),
          ),
        };
      });
      await ctx.close();
      if (i > 0) runs.push(m); // the first run warms the browser's caches
      log(`  page run ${i}: ready ${fmtMs(m.readyMs)} ms, TTI ${fmtMs(m.ttiMs)} ms`);
    }
    await browser.close();
    const end = processMemory(view.proc.pid);
    const ready = summarize(runs.map((r) => r.readyMs));
    const tti = summarize(runs.map((r) => r.ttiMs));
    const worst = Math.max(...results.map((r) => r.quiet.p50));
    const worstChurn = Math.max(...results.map((r) => r.churn.p50));
    const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    const report = [
      `### ${TOTAL.toLocaleString('en')} status objects (${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)})`,
      '',
      `Objects written in ${writeS.toFixed(0)} s; the view listed them and was ready in ${listS.toFixed(1)} s.`,
      '',
      table(
        ['endpoint', 'quiet p50', 'p90', 'under churn p50', 'p90'],
        results.map((r) => [
          r.name,
          fmtMs(r.quiet.p50),
          fmtMs(r.quiet.p90),
          fmtMs(r.churn.p50),
          fmtMs(r.churn.p90),
        ]),
      ),
      '',
      `Page (Chromium, cold context, n=${tti.n}): ready p50 ${fmtMs(ready.p50)} ms, TTI p50 ${fmtMs(tti.p50)} ms (min ${fmtMs(tti.min)}, max ${fmtMs(tti.max)}).`,
      `RSS of the view: ${afterList.rssMiB.toFixed(0)} MiB after the list (peak ${afterList.hwmMiB.toFixed(0)}), ${end.rssMiB.toFixed(0)} MiB at the end (peak ${end.hwmMiB.toFixed(0)}).`,
      '',
      `Targets: API p50 ≤ ${TARGET.apiP50Ms} ms: ${pass(worst <= TARGET.apiP50Ms)} (worst quiet p50 ${fmtMs(worst)} ms = ${(worst / TARGET.apiP50Ms).toFixed(2)}× the target; under churn ${fmtMs(worstChurn)} ms); TTI ≤ ${TARGET.ttiMs} ms: ${pass(tti.p50 <= TARGET.ttiMs)} (${(tti.p50 / TARGET.ttiMs).toFixed(2)}× the target).`,
    ].join('\n');
    console.log(report);
    if (flags.json)
      await writeFile(
        flags.json,
        JSON.stringify({ TOTAL, writeS, listS, results, ready, tti, afterList, end }, null, 2),
      );
  } finally {
    await env.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
