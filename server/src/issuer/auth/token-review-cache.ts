/**
 * A bounded, short-lived cache of TokenReview answers, as kube-apiserver's webhook token
 * authenticator keeps one: a token the API server accepted is not asked about again for `ttlMs`
 * (never past the token's own `exp`), a token it refused not for `failureTtlMs`, and concurrent
 * reviews of one token share one API call (a node's burst of volumes of one pod, a retry).
 *
 * - Keys are SHA-256 of `audience NUL token`: the cache never holds a token, and an answer for one
 *   audience never answers for another.
 * - Only answers are cached: UnauthenticatedError (the API server said no) for `failureTtlMs`; an
 *   unavailable API server or a missing RBAC grant (any other error) is never cached.
 * - At most `maxEntries` answers; the least recently used goes first.
 * - A cached answer says so (`fromCache`), and the authorizer then reads the pod, so a deleted pod
 *   is refused at once. The price is revocation delay for what only TokenReview sees: a deleted
 *   service account's tokens are still accepted for up to `ttlMs` if they were reviewed before
 *   (docs/security.md).
 */
import { createHash } from 'node:crypto';
import { UnauthenticatedError } from '../../common/errors.js';
import type { ReviewedToken, TokenReviewer } from './caller-authorizer.js';

export interface TokenReviewCacheOptions {
  /** How long an accepted token is trusted without asking again. 0 turns the cache off. */
  ttlMs: number;
  /** How long a refused token is refused without asking again. */
  failureTtlMs: number;
  maxEntries: number;
  /** Milliseconds clock; tests pass a fake. */
  now?: () => number;
}

/**
 * kube-apiserver's webhook token authenticator keeps accepted tokens 2 minutes by default; here 10 s,
 * enough for a node's burst and a retry, short enough to be the revocation delay docs/security.md names.
 */
export const DEFAULT_TOKEN_REVIEW_CACHE: TokenReviewCacheOptions = {
  ttlMs: 10_000,
  failureTtlMs: 2_000,
  maxEntries: 20_000,
};

type Entry =
  | { expires: number; ok: ReviewedToken }
  | { expires: number; refused: UnauthenticatedError }
  | { expires: number; pending: Promise<ReviewedToken> };

export interface TokenReviewCacheStats {
  hits: number;
  misses: number;
  size: number;
}

export class TokenReviewCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;

  constructor(private readonly o: TokenReviewCacheOptions) {
    if (!(o.maxEntries >= 1)) throw new RangeError('TokenReviewCache: maxEntries must be at least 1');
    this.now = o.now ?? Date.now;
  }

  /** `review` (which checks tokens for `audience`) behind this cache. */
  reviewer(audience: string, review: TokenReviewer): TokenReviewer {
    if (this.o.ttlMs <= 0) return review;
    return (token) => this.review(audience, token, review);
  }

  stats(): TokenReviewCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size };
  }

  private async review(audience: string, token: string, review: TokenReviewer): Promise<ReviewedToken> {
    const key = createHash('sha256').update(audience).update('\0').update(token).digest('base64');
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) {
      this.hits++;
      this.entries.delete(key); // refreshes its place in the LRU order
      this.entries.set(key, hit);
      if ('ok' in hit) return { ...hit.ok, fromCache: true };
      if ('refused' in hit) throw hit.refused;
      return { ...(await hit.pending), fromCache: true };
    }
    this.misses++;
    const pending = review(token);
    this.put(key, { expires: Number.POSITIVE_INFINITY, pending });
    try {
      const ok = await pending;
      const exp = tokenExpiryMs(token);
      this.settle(key, pending, { expires: Math.min(this.now() + this.o.ttlMs, exp), ok });
      return ok;
    } catch (e) {
      if (e instanceof UnauthenticatedError && this.o.failureTtlMs > 0) {
        this.settle(key, pending, { expires: this.now() + this.o.failureTtlMs, refused: e });
      } else {
        this.settle(key, pending, undefined);
      }
      throw e;
    }
  }

  /** Replaces the pending entry of this call (and only it: a newer call may own the key by now). */
  private settle(key: string, pending: Promise<ReviewedToken>, next: Entry | undefined): void {
    const cur = this.entries.get(key);
    if (!cur || !('pending' in cur) || cur.pending !== pending) return;
    this.entries.delete(key);
    if (next && next.expires > this.now()) this.put(key, next);
  }

  private put(key: string, e: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > this.o.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/**
 * The `exp` claim of a JWT, in ms; +Infinity when the token is not a JWT or has none. Read only to
 * cut a cache entry short: the API server has already verified the token.
 */
export function tokenExpiryMs(token: string): number {
  const payload = token.split('.')[1];
  if (!payload || payload.length > 8192) return Number.POSITIVE_INFINITY;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
