import { memo } from 'react';
import {
  STATE_LABELS,
  VOLUME_STATES,
  type SortKey,
  type VolumeStateName,
} from '@csi-cert-driver/api-contract';
import { Options } from './Options.js';

interface Props {
  namespaces: string[];
  namespace: string;
  states: readonly VolumeStateName[];
  text: string;
  sort: SortKey;
  shown: number;
  total: number;
  onChange(p: Partial<{ namespace: string; states: VolumeStateName[]; text: string; sort: SortKey }>): void;
  onClear(): void;
}

const SORTS: { id: SortKey; label: string }[] = [
  { id: 'expiry', label: 'Expiry, soonest first' },
  { id: '-expiry', label: 'Expiry, latest first' },
  { id: 'state', label: 'State, most urgent first' },
  { id: 'name', label: 'Pod name, A–Z' },
  { id: '-name', label: 'Pod name, Z–A' },
];

export const Filters = memo(function Filters(p: Props) {
  const filtered = p.namespace !== '' || p.states.length > 0 || p.text !== '';
  return (
    <form className="filters" role="search" aria-label="Filter volumes" onSubmit={(e) => e.preventDefault()}>
      <label>
        Namespace
        <select value={p.namespace} onChange={(e) => p.onChange({ namespace: e.target.value })}>
          <option value="">All namespaces</option>
          {p.namespaces.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <label>
        State
        <select
          value={p.states.length === 1 ? p.states[0] : p.states.length === 0 ? '' : 'multiple'}
          onChange={(e) => p.onChange({ states: e.target.value ? [e.target.value as VolumeStateName] : [] })}
        >
          <option value="">All states</option>
          {p.states.length > 1 && <option value="multiple">{p.states.length} states</option>}
          {VOLUME_STATES.map((s) => (
            <option key={s} value={s}>
              {STATE_LABELS[s]}
            </option>
          ))}
        </select>
      </label>
      <label className="grow">
        Search
        <input
          type="search"
          placeholder="namespace/pod, volume id or serial"
          value={p.text}
          onChange={(e) => p.onChange({ text: e.target.value })}
        />
      </label>
      <label>
        Sort
        <select value={p.sort} onChange={(e) => p.onChange({ sort: e.target.value as SortKey })}>
          <Options items={SORTS} />
        </select>
      </label>
      <p className="shown" aria-live="polite" data-testid="shown-count">
        {p.shown === p.total ? `${p.total} volumes` : `${p.shown} of ${p.total} volumes`}
      </p>
      {filtered && (
        <button type="button" onClick={p.onClear}>
          Clear filters
        </button>
      )}
    </form>
  );
});
