/** Fraction of the lifetime left at which a certificate is renewed when no renew-before is set. */
export const DEFAULT_RENEW_FRACTION = 0.2;
/** Jitter spreads renewals over this fraction of the renewal window, earlier, never later. */
const JITTER_FRACTION = 0.1;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;

/**
 * When to renew: `notAfter − renewBefore`, or when 20% of the lifetime is left; moved earlier by
 * up to 10% of the renewal window so a node's volumes do not renew in lockstep.
 */
export function renewalTime(
  notBefore: Date,
  notAfter: Date,
  renewBeforeSeconds: number | undefined,
  random: () => number = Math.random,
): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const window =
    renewBeforeSeconds !== undefined ? renewBeforeSeconds * 1000 : lifetime * DEFAULT_RENEW_FRACTION;
  const clamped = Math.min(window, lifetime);
  const jitter = clamped * JITTER_FRACTION * random();
  return new Date(notAfter.getTime() - clamped - jitter);
}

/** Delay before retry number `failures` (1-based): exponential from 1 s, capped at 5 min, with ±25% jitter. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const raw = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(raw * (0.75 + 0.5 * random()));
}
