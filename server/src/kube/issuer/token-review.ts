/**
 * TokenReview adapter of the issuer's TokenReviewer port: asks the API server whether a token is
 * valid for the issuer's audience and reads the service account and bound-pod claims.
 */
import type { V1TokenReview, V1TokenReviewStatus } from '@kubernetes/client-node';
import { InternalError, UnauthenticatedError, UnavailableError } from '../../common/errors.js';
import type { ReviewedToken, TokenReviewer } from '../../issuer/auth/caller-authorizer.js';
import type { KubeJson } from '../client/kube-json.js';
import { describeKubeError, kubeStatusCode } from '../client/kube-errors.js';

/** `extra` keys the API server sets for pod-bound service-account tokens. */
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
} as const;

const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The claims of an accepted review; throws UnauthenticatedError for anything else. */
export function claimsFromReview(status: V1TokenReviewStatus | undefined, audience: string): ReviewedToken {
  if (!status?.authenticated) {
    throw new UnauthenticatedError(`token: not valid for audience "${audience}"`);
  }
  if (!(status.audiences ?? []).includes(audience)) {
    throw new UnauthenticatedError(`token: not issued for audience "${audience}"`);
  }
  const username = status.user?.username ?? '';
  const m = SA_USER.exec(username);
  if (!m) throw new UnauthenticatedError('token: not a service-account token');
  const extra = status.user?.extra ?? {};
  const one = (key: string): string | undefined => {
    const v = extra[key];
    return v?.length === 1 ? v[0] : undefined;
  };
  return {
    username,
    namespace: m[1] ?? '',
    serviceAccount: m[2] ?? '',
    podName: one(EXTRA.podName),
    podUid: one(EXTRA.podUid),
    nodeName: one(EXTRA.nodeName),
  };
}

/**
 * A TokenReviewer backed by the TokenReview API (RBAC: create tokenreviews), called through
 * `kubeJson` (kube-json.ts: the kubeconfig's credentials and connection, without the generated
 * client's request path).
 */
export function kubernetesTokenReviewer(json: KubeJson, audience: string): TokenReviewer {
  return async (token) => {
    let status: V1TokenReviewStatus | undefined;
    try {
      const review = (await json.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: [audience] },
      })) as V1TokenReview | undefined;
      status = review?.status;
    } catch (e) {
      const code = kubeStatusCode(e);
      if (code === 401 || code === 403) {
        throw new InternalError(`the issuer may not create TokenReviews (RBAC): ${describeKubeError(e)}`);
      }
      throw new UnavailableError(`TokenReview failed: ${describeKubeError(e)}`);
    }
    return claimsFromReview(status, audience);
  };
}
