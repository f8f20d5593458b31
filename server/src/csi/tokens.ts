/** What CSI Identity and Node answer with about this driver and node. */
export interface NodeInfo {
  nodeId: string;
  driverName: string;
  version: string;
}

/** Probe answers `ready` once state has been recovered and the socket is served. */
export interface Readiness {
  ready: boolean;
}
