/**
 * The node registers itself with kubelet and answers kubelet's probes without sidecars: the built
 * binary runs with PLUGIN_REGISTRATION_DIR and HEALTH_LISTEN_ADDR, a stand-in for kubelet's plugin
 * watcher speaks pluginregistration v1 over the real unix socket, and /readyz and /healthz are read
 * over HTTP. The real kubelet drives the same socket in the cluster suite.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverProcess } from './support/driver-process.js';
import { DRIVER_NAME } from './support/harness.js';
import { freeLoopbackPort as freePort } from './support/ports.js';
import { waitForNodeReady } from './support/node-ready.js';
import { RegistrationClient } from './support/product.js';
import { REPO_ROOT, ensureBuilt } from './support/repo.js';
import { waitFor } from './support/wait.js';

interface Node {
  proc: DriverProcess;
  csiSocket: string;
  apiUrl: string;
  healthUrl: string;
}

interface Readyz {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

describe('built-in kubelet registration and health (node process, real unix sockets)', () => {
  let root: string;
  let registry: string;
  let regSocket: string;
  let logDir: string;
  let starts = 0;
  const nodes: Node[] = [];
  const kubeletCsiEndpoint = '/var/lib/kubelet/plugins/csi.k8s.cert-driver/csi.sock';

  beforeAll(() => {
    ensureBuilt();
    root = realpathSync(mkdtempSync('/tmp/ccd-reg-'));
    registry = join(root, 'kubelet', 'plugins_registry');
    regSocket = join(registry, `${DRIVER_NAME}-reg.sock`);
    logDir = join(REPO_ROOT, 'test-results', 'e2e', 'registration');
    rmSync(logDir, { recursive: true, force: true });
    mkdirSync(logDir, { recursive: true });
    mkdirSync(join(root, 'cwd'));
  });

  afterAll(async () => {
    for (const n of nodes) await n.proc.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  /** Starts a node with its own CSI socket and state dir, sharing the registration directory. */
  async function startNode(waitReady = true, apiPort?: number): Promise<Node> {
    const n = ++starts;
    const csiSocket = join(root, `node${n}`, 'csi.sock');
    const [api, health] = [apiPort ?? (await freePort()), await freePort()];
    const proc = new DriverProcess({
      role: 'node',
      cwd: join(root, 'cwd'),
      logFile: join(logDir, `node-${n}.log`),
      settings: {
        CSI_ENDPOINT: `unix://${csiSocket}`,
        NODE_ID: 'e2e-node-1',
        CERT_SERVICE_ADDR: '127.0.0.1:1',
        CERT_BASE_PATH: join(root, `base${n}`),
        API_LISTEN_ADDR: `127.0.0.1:${api}`,
        HEALTH_LISTEN_ADDR: `127.0.0.1:${health}`,
        PLUGIN_REGISTRATION_DIR: registry,
        KUBELET_CSI_ENDPOINT: kubeletCsiEndpoint,
        KEY_POOL_SIZE: '0',
        LOG_LEVEL: 'info',
      },
    });
    const node = {
      proc,
      csiSocket,
      apiUrl: `http://127.0.0.1:${api}`,
      healthUrl: `http://127.0.0.1:${health}`,
    };
    nodes.push(node);
    if (waitReady) {
      await waitForNodeReady(proc, `unix://${csiSocket}`);
      await waitFor('the registration socket', () => (existsSync(regSocket) ? true : undefined));
      // The API starts last; once it answers the process has its SIGTERM handler.
      await waitFor('the API', async () => ((await fetch(`${node.apiUrl}/readyz`)).ok ? true : undefined));
    }
    return node;
  }

  async function readyz(node: Node): Promise<{ code: number; body: Readyz }> {
    const res = await fetch(`${node.apiUrl}/readyz`);
    return { code: res.status, body: (await res.json()) as Readyz };
  }

  async function getInfo() {
    const kubelet = new RegistrationClient(regSocket);
    try {
      return await kubelet.getInfo();
    } finally {
      kubelet.close();
    }
  }

  let first: Node;

  it('serves GetInfo on a 0600 socket in plugins_registry, naming the driver and the CSI socket on the host', async () => {
    first = await startNode();
    const st = lstatSync(regSocket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(await getInfo()).toEqual({
      type: 'CSIPlugin',
      name: DRIVER_NAME,
      endpoint: kubeletCsiEndpoint,
      supported_versions: ['1.0.0'],
    });
  });

  it("shows kubelet's verdict on /readyz: waiting, refused (with kubelet's reason, logged as an error), registered", async () => {
    const before = await readyz(first);
    expect(before.code).toBe(200);
    expect(before.body.checks['registration']).toEqual({
      ok: true,
      detail: `serving ${regSocket}, waiting for kubelet`,
    });

    const kubelet = new RegistrationClient(regSocket);
    try {
      await kubelet.notifyRegistrationStatus(false, 'plugin csi.k8s.cert-driver: NodeGetInfo failed');
      const refused = await readyz(first);
      expect(refused.code).toBe(503);
      expect(refused.body.status).toBe('unavailable');
      expect(refused.body.checks['registration']).toEqual({
        ok: false,
        detail: 'kubelet refused the registration: plugin csi.k8s.cert-driver: NodeGetInfo failed',
      });
      expect(
        first.proc.logLines().find((l) => l.msg === 'kubelet refused to register the driver'),
      ).toMatchObject({ level: 'error', kubeletError: 'plugin csi.k8s.cert-driver: NodeGetInfo failed' });

      await kubelet.notifyRegistrationStatus(true);
      const registered = await readyz(first);
      expect(registered.code).toBe(200);
      expect(registered.body.checks['registration']).toEqual({
        ok: true,
        detail: `registered by kubelet (${regSocket})`,
      });
    } finally {
      kubelet.close();
    }
  });

  it('answers /healthz with the outcome of CSI Probe and nothing else; read-only', async () => {
    const res = await fetch(`${first.healthUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('CSI Probe: ready\n');
    expect((await fetch(`${first.healthUrl}/healthz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${first.healthUrl}/api/v1/volumes`)).status).toBe(404);
  });

  it('a second node on the same directory fails to start and leaves the live socket alone', async () => {
    const second = await startNode(false);
    const exit = await second.proc.exited;
    expect(exit.code).toBe(1);
    expect(second.proc.logText()).toContain('another process answers on this socket; not replacing it');
    expect(await getInfo()).toMatchObject({ name: DRIVER_NAME, endpoint: kubeletCsiEndpoint });
  });

  it('/healthz fails once the CSI socket stops answering (its file removed)', async () => {
    unlinkSync(first.csiSocket);
    const res = await fetch(`${first.healthUrl}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/^CSI Probe failed: /);
  });

  it('a SIGKILLed node leaves a stale socket, which the next start replaces', async () => {
    await first.proc.kill('SIGKILL');
    expect(lstatSync(regSocket).isSocket()).toBe(true);
    first = await startNode();
    expect(first.proc.logLines().some((l) => l.msg === 'replaced a stale registration socket')).toBe(true);
    expect((await getInfo()).name).toBe(DRIVER_NAME);
  });

  it('removes the registration socket on SIGTERM and exits 0', async () => {
    const exit = await first.proc.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(regSocket)).toBe(false);
    expect(first.proc.logLines().some((l) => l.msg === 'registration socket removed')).toBe(true);
  });

  it('a node that fails to start after registering (its API port taken) leaves no socket behind', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const node = await startNode(false, (taken.address() as AddressInfo).port);
      expect((await node.proc.exited).code).toBe(1);
      expect(node.proc.logLines().some((l) => l.msg === 'registration socket serving')).toBe(true);
      expect(node.proc.logText()).toContain('API_LISTEN_ADDR');
      expect(existsSync(regSocket)).toBe(false);
    } finally {
      taken.close();
    }
  });
});
