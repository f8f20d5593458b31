import { Controller, Get, Inject, NotFoundException, Param, Query, Res } from '@nestjs/common';
import {
  compileFilter,
  sortVolumes,
  summarizeVolumes,
  type VolumeDetails,
  type VolumePage,
  type SortKey,
  type VolumeSummary,
} from '@csi-cert-driver/api-contract';
import { API_CONTEXT, type ApiContext } from './api-context.js';
import { parseVolumeQuery } from './volume-query.parse.js';

/**
 * Each row's JSON, kept as long as the index keeps the row object (until the volume changes), so a
 * page of 5,000 rows is joined from strings rather than serialized again on every request.
 */
const rowJson = new WeakMap<VolumeSummary, string>();
function jsonOf(v: VolumeSummary): string {
  let j = rowJson.get(v);
  if (j === undefined) rowJson.set(v, (j = JSON.stringify(v)));
  return j;
}

const ITEMS_OPEN = Buffer.from('{"items":[');

/** `GET /api/v1/volumes` (filtered, sorted, paginated) and `GET /api/v1/volumes/{volumeId}`. */
@Controller('api/v1/volumes')
export class VolumesController {
  constructor(@Inject(API_CONTEXT) private readonly api: ApiContext) {}

  /** Per sort key, the whole list in that order, valid while the index's version is unchanged. */
  private readonly sorted = new Map<SortKey, { version: number; rows: VolumeSummary[] }>();
  private totals: { version: number; summary: ReturnType<typeof summarizeVolumes> } | undefined;
  /** The items JSON of the last unfiltered page (the dashboard's load of every row), by version. */
  private lastPage: { key: string; items: Buffer } | undefined;

  /**
   * Answers with bytes written directly: the items are joined from per-row JSON and, for an
   * unfiltered page, kept as one buffer until a row changes, so the dashboard's load of 5,000 rows
   * costs a copy rather than a serialization.
   */
  @Get()
  list(
    @Query() raw: Record<string, unknown>,
    @Res() res: { setHeader(name: string, value: string): void; end(body: Buffer): void },
  ): void {
    const q = parseVolumeQuery(raw);
    const now = Date.now();
    const snap = this.api.index.snapshot(now);
    let sorted = this.sorted.get(q.sort);
    if (sorted?.version !== snap.version) {
      sorted = { version: snap.version, rows: sortVolumes(snap.rows, q.sort) };
      this.sorted.set(q.sort, sorted);
    }
    const f = q.filter;
    const scopedOnly = !f.namespaces?.length && !f.nodes?.length && !f.text;
    const scoped = scopedOnly ? sorted.rows : sorted.rows.filter(compileFilter(f, true));
    let summary = scopedOnly && this.totals?.version === snap.version ? this.totals.summary : undefined;
    if (!summary) {
      summary = summarizeVolumes(scoped);
      if (scopedOnly) this.totals = { version: snap.version, summary };
    }
    const matching = f.states?.length ? scoped.filter((v) => f.states!.includes(v.state)) : scoped;
    const end = q.offset + q.limit;
    const { items, ...rest }: VolumePage = {
      items: matching.slice(q.offset, end),
      total: matching.length,
      offset: q.offset,
      limit: q.limit,
      ...(end < matching.length ? { nextOffset: end } : {}),
      counts: summary.counts,
      ...(summary.soonestExpiry ? { soonestExpiry: summary.soonestExpiry } : {}),
      generatedAt: new Date(now).toISOString(),
    };
    const key = scopedOnly && !f.states?.length ? `${snap.version}|${q.sort}|${q.offset}|${q.limit}` : '';
    let body = key && this.lastPage?.key === key ? this.lastPage.items : undefined;
    if (body === undefined) {
      body = Buffer.from(items.map(jsonOf).join(','));
      if (key) this.lastPage = { key, items: body };
    }
    const out = Buffer.concat([ITEMS_OPEN, body, Buffer.from(`],${JSON.stringify(rest).slice(1)}`)]);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', String(out.length));
    res.end(out);
  }

  @Get(':volumeId')
  async get(@Param('volumeId') volumeId: string): Promise<VolumeDetails> {
    const v = /^[\w.:-]{1,256}$/.test(volumeId) ? await this.api.index.details(volumeId) : undefined;
    if (!v) throw new NotFoundException(`volume '${volumeId}' is not on node ${this.api.node.nodeId}`);
    return v;
  }
}
