/** The dashboard's client of the cluster API (role cluster-view). Relative URLs, as the node client. */
import type {
  ClusterChangeEvent,
  ClusterNode,
  ClusterOverview,
  ClusterVolumeDetails,
  ClusterVolumePage,
  ExpiryHistogram,
  FailureGroup,
} from '@csi-cert-driver/api-contract';
import { getJson as getJsonFrom, type LiveStatus } from '../api.js';

const getJson = <T>(path: string, signal?: AbortSignal): Promise<T> =>
  getJsonFrom<T>(path, signal, 'the cluster API');

export interface ClusterData {
  overview: ClusterOverview;
  nodes: { items: ClusterNode[]; total: number };
  failures: { groups: FailureGroup[]; total: number };
  expiry: ExpiryHistogram;
  volumes: ClusterVolumePage;
}

export const VOLUME_PAGE = 100;

/**
 * Everything the overview shows for these filters (query strings from `apiQuery`), in parallel. The
 * nodes table has its own query, so a drill-down to one node still lists the others.
 */
export async function fetchClusterData(
  filters: string,
  nodesQuery: string,
  volumesQuery: string,
  signal?: AbortSignal,
): Promise<ClusterData> {
  const base = 'api/v1/cluster';
  const [overview, nodes, failures, expiry, volumes] = await Promise.all([
    getJson<ClusterOverview>(`${base}/overview${filters}`, signal),
    getJson<ClusterData['nodes']>(`${base}/nodes${nodesQuery}`, signal),
    getJson<ClusterData['failures']>(`${base}/failures${filters}`, signal),
    getJson<ExpiryHistogram>(`${base}/expiry${filters}`, signal),
    getJson<ClusterVolumePage>(`${base}/volumes${volumesQuery}`, signal),
  ]);
  return { overview, nodes, failures, expiry, volumes };
}

export const fetchClusterVolume = (id: string, signal?: AbortSignal) =>
  getJson<ClusterVolumeDetails>(
    `api/v1/cluster/volumes/${id.split('/').map(encodeURIComponent).join('/')}`,
    signal,
  );

/** Subscribes to `/api/v1/cluster/events` (change summaries, already coalesced by the server). */
export function subscribeClusterEvents(
  onChange: (e: ClusterChangeEvent) => void,
  onStatus: (s: LiveStatus) => void,
): () => void {
  const source = new EventSource('api/v1/cluster/events');
  onStatus('connecting');
  source.addEventListener('hello', () => onStatus('live'));
  source.addEventListener('change', (m) =>
    onChange(JSON.parse((m as MessageEvent<string>).data) as ClusterChangeEvent),
  );
  source.onerror = () => onStatus(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  return () => source.close();
}
