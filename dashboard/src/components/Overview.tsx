import { memo } from 'react';
import {
  STATE_LABELS,
  VOLUME_STATES,
  type SoonestExpiry,
  type StateCounts,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import { absolute, expiry } from '../format.js';
import { STATE_GLYPHS } from './StateBadge.js';

interface Props {
  total: number;
  counts: StateCounts;
  soonest: SoonestExpiry | undefined;
  now: number;
  active: readonly VolumeStateName[];
  onToggle(state: VolumeStateName): void;
  onShow(volumeId: string): void;
}

/** Counts by state (each a filter toggle) and the soonest-expiring certificate. */
export const Overview = memo(function Overview({
  total,
  counts,
  soonest,
  now,
  active,
  onToggle,
  onShow,
}: Props) {
  return (
    <section className="overview" aria-label="Overview">
      <div className="card card-total">
        <span className="card-count">{total}</span>
        <span className="card-label">volumes</span>
      </div>
      {VOLUME_STATES.map((s) => (
        <button
          key={s}
          type="button"
          className={`card card-state card-${s}`}
          aria-pressed={active.includes(s)}
          data-testid={`count-${s}`}
          onClick={() => onToggle(s)}
          title={`Show only ${STATE_LABELS[s].toLowerCase()} volumes`}
        >
          <span className="card-count">{counts[s]}</span>
          <span className="card-label">
            <span aria-hidden="true">{STATE_GLYPHS[s]} </span>
            {STATE_LABELS[s]}
          </span>
        </button>
      ))}
      <div className="card card-soonest" data-testid="soonest-expiry">
        <span className="card-label">Soonest expiry</span>
        {soonest ? (
          <>
            <button type="button" className="link" onClick={() => onShow(soonest.volumeId)}>
              {soonest.pod.namespace}/{soonest.pod.name}
            </button>
            <span className="card-detail" title={absolute(soonest.notAfter)}>
              {expiry(soonest.notAfter, now)}
            </span>
          </>
        ) : (
          <span className="card-detail">no certificates</span>
        )}
      </div>
    </section>
  );
});
