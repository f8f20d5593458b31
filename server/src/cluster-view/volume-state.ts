/**
 * The state of a volume as the cluster view derives it from its status object, by the rules the node
 * API uses (docs/dashboard.md): failed (expired, or the last attempt failed), renewing (no
 * certificate yet, or the renewal is due), expiring (inside the last 20 % of the lifetime with
 * auto-renew off), else healthy. And whether the node is overdue with a volume: a planned renewal
 * passed by more than the grace and the object says nothing happened since. Pure.
 */
import type { VolumeStateName } from '@csi-cert-driver/api-contract';
import type { CompactVolume } from './compact-volume.js';

const RENEW_FRACTION = 0.2;

export function volumeState(v: CompactVolume, now: number): { state: VolumeStateName; reason: string } {
  const iso = (t: number) => new Date(t).toISOString();
  if (v.notAfter === undefined) {
    return v.last?.outcome === 'Failure'
      ? { state: 'failed', reason: `issuing failed: ${v.last.error ?? 'unknown error'}` }
      : { state: 'renewing', reason: 'issuing the first certificate' };
  }
  if (v.notAfter <= now) return { state: 'failed', reason: `certificate expired at ${iso(v.notAfter)}` };
  if (v.last?.outcome === 'Failure') {
    return { state: 'failed', reason: `last renewal failed: ${v.last.error ?? 'unknown error'}` };
  }
  if (v.nextRenewal !== undefined) {
    return v.nextRenewal <= now
      ? { state: 'renewing', reason: `renewal due since ${iso(v.nextRenewal)}` }
      : { state: 'healthy', reason: `next renewal at ${iso(v.nextRenewal)}` };
  }
  const lifetime = v.notAfter - (v.notBefore ?? v.notAfter);
  return v.notAfter - now <= lifetime * RENEW_FRACTION
    ? { state: 'expiring', reason: `expires at ${iso(v.notAfter)}; auto-renew is off` }
    : { state: 'healthy', reason: `expires at ${iso(v.notAfter)}; auto-renew is off` };
}

/**
 * True when the volume's renewal was planned more than `graceMs` ago and the object reports nothing
 * since: the node's driver stopped writing (stopped, or cut off from the API server).
 */
export function isOverdue(v: CompactVolume, now: number, graceMs: number): boolean {
  if (v.nextRenewal === undefined || v.nextRenewal + graceMs >= now) return false;
  return v.reportedAt < v.nextRenewal;
}
