import { memo } from 'react';
import { type SoonestExpiry, type StateCounts, type VolumeStateName } from '@csi-cert-driver/api-contract';
import { absolute, expiry } from '../format.js';
import { StateCards } from './StateCards.js';

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
      <StateCards counts={counts} active={active} onToggle={onToggle} testIdPrefix="count-" />
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
