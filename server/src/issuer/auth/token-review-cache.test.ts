import { describe, expect, it } from 'vitest';
import { UnauthenticatedError, UnavailableError } from '../../common/errors.js';
import type { ReviewedToken, TokenReviewer } from './caller-authorizer.js';
import { TokenReviewCache, tokenExpiryMs, type TokenReviewCacheOptions } from './token-review-cache.js';

const claims: ReviewedToken = {
  username: 'system:serviceaccount:apps:web',
  namespace: 'apps',
  serviceAccount: 'web',
  podName: 'web-1',
  podUid: 'uid-1',
  nodeName: 'node-a',
};

/** A fake API server: 'good*' tokens pass, 'down' is unavailable, anything else is refused; counts calls. */
function fakeReviewer() {
  const calls: string[] = [];
  const review: TokenReviewer = async (token) => {
    calls.push(token);
    await Promise.resolve();
    if (token.startsWith('good')) return { ...claims, username: `${claims.username}:${token}` };
    if (token === 'down') throw new UnavailableError('TokenReview failed: connection refused');
    throw new UnauthenticatedError('token: not valid');
  };
  return { calls, review };
}

function setup(over: Partial<TokenReviewCacheOptions> = {}) {
  let now = 1_000_000;
  const cache = new TokenReviewCache({
    ttlMs: 10_000,
    failureTtlMs: 2_000,
    maxEntries: 100,
    now: () => now,
    ...over,
  });
  const api = fakeReviewer();
  return { cache, api, review: cache.reviewer('aud-a', api.review), advance: (ms: number) => (now += ms) };
}

/** An unsigned JWT-shaped token with the given `exp` (seconds); the cache only reads it. */
const jwt = (exp: number) =>
  `good.${Buffer.from(JSON.stringify({ exp, sub: 'x' })).toString('base64url')}.sig`;

describe('TokenReviewCache', () => {
  it('answers a repeated token from the cache until the TTL ends, then asks again', async () => {
    const { review, api, advance, cache } = setup();
    const first = await review('good-1');
    expect(first.username).toContain('good-1');
    expect(first.fromCache).toBeUndefined();
    expect((await review('good-1')).fromCache).toBe(true);
    expect(api.calls).toEqual(['good-1']);
    advance(9_999);
    await review('good-1');
    expect(api.calls).toHaveLength(1);
    advance(2);
    await review('good-1');
    expect(api.calls).toEqual(['good-1', 'good-1']);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2 });
  });

  it('never keeps an entry past the token’s own exp', async () => {
    const { review, api, advance } = setup();
    const token = jwt(1_000_000 / 1000 + 3); // expires 3 s from "now"
    await review(token);
    advance(2_999);
    await review(token);
    expect(api.calls).toHaveLength(1);
    advance(2);
    await review(token);
    expect(api.calls).toHaveLength(2);
  });

  it('refuses a refused token again without asking only for the short failure TTL', async () => {
    const { review, api, advance } = setup();
    await expect(review('forged')).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(review('forged')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(api.calls).toEqual(['forged']);
    advance(2_001);
    await expect(review('forged')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(api.calls).toEqual(['forged', 'forged']);
  });

  it('does not cache an unavailable API server', async () => {
    const { review, api } = setup();
    await expect(review('down')).rejects.toBeInstanceOf(UnavailableError);
    await expect(review('down')).rejects.toBeInstanceOf(UnavailableError);
    expect(api.calls).toEqual(['down', 'down']);
  });

  it('keeps answers of different audiences apart', async () => {
    const { cache, api, review } = setup();
    const other = cache.reviewer('aud-b', api.review);
    await review('good-1');
    await other('good-1');
    await other('good-1');
    expect(api.calls).toEqual(['good-1', 'good-1']);
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const { review, api, cache } = setup({ maxEntries: 2 });
    await review('good-1');
    await review('good-2');
    await review('good-1'); // good-2 is now the least recently used
    await review('good-3');
    expect(cache.stats().size).toBe(2);
    await review('good-1');
    expect(api.calls).toEqual(['good-1', 'good-2', 'good-3']);
    await review('good-2');
    expect(api.calls).toEqual(['good-1', 'good-2', 'good-3', 'good-2']);
  });

  it('shares one API call between concurrent reviews of a token', async () => {
    const { review, api } = setup();
    const results = await Promise.all([review('good-1'), review('good-1'), review('good-1')]);
    expect(results.map((r) => r.podUid)).toEqual(['uid-1', 'uid-1', 'uid-1']);
    expect(api.calls).toEqual(['good-1']);
  });

  it('keys entries by a hash: no token is held', async () => {
    const { cache, review } = setup();
    const token = jwt(9_999_999_999);
    await review(token);
    const keys = [...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()];
    expect(keys).toHaveLength(1);
    expect(keys.join()).not.toContain(token.split('.')[1]);
    expect(keys.join()).not.toContain('good');
  });

  it('passes every call through when the TTL is 0', async () => {
    const { review, api } = setup({ ttlMs: 0 });
    await review('good-1');
    await review('good-1');
    expect(api.calls).toHaveLength(2);
  });

  it.each([
    ['not a JWT', 'opaque', Number.POSITIVE_INFINITY],
    ['no exp', `a.${Buffer.from('{}').toString('base64url')}.c`, Number.POSITIVE_INFINITY],
    ['exp', `a.${Buffer.from('{"exp":12}').toString('base64url')}.c`, 12_000],
    ['garbage payload', 'a.%%%.c', Number.POSITIVE_INFINITY],
  ])('reads the expiry of a token: %s', (_name, token, want) => {
    expect(tokenExpiryMs(token)).toBe(want);
  });
});
