import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { INestMicroservice } from '@nestjs/common';
import type { IssuerConfig } from '../config/config.js';
import { ConfigError } from '../config/settings.js';
import type { Logger } from '../common/logger.js';
import { loadCertificateAuthorityFromFiles } from '../issuer/certificate-authority.js';
import { IssuanceLog } from '../issuer/issuance-log.js';
import { DEFAULT_SIGNING_POLICY } from '../issuer/signing-policy.js';
import { ISSUER_STATE, IssuerController, type IssuerState } from '../issuer/issuer.controller.js';
import { startGrpcServer } from './grpc-server.js';
import { issuerServerCredentials } from '../issuer/serving-credentials.js';
import { isLocalAddress } from '../config/issuer-tls-settings.js';
import { CaRotation } from '../issuer/ca-rotation.js';
import { watchCaFiles, type CaFileWatch } from '../issuer/ca-file-watcher.js';
import { FileRotationStore } from '../issuer/ca-rotation-store.js';
import { IssuerMetrics, startMetricsServer, type MetricsServer } from '../metrics/index.js';
import { issuerKubernetes } from '../kube/issuer/issuer-kubernetes.js';

export interface IssuerRole {
  state: IssuerState;
  app: INestMicroservice;
  rotation: CaRotation;
  metrics: IssuerMetrics;
  /** `http://host:port` of /metrics when METRICS_LISTEN_ADDR is set. */
  metricsUrl?: string | undefined;
  close(): Promise<void>;
}

/** Loads the CA (a bad CA stops the start with a message naming the setting) and serves the issuer. */
export async function startIssuerRole(cfg: IssuerConfig, logger: Logger): Promise<IssuerRole> {
  const kube = await issuerKubernetes(cfg, logger);
  const ca = kube?.ca ?? (await loadCertificateAuthorityFromFiles(cfg.caCertFile, cfg.caKeyFile));
  const state: IssuerState = {
    authorizer: kube?.authorizer,
    ca,
    policy: {
      ...DEFAULT_SIGNING_POLICY,
      minDurationSeconds: cfg.minDurationSeconds,
      maxDurationSeconds: cfg.maxDurationSeconds,
      allowCA: cfg.allowCA,
      allowSystemSubjects: cfg.allowSystemSubjects ?? false,
    },
    log: new IssuanceLog(),
    logger,
  };
  // CA_STATE_DIR: a rotation in progress survives a restart (a bad record stops the start, naming it).
  const rotationStore = cfg.caStateDir ? new FileRotationStore(cfg.caStateDir) : undefined;
  const restored = await rotationStore?.load().catch((e: unknown) => {
    throw new ConfigError('CA_STATE_DIR', (e as Error).message);
  });
  const rotation = new CaRotation({
    initial: ca,
    store: rotationStore,
    restored,
    activate: (next) => {
      state.ca = next;
    },
    delayMs: cfg.caRotationDelayMs ?? 60_000,
    maxLeafSeconds: cfg.maxDurationSeconds,
    logger,
  });
  state.bundle = () => rotation.bundlePem();
  const metrics = new IssuerMetrics({
    rotation: () => rotation.status(),
    bundle: () => rotation.bundlePem(),
  });
  if (!cfg.servingTls && !isLocalAddress(cfg.listenAddr)) {
    logger.warn('serving without TLS off loopback: callers send pod tokens to this issuer unencrypted');
  }
  if (cfg.issuerAuth === 'none') {
    logger.warn(
      'ISSUER_AUTH=none: callers are not authenticated; any client that reaches the issuer can obtain certificates',
    );
  }
  const url = await prepareListenAddress(cfg.listenAddr);
  const app = await startGrpcServer({
    url,
    protos: ['issuer.proto'],
    packages: ['csicertdriver.issuer.v1'],
    controllers: [IssuerController],
    providers: [{ provide: ISSUER_STATE, useValue: state }],
    logger,
    grpcInterceptors: [metrics.interceptor],
    credentials: issuerServerCredentials(cfg.servingTls),
  });
  // Watched only once serving: a failed start leaves no watch behind, and no rotation is missed
  // because the watch resumes from the version read above.
  kube?.watchCa((next) => rotation.propose(next));
  const reloadMs = cfg.caReloadIntervalMs ?? 10_000;
  const caWatch: CaFileWatch | undefined =
    cfg.caCertFile && reloadMs > 0
      ? await watchCaFiles({
          certFile: cfg.caCertFile,
          keyFile: cfg.caKeyFile,
          intervalMs: reloadMs,
          logger,
          onChange: (next) => rotation.propose(next),
        })
      : undefined;
  const metricsServer: MetricsServer | undefined = cfg.metricsListenAddr
    ? await startMetricsServer(cfg.metricsListenAddr, () => metrics.scrape(), logger)
    : undefined;
  logger.info(
    {
      listen: url,
      tls: cfg.servingTls ? (cfg.servingTls.clientCaFile ? 'mutual' : 'server') : 'off',
      ca: ca.certificate.subject,
      notAfter: ca.notAfter.toISOString(),
    },
    'issuer serving',
  );
  return {
    state,
    app,
    rotation,
    metrics,
    metricsUrl: metricsServer?.url,
    async close() {
      caWatch?.stop();
      rotation.stop();
      await rotation.flush();
      await metricsServer?.close();
      kube?.stop();
      await app.close();
    },
  };
}

/**
 * A unix socket address gets its directory created and a stale socket (left by a killed issuer)
 * removed; a regular file at that path is refused. TCP addresses are returned as they are.
 */
async function prepareListenAddress(addr: string): Promise<string> {
  if (!addr.startsWith('unix://')) return addr;
  const path = addr.slice('unix://'.length);
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSocket()) await unlink(path);
  else if (st) throw new Error(`LISTEN_ADDR: ${path} exists and is not a socket; refusing to replace it`);
  return addr;
}
