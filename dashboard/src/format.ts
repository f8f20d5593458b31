/** Time formatting for the dashboard. Pure; `now` is passed in so renders and tests agree. */

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** A duration in its two largest units: "3d 4h", "2m 13s", "45s", "0s". */
export function duration(ms: number): string {
  let rest = Math.max(0, Math.round(Math.abs(ms) / 1000) * 1000);
  const parts: string[] = [];
  for (const [u, size] of UNITS) {
    if (rest >= size || (u === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${u}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** "in 2m 13s" or "5m 2s ago". */
export function relative(iso: string | undefined, now: number): string {
  if (!iso) return '—';
  const d = Date.parse(iso) - now;
  return d >= 0 ? `in ${duration(d)}` : `${duration(d)} ago`;
}

/** "expires in 2m 13s" / "expired 5s ago". */
export function expiry(iso: string | undefined, now: number): string {
  if (!iso) return 'no certificate';
  const d = Date.parse(iso) - now;
  return d > 0 ? `expires in ${duration(d)}` : `expired ${duration(d)} ago`;
}

/** "2026-11-25 14:56:30 UTC": absolute, unambiguous, the same on every screen. */
export function absolute(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A long hex serial shortened for a table cell: "6911…8b29". */
export function shortHex(hex: string | undefined, keep = 4): string {
  if (!hex) return '—';
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

/** Seconds as a Go-style duration: 90 → "1m30s", 604800 → "168h". */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
