/** How the dashboard's copy of the volume list changes. Pure. */
import type { VolumeEvent, VolumeSummary } from '@csi-cert-driver/api-contract';

export type VolumeMap = ReadonlyMap<string, VolumeSummary>;

export function toMap(items: readonly VolumeSummary[]): VolumeMap {
  return new Map(items.map((v) => [v.volumeId, v]));
}

/**
 * Applies a batch of server-sent events, keeping only volumes of `node` ('' = every node).
 * Returns the same map when nothing changed, so React skips the render.
 */
export function applyEvents(map: VolumeMap, events: readonly VolumeEvent[], node: string): VolumeMap {
  let next: Map<string, VolumeSummary> | undefined;
  const w = () => (next ??= new Map(map));
  for (const e of events) {
    if (e.type === 'upsert') {
      if (node && e.volume.nodeId !== node) continue;
      w().set(e.volume.volumeId, e.volume);
    } else if ((next ?? map).has(e.volumeId)) {
      w().delete(e.volumeId);
    }
  }
  return next ?? map;
}

/** Namespaces present in the list, sorted, for the namespace filter. */
export function namespacesOf(map: VolumeMap): string[] {
  return [...new Set([...map.values()].map((v) => v.pod.namespace))].sort();
}
