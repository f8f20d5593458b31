/** The dashboard's client of the node API. URLs are relative, so the page works behind a path prefix. */
import type {
  ApiError,
  ClusterView,
  VolumeDetails,
  VolumeEvent,
  VolumePage,
  VolumeSummary,
} from '@csi-cert-driver/api-contract';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GETs `path` as JSON. An unreachable server is an ApiRequestError with status 0 naming `api`; an
 * error answer carries the server's message; an abort is rethrown as is.
 */
export async function getJson<T>(path: string, signal?: AbortSignal, api = 'the node API'): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiRequestError(0, `cannot reach ${api} (${(e as Error).message})`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as ApiError | undefined;
    throw new ApiRequestError(res.status, body?.message ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as T;
}

export const PAGE_SIZE = 5000;

/** Every volume of `node` ('' = all), page by page. */
export async function fetchAllVolumes(node: string, signal?: AbortSignal): Promise<VolumeSummary[]> {
  const out: VolumeSummary[] = [];
  let offset: number | undefined = 0;
  while (offset !== undefined) {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset), sort: 'name' });
    if (node) q.set('node', node);
    const page: VolumePage = await getJson<VolumePage>(`api/v1/volumes?${q.toString()}`, signal);
    out.push(...page.items);
    offset = page.nextOffset;
  }
  return out;
}

export const fetchCluster = (signal?: AbortSignal) => getJson<ClusterView>('api/v1/cluster', signal);

export const fetchDetails = (volumeId: string, signal?: AbortSignal) =>
  getJson<VolumeDetails>(`api/v1/volumes/${encodeURIComponent(volumeId)}`, signal);

export type LiveStatus = 'connecting' | 'live' | 'offline';

/**
 * Subscribes to `/api/v1/events`. Events are handed over in batches (at most every `batchMs`) so
 * a burst of renewals costs one render. EventSource reconnects by itself; `onStatus` says when.
 */
export function subscribeEvents(
  onEvents: (events: VolumeEvent[]) => void,
  onStatus: (s: LiveStatus) => void,
  batchMs = 250,
): () => void {
  const source = new EventSource('api/v1/events');
  let queue: VolumeEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  onStatus('connecting');
  source.addEventListener('hello', () => onStatus('live'));
  source.addEventListener('volume', (m) => {
    queue.push(JSON.parse((m as MessageEvent<string>).data) as VolumeEvent);
    timer ??= setTimeout(() => {
      const batch = queue;
      queue = [];
      timer = undefined;
      onEvents(batch);
    }, batchMs);
  });
  source.onerror = () => onStatus(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  return () => {
    source.close();
    if (timer) clearTimeout(timer);
  };
}
