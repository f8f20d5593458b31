import { useCallback, useEffect, useRef, useState } from 'react';
import type { ClusterVolumeDetails, VolumeStateName } from '@csi-cert-driver/api-contract';
import type { LiveStatus } from '../api.js';
import {
  fetchClusterData,
  fetchClusterVolume,
  subscribeClusterEvents,
  VOLUME_PAGE,
  type ClusterData,
} from './cluster-api.js';
import {
  apiQuery,
  DEFAULT_CLUSTER_VIEW,
  formatClusterView,
  parseClusterView,
  type ClusterViewState,
} from './cluster-url.js';
import { ApiErrorBanner, LiveIndicator, type Load } from '../components/StatusLines.js';
import { ExpiryChart } from './ExpiryChart.js';
import {
  ClusterCounts,
  ClusterVolumePanel,
  ClusterVolumeTable,
  FailuresTable,
  HealthBadge,
  IssuersPanel,
  NodesTable,
} from './ClusterPanels.js';

/** States also change with time alone (a renewal comes due): reload this often without a change event. */
const RESYNC_MS = 30_000;
/** Nodes in the table, stale and failing first (the server's order); a drill-down reaches any other by URL or filter. */
const NODES_SHOWN = 100;

/**
 * The dashboard in cluster mode (served by the cluster-view role): every node's volumes from the
 * status objects. The server filters, counts and pages (50,000 volumes never reach the browser); the
 * view is in the URL; a change event from the watch reloads what is shown.
 */
export function ClusterApp() {
  const [view, setView] = useState<ClusterViewState>(() => parseClusterView(window.location.search));
  const [data, setData] = useState<ClusterData>();
  const [details, setDetails] = useState<ClusterVolumeDetails>();
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [live, setLive] = useState<LiveStatus>('connecting');
  const [tick, setTick] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const readyOnce = useRef(false);

  const update = useCallback((p: Partial<ClusterViewState>) => setView((v) => ({ ...v, page: 0, ...p })), []);

  useEffect(() => {
    window.history.replaceState(null, '', `${window.location.pathname}${formatClusterView(view)}`);
  }, [view]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    const r = setInterval(() => setTick((n) => n + 1), RESYNC_MS);
    return () => {
      clearInterval(t);
      clearInterval(r);
    };
  }, []);

  const filters = apiQuery(view);
  const nodesQuery = apiQuery({ ...view, node: '' }, { limit: String(NODES_SHOWN) });
  const volumesQuery = apiQuery(view, {
    sort: view.sort,
    limit: String(VOLUME_PAGE),
    offset: String(view.page * VOLUME_PAGE),
  });
  useEffect(() => {
    const ac = new AbortController();
    fetchClusterData(filters, nodesQuery, volumesQuery, ac.signal).then(
      (d) => {
        setData(d);
        setNow(Date.now());
        setLoad({ status: 'ready' });
      },
      (e: Error) => {
        if (e.name !== 'AbortError') setLoad({ status: 'error', message: e.message });
      },
    );
    return () => ac.abort();
  }, [filters, nodesQuery, volumesQuery, tick]);

  useEffect(() => {
    if (!view.volume) return;
    const ac = new AbortController();
    fetchClusterVolume(view.volume, ac.signal).then(setDetails, (e: Error) => {
      if (e.name !== 'AbortError') setDetails(undefined);
    });
    return () => ac.abort();
  }, [view.volume, tick]);

  useEffect(() => {
    let wasLive = false;
    return subscribeClusterEvents(
      () => setTick((n) => n + 1),
      (s) => {
        setLive(s);
        if (s === 'live' && wasLive) setTick((n) => n + 1);
        if (s === 'live') wasLive = true;
      },
    );
  }, []);

  useEffect(() => {
    if (load.status === 'ready' && !readyOnce.current) {
      readyOnce.current = true;
      document.documentElement.dataset['ready'] = 'true';
      document.documentElement.dataset['mode'] = 'cluster';
      performance.mark('dashboard-ready');
    }
  }, [load.status]);

  const toggleState = useCallback(
    (s: VolumeStateName) =>
      setView((v) => ({
        ...v,
        page: 0,
        states: v.states.includes(s) ? v.states.filter((x) => x !== s) : [...v.states, s],
      })),
    [],
  );
  const onStale = useCallback(() => setView((v) => ({ ...v, page: 0, stale: !v.stale })), []);
  const onNode = useCallback((node: string) => update({ node, volume: '' }), [update]);
  const onIssuer = useCallback((issuer: string) => update({ issuer }), [update]);
  const onFailureNs = useCallback((namespace: string) => update({ namespace, states: ['failed'] }), [update]);
  const onSelect = useCallback((volume: string) => setView((v) => ({ ...v, volume })), []);
  const node = view.node ? data?.nodes.items.find((n) => n.nodeId === view.node) : undefined;
  const vols = data?.volumes;
  const shown = details && details.id === view.volume ? details : undefined;

  return (
    <div className={`layout ${shown ? 'with-details' : ''}`}>
      <header className="top">
        <h1>
          csi-cert-driver <span className="sub">cluster · certificate volumes</span>
        </h1>
        <nav aria-label="Breadcrumb" className="crumbs" data-testid="crumbs">
          <button type="button" className="link" onClick={() => update({ node: '', volume: '' })}>
            Cluster
          </button>
          {view.node && (
            <>
              {' › '}
              <span data-testid="crumb-node">{view.node}</span> {node && <HealthBadge health={node.health} />}
            </>
          )}
        </nav>
        <LiveIndicator live={live} />
      </header>
      <main aria-busy={load.status === 'loading'}>
        {load.status === 'error' && (
          <ApiErrorBanner api="cluster" message={load.message} onRetry={() => setTick((n) => n + 1)} />
        )}
        {!data && load.status === 'loading' && (
          <p className="banner loading" role="status">
            Loading the cluster…
          </p>
        )}
        {data && (
          <>
            {!data.overview.synced && (
              <p className="banner loading" role="status">
                Listing status objects…
              </p>
            )}
            {node?.health === 'stale' && (
              <p role="alert" className="banner error" data-testid="node-stale">
                ‖ {node.healthReason}
              </p>
            )}
            <ClusterCounts
              total={data.overview.total}
              counts={data.overview.counts}
              nodes={data.overview.nodes}
              active={view.states}
              stale={view.stale}
              onToggle={toggleState}
              onStale={onStale}
            />
            <div className="cv-grid">
              <NodesTable
                nodes={data.nodes.items}
                total={data.nodes.total}
                now={now}
                selected={view.node}
                onSelect={onNode}
              />
              <FailuresTable groups={data.failures.groups} total={data.failures.total} onPick={onFailureNs} />
              <ExpiryChart h={data.expiry} />
              <IssuersPanel
                issuers={data.overview.issuers}
                ca={data.overview.ca}
                now={now}
                active={view.issuer}
                onIssuer={onIssuer}
              />
            </div>
            <section className="volumes" aria-labelledby="cv-volumes-title">
              <h2 id="cv-volumes-title">Volumes</h2>
              <div className="filters" role="search">
                <label>
                  Namespace
                  <select
                    value={view.namespace}
                    onChange={(e) => update({ namespace: e.target.value })}
                    data-testid="cv-namespace"
                  >
                    <option value="">All</option>
                    {data.overview.namespaces.map((ns) => (
                      <option key={ns}>{ns}</option>
                    ))}
                  </select>
                </label>
                <label>
                  Search
                  <input
                    type="search"
                    value={view.text}
                    placeholder="namespace/pod, volume id, serial"
                    onChange={(e) => update({ text: e.target.value })}
                    data-testid="cv-search"
                  />
                </label>
                <label>
                  Sort
                  <select
                    value={view.sort}
                    onChange={(e) => update({ sort: e.target.value as ClusterViewState['sort'] })}
                  >
                    <option value="state">most urgent</option>
                    <option value="expiry">expiry, soonest first</option>
                    <option value="-expiry">expiry, latest first</option>
                    <option value="name">name</option>
                    <option value="node">node</option>
                  </select>
                </label>
                <button type="button" onClick={() => setView({ ...DEFAULT_CLUSTER_VIEW, node: view.node })}>
                  Clear filters
                </button>
                <span className="muted" data-testid="cv-shown">
                  {vols ? `${vols.total} matching` : ''}
                </span>
              </div>
              {vols && vols.items.length === 0 ? (
                <p className="empty" data-testid="cv-no-match">
                  No volumes match these filters.
                </p>
              ) : (
                vols && (
                  <ClusterVolumeTable
                    rows={vols.items}
                    now={now}
                    selected={view.volume}
                    onSelect={onSelect}
                  />
                )
              )}
              {vols && vols.total > VOLUME_PAGE && (
                <p className="pager">
                  <button
                    type="button"
                    disabled={view.page === 0}
                    onClick={() => setView((v) => ({ ...v, page: v.page - 1 }))}
                  >
                    ‹ Previous
                  </button>{' '}
                  {vols.offset + 1}–{vols.offset + vols.items.length} of {vols.total}{' '}
                  <button
                    type="button"
                    disabled={vols.nextOffset === undefined}
                    onClick={() => setView((v) => ({ ...v, page: v.page + 1 }))}
                  >
                    Next ›
                  </button>
                </p>
              )}
            </section>
          </>
        )}
      </main>
      {details && <ClusterVolumePanel d={details} now={now} onClose={() => onSelect('')} onNode={onNode} />}
      <footer>Read-only view of every node, from the CertVolumeStatus objects</footer>
    </div>
  );
}
