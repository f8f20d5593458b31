import type { Logger } from '../common/logger.js';
import type { Readiness } from '../csi/tokens.js';
import type { IssuerCheck } from './issuer-check.js';
import type { VolumeIndex } from './volume-index.js';
import type { RegistrationState } from '../kubelet/registration-server.js';

/** Nest injection token of the API's context. */
export const API_CONTEXT = Symbol('ApiContext');

/** Everything the API controllers read. Read-only by construction: nothing here can change a volume. */
export interface ApiContext {
  index: VolumeIndex;
  node: {
    nodeId: string;
    driverName: string;
    version: string;
    platform: string;
    startedAt: string;
  };
  /** Ready once the CSI socket is served and state has been recovered. */
  readiness: Readiness;
  issuer?: IssuerCheck | undefined;
  /** kubelet plugin registration (PLUGIN_REGISTRATION_DIR); undefined when a sidecar registers the node. */
  registration?: { state(): RegistrationState } | undefined;
  logger: Logger;
}
