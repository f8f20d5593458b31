/**
 * One Windows end-to-end session: a dev CA made with OpenSSL, the issuer as a normal Linux process
 * on TCP loopback (Wine processes reach it as 127.0.0.1), the node role under Wine on a named pipe,
 * and the Windows-bundled runner that makes CSI calls on the pipe. The node can be SIGKILLed and
 * started again on the same CERT_BASE_PATH. `close()` kills both processes and removes both roots.
 * Logs go to test-results/e2e/windows-node/<run>/ (runs may overlap: other suites run this too).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DriverProcess } from '../../support/driver-process.js';
import { makeCa } from '../../support/openssl.js';
import { REPO_ROOT, ensureBuilt } from '../../support/repo.js';
import { waitFor } from '../../support/wait.js';
import { CLUSTER_DOMAIN, NODE_ID } from '../rpc-table.js';
import type { RunnerResult, RunnerStep, StepResult } from '../wine/runner-protocol.js';
import { WinLayout } from './layout.js';
import { WineNodeProcess } from './wine-node-process.js';
import { bundleForWindows, runRunner } from './wine.js';
import { freeLoopbackPort as freePort } from '../../support/ports.js';

const LOG_ROOT = join(REPO_ROOT, 'test-results', 'e2e', 'windows-node');
/** Under a loaded machine Wine plus node.exe can take minutes to start. */
const START_TIMEOUT_MS = 240_000;

export class WineSession {
  readonly layout = new WinLayout();
  readonly logDir = join(LOG_ROOT, basename(this.layout.work));
  readonly caCert = join(this.layout.work, 'ca.crt');
  readonly caKey = join(this.layout.work, 'ca.key');
  readonly cwd = join(this.layout.work, 'cwd');
  readonly pipe = `csi-cert-driver-e2e-${basename(this.layout.work).slice(-6)}`;
  issuer: DriverProcess | undefined;
  node: WineNodeProcess | undefined;
  issuerAddr = '';
  private bundle = '';
  private nodeStarts = 0;
  /** Settings added to every node start (e.g. KUBECONFIG and the status features). */
  private nodeExtra: Record<string, string> = {};
  private readonly results = new Map<string, StepResult>();

  private constructor() {
    pruneOldLogs();
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(this.cwd);
  }

  /** Builds dist when stale, bundles the runner, starts the issuer and the node (with `nodeSettings` added). */
  static async start(o: { nodeSettings?: Record<string, string> } = {}): Promise<WineSession> {
    ensureBuilt();
    const s = new WineSession();
    s.nodeExtra = o.nodeSettings ?? {};
    try {
      await makeCa(s.caCert, s.caKey, 'csi-cert-driver Windows e2e CA');
      s.issuerAddr = `127.0.0.1:${await freePort()}`;
      s.issuer = new DriverProcess({
        role: 'issuer',
        cwd: s.cwd,
        logFile: join(s.logDir, 'issuer.log'),
        settings: {
          LOG_LEVEL: 'info',
          LISTEN_ADDR: s.issuerAddr,
          CA_CERT_FILE: s.caCert,
          CA_KEY_FILE: s.caKey,
          ISSUER_AUTH: 'none',
        },
      });
      const runner = fileURLToPath(new URL('../wine/rpc-runner.ts', import.meta.url));
      [s.bundle] = await Promise.all([
        bundleForWindows(runner, join(s.layout.work, 'runner'), 'rpc-runner'),
        waitFor('the issuer to serve', () => s.issuer!.logLines().find((l) => l.msg === 'issuer serving'), {
          timeoutMs: 30_000,
        }),
      ]);
      await s.startNode();
      return s;
    } catch (e) {
      await s.close();
      throw e;
    }
  }

  get endpoint(): string {
    return `unix:\\\\.\\pipe\\${this.pipe}`;
  }

  /**
   * Starts the node under Wine on the same CERT_BASE_PATH and pipe; resolves once it serves CSI.
   * `csiEndpoint` is any spelling of the pipe the node accepts (`\\.\pipe\NAME` by default).
   */
  async startNode(csiEndpoint = `\\\\.\\pipe\\${this.pipe}`): Promise<WineNodeProcess> {
    this.nodeStarts++;
    this.node = new WineNodeProcess(
      {
        LOG_LEVEL: 'debug',
        CSI_ENDPOINT: csiEndpoint,
        NODE_ID,
        CERT_SERVICE_ADDR: this.issuerAddr,
        CERT_BASE_PATH: this.layout.certBasePath,
        KUBELET_ROOT_DIR: this.layout.kubeletRoot('C'),
        CLUSTER_DOMAIN,
        VOLUME_SIZE: '1Mi',
        ISSUER_TIMEOUT: '10s',
        API_LISTEN_ADDR: 'off',
        ...this.nodeExtra,
      },
      join(this.logDir, `node-${this.nodeStarts}.log`),
      this.cwd,
    );
    await this.node.waitServing(START_TIMEOUT_MS);
    return this.node;
  }

  /** Makes the calls of `steps` from the Windows runner; their results are then found by `result(id)`. */
  async run(label: string, steps: RunnerStep[]): Promise<RunnerResult> {
    const plan = { address: this.endpoint, readyTimeoutMs: 60_000, callTimeoutMs: 60_000, steps };
    const { result } = await runRunner(this.bundle, plan, this.layout.work, label);
    if (result.error) {
      throw new Error(`runner ${label}: ${result.error}\n--- node log ---\n${this.node?.tail()}`);
    }
    for (const res of result.results) this.results.set(res.id, res);
    return result;
  }

  result(id: string): StepResult {
    const res = this.results.get(id);
    if (!res) throw new Error(`no result for step ${id}`);
    return res;
  }

  async close(): Promise<void> {
    await this.node?.kill();
    await this.issuer?.kill('SIGKILL');
    this.layout.remove();
  }
}

/** Removes log folders of runs older than a day. */
function pruneOldLogs(): void {
  if (!existsSync(LOG_ROOT)) return;
  for (const entry of readdirSync(LOG_ROOT)) {
    const path = join(LOG_ROOT, entry);
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
}
