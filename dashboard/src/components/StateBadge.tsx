import { STATE_LABELS, type VolumeStateName } from '@csi-cert-driver/api-contract';

/** A glyph per state, so the state reads without colour. */
export const STATE_GLYPHS: Record<VolumeStateName, string> = {
  healthy: '✓',
  renewing: '↻',
  expiring: '!',
  failed: '✕',
};

export function StateBadge({ state }: { state: VolumeStateName }) {
  return (
    <span className={`badge badge-${state}`} data-state={state}>
      <span className="badge-glyph" aria-hidden="true">
        {STATE_GLYPHS[state]}
      </span>
      {STATE_LABELS[state]}
    </span>
  );
}
