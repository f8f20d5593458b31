/**
 * What kubelet reaches besides CSI when the node runs without sidecars: the plugin registration
 * socket (PLUGIN_REGISTRATION_DIR) and /healthz for its probes (HEALTH_LISTEN_ADDR). Both optional.
 */
import type { Logger } from '../common/logger.js';
import type { RegistrationSettings } from '../config/registration-settings.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { startRegistrationServer, type RegistrationServer } from './registration-server.js';

export interface KubeletFacing {
  registration?: RegistrationServer | undefined;
  health?: HealthServer | undefined;
  /** Removes the registration socket, then stops /healthz. */
  close(): Promise<void>;
}

/** Starts what `cfg` switches on; call once the CSI socket (`csiUrl`) answers. */
export async function startKubeletFacing(
  cfg: RegistrationSettings,
  csiUrl: string,
  driverName: string,
  logger: Logger,
): Promise<KubeletFacing> {
  const health = cfg.healthListenAddr
    ? await startHealthServer({ listenAddr: cfg.healthListenAddr, csiUrl, logger })
    : undefined;
  let registration: RegistrationServer | undefined;
  try {
    registration = cfg.pluginRegistration
      ? await startRegistrationServer({ ...cfg.pluginRegistration, driverName, logger })
      : undefined;
  } catch (e) {
    await health?.close();
    throw e;
  }
  return {
    registration,
    health,
    async close() {
      await registration?.close();
      await health?.close();
    },
  };
}
