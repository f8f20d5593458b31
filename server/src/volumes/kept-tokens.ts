/**
 * The service-account tokens a volume keeps with its state so that renewals after a node restart do
 * not wait for kubelet's next republish (ADR 22). Only the audiences the node sends somewhere are
 * kept (the issuer's, and the API server's in cert-manager `pod` identity mode), each with its
 * expiry; an expired token is never sent. Secret: the state file is 0600 on the node's state tmpfs,
 * the logger redacts `tokens`, and the API never shows them.
 */

export interface KeptToken {
  token: string;
  /** The token's `exp` claim as an ISO time; undefined when the token carries none (not a JWT). */
  expiresAt?: string | undefined;
}

/** Kept tokens by audience. */
export type KeptTokens = Record<string, KeptToken>;

/** The tokens of `tokens` whose audience is in `audiences`, with their expiry; undefined when none. */
export function tokensToKeep(
  tokens: Readonly<Record<string, string>> | undefined,
  audiences: readonly string[],
): KeptTokens | undefined {
  if (!tokens) return undefined;
  const out: KeptTokens = {};
  for (const aud of audiences) {
    if (!Object.prototype.hasOwnProperty.call(tokens, aud)) continue;
    const token = tokens[aud];
    if (typeof token !== 'string' || token === '') continue;
    out[aud] = { token, expiresAt: jwtExpiry(token)?.toISOString() };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** True when both hold the same tokens (a republish with kubelet's cached tokens changes nothing). */
export function sameKeptTokens(a: KeptTokens | undefined, b: KeptTokens | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k]!.token === b?.[k]?.token);
}

/**
 * The kept tokens still valid at `now` (with `marginMs` to spare for the round trip), by audience,
 * and the audiences whose token has expired. A token without a known expiry counts as valid: the
 * receiver judges it.
 */
export function usableKeptTokens(
  kept: KeptTokens | undefined,
  now: number,
  marginMs = 5_000,
): { tokens: Record<string, string> | undefined; expired: { audience: string; expiresAt: string }[] } {
  const tokens: Record<string, string> = {};
  const expired: { audience: string; expiresAt: string }[] = [];
  for (const [audience, t] of Object.entries(kept ?? {})) {
    if (t.expiresAt !== undefined && Date.parse(t.expiresAt) - marginMs <= now)
      expired.push({ audience, expiresAt: t.expiresAt });
    else tokens[audience] = t.token;
  }
  return { tokens: Object.keys(tokens).length > 0 ? tokens : undefined, expired };
}

/** The `exp` claim of a JWT, read without verifying it (the receiver verifies); undefined when absent. */
export function jwtExpiry(token: string): Date | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1]!.length > 16_384) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp)
      ? new Date(claims.exp * 1000)
      : undefined;
  } catch {
    return undefined;
  }
}
