import { join } from 'node:path';
import type { NodeConfig } from '../../src/config/config.js';

/**
 * The settings of a node role that signs with the in-process issuer (`certServiceAddr: 'in-process'`):
 * its CSI socket `csi.sock` and CERT_BASE_PATH in `dir`, cluster.local, 1 MiB volumes and a 5 s
 * issuer timeout; `o` names the node and the log level and may override any of the rest.
 */
export function inProcessNodeConfig(
  dir: string,
  o: Pick<NodeConfig, 'logLevel' | 'nodeId'> & Partial<NodeConfig>,
): NodeConfig {
  return {
    csiEndpoint: `unix://${join(dir, 'csi.sock')}`,
    certServiceAddr: 'in-process',
    certBasePath: dir,
    clusterDomain: 'cluster.local',
    volumeSizeBytes: 1 << 20,
    issuerTimeoutMs: 5000,
    ...o,
  };
}
