import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import {
  matchesFilter,
  sortVolumes,
  summarizeVolumes,
  type VolumeDetails,
  type VolumePage,
} from '@csi-cert-driver/api-contract';
import { API_CONTEXT, type ApiContext } from './api-context.js';
import { parseVolumeQuery } from './volume-query.parse.js';

/** `GET /api/v1/volumes` (filtered, sorted, paginated) and `GET /api/v1/volumes/{volumeId}`. */
@Controller('api/v1/volumes')
export class VolumesController {
  constructor(@Inject(API_CONTEXT) private readonly api: ApiContext) {}

  @Get()
  list(@Query() raw: Record<string, unknown>): VolumePage {
    const q = parseVolumeQuery(raw);
    const now = Date.now();
    const scoped = this.api.index.summaries(now).filter((v) => matchesFilter(v, q.filter, true));
    const { counts, soonestExpiry } = summarizeVolumes(scoped);
    const matching = sortVolumes(
      scoped.filter((v) => matchesFilter(v, q.filter)),
      q.sort,
    );
    const end = q.offset + q.limit;
    return {
      items: matching.slice(q.offset, end),
      total: matching.length,
      offset: q.offset,
      limit: q.limit,
      ...(end < matching.length ? { nextOffset: end } : {}),
      counts,
      ...(soonestExpiry ? { soonestExpiry } : {}),
      generatedAt: new Date(now).toISOString(),
    };
  }

  @Get(':volumeId')
  async get(@Param('volumeId') volumeId: string): Promise<VolumeDetails> {
    const v = /^[\w.:-]{1,256}$/.test(volumeId) ? await this.api.index.details(volumeId) : undefined;
    if (!v) throw new NotFoundException(`volume '${volumeId}' is not on node ${this.api.node.nodeId}`);
    return v;
  }
}
