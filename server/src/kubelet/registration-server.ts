/**
 * kubelet's plugin registration API v1 (proto/pluginregistration.proto), served by the node role on
 * `<kubelet root>/plugins_registry/csi.k8s.cert-driver-reg.sock` instead of node-driver-registrar.
 * kubelet's plugin watcher sees the socket appear, calls GetInfo, dials the CSI endpoint it names,
 * and reports the outcome with NotifyRegistrationStatus; removing the socket unregisters the driver.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { loadProto } from '../common/protos.js';
import { safeText } from '../common/safe-text.js';
import { claimSocketPath, releaseSocket, sealSocket, type BoundSocket } from './plugin-socket.js';

/** The CSI spec versions kubelet may speak to us (kubelet accepts any 1.x). */
export const SUPPORTED_VERSIONS = ['1.0.0'];

/** Kubelet's error texts are another party's words: logged and shown on /readyz, bounded. */
const MAX_ERROR_TEXT = 512;

export interface RegistrationServerOptions {
  /** The registration socket's path (in kubelet's plugins_registry directory). */
  socketPath: string;
  /** The CSI driver name. */
  driverName: string;
  /** The CSI socket as kubelet dials it (a path on the host). */
  kubeletCsiEndpoint: string;
  logger: Logger;
}

/** What /readyz and the logs say about the registration. */
export interface RegistrationState {
  socketPath: string;
  serving: boolean;
  /** kubelet's last report: undefined before the first NotifyRegistrationStatus. */
  registered?: boolean | undefined;
  /** kubelet's error text of its last failed registration (bounded, control characters removed). */
  error?: string | undefined;
}

export interface RegistrationServer {
  state(): RegistrationState;
  /** Stops serving and removes the socket (only if it is still ours): kubelet unregisters the driver. */
  close(): Promise<void>;
}

interface RegistrationStatus {
  plugin_registered?: boolean;
  error?: string;
}

/** A /readyz check: fails only when the server is not serving or kubelet refused the registration. */
export function registrationCheck(s: RegistrationState): { ok: boolean; detail: string } {
  if (!s.serving) return { ok: false, detail: `not serving ${s.socketPath}` };
  if (s.error !== undefined) return { ok: false, detail: `kubelet refused the registration: ${s.error}` };
  if (s.registered) return { ok: true, detail: `registered by kubelet (${s.socketPath})` };
  return { ok: true, detail: `serving ${s.socketPath}, waiting for kubelet` };
}

/**
 * Claims the socket path (a stale socket is replaced, a live one never), binds the Registration
 * service with mode 0600 and returns once it serves. Throws when the path cannot be claimed or bound.
 */
export async function startRegistrationServer(o: RegistrationServerOptions): Promise<RegistrationServer> {
  if (process.platform === 'win32') {
    throw new Error(
      'PLUGIN_REGISTRATION_DIR: kubelet registration needs AF_UNIX, which Node.js cannot serve on Windows',
    );
  }
  const state: RegistrationState = { socketPath: o.socketPath, serving: false };
  const log = o.logger;
  const pkg = loadProto('pluginregistration.proto') as unknown as {
    pluginregistration: { Registration: { service: grpc.ServiceDefinition } };
  };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 });
  server.addService(pkg.pluginregistration.Registration.service, {
    GetInfo: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      log.info({ endpoint: o.kubeletCsiEndpoint }, 'kubelet asked for the plugin info');
      cb(null, {
        type: 'CSIPlugin',
        name: o.driverName,
        endpoint: o.kubeletCsiEndpoint,
        supported_versions: SUPPORTED_VERSIONS,
      });
    },
    NotifyRegistrationStatus: (
      call: grpc.ServerUnaryCall<RegistrationStatus, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      const registered = call.request.plugin_registered === true;
      state.registered = registered;
      if (registered) {
        state.error = undefined;
        log.info({ driver: o.driverName }, 'kubelet registered the driver');
      } else {
        state.error = safeText(call.request.error || 'no reason given', MAX_ERROR_TEXT);
        log.error({ kubeletError: state.error }, 'kubelet refused to register the driver');
      }
      cb(null, {});
    },
  });
  const { replacedStale } = await claimSocketPath(o.socketPath);
  if (replacedStale) log.warn({ path: o.socketPath }, 'replaced a stale registration socket');
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${o.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err
        ? reject(new Error(`PLUGIN_REGISTRATION_DIR: cannot serve ${o.socketPath}: ${err.message}`))
        : resolve(),
    ),
  );
  let bound: BoundSocket;
  try {
    bound = await sealSocket(o.socketPath);
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
  state.serving = true;
  log.info({ path: o.socketPath, endpoint: o.kubeletCsiEndpoint }, 'registration socket serving');
  return {
    state: () => ({ ...state }),
    async close() {
      if (!state.serving) return;
      state.serving = false;
      // A kubelet call in flight gets 2 s to finish.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await releaseSocket(bound);
      log.info({ path: o.socketPath }, 'registration socket removed');
    },
  };
}
