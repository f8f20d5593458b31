import { describe, expect, it } from 'vitest';
import { Code } from '../../common/errors.js';
import { claimsFromReview, EXTRA } from './token-review.js';

const AUD = 'csi.k8s.cert-driver';
const user = {
  username: 'system:serviceaccount:apps:web',
  extra: { [EXTRA.podName]: ['web-1'], [EXTRA.podUid]: ['uid-1'], [EXTRA.nodeName]: ['node-a'] },
};

describe('claimsFromReview', () => {
  it('reads the service account and the bound pod and node', () => {
    expect(claimsFromReview({ authenticated: true, audiences: [AUD], user }, AUD)).toEqual({
      username: 'system:serviceaccount:apps:web',
      namespace: 'apps',
      serviceAccount: 'web',
      podName: 'web-1',
      podUid: 'uid-1',
      nodeName: 'node-a',
    });
  });

  it('leaves pod claims undefined for a token not bound to a pod', () => {
    const claims = claimsFromReview(
      { authenticated: true, audiences: [AUD], user: { username: user.username } },
      AUD,
    );
    expect(claims.podName).toBeUndefined();
    expect(claims.podUid).toBeUndefined();
  });

  it.each([
    { name: 'not authenticated', status: { authenticated: false, error: 'bad' } },
    { name: 'missing status', status: undefined },
    {
      name: 'another audience',
      status: { authenticated: true, audiences: ['https://kubernetes.default.svc'], user },
    },
    {
      name: 'a user, not a service account',
      status: { authenticated: true, audiences: [AUD], user: { username: 'alice' } },
    },
  ])('$name → UNAUTHENTICATED', ({ status }) => {
    expect(() => claimsFromReview(status, AUD)).toThrowError(
      expect.objectContaining({ code: Code.UNAUTHENTICATED }),
    );
  });
});
