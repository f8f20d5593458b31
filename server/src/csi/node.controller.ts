import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { VolumeManager } from '../volumes/volume-manager.js';
import {
  toPublishRequest,
  toUnpublishRequest,
  type NodePublishVolumeRequestWire,
  type NodeUnpublishVolumeRequestWire,
} from './csi-requests.js';
import { NODE_INFO, VOLUME_MANAGER, type NodeInfo } from './tokens.js';

/**
 * CSI Node service for inline ephemeral volumes. Stage, stats and expand are not implemented and
 * answer UNIMPLEMENTED (grpc-js's default for methods without a handler).
 */
@Controller()
export class NodeController {
  constructor(
    @Inject(VOLUME_MANAGER) private readonly volumes: VolumeManager,
    @Inject(NODE_INFO) private readonly info: NodeInfo,
  ) {}

  @GrpcMethod('Node', 'NodePublishVolume')
  async nodePublishVolume(req: NodePublishVolumeRequestWire) {
    await this.volumes.publish(toPublishRequest(req));
    return {};
  }

  @GrpcMethod('Node', 'NodeUnpublishVolume')
  async nodeUnpublishVolume(req: NodeUnpublishVolumeRequestWire) {
    await this.volumes.unpublish(toUnpublishRequest(req));
    return {};
  }

  @GrpcMethod('Node', 'NodeGetCapabilities')
  nodeGetCapabilities() {
    return { capabilities: [{ rpc: { type: 'VOLUME_MOUNT_GROUP' } }] };
  }

  @GrpcMethod('Node', 'NodeGetInfo')
  nodeGetInfo() {
    return { node_id: this.info.nodeId, max_volumes_per_node: '0' };
  }
}
