/**
 * The real node driver (`bin/csi-cert-driver node`) for the Kubernetes suites, started the same way
 * everywhere: CSI on the given socket, state under `baseDir`, no REST API, a 20 s issuer timeout,
 * debug logs in test-results/e2e/<suite>/<logName>. Resolves once CSI Probe answers
 * ready; when the node exits or never gets ready, it is killed and the error carries its log tail.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DriverProcess } from '../support/driver-process.js';
import { waitForNodeReady } from '../support/node-ready.js';
import { CsiClient } from '../support/product.js';
import { REPO_ROOT } from '../support/repo.js';

export interface KubeNodeOptions {
  suite: string;
  cwd: string;
  /** Unix socket path of the CSI endpoint. */
  socket: string;
  nodeId: string;
  /** CERT_SERVICE_ADDR: the built-in issuer (an unused address when every volume goes to cert-manager). */
  issuerAddr: string;
  /** CERT_BASE_PATH. */
  baseDir: string;
  /** File name of the node's log under test-results/e2e/<suite>/. */
  logName: string;
  /** Added to, or replacing, the common settings. */
  settings?: Record<string, string>;
}

export async function startKubeNode(o: KubeNodeOptions): Promise<{ proc: DriverProcess; csi: CsiClient }> {
  const endpoint = `unix://${o.socket}`;
  const logDir = join(REPO_ROOT, 'test-results', 'e2e', o.suite);
  mkdirSync(logDir, { recursive: true });
  const proc = new DriverProcess({
    role: 'node',
    cwd: o.cwd,
    logFile: join(logDir, o.logName),
    settings: {
      LOG_LEVEL: 'debug',
      CSI_ENDPOINT: endpoint,
      NODE_ID: o.nodeId,
      CERT_SERVICE_ADDR: o.issuerAddr,
      CERT_BASE_PATH: o.baseDir,
      // The suites put kubelet-shaped target paths under <tmp>/kubelet, next to the base directory.
      KUBELET_ROOT_DIR: join(dirname(o.baseDir), 'kubelet'),
      ISSUER_TIMEOUT: '20s',
      API_LISTEN_ADDR: 'off',
      ...o.settings,
    },
  });
  try {
    await waitForNodeReady(proc, endpoint);
  } catch (e) {
    await proc.kill('SIGKILL');
    throw e;
  }
  return { proc, csi: new CsiClient(endpoint, 60_000) };
}
