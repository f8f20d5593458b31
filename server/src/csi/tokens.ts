/** Nest injection tokens of the node role. */
export const VOLUME_MANAGER = Symbol('VolumeManager');
export const NODE_INFO = Symbol('NodeInfo');
export const READINESS = Symbol('Readiness');
export const LOGGER = Symbol('Logger');

export interface NodeInfo {
  nodeId: string;
  driverName: string;
  version: string;
}

/** Probe answers `ready` once state has been recovered and the socket is served. */
export interface Readiness {
  ready: boolean;
}
