/**
 * Every setting the chart gives a container is one the driver knows, with a value its own parser
 * accepts: the rendered env of each role goes through the driver's config loaders (the code that
 * stops the process with exit code 2 on a bad value). A renamed setting or a chart value the
 * parser refuses fails here instead of in a CrashLoopBackOff. The Windows driver is started for
 * real under Wine with the Windows DaemonSet's settings (Windows paths only parse on Windows).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { V1Container, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the driver's own settings table and parsers are the oracle
import { SETTINGS, loadIssuerConfig, loadNodeConfig } from '../../server/src/config/config.js';
import { HELM, find, render, toolsMissing } from './chart.js';
import { VALUE_SETS, WINDOWS } from './value-sets.js';
import { REPO_ROOT, ensureBuilt } from '../support/repo.js';
import { freeLoopbackPort } from '../kube/issuer-process.js';
import { WINE_SKIP_REASON, linuxPathOf, wineReady } from '../windows/support/wine.js';
import { WineNodeProcess } from '../windows/support/wine-node-process.js';

/** The container's env as the process would see it (fieldRefs resolved to a plausible value). */
function envOf(c: V1Container, fieldValues: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) out[e.name] = fieldValues[e.valueFrom.fieldRef.fieldPath] ?? 'x';
  }
  return out;
}

const POD_FIELDS = { 'spec.nodeName': 'node-a', 'metadata.name': 'pod-a' };

describe.skipIf(toolsMissing(HELM))('the chart’s settings, parsed by the driver', () => {
  it.each(VALUE_SETS)(
    '$name: node and issuer env are known settings the driver accepts',
    async ({ values }) => {
      const objs = await render(values);
      for (const ds of objs.filter((o) => o.kind === 'DaemonSet') as V1DaemonSet[]) {
        const driver = ds.spec!.template.spec!.containers.find((c) => c.name === 'driver')!;
        const env = envOf(driver, POD_FIELDS);
        expect(Object.keys(env).filter((k) => !(k in SETTINGS.node))).toEqual([]);
        // Windows paths parse as paths only on Windows: the Wine test below starts that driver.
        if (ds.spec!.template.spec!.nodeSelector?.['kubernetes.io/os'] === 'windows') continue;
        const cfg = loadNodeConfig([], env);
        expect(cfg.nodeId).toBe('node-a');
        expect(cfg.csiEndpoint).toBe(env.CSI_ENDPOINT);
      }
      const issuer = objs.find((o) => o.kind === 'Deployment' && o.metadata?.name?.endsWith('-issuer')) as
        V1Deployment | undefined;
      if (issuer) {
        const env = envOf(issuer.spec!.template.spec!.containers[0]!, POD_FIELDS);
        expect(Object.keys(env).filter((k) => !(k in SETTINGS.issuer))).toEqual([]);
        // In a pod: KUBERNETES_SERVICE_HOST is set by kubelet.
        const cfg = loadIssuerConfig([], { ...env, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
        expect(cfg.issuerAuth).toBe(env.ISSUER_AUTH);
      }
    },
  );

  it('defaults: the node talks to the release’s issuer Service, the issuer watches the release’s CA', async () => {
    const objs = await render({});
    const node = loadNodeConfig(
      [],
      envOf(
        find<V1DaemonSet>(objs, 'DaemonSet', '-node').spec!.template.spec!.containers.find(
          (c) => c.name === 'driver',
        )!,
        POD_FIELDS,
      ),
    );
    expect(node.certServiceAddr).toBe('certs-csi-cert-driver-issuer.csi-cert-driver.svc:50051');
    expect(node.certBasePath).toBe('/var/lib/csi-certs');
    const issuer = loadIssuerConfig([], {
      ...envOf(
        find<V1Deployment>(objs, 'Deployment', '-issuer').spec!.template.spec!.containers[0]!,
        POD_FIELDS,
      ),
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    });
    expect(issuer.caSecret).toEqual({ name: 'certs-csi-cert-driver-ca', namespace: 'csi-cert-driver' });
    expect(issuer.issuerAuth).toBe('kubernetes');
  });

  it('files mode: the issuer reads the CA from the mounted Secret’s files', async () => {
    const dep = find<V1Deployment>(await render({ issuer: { caSource: 'files' } }), 'Deployment', '-issuer');
    const c = dep.spec!.template.spec!.containers[0]!;
    const cfg = loadIssuerConfig([], { ...envOf(c, POD_FIELDS), KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(cfg.caSecret).toBeUndefined();
    const mount = c.volumeMounts!.find((m) => m.name === 'ca')!;
    expect(cfg.caCertFile).toBe(`${mount.mountPath}/tls.crt`);
    expect(cfg.caKeyFile).toBe(`${mount.mountPath}/tls.key`);
  });
});

describe.skipIf(toolsMissing(HELM) ?? (wineReady ? undefined : WINE_SKIP_REASON))(
  'the Windows driver with the chart’s settings, under Wine with the Windows node.exe',
  () => {
    let proc: WineNodeProcess | undefined;
    let stateDir: string | undefined;
    afterAll(async () => {
      await proc?.kill();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it(
      'starts, recovers its (empty) state and serves CSI on the pipe the proxy forwards to',
      { timeout: 300_000 },
      async () => {
        ensureBuilt();
        const spec = find<V1DaemonSet>(await render(WINDOWS.values), 'DaemonSet', '-node-windows').spec!
          .template.spec!;
        const env = envOf(
          spec.containers.find((c) => c.name === 'driver')!,
          POD_FIELDS,
        );
        const proxyTo = envOf(
          spec.containers.find((c) => c.name === 'csi-grpc-proxy')!,
          POD_FIELDS,
        ).PROXY_TO!;
        // The chart's settings as rendered; only the host ports move to free loopback ports, since
        // several suites share this machine.
        const [api, metrics] = [await freeLoopbackPort(), await freeLoopbackPort()];
        const settings = {
          ...env,
          API_LISTEN_ADDR: `127.0.0.1:${api}`,
          METRICS_LISTEN_ADDR: `127.0.0.1:${metrics}`,
        };
        stateDir = linuxPathOf(env.CERT_BASE_PATH!);
        const logDir = join(REPO_ROOT, 'test-results', 'e2e', 'chart');
        mkdirSync(logDir, { recursive: true });
        proc = new WineNodeProcess(settings, join(logDir, 'windows-driver.log'), REPO_ROOT);
        const serving = await proc.waitServing(240_000);
        expect(serving.nodeId).toBe('node-a');
        // The driver's bind address and the proxy's npipe:// target name the same pipe.
        expect(serving.endpoint).toBe(String.raw`unix:\\.\pipe\csi-cert-driver\csi`);
        expect(`unix:${proxyTo.replace(/^npipe:\/\//, '').replaceAll('/', '\\')}`).toBe(serving.endpoint);
        // Its state lives where the chart's hostPath volume says, on the node's C: drive.
        expect(existsSync(stateDir)).toBe(true);
      },
    );
  },
);
