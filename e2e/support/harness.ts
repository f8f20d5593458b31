/**
 * The end-to-end harness: a temporary directory under /tmp with an OpenSSL-made CA, the issuer and the
 * node as separate `bin/csi-cert-driver` processes, and a kubelet-like CSI client on the node's unix
 * socket. The node can be SIGKILLed and restarted on the same CERT_BASE_PATH, the issuer stopped and
 * restarted on the same address. `close()` kills both, lazily unmounts whatever is left under the
 * directory and removes it, whether the tests passed or not.
 *
 * Layout (short paths: a unix socket path has at most 107 bytes):
 *   /tmp/ccd-e2e-XXXXXX/ca/{ca.crt,ca.key}       the CA the issuer signs with
 *   /tmp/ccd-e2e-XXXXXX/node/csi.sock            CSI_ENDPOINT
 *   /tmp/ccd-e2e-XXXXXX/base                     CERT_BASE_PATH (mounts/, state/)
 *   /tmp/ccd-e2e-XXXXXX/kubelet/pods/<uid>/...   target paths, kubelet-style
 *   /tmp/ccd-e2e-XXXXXX/cwd                      working directory of both processes (stays empty)
 * Logs (JSON lines, one file per process start) go to test-results/e2e/<suite>/.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll } from 'vitest';
import { DriverProcess } from './driver-process.js';
import { mountsUnder, tree, unmountAllUnder } from './host.js';
import { makeCa } from './openssl.js';
import { CsiClient, kubeletPublishRequest } from './product.js';
import { REPO_ROOT, ensureBuilt } from './repo.js';
import { sleep, waitFor } from './wait.js';
import { waitForNodeReady } from './node-ready.js';
import { freeLoopbackPort as freePort } from './ports.js';
import type { Pod } from './publish-table.js';

export { DRIVER_NAME } from './rpc-table.js';
export { CM_PREFIX, PREFIX, type Pod } from './publish-table.js';

/** One inline ephemeral volume of one pod, as kubelet names it. */
export interface Volume {
  volumeId: string;
  targetPath: string;
  pod: Pod;
}

export interface PublishOptions {
  readonly?: boolean;
  volumeMountGroup?: string;
  /** NodePublishVolumeRequest.secrets (kubelet's token map with serviceAccountTokenInSecrets). */
  secrets?: Record<string, string>;
}

export interface HarnessOptions {
  /** Names the log folder test-results/e2e/<suite>. */
  suite: string;
  volumeSize?: string;
  clusterDomain?: string;
  issuerTimeout?: string;
  /** Extra settings of the issuer (e.g. CA_ROTATION_DELAY), applied over the defaults above. */
  issuerSettings?: Record<string, string>;
  /** Extra settings of the node (e.g. TRUST_BUNDLE_REFRESH), applied over the defaults above. */
  nodeSettings?: Record<string, string>;
  /**
   * Called with the issuer's address once it serves; the node is pointed at the address it returns
   * (e.g. a recording proxy in front of the issuer).
   */
  issuerFront?: (issuerAddr: string) => Promise<string>;
  /** How the harness itself reaches a TLS issuer (its readiness check); default plaintext. */
  issuerTls?: { caFile: string; serverName: string; certFile?: string; keyFile?: string };
}

/** The outcome of an RPC: code 0 with the response, or the gRPC status code and details. */
export interface Outcome<T = Record<string, unknown>> {
  code: number;
  details: string;
  res?: T;
}

/**
 * Registers the calling suite's (or describe block's) hooks: a harness started before its tests and
 * handed to `use`; after them, while the node still runs, a best-effort unpublish of the volumes in
 * `leftovers` (what a failed test left published; `close()` unmounts the rest regardless), then
 * `close()`.
 */
export function harnessPerSuite(
  options: HarnessOptions,
  use: (h: Harness) => void,
  leftovers: readonly Volume[] = [],
): void {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await Harness.start(options);
    use(h);
  }, 120_000);
  afterAll(async () => {
    if (!h) return;
    if (h.node?.exitStatus === undefined)
      for (const v of leftovers) await h.unpublish(v).catch(() => undefined);
    await h.close();
  });
}

/** Resolves to the RPC's outcome instead of rejecting, so table tests can compare codes. */
export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { code: grpc.status.OK, details: '', res: await call };
  } catch (e) {
    const err = e as { code?: unknown; details?: unknown; message?: unknown };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, details: String(err.details ?? err.message ?? '') };
  }
}

export const codeName = (code: number): string => grpc.status[code] ?? String(code);

/** The volume state file fields the suites look at (the rest is the driver's business). */
export interface StateFile {
  version: number;
  volumeId: string;
  targetPath: string;
  phase: string;
  certificate?: { serialHex: string; notBefore: string; notAfter: string; issuedAt: string };
  nextRenewalAt?: string;
  history: { at: string; kind: string; outcome: string; serialHex?: string; error?: string }[];
}

/** What is on disk and in the mount table under the harness directory; equal snapshots = nothing changed. */
export interface Snapshot {
  mounts: string[];
  state: string[];
  dataDirs: string[];
  kubelet: string[];
  cwd: string[];
}

type IssuerStub = grpc.Client & {
  GetCABundle(
    req: object,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { ca_bundle_pem: string }) => void,
  ): void;
};

/** GetCABundle on the issuer, with proto-loader on proto/issuer.proto; rejects when the issuer is not serving. */
function issuerCaBundle(address: string, tls?: HarnessOptions['issuerTls']): Promise<string> {
  const def = protoLoader.loadSync(join(REPO_ROOT, 'proto', 'issuer.proto'), { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    csicertdriver: { issuer: { v1: { CertificateIssuer: grpc.ServiceClientConstructor } } };
  };
  const credentials = tls
    ? grpc.credentials.createSsl(
        readFileSync(tls.caFile),
        tls.keyFile ? readFileSync(tls.keyFile) : null,
        tls.certFile ? readFileSync(tls.certFile) : null,
      )
    : grpc.credentials.createInsecure();
  const stub = new pkg.csicertdriver.issuer.v1.CertificateIssuer(
    address,
    credentials,
    tls ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {},
  ) as unknown as IssuerStub;
  return new Promise<string>((resolve, reject) => {
    stub.GetCABundle({}, { deadline: new Date(Date.now() + 1000) }, (err, res) => {
      stub.close();
      if (err) reject(err);
      else resolve(res?.ca_bundle_pem ?? '');
    });
  });
}

export class Harness {
  readonly root: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly socketPath: string;
  readonly basePath: string;
  readonly kubeletDir: string;
  readonly cwd: string;
  readonly logDir: string;
  readonly nodeId = 'e2e-node-1';
  readonly clusterDomain: string;
  readonly volumeSize: string;
  issuerAddr = '';
  /** What the node's CERT_SERVICE_ADDR points at: the issuer, or the `issuerFront` in front of it. */
  nodeIssuerAddr = '';
  issuer: DriverProcess | undefined;
  node: DriverProcess | undefined;
  nodeStarts = 0;
  issuerStarts = 0;
  private csi: CsiClient | undefined;

  private constructor(private readonly options: HarnessOptions) {
    this.root = realpathSync(mkdtempSync('/tmp/ccd-e2e-'));
    this.caCert = join(this.root, 'ca', 'ca.crt');
    this.caKey = join(this.root, 'ca', 'ca.key');
    this.socketPath = join(this.root, 'node', 'csi.sock');
    this.basePath = join(this.root, 'base');
    this.kubeletDir = join(this.root, 'kubelet');
    this.cwd = join(this.root, 'cwd');
    this.logDir = join(REPO_ROOT, 'test-results', 'e2e', options.suite);
    this.clusterDomain = options.clusterDomain ?? 'cluster.local';
    this.volumeSize = options.volumeSize ?? '1Mi';
    for (const d of [join(this.root, 'ca'), this.cwd, this.kubeletDir]) mkdirSync(d, { recursive: true });
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Builds dist when stale, makes the CA, starts the issuer and the node and waits until both serve. */
  static async start(options: HarnessOptions): Promise<Harness> {
    ensureBuilt();
    const h = new Harness(options);
    try {
      await makeCa(h.caCert, h.caKey);
      h.issuerAddr = `127.0.0.1:${await freePort()}`;
      await h.startIssuer();
      h.nodeIssuerAddr = options.issuerFront ? await options.issuerFront(h.issuerAddr) : h.issuerAddr;
      await h.startNode();
      return h;
    } catch (e) {
      await h.close();
      throw e;
    }
  }

  /** The kubelet-like client of the currently running node. */
  get client(): CsiClient {
    if (!this.csi) throw new Error('the node is not running');
    return this.csi;
  }

  get csiEndpoint(): string {
    return `unix://${this.socketPath}`;
  }

  async startIssuer(): Promise<void> {
    const proc = this.spawn('issuer', ++this.issuerStarts, {
      LOG_LEVEL: 'info',
      LISTEN_ADDR: this.issuerAddr,
      CA_CERT_FILE: this.caCert,
      CA_KEY_FILE: this.caKey,
      ISSUER_AUTH: 'none',
      ...this.options.issuerSettings,
    });
    this.issuer = proc;
    const caPem = readFileSync(this.caCert, 'utf8').trim();
    await waitFor(
      `the issuer to serve on ${this.issuerAddr}`,
      async () => {
        if (proc.exitStatus)
          throw new Error(`issuer exited ${JSON.stringify(proc.exitStatus)}:\n${proc.tail()}`);
        const bundle = await issuerCaBundle(this.issuerAddr, this.options.issuerTls);
        if (!bundle.includes(caPem)) throw new Error('the issuer serves a CA bundle without our CA');
        return true;
      },
      { timeoutMs: 30_000 },
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n--- issuer log ---\n${proc.tail()}`);
    });
  }

  async stopIssuer(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.issuer?.kill(signal);
  }

  /** Starts the node on the same CERT_BASE_PATH and socket; resolves when Probe says ready. */
  async startNode(): Promise<void> {
    const proc = this.spawn('node', ++this.nodeStarts, {
      LOG_LEVEL: 'debug',
      CSI_ENDPOINT: this.csiEndpoint,
      NODE_ID: this.nodeId,
      CERT_SERVICE_ADDR: this.nodeIssuerAddr || this.issuerAddr,
      CERT_BASE_PATH: this.basePath,
      KUBELET_ROOT_DIR: this.kubeletDir,
      CLUSTER_DOMAIN: this.clusterDomain,
      VOLUME_SIZE: this.volumeSize,
      ISSUER_TIMEOUT: this.options.issuerTimeout ?? '5s',
      // The REST API is not under test here; off, so a busy port 8080 on the machine cannot break the node.
      API_LISTEN_ADDR: 'off',
      ...this.options.nodeSettings,
    });
    this.node = proc;
    await waitForNodeReady(proc, this.csiEndpoint);
    this.csi?.close();
    this.csi = new CsiClient(this.csiEndpoint, 60_000);
  }

  /** Starts `role` with `settings`, its log in `<role>-<start>.log` of the suite's log folder. */
  private spawn(role: 'issuer' | 'node', start: number, settings: Record<string, string>): DriverProcess {
    return new DriverProcess({
      role,
      cwd: this.cwd,
      logFile: join(this.logDir, `${role}-${start}.log`),
      settings,
    });
  }

  /** SIGKILLs the node (by default) and waits until it is gone. */
  async killNode(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.node?.kill(signal);
  }

  async restartNode(): Promise<void> {
    await this.killNode();
    await this.startNode();
  }

  /** A pod with a fresh UID. */
  newPod(name = `web-${randomBytes(3).toString('hex')}`, namespace = 'default'): Pod {
    return { name, namespace, uid: randomUUID(), serviceAccount: 'web-sa' };
  }

  /**
   * A volume the way kubelet names it: id `csi-<64 hex>`, target `.../pods/<uid>/volumes/kubernetes.io~csi/<name>/mount`.
   * Kubelet creates the parent of the target; the driver creates the target itself.
   */
  newVolume(pod: Pod = this.newPod(), name = 'tls'): Volume {
    const parent = join(this.kubeletDir, 'pods', pod.uid, 'volumes', 'kubernetes.io~csi', name);
    mkdirSync(parent, { recursive: true });
    return { volumeId: `csi-${randomBytes(32).toString('hex')}`, targetPath: join(parent, 'mount'), pod };
  }

  publishRequest(vol: Volume, attributes: Record<string, string> = {}, o: PublishOptions = {}): object {
    return kubeletPublishRequest({
      ...vol,
      attributes,
      readonly: o.readonly,
      volumeMountGroup: o.volumeMountGroup,
      ...(o.secrets ? { secrets: o.secrets } : {}),
    });
  }

  publish(vol: Volume, attributes: Record<string, string> = {}, o: PublishOptions = {}): Promise<Outcome> {
    return outcome(this.client.call('Node', 'NodePublishVolume', this.publishRequest(vol, attributes, o)));
  }

  unpublish(vol: Pick<Volume, 'volumeId' | 'targetPath'>): Promise<Outcome> {
    return outcome(
      this.client.call('Node', 'NodeUnpublishVolume', {
        volume_id: vol.volumeId,
        target_path: vol.targetPath,
      }),
    );
  }

  stateFile(volumeId: string): string {
    return join(this.basePath, 'state', `${volumeId}.json`);
  }

  dataDir(volumeId: string): string {
    return join(this.basePath, 'mounts', volumeId);
  }

  readState(volumeId: string): StateFile {
    return JSON.parse(readFileSync(this.stateFile(volumeId), 'utf8')) as StateFile;
  }

  stateFiles(): string[] {
    const dir = join(this.basePath, 'state');
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  snapshot(): Snapshot {
    return {
      mounts: mountsUnder(this.root).map((m) => `${m.mountId} ${m.mountPoint}`),
      state: tree(join(this.basePath, 'state')),
      dataDirs: tree(join(this.basePath, 'mounts')),
      kubelet: tree(this.kubeletDir),
      cwd: tree(this.cwd),
    };
  }

  /** Kills both processes, lazily unmounts anything left under the directory and removes it. */
  async close(): Promise<{ leftoverMounts: string[] }> {
    this.csi?.close();
    this.csi = undefined;
    await Promise.all([this.node?.kill('SIGKILL'), this.issuer?.kill('SIGKILL')]);
    const leftoverMounts = await unmountAllUnder(this.root);
    // A lazily detached mount can keep the directory busy for a moment.
    for (let i = 0; i < 5; i++) {
      try {
        rmSync(this.root, { recursive: true, force: true });
        break;
      } catch {
        await sleep(200);
      }
    }
    return { leftoverMounts };
  }
}
