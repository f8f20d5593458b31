import {
  STATE_LABELS,
  VOLUME_STATES,
  type StateCounts,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import { STATE_GLYPHS } from './StateBadge.js';

/** A card per volume state with its count; each toggles the state filter (`aria-pressed` when on). */
export function StateCards(p: {
  counts: StateCounts;
  active: readonly VolumeStateName[];
  onToggle(state: VolumeStateName): void;
  /** `data-testid` of each card: the prefix and the state (`count-failed`). */
  testIdPrefix: string;
}) {
  return VOLUME_STATES.map((s) => (
    <button
      key={s}
      type="button"
      className={`card card-state card-${s}`}
      aria-pressed={p.active.includes(s)}
      data-testid={`${p.testIdPrefix}${s}`}
      onClick={() => p.onToggle(s)}
      title={`Show only ${STATE_LABELS[s].toLowerCase()} volumes`}
    >
      <span className="card-count">{p.counts[s]}</span>
      <span className="card-label">
        <span aria-hidden="true">{STATE_GLYPHS[s]} </span>
        {STATE_LABELS[s]}
      </span>
    </button>
  ));
}
