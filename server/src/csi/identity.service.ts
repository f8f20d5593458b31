import type { UnaryHandlers } from './handlers.js';
import type { NodeInfo, Readiness } from './tokens.js';

/** CSI Identity service. A node-only plugin: no CONTROLLER_SERVICE capability is advertised. */
export function identityService(info: NodeInfo, readiness: Readiness) {
  return {
    GetPluginInfo: () => ({ name: info.driverName, vendor_version: info.version, manifest: {} }),
    GetPluginCapabilities: () => ({ capabilities: [] }),
    Probe: () => ({ ready: { value: readiness.ready } }),
  } satisfies UnaryHandlers;
}
