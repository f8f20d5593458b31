import { join } from 'node:path';
import { DEFAULT_KUBELET_ROOT_DIR, DRIVER_NAME, type NodeConfig } from '../config/config.js';
import type { Logger } from '../common/logger.js';
import { selectPlatform } from '../platform/select-platform.js';
import type { PlatformPort } from '@csi-cert-driver/platform-contract';
import { GrpcIssuerClient } from '../issuer-client/grpc-issuer.client.js';
import type { Issuer } from '../issuer-client/issuer.port.js';
import { FileStateStore } from '../volumes/file-state-store.js';
import { VolumeManager } from '../volumes/volume-manager.js';
import { recoverVolumes } from '../volumes/recovery.js';
import { RenewalService } from '../renewal/renewal.service.js';
import { identityService } from '../csi/identity.service.js';
import { nodeService } from '../csi/node.service.js';
import { startCsiServer, type CsiServer } from '../csi/csi-server.js';
import type { Readiness } from '../csi/tokens.js';
import { generateKey } from '../pki/index.js';
import type { KeySource } from '../volumes/volume-certificates.js';
import type { VolumeState } from '../volumes/volume-state.js';
import { VERSION } from '../common/version.js';
import { IssuerCheck } from '../api/issuer-check.js';
import { VolumeIndex } from '../api/volume-index.js';
import type { PublishFailure } from '../api/volume-view.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { KeyPool } from '../pki/key-pool.js';
import { BundleDistributor } from '../trust/bundle-distributor.js';
import { fileTrustSource, issuerTrustSource, TrustBundle } from '../trust/trust-bundle.js';
import { TrustingIssuer } from '../issuer-client/trusting-issuer.js';
import { InstrumentedIssuer } from '../issuer-client/instrumented-issuer.js';
import { NodeMetrics } from '../metrics/node-metrics.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js';
import { nodeStatus } from '../kube/status/status-node.js';
import { RoutingIssuer } from '../issuer-client/routing-issuer.js';
import { VerifyingIssuer } from '../issuer-client/verifying-issuer.js';
import { issuerChannelCredentials } from '../issuer-client/issuer-channel.js';
import { isLocalAddress } from '../config/issuer-tls-settings.js';
import { MemoryTrimmer } from '../platform/memory-trimmer.js';
import { startKubeletFacing, type KubeletFacing } from '../kubelet/kubelet-facing.js';

/** How long after serving CSI the node gives back the memory its start-up freed (ADR 28). */
const START_TRIM_DELAY_MS = 1_000;

export interface NodeRole {
  manager: VolumeManager;
  renewal: RenewalService;
  platform: PlatformPort;
  /** CSI Identity and Node on CSI_ENDPOINT (grpc-js, no NestJS: docs/adr/0023-node-role-without-nestjs.md). */
  csi: CsiServer;
  store: FileStateStore;
  issuer: Issuer;
  /** The REST API and dashboard, loaded on its first request; undefined when API_LISTEN_ADDR is off. */
  api?: HttpServer | undefined;
  readiness: Readiness;
  /** Key generation off the event loop, warm keys when KEY_POOL_SIZE > 0 (unless a `keys` override). */
  keyPool?: KeyPool | undefined;
  trust: TrustBundle;
  distributor: BundleDistributor;
  metrics: NodeMetrics;
  /** Gives freed native memory back after busy periods; undefined when the platform cannot or it is off. */
  trimmer?: MemoryTrimmer | undefined;
  /** Subscribers to volume changes (API, dashboard). */
  listeners: Set<(volumeId: string, state: VolumeState | undefined) => void>;
  /** Registration with kubelet and /healthz for its probes (PLUGIN_REGISTRATION_DIR, HEALTH_LISTEN_ADDR). */
  kubelet: KubeletFacing;
  close(): Promise<void>;
}

export interface NodeRoleOverrides {
  platform?: PlatformPort;
  issuer?: Issuer;
  keys?: KeySource;
  /** False: the unprivileged demo (plain directories instead of tmpfs). */
  privileged?: boolean;
  /** Publishes failing before any state exists, shown by the API as failed (the demo's kubelet reports them). */
  publishFailures?: () => PublishFailure[];
}

/**
 * Starts the node role: claims CSI_ENDPOINT (refusing one another process serves), recovers state,
 * then serves CSI Identity and Node there. Probe answers ready only after recovery.
 */
export async function startNodeRole(
  cfg: NodeConfig,
  logger: Logger,
  o: NodeRoleOverrides = {},
): Promise<NodeRole> {
  const platform =
    o.platform ??
    selectPlatform({
      os: process.platform,
      dataRoot: join(cfg.certBasePath, 'mounts'),
      targets: { kubeletRoot: cfg.kubeletRootDir ?? DEFAULT_KUBELET_ROOT_DIR, reserved: [cfg.certBasePath] },
      logger,
      privileged: o.privileged,
    });
  // First of all: a CSI_ENDPOINT another node process still serves stops this one before it
  // touches any volume or state.
  const url = await platform.prepareEndpoint(cfg.csiEndpoint);
  if (!o.issuer && !cfg.issuerTls && !isLocalAddress(cfg.certServiceAddr))
    logger.warn(
      { issuer: cfg.certServiceAddr },
      'no TLS to the issuer: pod tokens cross the network unencrypted (set ISSUER_TLS_CA_FILE)',
    );
  const rawIssuer =
    o.issuer ??
    new GrpcIssuerClient(cfg.certServiceAddr, cfg.issuerTimeoutMs, issuerChannelCredentials(cfg.issuerTls));
  const trust = new TrustBundle(
    cfg.trustBundleFile
      ? fileTrustSource(cfg.trustBundleFile)
      : issuerTrustSource(rawIssuer, cfg.certServiceAddr),
    logger,
  );
  const metrics: NodeMetrics = new NodeMetrics({
    keyPool: () => keyPool?.stats() ?? [],
    trustBundle: () => trust.current(),
    trustLagging: () => distributor.stats().lagging,
  });
  const keyPool =
    !o.keys && cfg.keyPool
      ? new KeyPool({
          ...cfg.keyPool,
          logger,
          onTake: (shape, hit) => metrics.keyTaken(shape, hit),
          threadBackground: platform.setThreadBackground,
          // The worker thread and warm keys wait for the first publish (ADR 23).
          startOnFirstUse: true,
        })
      : undefined;
  const keys: KeySource = o.keys ?? keyPool ?? { get: (spec) => generateKey(spec) };
  const store = new FileStateStore(join(cfg.certBasePath, 'state'));
  const status = await nodeStatus(cfg, logger, metrics.registry);
  // cert-manager mode (docs/cert-manager.md): its module, and with it the Kubernetes client, is
  // loaded only when CERT_MANAGER_ENABLED=true.
  const certManager = cfg.certManager
    ? await (
        await import('../kube/cert-manager/certificate-request-mode.js')
      ).startCertManagerMode({
        config: cfg.certManager,
        kubeconfig: cfg.kubeconfig,
        nodeId: cfg.nodeId,
        logger,
        events: status.certManagerEvents,
        volumeIds: async () => new Set((await store.list()).states.map((st) => st.volumeId)),
      })
    : undefined;
  const issuer = new InstrumentedIssuer(
    new RoutingIssuer({
      // Every answer is checked before it is used (docs/adr/0019-verified-issuer-answers-and-tls.md).
      builtIn: new TrustingIssuer(new VerifyingIssuer(rawIssuer, trust), trust),
      // A TRUST_BUNDLE_FILE is every volume's ca.crt; without one, cert-manager's status.ca is.
      certManager:
        certManager && cfg.trustBundleFile
          ? new TrustingIssuer(new VerifyingIssuer(certManager.issuer, trust), trust)
          : certManager && new VerifyingIssuer(certManager.issuer),
      issuerTokenAudience: cfg.issuerTokenAudience ?? DRIVER_NAME,
      apiTokenAudience: cfg.certManager?.tokenAudience,
    }),
    metrics,
  );
  const listeners = new Set<(id: string, s: VolumeState | undefined) => void>();
  const readiness: Readiness = { ready: false };
  const onChange = (id: string, s: VolumeState | undefined) => {
    if (s) renewal.track(s);
    else renewal.untrack(id);
    for (const l of listeners) l(id, s);
  };
  const manager = new VolumeManager({
    platform,
    issuer,
    store,
    keys,
    logger,
    nodeId: cfg.nodeId,
    clusterDomain: cfg.clusterDomain,
    volumeSizeBytes: cfg.volumeSizeBytes,
    certManager: cfg.certManager !== undefined,
    spiffe: cfg.spiffe,
    keptTokenAudiences: [
      cfg.issuerTokenAudience ?? DRIVER_NAME,
      ...(cfg.certManager?.identity === 'pod' ? [cfg.certManager.tokenAudience] : []),
    ],
    onChange,
    onFailure: (f) => status.reporter.operationFailed(f),
  });
  const renewal: RenewalService = new RenewalService({
    volumes: manager.lifecycle,
    store,
    logger,
    onChange: (id, s) => {
      metrics.renewed(s);
      for (const l of listeners) l(id, s);
    },
    onFailure: (f) => status.reporter.operationFailed(f),
  });
  const distributor: BundleDistributor = new BundleDistributor({
    trust,
    volumes: manager.lifecycle,
    store,
    logger,
    onOutcome: (outcome) => metrics.volumeRewrite(outcome),
  });
  const follow = (id: string, s: VolumeState | undefined) => {
    metrics.trackVolume(id, s);
    // The built-in trust bundle is not written into cert-manager volumes (unless TRUST_BUNDLE_FILE).
    distributor.track(id, cfg.trustBundleFile || s?.spec.issuer.name === undefined ? s : undefined);
  };
  listeners.add(follow);
  listeners.add((id, s) => status.reporter.volumeChanged(id, s));

  const recovery = await recoverVolumes(store, platform, logger);
  for (const s of recovery.recovered) {
    renewal.track(s);
    follow(s.volumeId, s);
  }
  logger.info(
    {
      recovered: recovery.recovered.length,
      rolledBack: recovery.rolledBack.length,
      corrupt: recovery.corrupt.length,
    },
    'state recovered',
  );
  status.reporter.resync(recovery.recovered);

  const info = { nodeId: cfg.nodeId, driverName: DRIVER_NAME, version: VERSION };
  const csi = await startCsiServer({
    url,
    services: { Identity: identityService(info, readiness), Node: nodeService(manager, info) },
    calls: metrics.calls,
    logger,
  });
  readiness.ready = true;
  logger.info(
    {
      endpoint: url,
      nodeId: cfg.nodeId,
      issuer: cfg.certServiceAddr,
      issuerTls: o.issuer ? undefined : cfg.issuerTls ? (cfg.issuerTls.client ? 'mutual' : 'server') : 'off',
    },
    'node driver serving CSI',
  );
  // Only now that CSI answers: kubelet dials the CSI socket as soon as it sees the registration socket.
  const kubelet = await startKubeletFacing(cfg, url, DRIVER_NAME, logger);
  // The first fetch brings recovered volumes' ca.crt up to date; an unreachable issuer does not delay serving.
  void trust.start(cfg.trustBundleRefreshMs ?? 10_000);
  const release = platform.releaseFreeMemory;
  const trimIntervalMs = cfg.memoryTrimIntervalMs ?? 0;
  const trimmer =
    release && trimIntervalMs > 0
      ? new MemoryTrimmer({
          release,
          intervalMs: trimIntervalMs,
          onTrim: (ms, released) => metrics.memoryTrimmed(ms, released),
          logger,
        })
      : undefined;
  trimmer?.start();
  // Start-up freed memory too; give it back once the node has settled, not at the first interval.
  trimmer?.lookAfterStart(START_TRIM_DELAY_MS);
  const metricsServer: MetricsServer | undefined = cfg.metricsListenAddr
    ? await startMetricsServer(cfg.metricsListenAddr, () => metrics.scrape(), logger, cfg.apiAllowedHosts)
    : undefined;
  let api: HttpServer | undefined;
  let index: VolumeIndex | undefined;
  if (cfg.apiListenAddr) {
    index = new VolumeIndex({
      nodeId: cfg.nodeId,
      store,
      readFile: (id, name) => platform.readFile(id, name),
      isBusy: (id) => manager.lifecycle.isBusy(id),
      subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
      publishFailures: o.publishFailures,
      logger,
    });
    await index.start();
    api = await startHttpServer({
      listenAddr: cfg.apiListenAddr,
      corsOrigins: cfg.apiCorsOrigins ?? [],
      allowedHosts: cfg.apiAllowedHosts,
      logger,
      context: {
        index,
        node: {
          nodeId: cfg.nodeId,
          driverName: DRIVER_NAME,
          version: VERSION,
          platform: platform.name,
          startedAt: new Date().toISOString(),
        },
        readiness,
        registration: kubelet.registration,
        issuer: new IssuerCheck(cfg.certServiceAddr, () => issuer.caBundle()),
        logger,
      },
      metrics: () => metrics.scrape(),
    });
  }
  return {
    manager,
    renewal,
    platform,
    csi,
    store,
    issuer,
    api,
    readiness,
    keyPool,
    trust,
    distributor,
    metrics,
    trimmer,
    listeners,
    kubelet,
    async close() {
      // The registration socket goes first: kubelet unregisters the driver before CSI stops answering.
      await kubelet.close();
      readiness.ready = false;
      trimmer?.stop();
      trust.stop();
      distributor.stop();
      await metricsServer?.close();
      await keyPool?.close();
      index?.stop();
      await api?.close();
      renewal.stop();
      csi.close();
      await status.close();
      certManager?.close();
      issuer.close();
    },
  };
}
