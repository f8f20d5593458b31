import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  compileFilter,
  soonestExpiring,
  sortVolumes,
  summarizeVolumes,
  type ClusterView,
  type HistoryEntry,
  type VolumeDetails,
  type VolumeFilter,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import { fetchAllVolumes, fetchCluster, subscribeEvents, type LiveStatus } from './api.js';
import { applyEvents, namespacesOf, toMap, type VolumeMap } from './volumes-store.js';
import { DEFAULT_VIEW, formatView, parseView, type ViewState } from './url-state.js';
import { autoWindow } from './timeline.js';
import { Header } from './components/Header.js';
import { Overview } from './components/Overview.js';
import { Filters } from './components/Filters.js';
import { VolumeTable } from './components/VolumeTable.js';
import { Timeline } from './components/Timeline.js';
import { DetailsPanel } from './components/DetailsPanel.js';
import { ApiErrorBanner, type Load } from './components/StatusLines.js';

/** A full reload of the list this often corrects states that change with time alone (expiry). */
const RESYNC_MS = 30_000;
const TIMELINE_ROWS = 12;

export function App() {
  const [view, setView] = useState<ViewState>(() => parseView(window.location.search));
  const [now, setNow] = useState(() => Date.now());
  const [cluster, setCluster] = useState<ClusterView>();
  const [volumes, setVolumes] = useState<VolumeMap>(() => new Map());
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [live, setLive] = useState<LiveStatus>('connecting');
  const [reload, setReload] = useState(0);
  const [history, setHistory] = useState<{ id: string; h: readonly HistoryEntry[] }>();
  const loadedOnce = useRef(false);

  const update = useCallback((p: Partial<ViewState>) => setView((v) => ({ ...v, ...p })), []);

  useEffect(() => {
    window.history.replaceState(null, '', `${window.location.pathname}${formatView(view)}`);
  }, [view]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  // The list: loaded when the node changes, on retry, and every RESYNC_MS (silently).
  useEffect(() => {
    const ac = new AbortController();
    const get = (silent: boolean) => {
      if (!silent) setLoad({ status: 'loading' });
      Promise.all([fetchCluster(ac.signal), fetchAllVolumes(view.node, ac.signal)]).then(
        ([c, items]) =>
          // A transition: React renders the 5,000 rows in slices and keeps the page responsive.
          startTransition(() => {
            setCluster(c);
            setVolumes(toMap(items));
            setLoad({ status: 'ready' });
          }),
        (e: Error) => {
          if (e.name !== 'AbortError' && !silent) setLoad({ status: 'error', message: e.message });
        },
      );
    };
    get(false);
    const t = setInterval(() => get(true), RESYNC_MS);
    return () => {
      ac.abort();
      clearInterval(t);
    };
  }, [view.node, reload]);

  // Live updates; after a reconnect the list is reloaded, since events may have been missed.
  useEffect(() => {
    let wasLive = false;
    return subscribeEvents(
      (events) => setVolumes((m) => applyEvents(m, events, view.node)),
      (s) => {
        setLive(s);
        if (s === 'live' && wasLive) setReload((n) => n + 1);
        if (s === 'live') wasLive = true;
      },
    );
  }, [view.node]);

  const all = useMemo(() => [...volumes.values()], [volumes]);
  const filter: VolumeFilter = useMemo(
    () => ({ namespaces: view.namespace ? [view.namespace] : [], states: view.states, text: view.text }),
    [view.namespace, view.states, view.text],
  );
  const scoped = useMemo(() => all.filter(compileFilter(filter, true)), [all, filter]);
  const summary = useMemo(() => summarizeVolumes(scoped), [scoped]);
  const rows = useMemo(
    () => sortVolumes(scoped.filter(compileFilter(filter)), view.sort),
    [scoped, filter, view.sort],
  );
  const timelineVolumes = useMemo(() => {
    const soonest = soonestExpiring(rows, TIMELINE_ROWS);
    const sel = volumes.get(view.volume);
    return sel?.certificate && !soonest.includes(sel)
      ? [sel, ...soonest.slice(0, TIMELINE_ROWS - 1)]
      : soonest;
  }, [rows, volumes, view.volume]);
  const windowId = view.window === 'auto' ? autoWindow(timelineVolumes) : view.window;
  const namespaces = useMemo(() => namespacesOf(volumes), [volumes]);

  useEffect(() => {
    if (load.status === 'ready' && !loadedOnce.current) {
      loadedOnce.current = true;
      document.documentElement.dataset['ready'] = 'true';
      performance.mark('dashboard-ready');
    }
  }, [load.status]);

  const select = useCallback((id: string) => update({ volume: id }), [update]);
  const onLoaded = useCallback(
    (d: VolumeDetails | undefined) => setHistory(d ? { id: d.volumeId, h: d.history } : undefined),
    [],
  );
  // Stable callbacks: the memoised children then skip the once-a-second re-render of the clock.
  const toggleState = useCallback(
    (s: VolumeStateName) =>
      setView((v) => ({
        ...v,
        states: v.states.includes(s) ? v.states.filter((x) => x !== s) : [...v.states, s],
      })),
    [],
  );
  const clear = useCallback(() => update({ namespace: '', states: [], text: '' }), [update]);
  const onNode = useCallback((node: string) => update({ node, volume: '' }), [update]);
  const onWindow = useCallback((w: ViewState['window']) => update({ window: w }), [update]);
  const onSort = useCallback((sort: ViewState['sort']) => update({ sort }), [update]);
  const onClose = useCallback(() => update({ volume: '' }), [update]);

  return (
    <div className={`layout ${view.volume ? 'with-details' : ''}`}>
      <Header cluster={cluster} node={view.node} live={live} onNode={onNode} />
      <main aria-busy={load.status === 'loading'}>
        {load.status === 'error' && (
          <ApiErrorBanner api="node" message={load.message} onRetry={() => setReload((n) => n + 1)} />
        )}
        {load.status === 'loading' && volumes.size === 0 && (
          <p className="banner loading" role="status">
            Loading volumes…
          </p>
        )}
        {load.status === 'ready' && volumes.size === 0 ? (
          <section className="empty-state" data-testid="empty">
            <h2>No certificate volumes here yet</h2>
            <p>
              {view.node ? `Node ${view.node}` : 'No node'} has no mounted certificate volumes. A pod gets one
              by declaring an inline CSI volume with <code>driver: csi.k8s.cert-driver</code>; it shows up
              here as soon as kubelet publishes it.
            </p>
          </section>
        ) : (
          volumes.size > 0 && (
            <>
              <Overview
                total={summary.total}
                counts={summary.counts}
                soonest={summary.soonestExpiry}
                now={now}
                active={view.states}
                onToggle={toggleState}
                onShow={select}
              />
              <Timeline
                volumes={timelineVolumes}
                total={rows.length}
                now={now}
                window={windowId}
                auto={view.window === 'auto'}
                selected={view.volume}
                history={history?.id === view.volume ? history.h : undefined}
                onWindow={onWindow}
                onSelect={select}
              />
              <section className="volumes" aria-labelledby="volumes-title">
                <h2 id="volumes-title">Volumes</h2>
                <Filters
                  namespaces={namespaces}
                  namespace={view.namespace}
                  states={view.states}
                  text={view.text}
                  sort={view.sort}
                  shown={rows.length}
                  total={volumes.size}
                  onChange={update}
                  onClear={clear}
                />
                {rows.length === 0 ? (
                  <div className="empty" data-testid="no-match">
                    <p>No volumes match these filters.</p>
                    <button type="button" onClick={clear}>
                      Clear filters
                    </button>
                  </div>
                ) : (
                  <VolumeTable
                    rows={rows}
                    now={now}
                    selected={view.volume}
                    sort={view.sort}
                    showNode={!view.node && (cluster?.nodes.length ?? 0) > 1}
                    onSelect={select}
                    onSort={onSort}
                  />
                )}
              </section>
            </>
          )
        )}
      </main>
      {view.volume && (
        <DetailsPanel
          volumeId={view.volume}
          summary={volumes.get(view.volume)}
          now={now}
          onClose={onClose}
          onLoaded={onLoaded}
        />
      )}
      <footer>
        Read-only view · <a href="openapi.json">API description</a> · reset with{' '}
        <button type="button" className="link" onClick={() => setView(DEFAULT_VIEW)}>
          default view
        </button>
      </footer>
    </div>
  );
}
