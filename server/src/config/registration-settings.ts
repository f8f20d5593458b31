/**
 * The node's kubelet-facing settings without sidecars (docs/adr/0016-built-in-kubelet-registration.md):
 * PLUGIN_REGISTRATION_DIR switches on the plugin registration server, KUBELET_CSI_ENDPOINT is the CSI
 * socket's path as kubelet (on the host) dials it, HEALTH_LISTEN_ADDR serves /healthz for kubelet's
 * probes. All off by default; errors name the setting.
 */
import { ConfigError, type RawSettings } from './settings.js';
import * as p from './parsers.js';

export const REGISTRATION_SETTINGS = [
  'PLUGIN_REGISTRATION_DIR',
  'KUBELET_CSI_ENDPOINT',
  'HEALTH_LISTEN_ADDR',
] as const;

export const REGISTRATION_DEFAULTS: Record<(typeof REGISTRATION_SETTINGS)[number], string> = {
  PLUGIN_REGISTRATION_DIR: '(off: no registration server; e.g. /var/lib/kubelet/plugins_registry)',
  KUBELET_CSI_ENDPOINT: "(CSI_ENDPOINT's path)",
  HEALTH_LISTEN_ADDR: '(off)',
};

/** The socket's file name in the registration directory: `<driver name>-reg.sock`, as kubelet recommends. */
export const REGISTRATION_SOCKET = 'csi.k8s.cert-driver-reg.sock';

/** A unix socket path holds at most 107 bytes (sun_path is 108 with the NUL). */
const MAX_SOCKET_PATH = 107;

export interface PluginRegistrationConfig {
  /** The registration socket: `<PLUGIN_REGISTRATION_DIR>/csi.k8s.cert-driver-reg.sock`. */
  socketPath: string;
  /** The CSI socket as kubelet dials it: a plain absolute path on the host. */
  kubeletCsiEndpoint: string;
}

export interface RegistrationSettings {
  /** PLUGIN_REGISTRATION_DIR/KUBELET_CSI_ENDPOINT; undefined = kubelet registration is left to a sidecar. */
  pluginRegistration?: PluginRegistrationConfig | undefined;
  /** HEALTH_LISTEN_ADDR: `host:port` of /healthz for kubelet's probes; undefined = not served. */
  healthListenAddr?: string | undefined;
}

function socketPathSetting(name: string, v: string): string {
  const path = v.startsWith('unix://') ? v.slice('unix://'.length) : v;
  p.absolutePath(name, path);
  if (/[\0\n]/.test(path) || Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new ConfigError(name, `must be a socket path of at most ${MAX_SOCKET_PATH} bytes, got '${v}'`);
  }
  return path;
}

/**
 * Reads the three settings; `csiEndpoint` is the validated CSI_ENDPOINT, whose path is kubelet's by
 * default (right when the driver runs on the host, not in a container that remaps the path).
 */
export function nodeRegistrationSettings(s: RawSettings, csiEndpoint: string): RegistrationSettings {
  const health = s.get('HEALTH_LISTEN_ADDR') ?? 'off';
  const out: RegistrationSettings =
    health === 'off' ? {} : { healthListenAddr: p.listenAddress('HEALTH_LISTEN_ADDR', health).address };
  const dir = s.get('PLUGIN_REGISTRATION_DIR') ?? 'off';
  if (dir === 'off') {
    if (s.has('KUBELET_CSI_ENDPOINT')) {
      throw new ConfigError('KUBELET_CSI_ENDPOINT', 'only applies with PLUGIN_REGISTRATION_DIR set');
    }
    return out;
  }
  const socketPath = socketPathSetting(
    'PLUGIN_REGISTRATION_DIR',
    `${p.absolutePath('PLUGIN_REGISTRATION_DIR', dir).replace(/\/+$/, '')}/${REGISTRATION_SOCKET}`,
  );
  const endpoint = s.get('KUBELET_CSI_ENDPOINT');
  if (endpoint === undefined && !/^(unix:\/\/)?\/[^/]/.test(csiEndpoint)) {
    throw new ConfigError(
      'KUBELET_CSI_ENDPOINT',
      `is required with PLUGIN_REGISTRATION_DIR when CSI_ENDPOINT is not a unix socket path ('${csiEndpoint}')`,
    );
  }
  return {
    ...out,
    pluginRegistration: {
      socketPath,
      kubeletCsiEndpoint: socketPathSetting(
        endpoint === undefined ? 'CSI_ENDPOINT' : 'KUBELET_CSI_ENDPOINT',
        endpoint ?? csiEndpoint,
      ),
    },
  };
}
