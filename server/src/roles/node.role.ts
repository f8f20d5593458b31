import { join } from 'node:path';
import type { INestMicroservice } from '@nestjs/common';
import { DRIVER_NAME, type NodeConfig } from '../config/config.js';
import type { Logger } from '../common/logger.js';
import { selectPlatform } from '../platform/platform.module.js';
import type { PlatformPort } from '../platform/platform.port.js';
import { GrpcIssuerClient } from '../issuance/grpc-issuer.client.js';
import type { Issuer } from '../issuance/issuer.port.js';
import { FileStateStore } from '../volumes/file-state-store.js';
import { VolumeManager } from '../volumes/volume-manager.js';
import { recoverVolumes } from '../volumes/recovery.js';
import { RenewalService } from '../renewal/renewal.service.js';
import { IdentityController } from '../csi/identity.controller.js';
import { NodeController } from '../csi/node.controller.js';
import { LOGGER, NODE_INFO, READINESS, VOLUME_MANAGER, type Readiness } from '../csi/tokens.js';
import { generateKey } from '../pki/index.js';
import type { KeySource } from '../volumes/volume-certificates.js';
import type { VolumeState } from '../volumes/volume-state.js';
import { startGrpcServer } from './grpc-server.js';
import { VERSION } from '../common/version.js';
import { IssuerCheck, VolumeIndex, type PublishFailure } from '../api/index.js';
import { startHttpServer, type HttpServer } from './http-server.js';

export interface NodeRole {
  manager: VolumeManager;
  renewal: RenewalService;
  platform: PlatformPort;
  app: INestMicroservice;
  store: FileStateStore;
  issuer: Issuer;
  /** The REST API and dashboard; undefined when API_LISTEN_ADDR is off. */
  api?: HttpServer | undefined;
  readiness: Readiness;
  /** Subscribers to volume changes (API, dashboard). */
  listeners: Set<(volumeId: string, state: VolumeState | undefined) => void>;
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
 * Starts the node role: recovers state, then serves CSI Identity and Node on CSI_ENDPOINT. Probe
 * answers ready only after recovery.
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
      logger,
      privileged: o.privileged,
    });
  const issuer = o.issuer ?? new GrpcIssuerClient(cfg.certServiceAddr, cfg.issuerTimeoutMs);
  const keys: KeySource = o.keys ?? { get: (spec) => generateKey(spec) };
  const store = new FileStateStore(join(cfg.certBasePath, 'state'));
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
    onChange,
  });
  const renewal: RenewalService = new RenewalService({
    manager,
    platform,
    issuer,
    store,
    keys,
    logger,
    nodeId: cfg.nodeId,
    onChange: (id, s) => {
      for (const l of listeners) l(id, s);
    },
  });

  const recovery = await recoverVolumes(store, platform, logger);
  for (const s of recovery.recovered) renewal.track(s);
  logger.info(
    {
      recovered: recovery.recovered.length,
      rolledBack: recovery.rolledBack.length,
      corrupt: recovery.corrupt.length,
    },
    'state recovered',
  );

  const url = await platform.prepareEndpoint(cfg.csiEndpoint);
  const app = await startGrpcServer({
    url,
    protos: ['csi.proto'],
    packages: ['csi.v1'],
    controllers: [IdentityController, NodeController],
    providers: [
      { provide: VOLUME_MANAGER, useValue: manager },
      { provide: NODE_INFO, useValue: { nodeId: cfg.nodeId, driverName: DRIVER_NAME, version: VERSION } },
      { provide: READINESS, useValue: readiness },
      { provide: LOGGER, useValue: logger },
    ],
    logger,
  });
  readiness.ready = true;
  logger.info({ endpoint: url, nodeId: cfg.nodeId, issuer: cfg.certServiceAddr }, 'node driver serving CSI');
  let api: HttpServer | undefined;
  let index: VolumeIndex | undefined;
  if (cfg.apiListenAddr) {
    index = new VolumeIndex({
      nodeId: cfg.nodeId,
      store,
      readFile: (id, name) => platform.readFile(id, name),
      isBusy: (id) => manager.locks.isHeld(id),
      subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
      publishFailures: o.publishFailures,
      logger,
    });
    await index.start();
    api = await startHttpServer({
      listenAddr: cfg.apiListenAddr,
      corsOrigins: cfg.apiCorsOrigins ?? [],
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
        issuer: new IssuerCheck(cfg.certServiceAddr, () => issuer.caBundle()),
        logger,
      },
    });
  }
  return {
    manager,
    renewal,
    platform,
    app,
    store,
    issuer,
    api,
    readiness,
    listeners,
    async close() {
      readiness.ready = false;
      index?.stop();
      await api?.close();
      renewal.stop();
      await app.close();
      issuer.close();
    },
  };
}
