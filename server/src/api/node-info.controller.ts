import { Controller, Get, Inject } from '@nestjs/common';
import { summarizeVolumes, type ClusterView, type NodeInfoView } from '@csi-cert-driver/api-contract';
import { API_CONTEXT, type ApiContext } from './api-context.js';

/** `GET /api/v1/node` (this node) and `GET /api/v1/cluster` (every node the API can see). */
@Controller('api/v1')
export class NodeInfoController {
  constructor(@Inject(API_CONTEXT) private readonly api: ApiContext) {}

  @Get('node')
  async node(): Promise<NodeInfoView> {
    const now = Date.now();
    const n = this.api.node;
    return {
      nodeId: n.nodeId,
      driverName: n.driverName,
      version: n.version,
      platform: n.platform,
      startedAt: n.startedAt,
      ready: this.api.readiness.ready && this.api.index.loaded,
      issuer: this.api.issuer ? await this.api.issuer.get() : { address: 'in-process' },
      now: new Date(now).toISOString(),
      ...summarizeVolumes(this.api.index.summaries(now)),
    };
  }

  /**
   * The cluster as this API sees it. Until the driver mirrors volume state into status objects,
   * that is this node alone, and the view says so (`complete: false`).
   */
  @Get('cluster')
  cluster(): ClusterView {
    const now = Date.now();
    const local = { nodeId: this.api.node.nodeId, ...summarizeVolumes(this.api.index.summaries(now)) };
    return {
      source: 'local-node',
      complete: false,
      note: `volumes of node ${local.nodeId} only; other nodes appear once volume state is mirrored into status objects`,
      nodes: [local],
      totals: local.counts,
      ...(local.soonestExpiry ? { soonestExpiry: local.soonestExpiry } : {}),
      generatedAt: new Date(now).toISOString(),
    };
  }
}
