import { useEffect, useState, type ReactNode } from 'react';
import type { VolumeDetails, VolumeSummary } from '@csi-cert-driver/api-contract';
import { fetchDetails } from '../api.js';
import { absolute, expiry, goDuration, relative } from '../format.js';
import { StateBadge } from './StateBadge.js';

interface Props {
  volumeId: string;
  /** The list's current row for this volume; a new object means it changed and details are refetched. */
  summary: VolumeSummary | undefined;
  now: number;
  onClose(): void;
  onLoaded(d: VolumeDetails | undefined): void;
}

function Row({ k, v, mono }: { k: string; v: ReactNode; mono?: boolean }) {
  return (
    <>
      <dt>{k}</dt>
      <dd className={mono ? 'mono' : undefined}>{v === '' || v === undefined ? '—' : v}</dd>
    </>
  );
}

const list = (xs: readonly string[] | undefined) => (xs && xs.length ? xs.join(', ') : '—');

/** One volume: state, certificate, request, location, and its renewal history, newest first. */
export function DetailsPanel({ volumeId, summary, now, onClose, onLoaded }: Props) {
  // Keyed by volume id: while another volume's details load, nothing stale is shown; a refetch of
  // the same volume (after a live update) keeps the current details on screen.
  const [state, setState] = useState<{ id: string; d?: VolumeDetails; error?: string }>({ id: '' });

  useEffect(() => {
    const ac = new AbortController();
    fetchDetails(volumeId, ac.signal).then(
      (d) => {
        setState({ id: volumeId, d });
        onLoaded(d);
      },
      (e: Error & { status?: number }) => {
        if (e.name === 'AbortError') return;
        setState({
          id: volumeId,
          error: e.status === 404 ? 'This volume is no longer on the node (its pod was deleted).' : e.message,
        });
        onLoaded(undefined);
      },
    );
    return () => ac.abort();
  }, [volumeId, summary, onLoaded]);

  const current = state.id === volumeId ? state : { id: volumeId };
  const d = current.d;
  const loading = state.id !== volumeId;
  const c = d?.certificateDetails;
  return (
    <aside className="details" aria-labelledby="details-title" aria-busy={loading}>
      <div className="details-head">
        <h2 id="details-title">{d ? `${d.pod.namespace}/${d.pod.name}` : 'Volume'}</h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </div>
      {current.error && !d && (
        <p role="alert" className="error">
          {current.error}
        </p>
      )}
      {loading && <p className="loading">Loading details…</p>}
      {d && (
        <>
          <p className="details-state">
            <StateBadge state={d.state} /> <span>{d.stateReason}</span>
          </p>
          {d.phase === 'publish-failing' && (
            <p className="note">
              Nothing is mounted: kubelet&apos;s NodePublishVolume fails and is retried. The error above comes
              from the issuer.
            </p>
          )}
          <h3>Certificate</h3>
          {c ? (
            <dl>
              <Row k="Subject" v={c.subject} />
              <Row k="DNS names" v={list(c.dnsNames)} />
              {c.ipAddresses.length > 0 && <Row k="IP addresses" v={list(c.ipAddresses)} />}
              {c.uris.length > 0 && <Row k="URIs" v={list(c.uris)} />}
              <Row k="Issuer" v={c.issuer} />
              <Row k="Serial" v={c.serialHex} mono />
              <Row k="Not before" v={absolute(c.notBefore)} />
              <Row k="Not after" v={`${absolute(c.notAfter)} (${expiry(c.notAfter, now)})`} />
              <Row
                k="Next renewal"
                v={
                  d.autoRenew
                    ? `${absolute(d.nextRenewalAt)} (${relative(d.nextRenewalAt, now)})`
                    : 'auto-renew off'
                }
              />
              <Row k="Key" v={`${c.keyAlgorithm}${c.keySize ? ` ${c.keySize}` : ''}`} />
              <Row k="Usages" v={list(c.usages)} />
              <Row k="SHA-256" v={c.sha256Fingerprint} mono />
            </dl>
          ) : (
            <p className="note">{d.certificateError ?? 'No certificate.'}</p>
          )}
          {d.requested && (
            <>
              <h3>Requested</h3>
              <dl>
                <Row k="Duration" v={goDuration(d.requested.durationSeconds)} />
                <Row
                  k="Renew before"
                  v={
                    d.requested.renewBeforeSeconds !== undefined
                      ? goDuration(d.requested.renewBeforeSeconds)
                      : '20% of the lifetime'
                  }
                />
                <Row
                  k="Key"
                  v={`${d.requested.key.algorithm} ${d.requested.key.size || ''} ${d.requested.key.encoding}`}
                />
                <Row k="Issuer" v={d.issuer} />
              </dl>
            </>
          )}
          <h3>Volume</h3>
          <dl>
            <Row k="Node" v={d.nodeId} />
            <Row k="Volume ID" v={d.volumeId} mono />
            <Row k="Pod UID" v={d.pod.uid} mono />
            <Row k="Service account" v={d.pod.serviceAccount} />
            <Row k="Target path" v={d.targetPath} mono />
            <Row
              k="Files"
              v={[d.files.certificate, d.files.privateKey, d.files.ca, d.files.pkcs12]
                .filter(Boolean)
                .join(', ')}
            />
          </dl>
          <h3>History</h3>
          {d.history.length === 0 ? (
            <p className="note">No events yet.</p>
          ) : (
            <ol className="history" reversed data-testid="history">
              {[...d.history].reverse().map((e, i) => (
                <li
                  key={`${e.at}-${i}`}
                  className={`ev ev-${e.outcome}`}
                  data-kind={e.kind}
                  data-outcome={e.outcome}
                >
                  <span aria-hidden="true">{e.outcome === 'success' ? '✓' : '✕'} </span>
                  <strong>
                    {e.kind === 'issue' ? 'Issued' : e.kind === 'renew' ? 'Renewed' : 'Publish'}
                    {e.outcome === 'failure' ? ' — failed' : ''}
                  </strong>{' '}
                  <time dateTime={e.at} title={absolute(e.at)}>
                    {relative(e.at, now)}
                  </time>
                  {e.serialHex && <span className="mono"> serial {e.serialHex}</span>}
                  {e.error && <span className="ev-error"> {e.error}</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </aside>
  );
}
