import type { VolumeManager } from '../volumes/volume-manager.js';
import {
  toPublishRequest,
  toUnpublishRequest,
  type NodePublishVolumeRequestWire,
  type NodeUnpublishVolumeRequestWire,
} from './csi-requests.js';
import type { UnaryHandlers } from './handlers.js';
import type { NodeInfo } from './tokens.js';

/**
 * CSI Node service for inline ephemeral volumes. Stage, stats and expand have no handler and
 * answer UNIMPLEMENTED (grpc-js's answer for methods without one).
 */
export function nodeService(volumes: Pick<VolumeManager, 'publish' | 'unpublish'>, info: NodeInfo) {
  return {
    NodePublishVolume: async (req: NodePublishVolumeRequestWire) => {
      await volumes.publish(toPublishRequest(req));
      return {};
    },
    NodeUnpublishVolume: async (req: NodeUnpublishVolumeRequestWire) => {
      await volumes.unpublish(toUnpublishRequest(req));
      return {};
    },
    NodeGetCapabilities: () => ({ capabilities: [{ rpc: { type: 'VOLUME_MOUNT_GROUP' } }] }),
    NodeGetInfo: () => ({ node_id: info.nodeId, max_volumes_per_node: '0' }),
  } satisfies UnaryHandlers;
}
