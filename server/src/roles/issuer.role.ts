import type { INestMicroservice } from '@nestjs/common';
import type { IssuerConfig } from '../config/config.js';
import type { Logger } from '../common/logger.js';
import { loadCertificateAuthorityFromFiles } from '../issuer/certificate-authority.js';
import { IssuanceLog } from '../issuer/issuance-log.js';
import { DEFAULT_SIGNING_POLICY } from '../issuer/signing-policy.js';
import { ISSUER_STATE, IssuerController, type IssuerState } from '../issuer/issuer.controller.js';
import { startGrpcServer } from './grpc-server.js';

export interface IssuerRole {
  state: IssuerState;
  app: INestMicroservice;
  close(): Promise<void>;
}

/** Loads the CA (a bad CA stops the start with a message naming the setting) and serves the issuer. */
export async function startIssuerRole(cfg: IssuerConfig, logger: Logger): Promise<IssuerRole> {
  const ca = await loadCertificateAuthorityFromFiles(cfg.caCertFile, cfg.caKeyFile);
  const state: IssuerState = {
    ca,
    policy: {
      ...DEFAULT_SIGNING_POLICY,
      minDurationSeconds: cfg.minDurationSeconds,
      maxDurationSeconds: cfg.maxDurationSeconds,
      allowCA: cfg.allowCA,
    },
    log: new IssuanceLog(),
    logger,
  };
  if (cfg.issuerAuth === 'none') {
    logger.warn(
      'ISSUER_AUTH=none: callers are not authenticated; any client that reaches the issuer can obtain certificates',
    );
  }
  const url = cfg.listenAddr.startsWith('unix:') ? cfg.listenAddr : cfg.listenAddr;
  const app = await startGrpcServer({
    url,
    protos: ['issuer.proto'],
    packages: ['csicertdriver.issuer.v1'],
    controllers: [IssuerController],
    providers: [{ provide: ISSUER_STATE, useValue: state }],
    logger,
  });
  logger.info(
    { listen: url, ca: ca.certificate.subject, notAfter: ca.notAfter.toISOString() },
    'issuer serving',
  );
  return {
    state,
    app,
    async close() {
      await app.close();
    },
  };
}
